"""Downloads against a real HTTP server on loopback: checks, cache, resume, clean failure."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest

from shared_model.domains.fetch import (
    SOURCES,
    SUMS_FILE,
    FetchConfig,
    RemoteFile,
    Source,
    check_poem_list,
    fetch,
    read_sums,
)
from shared_model.errors import FetchError, InvalidRequest

REPO, COMMIT = "someone/corpora", "0123456789abcdef0123456789abcdef01234567"
PLAY = (Path(__file__).parents[1] / "fixtures" / "shakespeare" / "play.txt").read_bytes()
BIG = bytes(range(256)) * 800  # 200 KiB: several reads, so a cut lands mid-body


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source(mirror, files: dict[str, bytes], validate=None, sha: bool = True) -> Source:
    for name, data in files.items():
        mirror.put(REPO, COMMIT, f"data/{name}", data)
    return Source("demo", REPO, COMMIT,
                  tuple(RemoteFile(f"data/{n}", n, _sha(d) if sha else None)
                        for n, d in files.items()),
                  validate=validate)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    out = tmp_path / "out"  # apart from the mirror's files
    out.mkdir()
    return out


def _config(mirror, **kw) -> FetchConfig:
    return FetchConfig(base_url=mirror.base_url, retry_wait_s=0.0, timeout_s=10.0, **kw)


def test_download_checks_and_records_sums(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY, "big.bin": BIG})
    result = fetch(source, dest, _config(mirror))
    assert [f.status for f in result.files] == ["downloaded", "downloaded"]
    assert (dest / "play.txt").read_bytes() == PLAY and (dest / "big.bin").read_bytes() == BIG
    assert sorted(p.name for p in dest.iterdir()) == [SUMS_FILE, "big.bin", "play.txt"]
    assert (dest / SUMS_FILE).read_text() == f"{_sha(BIG)}  big.bin\n{_sha(PLAY)}  play.txt\n"
    assert result.files[0].url == f"{mirror.base_url}/{REPO}/{COMMIT}/data/play.txt"
    assert result.files[1].size == len(BIG)
    assert all(r["range"] is None for r in mirror.requests)


def test_second_fetch_is_cached_without_requests(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY})
    fetch(source, dest, _config(mirror))
    before = len(mirror.requests)
    result = fetch(source, dest, _config(mirror))
    assert [f.status for f in result.files] == ["cached"]
    assert len(mirror.requests) == before


def test_force_downloads_again(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY})
    fetch(source, dest, _config(mirror))
    result = fetch(source, dest, _config(mirror, force=True))
    assert result.files[0].status == "downloaded" and len(mirror.requests) == 2


def test_corrupted_cached_file_is_replaced(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY})
    fetch(source, dest, _config(mirror))
    (dest / "play.txt").write_bytes(PLAY[:100])
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].status == "downloaded"
    assert (dest / "play.txt").read_bytes() == PLAY


def test_dropped_connection_resumes_with_range(mirror, dest):
    source = _source(mirror, {"big.bin": BIG})
    mirror.drop_requests = 1
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].status == "resumed"
    assert (dest / "big.bin").read_bytes() == BIG
    assert not (dest / "big.bin.part").exists()
    first, second = mirror.requests
    assert first["range"] is None
    kept = int(second["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < kept < len(BIG)


def test_server_ignoring_range_starts_over(mirror, dest):
    source = _source(mirror, {"big.bin": BIG})
    mirror.range_support = False
    mirror.drop_requests = 1
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].status == "downloaded"  # a 200 answer rewrote the .part
    assert (dest / "big.bin").read_bytes() == BIG
    assert mirror.requests[1]["range"] is not None


def test_broken_transfer_fails_cleanly_then_resumes_next_run(mirror, dest):
    source = _source(mirror, {"big.bin": BIG})
    mirror.drop_requests = -1
    with pytest.raises(FetchError) as err:
        fetch(source, dest, _config(mirror, retries=2))
    message = str(err.value)
    assert "failed after 3 attempts" in message and "run again to resume" in message
    assert "\n" not in message
    assert not (dest / "big.bin").exists()  # never a half file under the final name
    part = dest / "big.bin.part"
    assert 0 < part.stat().st_size < len(BIG)
    assert part.read_bytes() == BIG[:part.stat().st_size]
    assert read_sums(dest / SUMS_FILE) == {}
    # the next run picks up where the last one stopped
    mirror.drop_requests = 0
    kept = part.stat().st_size
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].status == "resumed"
    assert mirror.requests[-1]["range"] == f"bytes={kept}-"
    assert (dest / "big.bin").read_bytes() == BIG and not part.exists()


def test_checksum_mismatch_leaves_nothing(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY})
    mirror.put(REPO, COMMIT, "data/play.txt", PLAY.replace(b"ROMEO", b"ROMEA"))
    with pytest.raises(FetchError, match=r"checksum mismatch for play.txt .*not kept"):
        fetch(source, dest, _config(mirror))
    assert sorted(p.name for p in dest.iterdir()) == []


def test_stale_part_is_redone_from_scratch(mirror, dest):
    source = _source(mirror, {"big.bin": BIG})
    (dest / "big.bin.part").write_bytes(b"x" * 1000)  # a prefix from something else
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].status == "downloaded"
    assert (dest / "big.bin").read_bytes() == BIG
    assert [r["range"] for r in mirror.requests] == ["bytes=1000-", None]


def test_complete_part_answered_416_starts_over(mirror, dest):
    source = _source(mirror, {"play.txt": PLAY})
    (dest / "play.txt.part").write_bytes(PLAY + b"extra")
    result = fetch(source, dest, _config(mirror))
    assert (dest / "play.txt").read_bytes() == PLAY
    assert result.files[0].status == "downloaded"
    assert [r["range"] for r in mirror.requests] == [f"bytes={len(PLAY) + 5}-", None]


def test_missing_upstream_file_is_not_retried(mirror, dest):
    source = Source("demo", REPO, COMMIT, (RemoteFile("data/none.txt", "none.txt", "0" * 64),))
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(source, dest, _config(mirror))
    assert len(mirror.requests) == 1
    assert not (dest / "none.txt").exists() and not (dest / "none.txt.part").exists()


def test_unreachable_server_is_a_fetch_error(dest):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = Source("demo", REPO, COMMIT, (RemoteFile("data/a.txt", "a.txt", "0" * 64),))
    config = FetchConfig(base_url=f"http://127.0.0.1:{port}", retries=1, retry_wait_s=0.0)
    with pytest.raises(FetchError, match="failed after 2 attempts.*cannot connect"):
        fetch(source, dest, config)
    assert list(dest.iterdir()) == []


def _poems(n: int) -> bytes:
    poems = [{"title": f"詩{i}", "author": "李白", "paragraphs": ["床前明月光，疑是地上霜。"],
              "id": str(i)} for i in range(n)]
    return json.dumps(poems, ensure_ascii=False).encode("utf-8")


def test_unchecksummed_files_are_validated_and_recorded(mirror, dest):
    data = _poems(3)
    source = _source(mirror, {"poet.tang.0.json": data}, validate=check_poem_list, sha=False)
    result = fetch(source, dest, _config(mirror))
    assert result.files[0].sha256 == _sha(data)
    assert read_sums(dest / SUMS_FILE) == {"poet.tang.0.json": _sha(data)}
    # the recorded digest is what the cache is checked against
    assert fetch(source, dest, _config(mirror)).files[0].status == "cached"
    (dest / "poet.tang.0.json").write_bytes(_poems(2))
    assert fetch(source, dest, _config(mirror)).files[0].status == "downloaded"
    assert (dest / "poet.tang.0.json").read_bytes() == data


def test_hand_placed_valid_file_without_sums_is_accepted(mirror, dest):
    data = _poems(2)
    source = _source(mirror, {"poet.tang.0.json": data}, validate=check_poem_list, sha=False)
    (dest / "poet.tang.0.json").write_bytes(data)
    assert fetch(source, dest, _config(mirror)).files[0].status == "cached"
    assert mirror.requests == []
    assert read_sums(dest / SUMS_FILE) == {"poet.tang.0.json": _sha(data)}


def test_invalid_unchecksummed_file_is_not_kept(mirror, dest):
    source = _source(mirror, {"poet.tang.0.json": _poems(2)[:-20]}, validate=check_poem_list,
                     sha=False)
    with pytest.raises(FetchError, match="failed its content check.*not valid JSON"):
        fetch(source, dest, _config(mirror))
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"title": "x"}', "non-empty JSON list"),
    (b"[]", "non-empty JSON list"),
    (b'[{"title": "t", "author": "a"}]', "item 0 is not a poem"),
    (b'[{"title": "t", "author": "a", "paragraphs": "text"}]', "item 0 is not a poem"),
    (b'[{"title": "t", "author": "a", "paragraphs": ["ok"]}, 3]', "item 1 is not a poem"),
    (b'[{"title": "t", "author": null, "paragraphs": ["ok"]}]', "item 0 is not a poem"),
])
def test_check_poem_list_rejects(dest, content, message):
    path = dest / "poet.tang.0.json"
    path.write_bytes(content)
    with pytest.raises(FetchError, match=message):
        check_poem_list(path)


def test_canonical_sources_are_pinned():
    tiny = SOURCES["shakespeare"]
    assert tiny.url(tiny.files[0]) == (
        "https://raw.githubusercontent.com/karpathy/char-rnn/"
        "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt")
    assert tiny.files[0].sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    jsb = SOURCES["jsb"]
    assert [f.name for f in jsb.files] == ["jsb-chorales-quarter.json", "jsb-chorales-8th.json",
                                           "jsb-chorales-16th.json", "Jsb16thSeparated.json"]
    assert jsb.url(jsb.files[3]) == ("https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset/"
                                     "9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/Jsb16thSeparated.json")
    assert all(f.sha256 and len(f.sha256) == 64 for f in jsb.files)
    tang = SOURCES["tang"]
    assert len(tang.files) == 58 and tang.files[-1].name == "poet.tang.57000.json"
    assert all(f.sha256 is None for f in tang.files) and tang.validate is check_poem_list
    assert tang.url(tang.files[0], "http://mirror/") == (
        "http://mirror/chinese-poetry/chinese-poetry/99ebbef7e1345c0985c44b9fd96a3f9e776f117b/"
        "%E5%85%A8%E5%94%90%E8%AF%97/poet.tang.0.json")


@pytest.mark.parametrize("kw", [{"base_url": "ftp://example.org"}, {"base_url": "example.org"},
                                {"retries": -1}, {"timeout_s": 0}, {"chunk_bytes": 0}])
def test_bad_fetch_config(kw):
    with pytest.raises(InvalidRequest):
        FetchConfig(**kw)


def test_unknown_source_name(dest):
    with pytest.raises(InvalidRequest, match="unknown corpus 'bach'.*shakespeare"):
        fetch("bach", dest)


def test_progress_bar_goes_to_stderr(mirror, dest, capsys):
    source = _source(mirror, {"big.bin": BIG})
    fetch(source, dest, _config(mirror), progress=True)
    captured = capsys.readouterr()
    assert "big.bin:" in captured.err and "/200k" in captured.err  # label and known total
    assert captured.out == ""
