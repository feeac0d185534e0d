"""The stats report on fixed rows, and its plot."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared_model.errors import InvalidRequest
from shared_model.evaluation.plot import plot_report
from shared_model.evaluation.report import build_report
from shared_model.evaluation.stats import bradley_terry

A, B = "a" * 64, "b" * 64


@dataclass
class R:
    generation_id: int
    model_name: str
    model_sha256: str
    rater: str
    dimension: str
    score: int


@dataclass
class C:
    model_a: str
    sha256_a: str
    model_b: str
    sha256_b: str
    winner: str


def _ratings():
    rows = []
    for g in range(12):  # model x: generations 0..11 rated by two raters, agreeing mostly
        base = 1 + g % 5
        rows.append(R(g, "x", A, "r1", "overall", base))
        rows.append(R(g, "x", A, "r2", "overall", base if g % 4 else min(5, base + 1)))
    rows.append(R(100, "y", B, "r1", "overall", 2))
    rows.append(R(100, "y", B, "r1", "form", 3))
    return rows


def test_report_per_model_dimension_and_correlation():
    metrics = [(g, "x", A, {"distinct_1": float(g % 5), "noise": float((g * 7) % 3)})
               for g in range(12)]
    report = build_report(_ratings(), [], metrics, min_correlation_n=10)
    x = next(m for m in report["models"] if m["name"] == "x")["dimensions"]["overall"]
    assert x["n"] == 24 and x["raters"] == 2 and x["generations"] == 12
    assert 0.8 < x["alpha_ordinal"] < 1.0
    assert x["ci_low"] < x["mean"] < x["ci_high"]
    y = next(m for m in report["models"] if m["name"] == "y")
    assert list(y["dimensions"]) == ["overall", "form"] and y["dimensions"]["form"]["sd"] is None
    corr = {c["metric"]: c for c in report["correlations"]}
    assert corr["distinct_1"]["n"] == 12 and corr["distinct_1"]["rho"] > 0.9
    assert report["bradley_terry"]["models"] == []


def test_correlation_waits_for_enough_generations():
    metrics = [(g, "x", A, {"distinct_1": float(g)}) for g in range(5)]
    (row,) = build_report(_ratings(), [], metrics, min_correlation_n=10)["correlations"]
    assert row["n"] == 5 and row["rho"] is None


def test_bradley_terry_section_counts_ties_as_half():
    comps = [C("x", A, "y", B, "a")] * 3 + [C("y", B, "x", A, "a"), C("x", A, "y", B, "tie"),
                                            C("x", A, "x", A, "b")]  # same model: ignored
    bt = build_report([], comps, bt_prior=0.0)["bradley_terry"]
    assert bt["comparisons"] == 5
    rows = {r["model"]: r for r in bt["models"]}
    assert rows["x@aaaaaaaa"]["wins"] == 3 and rows["x@aaaaaaaa"]["ties"] == 1
    expected = bradley_terry([[0, 3.5], [1.5, 0]], prior=0.0)
    assert rows["x@aaaaaaaa"]["strength"] == pytest.approx(expected.strengths[0])
    filtered = build_report([], comps + [C("z", "c" * 64, "w", "d" * 64, "a")], model="x")
    assert filtered["bradley_terry"]["comparisons"] == 5


def test_plot_writes_png(tmp_path):
    report = build_report(_ratings(), [])
    out = plot_report(report, tmp_path / "sub" / "stats.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidRequest, match="no ratings"):
        plot_report(build_report([], []), tmp_path / "empty.png")
    with pytest.raises(InvalidRequest, match="cannot write"):
        plot_report(report, tmp_path / "stats.nosuchformat")
