"""Decoding: prompt prefill in one call, then one batched step per token with state carried.

Owns ``DecodeRow`` (one sample's bookkeeping: history, stop strings, ``<eos>``, max
tokens, constraint, streaming hold-back), ``sample_rows`` (one sampling step over rows,
shared with the batching engine), ``GenerationResult`` and ``Decoder`` (N samples of one
prompt as one batched run; sync and async streaming). numpy + onnxruntime only (through
``session.ModelSession``); never imports torch, training or exporters.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import Constraint, NoConstraint, StepState
from shared_model.serving.sampling import (
    RowParams,
    SamplingConfig,
    check_prompt,
    make_rng,
    sample_next,
)
from shared_model.serving.session import ModelSession
from shared_model.tokenizer import CharTokenizer

MAX_SAMPLES = 64
ConstraintArg = Constraint | Callable[[], Constraint] | None


@dataclass
class GenerationResult:
    """One generated sample and how it was made (``to_dict`` is the ``--json`` shape)."""

    model: str
    prompt: str
    text: str
    token_ids: list[int]
    tokens_generated: int
    finish_reason: str  # "eos" | "length" | "stop" | "constraint"
    latency_ms: float
    provider: str
    unknown_chars: list[str] = field(default_factory=list)
    constraint_report: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # the storage id, once the result is recorded

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {"id": d.pop("id"), **d}


@dataclass(frozen=True)
class Prefix:
    """A prompt turned into the ids fed before generation."""

    ids: list[int]  # <bos> + control tokens + prompt
    unknown: list[str]  # prompt characters mapped to <unk>


def encode_prompt(tokenizer: CharTokenizer, prompt: str, controls: Sequence[str] = ()) -> Prefix:
    """``<bos>`` + control tokens + the prompt's ids; an empty prompt is just ``<bos>``."""
    check_prompt(prompt)
    enc = tokenizer.encode_report(prompt)
    ids = [tokenizer.bos_id] + [tokenizer.token_id(t) for t in controls] + enc.ids
    return Prefix(ids, enc.unknown)


class DecodeRow:
    """One sample being generated: its RNG, history, stop rules and streamed text."""

    def __init__(self, tokenizer: CharTokenizer, prefix: Prefix, config: SamplingConfig,
                 index: int = 0, constraint: Constraint | None = None):
        if config.seed is None:
            raise InvalidRequest("a decode row needs a seeded config")  # callers seed first
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.config = config
        self.index = index
        self.rng = make_rng(config.seed, index)
        self.constraint = constraint or NoConstraint()
        self.generated: list[int] = []
        self.text = ""
        self.emitted = 0  # characters of ``text`` already streamed
        self.done = False
        self.finish_reason = ""
        self.started = time.perf_counter()
        self.finished_at = 0.0
        self.seen: np.ndarray | None = None
        if config.repetition_penalty != 1.0:
            self.seen = np.zeros(len(tokenizer.vocab), bool)
            self.seen[prefix.ids] = True
        self._max_stop = max((len(s) for s in config.stop), default=0)

    @property
    def last(self) -> int:
        return self.generated[-1]

    def state(self, logits: np.ndarray) -> StepState:
        return StepState(prompt=self.prefix.ids, generated=self.generated, logits=logits)

    def push(self, token: int, logits: np.ndarray) -> None:
        """Record the chosen token and decide whether the row is finished."""
        tok = self.tokenizer
        self.generated.append(token)
        if self.seen is not None:
            self.seen[token] = True
        if token == tok.eos_id and not self.config.ignore_eos:
            return self._finish("eos")
        if not tok.is_special(token):
            before = len(self.text)
            self.text += tok.vocab[token]
            if self._max_stop and self._cut_stop(before):
                return self._finish("stop")
        if self.constraint.finished(self.state(logits)):
            return self._finish("constraint")
        if len(self.generated) >= self.config.max_new_tokens:
            return self._finish("length")

    def _cut_stop(self, before: int) -> bool:
        start = max(0, before - self._max_stop + 1)
        hits = [i for s in self.config.stop if (i := self.text.find(s, start)) >= 0]
        if not hits:
            return False
        self.text = self.text[:min(hits)]
        return True

    def _finish(self, reason: str) -> None:
        self.done = True
        self.finish_reason = reason
        self.finished_at = time.perf_counter()

    def take_text(self) -> str:
        """New text safe to stream: all of it once done, else minus a possible stop prefix."""
        end = len(self.text)
        if not self.done and self._max_stop:
            for n in range(min(self._max_stop - 1, end - self.emitted), 0, -1):
                tail = self.text[end - n:]
                if any(s.startswith(tail) for s in self.config.stop):
                    end -= n
                    break
        piece = self.text[self.emitted:end]
        self.emitted = end
        return piece

    def result(self, model: str, prompt: str, provider: str) -> GenerationResult:
        end = self.finished_at or time.perf_counter()
        ids = [i for i in self.generated
               if not (i == self.tokenizer.eos_id and self.finish_reason == "eos")]
        return GenerationResult(
            model=model, prompt=prompt, text=self.text, token_ids=ids,
            tokens_generated=len(self.generated), finish_reason=self.finish_reason or "cancelled",
            latency_ms=round((end - self.started) * 1000.0, 3), provider=provider,
            unknown_chars=list(self.prefix.unknown), constraint_report=self.constraint.report(),
            params={**self.config.to_dict(), "sample": self.index})


def sample_rows(rows: Sequence[DecodeRow], logits: np.ndarray) -> np.ndarray:
    """One sampling step: choose and record a token for every row. logits [B, V]."""
    B, V = logits.shape
    adjust: np.ndarray | None = None
    for i, row in enumerate(rows):
        a = row.constraint.adjust(row.state(logits[i]))
        if a is not None:
            if adjust is None:
                adjust = np.zeros((B, V), np.float32)
            adjust[i] = a
    seen = None
    if any(r.seen is not None for r in rows):
        seen = np.zeros((B, V), bool)
        for i, row in enumerate(rows):
            if row.seen is not None:
                seen[i] = row.seen
    params = RowParams.stack([r.config for r in rows])
    tokens = sample_next(logits, params, [r.rng for r in rows], seen=seen, adjust=adjust)
    for i, row in enumerate(rows):
        row.push(int(tokens[i]), logits[i])
    return tokens


def prefill(session: ModelSession, prefix: Prefix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the whole prefix in one call: next-token logits [1, V] and state (h, c) [L, 1, H]."""
    h, c = session.initial_state(1)
    logits, h, c = session.run(np.asarray([prefix.ids], np.int64), h, c)  # [1, T, V]
    return logits[:, -1], h, c


def prefill_batch(session: ModelSession, prefixes: Sequence[Prefix]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prefill several prefixes of EQUAL length in one call: logits [B, V], (h, c) [L, B, H]."""
    h, c = session.initial_state(len(prefixes))
    logits, h, c = session.run(np.asarray([p.ids for p in prefixes], np.int64), h, c)
    return logits[:, -1], h, c


def seeded(config: SamplingConfig) -> SamplingConfig:
    """``config`` with a seed: its own, or a fresh random one (reported in params)."""
    return config if config.seed is not None else config.with_seed(secrets.randbelow(2**31))


def _constraints(constraint: ConstraintArg, n: int) -> list[Constraint | None]:
    if constraint is None:
        return [None] * n
    if hasattr(constraint, "adjust"):
        if n > 1:
            raise InvalidRequest("several samples need a constraint factory, not one constraint")
        return [constraint]  # type: ignore[list-item]
    return [constraint() for _ in range(n)]  # type: ignore[operator]


class Decoder:
    """Offline generation over one ``ModelSession`` (no batching across requests)."""

    def __init__(self, session: ModelSession):
        self.session = session
        self.tokenizer = session.tokenizer

    def rows(self, prompt: str, config: SamplingConfig, *, n: int = 1,
             controls: Sequence[str] = (), constraint: ConstraintArg = None) -> list[DecodeRow]:
        """The rows of one request (validated, seeded)."""
        if not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
            raise InvalidRequest(f"number of samples must be in [1, {MAX_SAMPLES}], got {n!r}")
        config = seeded(config)
        prefix = encode_prompt(self.tokenizer, prompt, controls)
        return [DecodeRow(self.tokenizer, prefix, config, i, c)
                for i, c in enumerate(_constraints(constraint, n))]

    def iterate(self, rows: list[DecodeRow]) -> Iterator[list[tuple[DecodeRow, str]]]:
        """Run rows of ONE prompt to completion, yielding (row, new text) after each step."""
        logits, h, c = prefill(self.session, rows[0].prefix)
        if len(rows) > 1:  # N samples share the prefill: tile its state to B = N
            logits = np.repeat(logits, len(rows), axis=0)
            h, c = np.repeat(h, len(rows), axis=1), np.repeat(c, len(rows), axis=1)
        active = list(rows)
        while active:
            sample_rows(active, logits)
            yield [(r, r.take_text()) for r in active]
            keep = [i for i, r in enumerate(active) if not r.done]
            if not keep:
                return
            if len(keep) < len(active):  # finished rows leave the batch
                active = [active[i] for i in keep]
                h, c = h[:, keep], c[:, keep]
            tokens = np.fromiter((r.last for r in active), np.int64, len(active))[:, None]
            out, h, c = self.session.run(tokens, h, c)  # [B, 1, V]
            logits = out[:, -1]

    def generate(self, prompt: str = "", config: SamplingConfig | None = None, *, n: int = 1,
                 controls: Sequence[str] = (), constraint: ConstraintArg = None
                 ) -> list[GenerationResult]:
        """N samples of one prompt, decoded as one batched run."""
        rows = self.rows(prompt, config or SamplingConfig(), n=n, controls=controls,
                         constraint=constraint)
        for _ in self.iterate(rows):
            pass
        return [r.result(self.session.name, prompt, self.session.provider) for r in rows]

    def stream(self, prompt: str = "", config: SamplingConfig | None = None, *,
               controls: Sequence[str] = (), constraint: Constraint | None = None
               ) -> Iterator[str]:
        """Text pieces of one sample as they are generated."""
        rows = self.rows(prompt, config or SamplingConfig(), controls=controls,
                         constraint=constraint)
        for step in self.iterate(rows):
            for _, piece in step:
                if piece:
                    yield piece

    async def astream(self, prompt: str = "", config: SamplingConfig | None = None, *,
                      controls: Sequence[str] = (), constraint: Constraint | None = None
                      ) -> AsyncIterator[str]:
        """``stream`` as an async iterator; each step runs in a worker thread."""
        it = self.stream(prompt, config, controls=controls, constraint=constraint)
        done = object()
        while True:
            piece = await asyncio.to_thread(next, it, done)
            if piece is done:
                return
            yield piece  # type: ignore[misc]
