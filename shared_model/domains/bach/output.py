"""Writing a ChoraleResult's files: atomic, all or nothing, one-line errors.

Owns the file side of the output: every file goes to a temp file in its target directory
and is renamed into place only when all of them were written, so a bad path or a full
disk never leaves a half-written or partial set of files. Standard library only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shared_model.domains.bach.render import ChoraleResult
from shared_model.errors import InvalidRequest


def _payloads(result: ChoraleResult, midi: Path | None, musicxml: Path | None,
              wav: Path | None, png: Path | None) -> list[tuple[Path, bytes]]:
    out: list[tuple[Path, bytes]] = []
    for path, data, what in ((midi, result.midi_bytes, "MIDI"),
                             (musicxml, result.musicxml_text.encode("utf-8")
                              if result.musicxml_text is not None else None, "MusicXML"),
                             (wav, result.wav_bytes, "WAV"), (png, result.png_bytes, "PNG")):
        if path is None:
            continue
        if data is None:
            raise InvalidRequest(f"no {what} was rendered for {path}")
        out.append((Path(path), data))
    targets = [p.resolve() for p, _ in out]
    if len(set(targets)) != len(targets):
        raise InvalidRequest("two outputs name the same file")
    return out


_MASK = os.umask(0)
os.umask(_MASK)
_PUBLIC_MODE = 0o666 & ~_MASK  # what a plain open(path, "w") gives


def write_chorale_files(result: ChoraleResult, *, midi: str | Path | None = None,
                        musicxml: str | Path | None = None, wav: str | Path | None = None,
                        png: str | Path | None = None) -> list[Path]:
    """Write the asked-for outputs; return their paths.

    Raises:
        InvalidRequest: a path is a directory, its directory is missing or unwritable,
            or the disk is full; then no target file was created or changed.
    """
    items = _payloads(result, *(Path(p) if p is not None else None
                                for p in (midi, musicxml, wav, png)))
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in items:
            if path.is_dir():
                raise InvalidRequest(f"cannot write {path}: it is a directory")
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                           dir=path.parent if str(path.parent) else ".")
            except OSError as exc:
                raise InvalidRequest(f"cannot write {path}: {exc.strerror or exc}") from None
            temps.append((tmp, path))
            os.chmod(tmp, _PUBLIC_MODE)  # mkstemp makes 0600; these files are for sharing
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                raise InvalidRequest(f"cannot write {path}: {exc.strerror or exc}") from None
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    return [path for _, path in temps]
