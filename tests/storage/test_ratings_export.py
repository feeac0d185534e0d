"""Ratings export: flat records, filters, atomic write; JSONL loads with pandas and datasets."""

from __future__ import annotations

import base64
import csv
import json
from datetime import datetime, timedelta, timezone

import pytest
from storage_support import SHA_B, make_record

from shared_model.errors import InvalidRequest
from shared_model.storage import ExportConfig
from shared_model.storage.export import parse_since


@pytest.fixture
def rated(store):
    """Three generations: g1 rated by two raters, g2 by one (another model), g3 unrated."""
    g1 = store.record_generation(make_record(metrics={"distinct_1": 0.8, "perplexity": 20.0},
                                             output_data=b"\x00MIDI"))
    g2 = store.record_generation(make_record(model_name="scene", model_sha256=SHA_B,
                                             domain="shakespeare", params={"turns": 4},
                                             metrics={"distinct_1": 0.5}))
    g3 = store.record_generation(make_record())
    store.rate(g1, "alice", 4)
    store.rate(g1, "bob", 2)
    store.rate(g1, "alice", 5, "form", comment="good rhyme")
    store.rate(g2, "alice", 3)
    store.compare(g1, g2, "carol", "a")
    store.compare(g2, g1, "dave", "tie")
    return store, (g1, g2, g3)


def _lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_one_record_per_generation_with_aggregates(rated, tmp_path):
    store, (g1, g2, g3) = rated
    out = tmp_path / "r.jsonl"
    result = store.export_ratings(out, ExportConfig())
    assert (result.rows, result.generations) == (2, 2)
    rows = {r["id"]: r for r in _lines(out)}
    assert set(rows) == {g1, g2}  # g3 has no rating (min_ratings=1)
    r1 = rows[g1]
    assert r1["overall_mean"] == 3.0 and r1["overall_n"] == 2
    assert r1["form_mean"] == 5.0 and r1["fluency_mean"] is None and r1["fluency_n"] == 0
    assert r1["n_ratings"] == 3 and r1["n_raters"] == 2
    assert (r1["comparisons_won"], r1["comparisons_lost"], r1["comparisons_tied"]) == (1, 0, 1)
    assert json.loads(r1["params"]) == {"temperature": 0.8, "top_k": 40}
    assert base64.b64decode(r1["output_data_b64"]) == b"\x00MIDI"
    assert r1["metric_perplexity"] == 20.0 and rows[g2]["metric_perplexity"] is None
    assert set(r1) == set(rows[g2])  # one flat schema for every row


def test_filters_and_min_ratings(rated, tmp_path):
    store, (g1, g2, g3) = rated
    cases = [
        (ExportConfig(model="scene"), {g2}),
        (ExportConfig(model=SHA_B[:10]), {g2}),
        (ExportConfig(domain="tang"), {g1}),
        (ExportConfig(min_ratings=2), {g1}),
        (ExportConfig(min_ratings=0), {g1, g2, g3}),
        (ExportConfig(since=datetime.now(timezone.utc) + timedelta(days=1)), set()),
        (ExportConfig(since=datetime(2000, 1, 1)), {g1, g2}),
    ]
    for i, (config, expected) in enumerate(cases):
        out = tmp_path / f"f{i}.jsonl"
        store.export_ratings(out, config)
        assert {r["id"] for r in _lines(out)} == expected, config


def test_per_rater_rows(rated, tmp_path):
    store, (g1, g2, _) = rated
    out = tmp_path / "p.jsonl"
    result = store.export_ratings(out, ExportConfig(per_rater=True))
    rows = _lines(out)
    assert result.rows == 4 and result.generations == 2
    assert sorted((r["generation_id"], r["dimension"], r["score"]) for r in rows) == [
        (g1, "form", 5), (g1, "overall", 2), (g1, "overall", 4), (g2, "overall", 3)]
    assert {r["rater"] for r in rows} == {store.hash_id("alice"), store.hash_id("bob")}
    assert [r["comment"] for r in rows if r["dimension"] == "form"] == ["good rhyme"]


def test_jsonl_loads_unchanged_with_pandas_and_datasets(rated, tmp_path):
    pd = pytest.importorskip("pandas")
    datasets = pytest.importorskip("datasets")
    store, (g1, g2, _) = rated
    for per_rater in (False, True):
        out = tmp_path / f"d{per_rater}.jsonl"
        result = store.export_ratings(out, ExportConfig(per_rater=per_rater))
        frame = pd.read_json(out, lines=True)
        assert len(frame) == result.rows
        ds = datasets.load_dataset("json", data_files=str(out), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
        assert ds.num_rows == result.rows
        assert set(ds.column_names) == set(frame.columns)
        if not per_rater:
            assert sorted(ds["id"]) == [g1, g2]
            assert sorted(frame["overall_mean"].tolist()) == [3.0, 3.0]


def test_csv_export(rated, tmp_path):
    pd = pytest.importorskip("pandas")
    store, (g1, g2, _) = rated
    out = tmp_path / "r.csv"
    store.export_ratings(out, ExportConfig(format="csv"))
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {int(r["id"]) for r in rows} == {g1, g2}
    frame = pd.read_csv(out)
    assert frame.loc[frame["id"] == g1, "overall_mean"].item() == 3.0
    assert "春眠不觉晓" in frame.loc[frame["id"] == g1, "text"].item()


def test_export_is_atomic_and_replaces(rated, tmp_path):
    store, _ = rated
    out = tmp_path / "r.jsonl"
    out.write_text("old\n")
    store.export_ratings(out, ExportConfig())
    assert "old" not in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(InvalidRequest, match="directory"):
        store.export_ratings(tmp_path, ExportConfig())


@pytest.mark.parametrize("kwargs, message", [
    ({"format": "xml"}, "format"), ({"min_ratings": -1}, "min_ratings"),
    ({"since": "yesterday"}, "since"),
])
def test_export_config_validation(kwargs, message):
    with pytest.raises(InvalidRequest, match=message):
        ExportConfig(**kwargs)


def test_parse_since():
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert parse_since("2024-05-01T10:00:00+02:00").utcoffset() == timedelta(hours=2)
    with pytest.raises(InvalidRequest, match="--since"):
        parse_since("May 1st")
