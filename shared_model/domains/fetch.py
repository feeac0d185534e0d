"""Downloads of the public corpora from their canonical upstreams, pinned and checked.

Owns the source list (``SOURCES``: repository, pinned commit, files, sha256) and the
transfer rules:

* files go to a destination directory (default ``<LSTMGEN_HOME>/data/<name>/``);
* a file already there whose sha256 is the expected one is not downloaded again
  (``--force`` downloads anyway);
* a transfer writes ``<file>.part``; a broken transfer keeps the ``.part`` and the next
  attempt (automatic retries, or the next run) resumes it with an HTTP ``Range`` request
  (a server that ignores the range makes it start over);
* the whole file's sha256 is checked, and the file renamed into place only if it
  matches: a broken transfer or a checksum mismatch never leaves a file under the final
  name (``FetchError``, one line);
* ``SHA256SUMS`` beside the files (``sha256sum -c`` format) records what was fetched.

The Tang files (chinese-poetry ``全唐诗/poet.tang.{0..57000}.json``) have no published
sha256: each downloaded file is checked to parse as a JSON list of poems (objects with a
string ``title``/``author`` and a list of strings ``paragraphs``) and the sha256 computed
here is recorded in ``SHA256SUMS``, which is what later runs check the cache against.

The base URL (default ``https://raw.githubusercontent.com``) can be replaced by any
mirror serving the same ``/<repo>/<commit>/<path>`` layout (``FetchConfig.base_url``; the
CLI takes it from ``--base-url`` or ``LSTMGEN_FETCH_BASE_URL``), which is how the tests
run against a loopback server. Standard library (urllib) plus tqdm; never imports torch
or ``shared_model.training``.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared_model.domains.base import file_sha256
from shared_model.errors import FetchError, InvalidRequest

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
SUMS_FILE = "SHA256SUMS"
_USER_AGENT = "lstmgen-fetch/0.1 (+https://github.com)"


class _Broken(Exception):
    """A transfer failed in a way worth retrying (connection lost, timeout, 5xx)."""


def check_poem_list(path: Path) -> None:
    """Raise FetchError unless ``path`` is a non-empty JSON list of chinese-poetry poems."""
    try:
        poems = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(poems, list) or not poems:
        raise FetchError(f"{path.name} is not a non-empty JSON list of poems")
    for i, poem in enumerate(poems):
        ok = (isinstance(poem, dict) and isinstance(poem.get("title"), str)
              and isinstance(poem.get("author"), str)
              and isinstance(poem.get("paragraphs"), list)
              and all(isinstance(p, str) for p in poem["paragraphs"]))
        if not ok:
            raise FetchError(f"{path.name}: item {i} is not a poem "
                             "(needs string title and author, list of string paragraphs)")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a source: its path in the repository, local name and sha256.

    ``sha256`` None means upstream publishes none: the source's ``validate`` checks the
    content instead, and the computed digest is recorded in ``SHA256SUMS``.
    """

    path: str
    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class Source:
    """A pinned upstream: GitHub repository, commit, and the files to fetch from it."""

    name: str
    repo: str
    commit: str
    files: tuple[RemoteFile, ...]
    validate: Callable[[Path], None] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{40}", self.commit):
            raise ValueError(f"source {self.name}: commit must be a full 40-hex sha")
        if any(f.sha256 is None for f in self.files) and self.validate is None:
            raise ValueError(f"source {self.name}: files without sha256 need a validate check")

    def url(self, file: RemoteFile, base_url: str = DEFAULT_BASE_URL) -> str:
        """The raw-file URL of ``file`` at the pinned commit under ``base_url``."""
        return f"{base_url.rstrip('/')}/{self.repo}/{self.commit}/{urllib.parse.quote(file.path)}"


_JSB_SHA = {
    "jsb-chorales-quarter.json": "2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91",
    "jsb-chorales-8th.json": "88fb80b22829a815e8105da538d94ae803773158507e2145938351f35142390a",
    "jsb-chorales-16th.json": "8730aca7b64e7d29493733d1cf19fad4a5b351d8f1845e57dac27728104fd39f",
    "Jsb16thSeparated.json": "79294cc374f9252e95ef4b703161524c1c53dc1f712c236f00f1c1f5d54af5a7",
}

SOURCES: dict[str, Source] = {
    "shakespeare": Source(
        name="shakespeare", repo="karpathy/char-rnn",
        commit="6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e",
        files=(RemoteFile("data/tinyshakespeare/input.txt", "tinyshakespeare.txt",
                          "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),)),
    "jsb": Source(
        name="jsb", repo="czhuang/JSB-Chorales-dataset",
        commit="9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d",
        files=tuple(RemoteFile(name, name, sha) for name, sha in _JSB_SHA.items())),
    # Commit of the snapshot described in /work/shared/data/tang/README.md.
    "tang": Source(
        name="tang", repo="chinese-poetry/chinese-poetry",
        commit="99ebbef7e1345c0985c44b9fd96a3f9e776f117b",
        files=tuple(RemoteFile(f"全唐诗/poet.tang.{n}.json", f"poet.tang.{n}.json")
                    for n in range(0, 57001, 1000)),
        validate=check_poem_list),
}


@dataclass(frozen=True)
class FetchConfig:
    """How downloads are made.

    Attributes:
        base_url: mirror root serving ``/<repo>/<commit>/<path>`` (http or https).
        force: download even when a checked copy is already there.
        retries: extra attempts after a broken transfer (each resumes the ``.part``).
        retry_wait_s: pause before retry k is ``k * retry_wait_s``.
        timeout_s: socket timeout for connecting and for each read.
        chunk_bytes: read size.
    """

    base_url: str = DEFAULT_BASE_URL
    force: bool = False
    retries: int = 3
    retry_wait_s: float = 1.0
    timeout_s: float = 30.0
    chunk_bytes: int = 1 << 16

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest(f"base URL must be an http(s) URL, got {self.base_url!r}")
        if self.retries < 0:
            raise InvalidRequest(f"retries must be >= 0, got {self.retries}")
        if self.retry_wait_s < 0 or self.timeout_s <= 0 or self.chunk_bytes <= 0:
            raise InvalidRequest("retry_wait_s must be >= 0, timeout_s and chunk_bytes > 0")


@dataclass(frozen=True)
class FetchedFile:
    """What happened to one file: ``status`` is ``downloaded``, ``resumed`` or ``cached``."""

    name: str
    path: Path
    url: str
    sha256: str
    size: int
    status: str


@dataclass(frozen=True)
class FetchResult:
    """All files of one source, in source order."""

    name: str
    dest: Path
    repo: str
    commit: str
    files: list[FetchedFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dest": str(self.dest), "repo": self.repo,
                "commit": self.commit,
                "files": [{"name": f.name, "path": str(f.path), "url": f.url,
                           "sha256": f.sha256, "size": f.size, "status": f.status}
                          for f in self.files]}


def default_dest(home: Path, name: str) -> Path:
    """``<home>/data/<name>``: where fetched corpora go unless told otherwise."""
    return home / "data" / name


def get_source(name: str) -> Source:
    source = SOURCES.get(name)
    if source is None:
        raise InvalidRequest(f"unknown corpus {name!r}; choose one of: {', '.join(SOURCES)}")
    return source


def fetch(source: Source | str, dest: Path, config: FetchConfig | None = None,
          progress: bool = False) -> FetchResult:
    """Fetch every file of ``source`` into ``dest``, checked, cached and resumable.

    Raises:
        FetchError: a transfer failed after the retries, the server refused a file, a
            checksum did not match or a file failed its content check.
    """
    source = get_source(source) if isinstance(source, str) else source
    config = config or FetchConfig()
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create {dest}: {exc.strerror or exc}") from None
    sums = read_sums(dest / SUMS_FILE)
    result = FetchResult(source.name, dest, source.repo, source.commit)
    for file in source.files:
        fetched = _fetch_file(source, file, dest, sums, config, progress)
        result.files.append(fetched)
        if sums.get(file.name) != fetched.sha256:
            sums[file.name] = fetched.sha256
            write_sums(dest / SUMS_FILE, sums)
    return result


def _fetch_file(source: Source, file: RemoteFile, dest: Path, sums: dict[str, str],
                config: FetchConfig, progress: bool) -> FetchedFile:
    url = source.url(file, config.base_url)
    final = dest / file.name
    part = dest / (file.name + ".part")
    if config.force:
        part.unlink(missing_ok=True)
    elif final.is_file():
        digest = _cached_digest(source, file, final, sums)
        if digest is not None:
            return FetchedFile(file.name, final, url, digest, final.stat().st_size, "cached")
        # never leave a file that fails its check under the final name
        log.warning("%s does not match its checksum; removing it and downloading again", final)
        final.unlink()
    resumed = _download(url, part, config, progress, label=file.name)
    digest = file_sha256(part)
    if file.sha256 is not None and digest != file.sha256:
        part.unlink(missing_ok=True)
        if resumed:  # the kept prefix may be stale: one clean attempt before giving up
            resumed = _download(url, part, config, progress, label=file.name)
            digest = file_sha256(part)
        if digest != file.sha256:
            part.unlink(missing_ok=True)
            raise FetchError(f"checksum mismatch for {file.name} from {url}: expected "
                             f"sha256 {file.sha256[:16]}..., got {digest[:16]}...; not kept")
    if source.validate is not None:
        try:
            source.validate(part)
        except FetchError as exc:
            part.unlink(missing_ok=True)
            raise FetchError(f"{url} failed its content check: {exc}; not kept") from None
    os.replace(part, final)
    return FetchedFile(file.name, final, url, digest, final.stat().st_size,
                       "resumed" if resumed else "downloaded")


def _cached_digest(source: Source, file: RemoteFile, final: Path,
                   sums: dict[str, str]) -> str | None:
    """The digest of a usable cached ``final``, or None if it must be downloaded."""
    digest = file_sha256(final)
    expected = file.sha256 or sums.get(file.name)
    if expected is not None:
        return digest if digest == expected else None
    # No known digest (a Tang file put there by hand): accept it if its content checks.
    assert source.validate is not None
    try:
        source.validate(final)
    except FetchError:
        return None
    return digest


def _download(url: str, part: Path, config: FetchConfig, progress: bool, label: str) -> bool:
    """Complete ``part`` from ``url`` with retries; True if it resumed earlier bytes."""
    resumed = False
    last = ""
    for attempt in range(config.retries + 1):
        if attempt:
            log.info("retrying %s (attempt %d): %s", url, attempt + 1, last)
            time.sleep(attempt * config.retry_wait_s)
        try:
            resumed |= _transfer(url, part, config, progress, label)
            return resumed
        except _Broken as exc:
            last = str(exc)
    kept = part.stat().st_size if part.exists() else 0
    raise FetchError(f"download of {url} failed after {config.retries + 1} attempts ({last}); "
                     f"{kept} bytes kept in {part.name}, run again to resume")


def _transfer(url: str, part: Path, config: FetchConfig, progress: bool, label: str) -> bool:
    """One request: append the rest of the body to ``part``; True if it resumed.

    Raises _Broken for retryable failures, FetchError for final ones.
    """
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=config.timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # range past the end: the .part is unusable
            part.unlink()
            raise _Broken("server refused the resume range; starting over") from None
        if exc.code >= 500 or exc.code == 429:
            raise _Broken(f"HTTP {exc.code} {exc.reason}") from None
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Broken(f"cannot connect: {reason}") from None
    with resp:
        start = 0
        if resp.status == 206:
            start = _content_range_start(resp.headers.get("Content-Range"))
            if start != offset:
                part.unlink(missing_ok=True)
                raise _Broken(f"server answered the range from byte {start}, not {offset}")
        length = resp.headers.get("Content-Length")
        body = int(length) if length and length.isdigit() else None
        total = start + body if body is not None else None
        received = _stream(resp, part, "ab" if start else "wb", start, total, config,
                           progress, label)
    if body is not None and received < body:
        raise _Broken(f"connection closed after {start + received} of {total} bytes")
    return start > 0


def _stream(resp: Any, part: Path, mode: str, start: int, total: int | None,
            config: FetchConfig, progress: bool, label: str) -> int:
    """Copy the response body into ``part``; bytes written reach disk even if it breaks."""
    from tqdm import tqdm

    received = 0
    with part.open(mode) as out, tqdm(total=total, initial=start, desc=label, unit="B",
                                      unit_scale=True, unit_divisor=1024, leave=False,
                                      file=sys.stderr, disable=not progress) as bar:
        while True:
            try:
                block = resp.read(config.chunk_bytes)
            except (OSError, http.client.HTTPException) as exc:
                raise _Broken(f"connection lost after {start + received} bytes: "
                              f"{exc or type(exc).__name__}") from None
            if not block:
                return received
            out.write(block)
            received += len(block)
            bar.update(len(block))


def _content_range_start(value: str | None) -> int:
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", (value or "").strip())
    return int(match.group(1)) if match else -1


def read_sums(path: Path) -> dict[str, str]:
    """``{file name: sha256}`` from a ``sha256sum`` style file; empty if absent."""
    sums: dict[str, str] = {}
    if not path.is_file():
        return sums
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if match:
            sums[match.group(2)] = match.group(1)
    return sums


def write_sums(path: Path, sums: dict[str, str]) -> None:
    """Write ``SHA256SUMS`` atomically (temp file + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())),
                   encoding="utf-8")
    os.replace(tmp, path)
