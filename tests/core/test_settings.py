"""Settings: env parsing, defaults, the secret created once."""

from __future__ import annotations

import pytest

from shared_model.errors import InvalidRequest
from shared_model.settings import Settings


def test_defaults_follow_home(tmp_path):
    s = Settings.from_env({"LSTMGEN_HOME": str(tmp_path)})
    assert s.models_dir == tmp_path / "models"
    assert s.db_url == f"sqlite:///{tmp_path / 'lstmgen.db'}"


def test_overrides(tmp_path):
    s = Settings.from_env({"LSTMGEN_HOME": str(tmp_path), "LSTMGEN_MODELS": "/m",
                           "LSTMGEN_DB_URL": "postgresql+psycopg://x@h/db", "LSTMGEN_GUILD_ID": "42"})
    assert str(s.models_dir) == "/m" and s.db_url.startswith("postgresql") and s.guild_id == 42


def test_bad_guild_id(tmp_path):
    with pytest.raises(InvalidRequest):
        Settings.from_env({"LSTMGEN_HOME": str(tmp_path), "LSTMGEN_GUILD_ID": "abc"})


def test_secret_generated_once_and_private(tmp_path):
    s = Settings.from_env({"LSTMGEN_HOME": str(tmp_path)})
    k1, k2 = s.secret(), Settings.from_env({"LSTMGEN_HOME": str(tmp_path)}).secret()
    assert k1 == k2 and len(k1) == 64
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert Settings.from_env({"LSTMGEN_HOME": str(tmp_path), "LSTMGEN_SECRET": "k"}).secret() == b"k"
