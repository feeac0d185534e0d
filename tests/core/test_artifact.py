"""The .onnx metadata contract: written with onnx, read back without it."""

from __future__ import annotations

import pytest

from shared_model.artifact import ArtifactMeta, attach_metadata, read_metadata, read_props
from shared_model.errors import BrokenModelFile

onnx = pytest.importorskip("onnx")


def _meta(**kw):
    base = dict(domain="text", name="tiny", vocab=["<pad>", "<unk>", "<bos>", "<eos>", "a", "月"],
                special_tokens={"pad": "<pad>"},
                config={"embed_dim": 4, "hidden_size": 8, "num_layers": 1, "vocab_size": 6,
                        "dropout": 0.0, "tied": False},
                corpus={"name": "c.txt", "sha256": "00", "size": 3}, metrics={"val_loss": 1.5},
                created="2026-11-27T00:00:00Z", extra={"pmi": {"月": [["光", 2.0]]}})
    base.update(kw)
    return ArtifactMeta(**base)


def _write_model(path, meta=None, other_props=None):
    from onnx import TensorProto, helper

    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    for k, v in (other_props or {}).items():
        model.metadata_props.add(key=k, value=v)
    if meta is not None:
        attach_metadata(model, meta)
    onnx.save(model, path)
    return path


def test_round_trip_without_onnx_reader(tmp_path):
    meta = _meta()
    path = _write_model(tmp_path / "m.onnx", meta, {"producer.note": "kept"})
    back = read_metadata(path)
    assert back == meta
    assert read_props(path)["producer.note"] == "kept"


def test_attach_replaces_old_lstmgen_keys(tmp_path):
    from onnx import load

    path = _write_model(tmp_path / "m.onnx", _meta())
    model = load(path)
    attach_metadata(model, _meta(name="renamed"))
    onnx.save(model, path)
    assert read_metadata(path).name == "renamed"
    assert sum(p.key == "lstmgen.name" for p in load(path).metadata_props) == 1


def test_foreign_onnx_is_broken(tmp_path):
    path = _write_model(tmp_path / "foreign.onnx")
    with pytest.raises(BrokenModelFile, match="not an lstmgen model"):
        read_metadata(path)


@pytest.mark.parametrize("content", [b"", b"\xff\xff\xff", b"not an onnx file at all" * 3])
def test_garbage_is_broken(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(BrokenModelFile):
        read_metadata(path)


def test_truncated_file_is_broken(tmp_path):
    path = _write_model(tmp_path / "m.onnx", _meta())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])
    with pytest.raises(BrokenModelFile):
        read_metadata(path)


def test_config_must_match_vocab():
    with pytest.raises(BrokenModelFile, match="vocab has"):
        _meta(vocab=["a"])
