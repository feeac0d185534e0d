"""``lstmgen data fetch`` through ``shared_model.cli.main``, against a loopback mirror."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared_model.cli import main
from shared_model.domains import get_domain
from shared_model.domains.fetch import SOURCES, SUMS_FILE, read_sums

DATA = Path("/work/shared/data")


def _serve_tang(mirror) -> dict[str, bytes]:
    tang = SOURCES["tang"]
    served = {}
    for k, file in enumerate(tang.files):
        poems = [{"id": f"{k}-{i}", "title": f"題{k}", "author": "王維",
                  "paragraphs": ["空山不見人，但聞人語響。", "返景入深林，復照青苔上。"]}
                 for i in range(2)]
        served[file.name] = json.dumps(poems, ensure_ascii=False).encode("utf-8")
        mirror.put(tang.repo, tang.commit, file.path, served[file.name])
    return served


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lstmgen: "), err
    assert "Traceback" not in err
    return err


def test_fetch_tang_into_the_data_dir(mirror, monkeypatch, capsys, lstmgen_home):
    served = _serve_tang(mirror)
    monkeypatch.setenv("LSTMGEN_FETCH_BASE_URL", mirror.base_url)
    assert main(["data", "fetch", "tang", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    dest = lstmgen_home / "data" / "tang"
    assert out["dest"] == str(dest) and out["commit"] == SOURCES["tang"].commit
    assert len(out["files"]) == 58 and {f["status"] for f in out["files"]} == {"downloaded"}
    assert all((dest / name).read_bytes() == data for name, data in served.items())
    assert set(read_sums(dest / SUMS_FILE)) == set(served)
    assert mirror.requests[0]["path"] == (
        f"chinese-poetry/chinese-poetry/{SOURCES['tang'].commit}/全唐诗/poet.tang.0.json")
    # run again: everything cached, nothing requested
    before = len(mirror.requests)
    assert main(["data", "fetch", "tang"]) == 0
    assert capsys.readouterr().out == f"tang: 58 file(s) in {dest} (58 cached)\n"
    assert len(mirror.requests) == before


def test_fetch_checksum_mismatch_exits_2(mirror, capsys, tmp_path, fixtures_dir):
    tiny = SOURCES["shakespeare"]
    # a different play served where Tiny Shakespeare should be
    mirror.put(tiny.repo, tiny.commit, tiny.files[0].path,
               (fixtures_dir / "shakespeare" / "play.txt").read_bytes())
    dest = tmp_path / "dest"
    code = main(["data", "fetch", "shakespeare", "--dest", str(dest),
                 "--base-url", mirror.base_url, "--quiet"])
    assert code == 2
    assert "checksum mismatch for tinyshakespeare.txt" in _one_line_error(capsys)
    assert list(dest.iterdir()) == []


def test_fetch_missing_upstream_exits_2(mirror, capsys, tmp_path):
    code = main(["data", "fetch", "jsb", "--dest", str(tmp_path / "jsb"),
                 "--base-url", mirror.base_url])
    assert code == 2
    assert "HTTP 404" in _one_line_error(capsys)


@pytest.mark.parametrize(("args", "message"), [
    (["data", "fetch", "bach"], "'bach' is not one of 'jsb', 'shakespeare', 'tang'"),
    (["data", "fetch"], "missing corpus NAME: one of jsb, shakespeare, tang"),
    (["data", "fetch", "shakespeare", "--base-url", "ftp://example.org"], "http(s) URL"),
    (["data", "fetch", "shakespeare", "--bogus"], "No such option"),
])
def test_usage_errors_exit_2(capsys, args, message):
    assert main(args) == 2
    assert message in _one_line_error(capsys)


def test_help_names_the_options(capsys):
    assert main(["data", "fetch", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("--dest", "--force", "--base-url", "--json", "LSTMGEN_FETCH_BASE_URL"):
        assert word in out


@pytest.mark.skipif(not (DATA / "shakespeare").is_dir(), reason="needs /work/shared/data")
def test_fetch_real_files_from_loopback_then_load(mirror, monkeypatch, capsys, tmp_path):
    tiny, jsb = SOURCES["shakespeare"], SOURCES["jsb"]
    mirror.link(tiny.repo, tiny.commit, tiny.files[0].path,
                DATA / "shakespeare" / "tinyshakespeare.txt")
    for file in jsb.files:
        mirror.link(jsb.repo, jsb.commit, file.path, DATA / "bach" / file.name)
    monkeypatch.setenv("LSTMGEN_FETCH_BASE_URL", mirror.base_url)
    mirror.drop_requests = 1  # the first transfer breaks and is resumed
    dest = tmp_path / "tiny"
    assert main(["data", "fetch", "shakespeare", "--dest", str(dest), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"][0]["status"] == "resumed"
    assert out["files"][0]["sha256"] == tiny.files[0].sha256
    corpus = get_domain("shakespeare").load_corpus(dest / "tinyshakespeare.txt")
    assert len(corpus.val[0].text) == 111540 and corpus.sha256 == tiny.files[0].sha256
    assert main(["data", "fetch", "jsb", "--dest", str(tmp_path / "jsb"), "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert [f["sha256"] for f in files] == [f.sha256 for f in jsb.files]
