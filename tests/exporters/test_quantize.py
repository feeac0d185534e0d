"""int8 quantization: metadata kept, gate figures measured, refusal unless forced."""

from __future__ import annotations

import json

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("torch")

from exporters.quantize import (  # noqa: E402
    QuantizationRefused,
    QuantizeConfig,
    quantize_int8,
    validation_sequences,
)
from shared_model.artifact import read_metadata  # noqa: E402
from shared_model.cli import main  # noqa: E402
from shared_model.errors import InvalidRequest  # noqa: E402
from shared_model.serving.scoring import text_sequences  # noqa: E402
from shared_model.serving.session import ModelSession  # noqa: E402


@pytest.fixture
def val(tiny_model):
    from tinymodels import TINY_TEXT

    return text_sequences(ModelSession(tiny_model).tokenizer, TINY_TEXT)


def test_int8_passes_gate_on_trained_model_and_keeps_metadata(tiny_model, val, tmp_path):
    out = tmp_path / "int8.onnx"
    report = quantize_int8(tiny_model, out, val)
    assert report["passed"] and report["top1_agreement"] >= 0.99
    assert abs(report["ppl_increase"]) <= 0.02 and report["tokens"] > 500
    meta, fp32 = read_metadata(out), read_metadata(tiny_model)
    assert meta.vocab == fp32.vocab and meta.config == fp32.config
    assert meta.metrics["int8"]["top1_agreement"] == report["top1_agreement"]
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "MatMulInteger" in ops  # head quantized too
    s = ModelSession(out)
    assert s.run(*([[[1, 2, 3]]] + list(s.initial_state(1))))[0].shape[-1] == s.vocab_size


def test_gate_refuses_without_force_and_writes_with_it(tiny_model, val, tmp_path):
    out = tmp_path / "strict.onnx"
    strict = QuantizeConfig(min_agreement=1.0, max_ppl_increase=0.0)
    with pytest.raises(QuantizationRefused, match="--force") as err:
        quantize_int8(tiny_model, out, val, strict)
    assert not out.exists() and err.value.report["top1_agreement"] < 1.0
    forced = quantize_int8(tiny_model, out, val, QuantizeConfig(1.0, 0.0, force=True))
    assert out.exists() and not forced["passed"]


def test_validation_text_is_required_without_corpus(tiny_model):
    with pytest.raises(InvalidRequest, match="--val-text"):
        validation_sequences({"corpus": {}, "split": {}, "domain": "text"},
                             ModelSession(tiny_model).tokenizer)


def test_cli_int8(tiny_checkpoint, tmp_path, capsys):
    from tinymodels import TINY_TEXT

    text = tmp_path / "val.txt"
    text.write_text(TINY_TEXT, encoding="utf-8")
    out = tmp_path / "q.onnx"
    assert main(["export", str(tiny_checkpoint), "-o", str(out), "--int8",
                 "--val-text", str(text), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["int8"]["passed"] and row["int8"]["validation"] == "given text"
    assert main(["export", str(tiny_checkpoint), "-o", str(out), "--int8"]) == 2
    assert "--val-text" in capsys.readouterr().err
