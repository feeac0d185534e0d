"""Fixtures for the bot tests: a real tang model, a bot whose only fake is Discord's HTTP."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_support import FakeDiscordSession, start_bot, train_tang_model


@pytest.fixture(scope="session")
def tang_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real tiny tang model (trained ~2 s on the fixture poems, exported to .onnx)."""
    return train_tang_model(tmp_path_factory.mktemp("tang"))


@pytest.fixture
def models_dir(lstmgen_home: Path, tang_model: Path) -> Path:
    """The test's LSTMGEN_HOME/models holding the tang model under the name ``tang``."""
    d = lstmgen_home / "models"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(tang_model, d / "tang.onnx")
    return d


@pytest.fixture
async def bot(models_dir: Path) -> AsyncIterator[tuple[object, FakeDiscordSession]]:
    b, session = await start_bot()
    try:
        yield b, session
    finally:
        await b.close()


@pytest.fixture
def domain_models(models_dir: Path, tiny_scene_model: Path, tiny_bach_model: Path) -> Path:
    """Also the tiny real shakespeare and bach models (root conftest), as the defaults."""
    shutil.copy(tiny_scene_model, models_dir / "shakespeare.onnx")
    shutil.copy(tiny_bach_model, models_dir / "bach.onnx")
    return models_dir


@pytest.fixture
async def domain_bot(domain_models: Path) -> AsyncIterator[tuple[object, FakeDiscordSession]]:
    """A bot serving tang, shakespeare and bach."""
    b, session = await start_bot()
    try:
        yield b, session
    finally:
        await b.close()


@pytest.fixture
def store(models_dir):
    """A real store in this test's LSTMGEN_HOME (the bot's own SQLite file)."""
    from shared_model import Settings, Store

    s = Store.from_settings(Settings.from_env())
    yield s
    s.close()


@pytest.fixture
def no_errors_logged(caplog):
    """Whatever a user does, nothing is logged at ERROR (no unhandled exceptions)."""
    import logging

    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]
