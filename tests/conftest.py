"""Fixtures shared by the whole suite.

An autouse fixture gives every test its own LSTMGEN_HOME (and so its own models dir,
SQLite file and secret); nothing global needs resetting between tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


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
