"""Parity of the exported graph with the PyTorch module (max |Δlogit| < 1e-4)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from exporters.verify import verify_parity  # noqa: E402


def test_parity_on_random_tokens_and_real_text(tiny_checkpoint, tiny_model):
    from tinymodels import TINY_TEXT

    report = verify_parity(tiny_checkpoint, tiny_model, TINY_TEXT)
    assert report["passed"], report
    assert report["max_abs_logit_diff"] < 1e-4
    cases = {(c["input"], c["batch"], c["T"]) for c in report["cases"]}
    assert cases == {(i, b, t) for i in ("random", "text") for b in (1, 8) for t in (1, 64)}
    assert all(c["calls"] == 3 for c in report["cases"])  # state carried across calls


def test_parity_detects_a_different_model(tiny_checkpoint, tmp_path):
    from tinymodels import train_tiny_checkpoint

    from exporters.export import export_onnx

    other = train_tiny_checkpoint(tmp_path / "other.ckpt", steps=5, seed=1)
    report = verify_parity(tiny_checkpoint, export_onnx(other, tmp_path / "other.onnx"))
    assert not report["passed"] and report["max_abs_logit_diff"] > 1e-3
