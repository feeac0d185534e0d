"""Where lstmgen keeps its files and which database it uses.

The only reader of ``LSTMGEN_*`` environment variables. Everything else receives a
``Settings`` value (built once by an adapter with ``Settings.from_env()``) instead of
looking at the environment. Imports nothing but the standard library and platformdirs.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from shared_model.errors import InvalidRequest

_APP = "lstmgen"


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(_APP, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Resolved locations and URLs; zero configuration gives working defaults.

    Attributes:
        home: data dir (``LSTMGEN_HOME``), default the platform's user data dir.
        models_dir: user models (``LSTMGEN_MODELS``), default ``home/models``.
        db_url: SQLAlchemy URL (``LSTMGEN_DB_URL``), default a SQLite file in ``home``.
        secret: HMAC key for hashing user ids (``LSTMGEN_SECRET``), else generated once
            and kept in ``home/secret``.
        guild_id: Discord guild for fast command sync (``LSTMGEN_GUILD_ID``), optional.
        fetch_base_url: mirror for ``lstmgen data fetch`` (``LSTMGEN_FETCH_BASE_URL``),
            optional; None means the canonical upstream.
    """

    home: Path
    models_dir: Path
    db_url: str
    secret_env: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    fetch_base_url: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env["LSTMGEN_HOME"]).expanduser() if env.get("LSTMGEN_HOME") else _default_home()
        models = env.get("LSTMGEN_MODELS")
        models_dir = Path(models).expanduser() if models else home / "models"
        db_url = env.get("LSTMGEN_DB_URL") or f"sqlite:///{home / 'lstmgen.db'}"
        guild = env.get("LSTMGEN_GUILD_ID")
        guild_id: int | None = None
        if guild:
            if not guild.isdigit():
                raise InvalidRequest(f"LSTMGEN_GUILD_ID must be a number, got {guild!r}")
            guild_id = int(guild)
        return cls(home=home, models_dir=models_dir, db_url=db_url,
                   secret_env=env.get("LSTMGEN_SECRET") or None, guild_id=guild_id,
                   fetch_base_url=env.get("LSTMGEN_FETCH_BASE_URL") or None)

    def ensure_home(self) -> Path:
        """Create the data dir if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def secret(self) -> bytes:
        """The HMAC key: ``LSTMGEN_SECRET``, else a random key created once in ``home``."""
        if self.secret_env:
            return self.secret_env.encode("utf-8")
        path = self.ensure_home() / "secret"
        if not path.exists():
            # a unique temp name per process AND thread, then an atomic link
            tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)  # atomic create-if-absent: two processes agree on one key
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        return path.read_text(encoding="ascii").strip().encode("ascii")
