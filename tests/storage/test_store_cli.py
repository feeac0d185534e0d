"""The storage commands through the real CLI entry point: --json output and stored rows."""

from __future__ import annotations

import json

import pytest
from storage_support import SHA_B, count_rows, make_record

from shared_model.cli import main
from shared_model.storage import Store


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    """Run ``lstmgen ...`` against ``db_url``; returns (exit code, stdout lines, stderr)."""
    monkeypatch.setenv("LSTMGEN_DB_URL", db_url)
    monkeypatch.setenv("LSTMGEN_SECRET", "cli-secret")

    def run(*argv: str) -> tuple[int, list[str], str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out.splitlines(), captured.err

    return run


@pytest.fixture
def gens(db_url):
    store = Store(db_url, b"cli-secret")
    ids = (store.record_generation(make_record()),
           store.record_generation(make_record(model_name="other", model_sha256=SHA_B,
                                               metrics={"distinct_1": 0.7})))
    store.close()
    return ids


def test_rate_then_rerate_json(cli, gens, db_url):
    g1, _ = gens
    code, out, _ = cli("rate", str(g1), "4", "--rater", "alice", "--json")
    assert code == 0
    first = json.loads(out[0])
    assert first["score"] == 4 and not first["updated"] and first["generation_id"] == g1
    code, out, _ = cli("rate", str(g1), "5", "--rater", "alice", "--comment", "lovely", "--json")
    assert json.loads(out[0])["previous_score"] == 4
    code, out, _ = cli("rate", str(g1), "3", "-d", "form")  # default rater: local user name
    assert code == 0 and "form rated 3/5" in out[0]
    assert count_rows(db_url, "rating") == 2


@pytest.mark.parametrize("args, message", [
    (["rate", "{g}", "0"], "score must be from 1 to 5"),
    (["rate", "{g}", "6"], "score must be from 1 to 5"),
    (["rate", "{g}", "five"], "not a valid integer"),
    (["rate", "{g}", "3", "--dimension", "style"], "style"),
    (["rate", "999", "3"], "no generation with id 999"),
    (["compare", "{g}", "{g}", "--winner", "a"], "with itself"),
    (["compare", "{g}", "999", "--winner", "b"], "no generation with id 999"),
    (["compare", "{g}", "{g}"], "--winner"),
])
def test_bad_input_one_line_exit_2_nothing_written(cli, gens, db_url, args, message):
    code, out, err = cli(*[a.format(g=gens[0]) for a in args])
    assert code == 2 and out == []
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert count_rows(db_url, "rating") == 0 and count_rows(db_url, "comparison") == 0


def test_compare_and_history(cli, gens):
    g1, g2 = gens
    code, out, _ = cli("compare", str(g1), str(g2), "--winner", "b", "--json")
    assert code == 0 and json.loads(out[0])["winner"] == "b"
    cli("rate", str(g2), "5", "--rater", "x")
    code, out, _ = cli("history", "--json")
    rows = [json.loads(line) for line in out]
    assert [r["id"] for r in rows] == [g2, g1]
    assert rows[0]["ratings"]["overall"] == {"count": 1, "mean": 5.0}
    assert {"id", "model", "text", "params", "latency_ms"} <= set(rows[0])
    code, out, _ = cli("history", "--limit", "1")
    assert code == 0 and len(out) == 1 and out[0].startswith(f"#{g2}")
    assert cli("history", "--limit", "0")[0] == 2


def test_ratings_export_cli(cli, gens, tmp_path):
    g1, g2 = gens
    cli("rate", str(g1), "4", "--rater", "a")
    cli("rate", str(g1), "2", "--rater", "b")
    out_file = tmp_path / "ds.jsonl"
    code, out, _ = cli("ratings", "export", "-o", str(out_file), "--min-ratings", "2", "--json")
    assert code == 0 and json.loads(out[0])["rows"] == 1
    assert [json.loads(x)["id"] for x in out_file.read_text().splitlines()] == [g1]
    code, out, _ = cli("ratings", "export", "-o", str(tmp_path / "ds.csv"), "--per-rater")
    assert code == 0 and "wrote 2 rows" in out[0]
    assert (tmp_path / "ds.csv").read_text().startswith("generation_id,")
    code, _, err = cli("ratings", "export", "-o", str(out_file), "--since", "soon")
    assert code == 2 and "--since" in err


def test_stats_cli_json_and_plot(cli, gens, tmp_path):
    g1, g2 = gens
    for rater, (s1, s2) in {"a": (4, 2), "b": (5, 2), "c": (4, 1)}.items():
        cli("rate", str(g1), str(s1), "--rater", rater)
        cli("rate", str(g2), str(s2), "--rater", rater)
        cli("compare", str(g1), str(g2), "--winner", "a", "--rater", rater)
    plot = tmp_path / "stats.png"
    code, out, _ = cli("stats", "--json", "--plot", str(plot))
    assert code == 0 and len(out) == 1
    report = json.loads(out[0])
    by_model = {m["name"]: m for m in report["models"]}
    overall = by_model["tang-small"]["dimensions"]["overall"]
    assert overall["n"] == 3 and overall["mean"] == pytest.approx(13 / 3)
    assert overall["ci_low"] < overall["mean"] < overall["ci_high"]
    bt = report["bradley_terry"]["models"]
    assert bt[0]["model"].startswith("tang-small@") and bt[0]["elo"] > bt[1]["elo"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = cli("stats", "--model", "other")
    assert code == 0 and any(line.startswith("other@") for line in out)


def test_db_upgrade_cli(cli):
    code, out, _ = cli("db", "upgrade", "--json")
    first = json.loads(out[0])
    assert code == 0 and first["after"] == "0001"
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and "already at 0001" in out[0]


def test_malformed_db_url_cli(monkeypatch, capsys):
    monkeypatch.setenv("LSTMGEN_DB_URL", "definitely not a url")
    assert main(["history"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmgen: malformed database URL") and len(err.splitlines()) == 1
