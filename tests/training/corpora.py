"""Tiny generated corpora for the training tests (no files from /work/shared)."""

from __future__ import annotations

import random

from shared_model.domains.base import Corpus, Document


def pattern_text(n_chars: int, seed: int = 0) -> str:
    """Learnable running text: short words from a small lexicon, newline-separated lines."""
    rng = random.Random(seed)
    words = ["to", "be", "or", "not", "that", "is", "the", "question", "ay", "me"]
    out: list[str] = []
    size = 0
    while size < n_chars:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)[:n_chars]


def continuous_corpus(n_chars: int = 6000, val_frac: float = 0.1, seed: int = 0) -> Corpus:
    text = pattern_text(n_chars, seed)
    cut = int(len(text) * (1 - val_frac))
    return Corpus(domain="text", name="pattern", sha256="0" * 64, size=len(text),
                  train=[Document(text[:cut])], val=[Document(text[cut:])], continuous=True,
                  split={"name": "tail", "val_fraction": val_frac})


def poem_corpus(n_docs: int = 120, seed: int = 0) -> Corpus:
    """Documents with a control token per form: 4 lines of 5 or 7 characters."""
    rng = random.Random(seed)
    chars = "春花秋月風雨山水雲天"
    docs = []
    for _ in range(n_docs):
        n = rng.choice([5, 7])
        lines = ["".join(rng.choice(chars) for _ in range(n)) + "。" for _ in range(4)]
        docs.append(Document("".join(lines), controls=(f"<{n}j>",)))
    cut = n_docs * 9 // 10
    return Corpus(domain="tang", name="poems", sha256="1" * 64, size=n_docs, train=docs[:cut],
                  val=docs[cut:], continuous=False, control_tokens=("<5j>", "<7j>"),
                  split={"name": "by-poem", "val_fraction": 0.1})
