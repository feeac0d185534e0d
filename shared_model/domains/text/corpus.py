"""Plain-text corpora: read any UTF-8 file, normalise it, split it by characters.

Owns the rules every running-text domain shares (``text`` and ``shakespeare``):

* the file is read once as bytes; ``Corpus.sha256`` and ``Corpus.size`` are of those
  raw bytes, so they identify the file on disk, whatever normalisation does;
* the bytes must be UTF-8 (a leading byte-order mark is dropped);
* line endings are normalised: ``\\r\\n`` and a lone ``\\r`` both become ``\\n`` (the
  count of replacements is in ``Corpus.stats``); nothing else is changed, so for a file
  with ``\\n`` endings the text is the file, character for character;
* the split is a prefix split: the first ``train_fraction`` of characters
  (``int(len(text) * train_fraction)``, default 0.9) is train, the rest validation, as
  char-rnn and nanoGPT do it; the exact cut is recorded in ``Corpus.split``.

Serving-safe: standard library only; never imports torch or ``shared_model.training``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_model.domains.base import Corpus, Document
from shared_model.errors import CorpusError, InvalidRequest

# Each side of the split needs at least two characters: one input and one target.
MIN_SPLIT_CHARS = 2
_BOM = "\ufeff"


@dataclass(frozen=True)
class TextCorpusConfig:
    """How a running-text corpus is split.

    Attributes:
        train_fraction: share of characters, from the start, used for training; the
            rest (the end of the file) is validation. 0.9 is the standard split.
    """

    train_fraction: float = 0.9

    def __post_init__(self) -> None:
        if isinstance(self.train_fraction, bool) or not isinstance(self.train_fraction, (int, float)):
            raise InvalidRequest(f"train_fraction must be a number, got {self.train_fraction!r}")
        if not 0.0 < self.train_fraction < 1.0:
            raise InvalidRequest(
                f"train_fraction must be between 0 and 1 (exclusive), got {self.train_fraction}")

    @classmethod
    def from_options(cls, domain: str, options: dict[str, Any]) -> TextCorpusConfig:
        """Build from ``load_corpus`` keyword options; unknown names are a user error."""
        unknown = sorted(set(options) - {"train_fraction"})
        if unknown:
            raise InvalidRequest(
                f"unknown corpus option(s) for the {domain} domain: {', '.join(unknown)} "
                "(known: train_fraction)")
        return cls(**options)


@dataclass(frozen=True)
class TextFile:
    """A corpus file read and normalised: the text plus facts about the raw bytes."""

    path: Path
    text: str
    sha256: str
    size: int
    newlines_normalised: int
    bom_removed: bool


def read_text_file(path: str | Path) -> TextFile:
    """Read ``path`` as a UTF-8 corpus with normalised line endings.

    Raises:
        CorpusError: missing file, a directory, unreadable, not UTF-8 (with the byte
            offset), empty, only whitespace, or fewer than two distinct characters.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}")
    if path.is_dir():
        raise CorpusError(f"{path} is a directory; give a text file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror or exc}") from None
    if not data:
        raise CorpusError(f"corpus file {path} is empty")
    text = decode_utf8(data, path)
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    text, replaced = normalise_newlines(text)
    _check_content(text, path)
    return TextFile(path=path, text=text, sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data), newlines_normalised=replaced, bom_removed=bom)


def decode_utf8(data: bytes, path: Path) -> str:
    """Decode strictly; the error names the first bad byte and its offset in the file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CorpusError(f"{path} looks like UTF-16 text; convert it to UTF-8") from None
        bad = data[exc.start]
        raise CorpusError(f"{path} is not UTF-8 text: invalid byte 0x{bad:02x} "
                          f"at byte offset {exc.start}") from None


def normalise_newlines(text: str) -> tuple[str, int]:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``; returns the text and how many changed."""
    if "\r" not in text:
        return text, 0
    count = text.count("\r")  # every \r (paired or lone) is replaced by exactly one \n
    return text.replace("\r\n", "\n").replace("\r", "\n"), count


def _check_content(text: str, path: Path) -> None:
    if not text.strip():
        raise CorpusError(f"corpus file {path} contains only whitespace")
    visible = {c for c in set(text) if not c.isspace()}
    if len(visible) < 2:
        (only,) = visible
        raise CorpusError(f"corpus file {path} has only one distinct character ({only!r}); "
                          "a language model needs at least two")


def split_text(text: str, train_fraction: float, name: str = "corpus") -> tuple[str, str, dict[str, Any]]:
    """Prefix split by characters: ``(train, val, record)``.

    The cut is ``int(len(text) * train_fraction)``; ``record`` is what goes into
    ``Corpus.split`` (and so into checkpoints).

    Raises:
        CorpusError: either side would have fewer than ``MIN_SPLIT_CHARS`` characters.
    """
    n = len(text)
    cut = int(n * train_fraction)
    if cut < MIN_SPLIT_CHARS or n - cut < MIN_SPLIT_CHARS:
        raise CorpusError(
            f"{name} is too small to split: {n} characters give {cut} for training and "
            f"{n - cut} for validation; each needs at least {MIN_SPLIT_CHARS}")
    record = {"method": "prefix", "unit": "character", "train_fraction": train_fraction,
              "cut": cut, "train_chars": cut, "val_chars": n - cut}
    return text[:cut], text[cut:], record


def text_stats(file: TextFile) -> dict[str, Any]:
    """Counts recorded in ``Corpus.stats`` for any running text."""
    text = file.text
    return {"chars": len(text), "lines": text.count("\n") + (0 if text.endswith("\n") else 1),
            "distinct_chars": len(set(text)), "newlines_normalised": file.newlines_normalised,
            "bom_removed": file.bom_removed}


def build_corpus(domain: str, file: TextFile, config: TextCorpusConfig,
                 extra_stats: dict[str, Any] | None = None) -> Corpus:
    """A continuous Corpus (one train Document, one val Document) from a read file."""
    train, val, record = split_text(file.text, config.train_fraction, name=str(file.path))
    stats = text_stats(file)
    stats.update(extra_stats or {})
    return Corpus(domain=domain, name=file.path.name, sha256=file.sha256, size=file.size,
                  train=[Document(train)], val=[Document(val)], continuous=True,
                  split=record, stats=stats)


def load_text_corpus(path: str | Path, config: TextCorpusConfig | None = None) -> Corpus:
    """Any UTF-8 text file as a continuous corpus with the standard prefix split."""
    return build_corpus("text", read_text_file(path), config or TextCorpusConfig())


class TextDomain:
    """The ``text`` domain: a user's own text file, trained as running text."""

    name = "text"
    continuous = True

    def load_corpus(self, path: Path, **options: Any) -> Corpus:
        return load_text_corpus(path, TextCorpusConfig.from_options(self.name, options))
