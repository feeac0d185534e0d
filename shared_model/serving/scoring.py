"""Scoring a model on text: negative log-likelihood per token, perplexity, bits per character.

Owns turning texts or documents into id sequences for scoring, running them through a
``ModelSession`` batched (B sequences at a time, windows of T tokens with state carried),
and the metric maths. Used by ``lstmgen eval`` and by the int8 gate in exporters. numpy +
onnxruntime only; never imports torch, training or exporters.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared_model.errors import InvalidRequest
from shared_model.serving.session import ModelSession
from shared_model.tokenizer import CharTokenizer

CHUNK_CHARS = 2048  # a running text is scored as independent chunks of this many characters
TEXT_SUFFIXES = ("", ".txt", ".text", ".md")


@dataclass(frozen=True)
class ScoreConfig:
    """How to batch scoring: B sequences per call, windows of T tokens."""

    batch_size: int = 16
    window: int = 256

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1024:
            raise InvalidRequest(f"batch size must be in [1, 1024], got {self.batch_size}")
        if not 1 <= self.window <= 65536:
            raise InvalidRequest(f"window must be in [1, 65536], got {self.window}")


@dataclass(frozen=True)
class ScoreResult:
    """Summed negative log-likelihood (nats) over ``tokens`` predicted tokens."""

    nll: float
    tokens: int
    chars: int

    @property
    def nll_per_token(self) -> float:
        return self.nll / self.tokens if self.tokens else float("nan")

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll_per_token) if self.tokens else float("nan")

    @property
    def bits_per_char(self) -> float:
        return self.nll / math.log(2) / self.chars if self.chars else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"nll_per_token": round(self.nll_per_token, 6), "perplexity": round(self.perplexity, 4),
                "bits_per_char": round(self.bits_per_char, 6), "tokens": self.tokens,
                "chars": self.chars}


def text_sequences(tokenizer: CharTokenizer, text: str, chunk: int = CHUNK_CHARS) -> list[list[int]]:
    """A running text as ``<bos>``-led chunks; every character is predicted exactly once."""
    if not text:
        raise InvalidRequest("the text to score is empty")
    ids = tokenizer.encode(text)
    return [[tokenizer.bos_id] + ids[i:i + chunk] for i in range(0, len(ids), chunk)]


def document_sequences(tokenizer: CharTokenizer, docs: Sequence[Any]) -> list[list[int]]:
    """Documents (``text`` + ``controls``) as ``<bos>`` controls text ``<eos>``."""
    seqs = []
    for d in docs:
        ctrl = [tokenizer.token_id(t) for t in getattr(d, "controls", ())]
        seqs.append([tokenizer.bos_id, *ctrl, *tokenizer.encode(d.text), tokenizer.eos_id])
    if not seqs:
        raise InvalidRequest("no documents to score")
    return seqs


def load_sequences(tokenizer: CharTokenizer, path: str | Path, domain: str) -> list[list[int]]:
    """Sequences to score from a file: plain text as a running text, else the domain's corpus
    reader on it (its validation split)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidRequest(f"no data file at {path}")
    if path.suffix.lower() in TEXT_SUFFIXES:
        try:
            return text_sequences(tokenizer, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"{path.name} is not UTF-8 text ({exc.reason})") from None
    from shared_model.domains import get_domain

    corpus = get_domain(domain).load_corpus(path)
    return document_sequences(tokenizer, corpus.val or corpus.train)


def iter_batches(session: ModelSession, sequences: Sequence[Sequence[int]],
                 config: ScoreConfig | None = None
                 ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run sequences through the model: yields (logits [B, T, V], targets [B, T], mask [B, T]).

    Sequences are grouped by length (longest first) into batches of B, right-padded, and
    fed in windows of T with the state carried, so each is scored as one continuous pass.
    """
    config = config or ScoreConfig()
    tok = session.tokenizer
    # control tokens are given, not predicted; <eos> and <unk> (a real character) are
    skip = np.zeros(len(tok.vocab), bool)
    skip[[i for i in range(len(tok.vocab))
          if tok.is_special(i) and i not in (tok.eos_id, tok.unk_id)]] = True
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    for b0 in range(0, len(order), config.batch_size):
        group = [sequences[i] for i in order[b0:b0 + config.batch_size]]
        T = max(len(s) for s in group) - 1
        if T < 1:
            continue
        inputs = np.full((len(group), T), tok.pad_id, np.int64)
        targets = np.full((len(group), T), tok.pad_id, np.int64)
        valid = np.zeros((len(group), T), bool)
        for r, s in enumerate(group):
            n = len(s) - 1
            inputs[r, :n] = s[:-1]
            targets[r, :n] = s[1:]
            valid[r, :n] = True
        valid &= ~skip[targets]
        h, c = session.initial_state(len(group))
        for t0 in range(0, T, config.window):
            sl = slice(t0, t0 + config.window)
            logits, h, c = session.run(inputs[:, sl], h, c)
            yield logits, targets[:, sl], valid[:, sl]


def token_nll(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[target] per position (float64). logits [..., V], targets [...]."""
    x = logits.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=-1)) + m[..., 0]
    return lse - np.take_along_axis(x, targets[..., None], axis=-1)[..., 0]


def score(session: ModelSession, sequences: Sequence[Sequence[int]],
          config: ScoreConfig | None = None) -> ScoreResult:
    """NLL, token and character counts of a model over sequences."""
    tok = session.tokenizer
    nll = 0.0
    tokens = chars = 0
    for logits, targets, valid in iter_batches(session, sequences, config):
        nll += float(token_nll(logits, targets)[valid].sum())
        tokens += int(valid.sum())
        chars += int((valid & (targets != tok.eos_id)).sum())
    if not tokens:
        raise InvalidRequest("nothing to score: the sequences have no predictable tokens")
    return ScoreResult(nll=nll, tokens=tokens, chars=chars)
