"""The exporter: graph shape, metadata, checker, atomic write, bad checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("torch")

from exporters.export import ExportConfig, export_onnx  # noqa: E402
from shared_model.artifact import read_metadata  # noqa: E402
from shared_model.cli import main  # noqa: E402
from shared_model.errors import CheckpointError, InvalidRequest  # noqa: E402
from shared_model.serving.session import ModelSession  # noqa: E402


def test_graph_contract(tiny_model):
    model = onnx.load(str(tiny_model))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("LSTM") == 2  # one per layer
    assert "Gemm" not in ops and "MatMul" in ops and "Add" in ops
    assert [i.name for i in model.graph.input] == ["tokens", "h0", "c0"]
    assert [o.name for o in model.graph.output] == ["logits", "hn", "cn"]
    tokens = model.graph.input[0].type.tensor_type
    assert tokens.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param for d in tokens.shape.dim] == ["B", "T"]
    assert model.graph.input[1].type.tensor_type.shape.dim[1].dim_param == "B"
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def test_metadata_from_checkpoint(tiny_model, tiny_checkpoint):
    import torch

    payload = torch.load(tiny_checkpoint, weights_only=False)
    meta = read_metadata(tiny_model)
    assert meta.vocab == payload["vocab"] and meta.special_tokens == payload["special_tokens"]
    assert meta.config == payload["model_config"] and meta.domain == "text" and meta.name == "tiny"
    assert meta.corpus["name"] == "sonnet18.txt" and meta.metrics == payload["metrics"]
    assert meta.trainer["steps"] == 200 and meta.created.endswith("Z")
    props = {p.key: p.value for p in onnx.load(str(tiny_model)).metadata_props}
    assert json.loads(props["lstmgen.vocab"]) == payload["vocab"]


def test_dynamic_batch_and_time(tiny_model):
    s = ModelSession(tiny_model)
    for B, T in ((1, 1), (5, 17), (2, 300)):
        logits, h, _ = s.run(np.zeros((B, T), np.int64), *s.initial_state(B))
        assert logits.shape == (B, T, s.vocab_size) and h.shape[1] == B


def test_write_is_atomic_and_leaves_no_temp(tiny_checkpoint, tmp_path):
    out = tmp_path / "out" / "m.onnx"
    export_onnx(tiny_checkpoint, out, ExportConfig(name="renamed"))
    assert read_metadata(out).name == "renamed"
    assert [p.name for p in out.parent.iterdir()] == ["m.onnx"]


def test_bad_inputs(tmp_path, tiny_checkpoint):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        export_onnx(tmp_path / "missing.ckpt", tmp_path / "m.onnx")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        export_onnx(junk, tmp_path / "m.onnx")
    with pytest.raises(InvalidRequest, match=".onnx"):
        export_onnx(tiny_checkpoint, tmp_path / "m.bin")
    with pytest.raises(InvalidRequest, match="opset"):
        ExportConfig(opset=9)


def test_cli_export_verify_json(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "cli.onnx"
    assert main(["export", str(tiny_checkpoint), "-o", str(out), "--verify", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["path"] == str(out) and row["size"] == out.stat().st_size
    assert row["verify"]["passed"] and row["verify"]["max_abs_logit_diff"] < 1e-4
    assert main(["export", str(tmp_path / "none.ckpt"), "-o", str(out)]) == 2
    assert "no checkpoint" in capsys.readouterr().err
