"""Reading poems in the chinese-poetry JSON format, whatever the container.

Owns file discovery and parsing: a directory of ``poet.tang.*.json`` files, a JSON file
holding a list of poems, a JSON Lines file (one poem per line), or a ``.gz`` of either.
The container is told by content, not by name: after optional gzip, a first
non-blank character ``[`` means a JSON list, ``{`` means JSON Lines. Every poem must be
an object with a ``paragraphs`` list of strings (``title``, ``author``, ``id`` optional).
Any problem is a CorpusError naming the file (and line or poem). Standard library only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_model.errors import CorpusError

_DIR_PATTERN = re.compile(r"^poet\.tang\.(\d+)\.json$")


@dataclass(frozen=True)
class RawPoem:
    """One poem record as read: where it came from and its ``paragraphs``."""

    paragraphs: list[str]
    title: str
    author: str
    poem_id: str


@dataclass(frozen=True)
class SourceInfo:
    """What was read: display name, sha256 of the bytes, their size and the files."""

    name: str
    sha256: str
    size: int
    files: list[Path]


def corpus_files(path: Path) -> list[Path]:
    """The files a corpus path stands for, in a fixed order.

    A directory yields its ``poet.tang.N.json`` files sorted by N; a file yields itself.
    """
    if path.is_dir():
        found = [(int(m.group(1)), p) for p in path.iterdir() if (m := _DIR_PATTERN.match(p.name))]
        if not found:
            raise CorpusError(f"{path}: no poet.tang.*.json files in this directory")
        return [p for _, p in sorted(found)]
    if not path.exists():
        raise CorpusError(f"{path}: no such file or directory")
    return [path]


def describe_source(path: Path, files: list[Path]) -> SourceInfo:
    """Name, sha256 and size of the corpus bytes (for a directory: over its files in order)."""
    digest = hashlib.sha256()
    size = 0
    for file in files:
        with file.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
                size += len(block)
    name = path.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return SourceInfo(name or "tang", digest.hexdigest(), size, files)


def _read_text(file: Path) -> str:
    try:
        data = file.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except (OSError, EOFError, zlib.error) as exc:
        raise CorpusError(f"{file}: cannot read ({exc})") from None
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{file}: not UTF-8 text (byte {exc.start})") from None


def _as_poem(record: Any, where: str) -> RawPoem:
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: expected a poem object, got {type(record).__name__}")
    paragraphs = record.get("paragraphs")
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise CorpusError(f"{where}: poem has no 'paragraphs' list of strings")

    def text_field(key: str) -> str:
        value = record.get(key, "")
        return value if isinstance(value, str) else str(value)

    return RawPoem(paragraphs, text_field("title"), text_field("author"), text_field("id"))


def _parse_error(file: Path, exc: json.JSONDecodeError, line_offset: int) -> CorpusError:
    return CorpusError(f"{file}: invalid JSON at line {exc.lineno + line_offset}: {exc.msg}")


def read_poems(file: Path) -> Iterator[RawPoem]:
    """The poems of one file (JSON list or JSON Lines, optionally gzip-compressed)."""
    text = _read_text(file)
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        return
    if body[0] == "[":
        try:
            records = json.loads(body)
        except json.JSONDecodeError as exc:
            raise _parse_error(file, exc, text.count("\n", 0, len(text) - len(body))) from None
        for i, record in enumerate(records):
            yield _as_poem(record, f"{file}: poem {i + 1}")
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{file}: invalid JSON at line {lineno}: {exc.msg}") from None
        yield _as_poem(record, f"{file}: line {lineno}")
