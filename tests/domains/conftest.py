"""A real HTTP mirror on 127.0.0.1 for the fetch tests (http.server in a thread).

It serves files laid out as ``/<repo>/<commit>/<path>`` like raw.githubusercontent.com,
honours ``Range: bytes=N-`` (206 / 416) unless told not to, and can cut the connection
in the middle of a body for the next k requests, to test resume and clean failure.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Mirror:
    root: Path
    base_url: str = ""
    range_support: bool = True
    drop_requests: int = 0  # cut the next k responses mid-body; -1: all of them
    drop_fraction: float = 0.5  # share of the body sent before the cut
    requests: list[dict[str, str | None]] = field(default_factory=list)

    def put(self, repo: str, commit: str, path: str, data: bytes) -> Path:
        target = self.root / repo / commit / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def link(self, repo: str, commit: str, path: str, source: Path) -> None:
        target = self.root / repo / commit / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
            mirror.requests.append({"path": rel, "range": self.headers.get("Range")})
            file = mirror.root / rel
            if ".." in Path(rel).parts or not file.is_file():
                self._reply(404, b"not found")
                return
            data = file.read_bytes()
            status, start = 200, 0
            rng = self.headers.get("Range")
            headers = {}
            if rng and mirror.range_support:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._reply(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = data[start:]
            if mirror.drop_requests:
                mirror.drop_requests -= mirror.drop_requests > 0
                cut = int(len(body) * mirror.drop_fraction)
                self._reply(status, body, headers, send=cut)
                return
            self._reply(status, body, headers)

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                   send: int | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body if send is None else body[:send])
            self.wfile.flush()
            self.close_connection = True

    return Handler


@pytest.fixture(autouse=True)
def _no_fetch_mirror_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's LSTMGEN_FETCH_BASE_URL must not leak into the tests."""
    monkeypatch.delenv("LSTMGEN_FETCH_BASE_URL", raising=False)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    root = tmp_path / "mirror"
    root.mkdir()
    m = Mirror(root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(m))
    server.daemon_threads = True
    m.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield m
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
