"""Fixtures of the magic's tests: a real InteractiveShell with the extension loaded, and a
models dir with real tiny exported models (free text, tang, shakespeare, bach)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def magic_models(models_dir: Path, tiny_model: Path, tiny_tang_model: Path,
                 tiny_scene_model: Path) -> Path:
    """LSTMGEN_MODELS holding ``sonnet`` (text), ``tang`` and ``shakespeare``."""
    shutil.copy(tiny_model, models_dir / "sonnet.onnx")
    shutil.copy(tiny_tang_model, models_dir / "tang.onnx")
    shutil.copy(tiny_scene_model, models_dir / "shakespeare.onnx")
    return models_dir


@pytest.fixture
def shell(magic_models: Path):
    """The process's real InteractiveShell with ``%load_ext lstm_magic``; unloaded and
    reset afterwards so every test starts clean (own LSTMGEN_HOME, default config)."""
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.reset(new_session=True)
    sh.config.pop("LstmGenMagics", None)
    sh.run_cell("%load_ext lstm_magic")
    yield sh
    sh.run_cell("%unload_ext lstm_magic")
    sh.config.pop("LstmGenMagics", None)
    sh.reset(new_session=True)
