"""Fixtures shared by the whole suite.

An autouse fixture gives every test its own LSTMGEN_HOME (and so its own models dir,
SQLite file and secret); nothing global needs resetting between tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tinymodels import FIXTURES, train_tiny_checkpoint, train_tiny_domain_checkpoint


@pytest.fixture(autouse=True)
def lstmgen_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lstmgen-home"
    monkeypatch.setenv("LSTMGEN_HOME", str(home))
    for var in ("LSTMGEN_MODELS", "LSTMGEN_DB_URL", "LSTMGEN_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real checkpoint of a tiny LSTM trained for 200 steps (~1 s) on a sonnet."""
    return train_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.ckpt")


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint: Path) -> Path:
    """The tiny checkpoint exported by exporters.export_onnx: a real self-contained .onnx."""
    from exporters.export import export_onnx

    return export_onnx(tiny_checkpoint, tiny_checkpoint.parent / "tiny.onnx")


def _export_tiny(tmp_path_factory: pytest.TempPathFactory, domain: str, data: Path,
                 **kw: object) -> Path:
    from exporters.export import export_onnx

    folder = tmp_path_factory.mktemp(domain)
    ckpt = train_tiny_domain_checkpoint(folder / f"{domain}.ckpt", domain, data, **kw)  # type: ignore[arg-type]
    return export_onnx(ckpt, folder / f"{domain}.onnx")


@pytest.fixture(scope="session")
def tiny_tang_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real exported tang .onnx (tiny, trained for seconds on the fixture poems)."""
    return _export_tiny(tmp_path_factory, "tang", FIXTURES / "tang" / "tangshi_sample.jsonl")


@pytest.fixture(scope="session")
def tiny_scene_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real exported shakespeare .onnx (tiny, trained on the fixture play)."""
    return _export_tiny(tmp_path_factory, "shakespeare", FIXTURES / "shakespeare" / "play.txt")


@pytest.fixture(scope="session")
def tiny_bach_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real exported bach .onnx (tiny, trained on the fixture chord progressions)."""
    return _export_tiny(tmp_path_factory, "bach", FIXTURES / "bach" / "tiny_jsb16th.json",
                        steps=60)


@pytest.fixture
def models_dir(lstmgen_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user models dir (LSTMGEN_MODELS) for this test."""
    folder = lstmgen_home.parent / "models"
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("LSTMGEN_MODELS", str(folder))
    return folder
