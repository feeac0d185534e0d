"""The registry: shipped + user models, corrupt and foreign files listed as broken."""

from __future__ import annotations

import shutil

import pytest

from shared_model.errors import BrokenModelFile, ModelNotFound
from shared_model.serving import registry as reg
from shared_model.serving.registry import Registry
from shared_model.settings import Settings


@pytest.fixture
def dirs(tmp_path, tiny_model):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(tiny_model, shipped / "tang.onnx")
    shutil.copy(tiny_model, shipped / "shared.onnx")
    settings = Settings.from_env()
    settings.models_dir.mkdir(parents=True)
    return shipped, settings


def _foreign_onnx(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), path)


def test_lists_shipped_and_user_with_broken_reasons(dirs, tiny_model):
    shipped, settings = dirs
    user = settings.models_dir
    shutil.copy(tiny_model, user / "mine.onnx")
    (user / "corrupt.onnx").write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    _foreign_onnx(user / "foreign.onnx")
    infos = {i.name: i for i in Registry(settings, shipped).list()}
    assert set(infos) == {"tang", "shared", "mine", "corrupt", "foreign"}
    assert infos["tang"].source == "shipped" and infos["mine"].source == "user"
    good = infos["mine"]
    assert good.broken is None and good.domain == "text" and good.vocab_size > 10
    assert good.size == tiny_model.stat().st_size and len(good.sha256) == 64
    assert "train_loss" in good.metrics
    assert infos["corrupt"].broken and "not a readable ONNX" in infos["corrupt"].broken
    assert "not an lstmgen model" in infos["foreign"].broken
    with pytest.raises(BrokenModelFile, match="foreign"):
        Registry(settings, shipped).resolve("foreign")


def test_user_dir_shadows_shipped(dirs, tiny_model):
    shipped, settings = dirs
    shutil.copy(tiny_model, settings.models_dir / "tang.onnx")
    info = Registry(settings, shipped).resolve("tang")
    assert info.source == "user"
    assert [i.source for i in Registry(settings, shipped).list() if i.name == "tang"] == ["user"]


def test_unknown_name_lists_available(dirs):
    shipped, settings = dirs
    with pytest.raises(ModelNotFound, match="available: shared, tang"):
        Registry(settings, shipped).resolve("nope")


def test_path_to_onnx_file_works(dirs, tiny_model, tmp_path):
    shipped, settings = dirs
    info = Registry(settings, shipped).resolve(str(tiny_model))
    assert info.source == "path" and info.path == tiny_model
    with pytest.raises(ModelNotFound, match="no model file"):
        Registry(settings, shipped).resolve(str(tmp_path / "missing.onnx"))


def test_open_builds_a_session(dirs):
    shipped, settings = dirs
    session = Registry(settings, shipped).open("tang")
    assert session.meta.domain == "text"


def test_sha256_cache_follows_file_changes(tmp_path):
    f = tmp_path / "m.onnx"
    f.write_bytes(b"one")
    first = reg.file_sha256(f)
    assert reg.file_sha256(f) == first
    f.write_bytes(b"two!")
    assert reg.file_sha256(f) != first


def test_shipped_dir_is_the_package_models_folder():
    assert reg.shipped_dir().name == "models"
    assert reg.shipped_dir().parent.name == "shared_model"
