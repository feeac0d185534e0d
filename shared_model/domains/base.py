"""What a domain is: corpus reading and cleaning, control tokens, and (from the domain
issues on) constraints and result shape. Serving-safe: no torch, no training imports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Document:
    """One training unit: a poem, a play excerpt, or a whole continuous text.

    ``controls`` are control tokens (e.g. ``<7j>``) placed after ``<bos>``.
    """

    text: str
    controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Corpus:
    """A cleaned corpus with its deterministic train/validation split.

    Attributes:
        continuous: True for running text (trained with truncated BPTT, state carried
            across windows); False for separate documents (batched per document).
        split: how the split was made, recorded in checkpoints for reproducibility.
        stats: counts of what cleaning kept and dropped, and why.
    """

    domain: str
    name: str
    sha256: str
    size: int
    train: list[Document]
    val: list[Document]
    continuous: bool
    control_tokens: tuple[str, ...] = ()
    split: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The ``corpus`` entry of checkpoints and model metadata."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size,
                "domain": self.domain, "split": self.split, "stats": self.stats}


class Domain(Protocol):
    """One subpackage per domain implements this; the registry is ``domains/__init__``."""

    name: str
    continuous: bool

    def load_corpus(self, path: Path, **options: Any) -> Corpus: ...


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
