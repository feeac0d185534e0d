"""Engines for the store: URL checking, SQLite pragmas, write transactions, retries.

Owns everything dialect-specific about *connecting*: turning a URL into an Engine (a
malformed URL or a missing driver becomes a one-line ``StorageError``), SQLite's pragmas
(WAL, foreign keys, busy timeout), ``BEGIN IMMEDIATE`` for SQLite write transactions, and
the retry-with-backoff policy for transient lock/serialization errors. Imports SQLAlchemy and
``shared_model.errors`` only; never the ORM models, torch, training or exporters.

Why ``BEGIN IMMEDIATE``: the sqlite3 driver's legacy mode starts a transaction only at the
first INSERT, so a write transaction begins as a reader and must *upgrade* its lock; in WAL
mode an upgrade that loses a race fails at once with "database is locked" and busy_timeout
cannot help. Taking the write lock at BEGIN makes writers queue on busy_timeout instead.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from shared_model.errors import StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLite waits this long for a lock before reporting "database is locked".
BUSY_TIMEOUT_MS = 10_000
#: Whole-transaction retries on transient errors (locks, deadlocks, serialization).
MAX_ATTEMPTS = 8
#: Seconds for a PostgreSQL connection attempt before "unreachable".
CONNECT_TIMEOUT_S = 5

_WRITE_OPTION = "lstmgen_write"


def parse_url(url: str) -> URL:
    """Parse a SQLAlchemy URL or raise StorageError with a one-line reason."""
    if not isinstance(url, str) or not url.strip():
        raise StorageError("database URL is empty (set LSTMGEN_DB_URL to a SQLAlchemy URL)")
    try:
        return make_url(url.strip())
    except (exc.ArgumentError, ValueError) as err:
        raise StorageError(f"malformed database URL {_redact(url)!r}: expected a SQLAlchemy "
                           f"URL such as sqlite:///path/lstmgen.db or "
                           f"postgresql+psycopg://user@host/db ({_first_line(err)})") from None


def make_engine(url: str) -> Engine:
    """An Engine for ``url`` with lstmgen's connection settings.

    SQLite: the file's directory is created, every connection gets WAL, foreign keys and a
    busy timeout, and transactions are begun explicitly (``BEGIN`` for reads, ``BEGIN
    IMMEDIATE`` for engines from :func:`writer`). PostgreSQL: a connect timeout, pre-ping.

    Raises:
        StorageError: malformed URL, unknown dialect or missing driver.
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            connect_args: dict[str, Any] = {}
            if parsed.get_backend_name() == "postgresql":
                connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
            engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except StorageError:
        raise
    except (exc.ArgumentError, exc.NoSuchModuleError) as err:
        raise StorageError(f"unsupported database URL {_redact(url)!r}: "
                           f"{_first_line(err)}") from None
    except ImportError as err:
        raise StorageError(f"database driver for {parsed.drivername!r} is not installed "
                           f"({err.name or err}); for PostgreSQL: pip install 'lstmgen[postgres]'"
                           ) from None
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _sqlite_engine(parsed: URL) -> Engine:
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot create the directory for SQLite file {database!r}: "
                               f"{err.strerror or err}") from None
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see docstring)
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            if database and database != ":memory:":
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")  # durable in WAL up to a power cut
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def is_transient(err: BaseException) -> bool:
    """True for errors that a retry of the whole transaction can cure."""
    if _looks_unreachable(str(getattr(err, "orig", err))):
        return False  # the server is down or the URL is wrong: retrying only delays the error
    if isinstance(err, exc.DBAPIError) and err.connection_invalidated:
        return True
    if not isinstance(err, exc.OperationalError | exc.InternalError | exc.IntegrityError):
        return False
    orig = getattr(err, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):  # PostgreSQL serialization failure, deadlock
        return True
    text = str(orig).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    # a concurrent writer inserted the same unique row first (model, rating, comparison):
    # re-running the transaction finds it and updates instead
    return isinstance(err, exc.IntegrityError) and (
        sqlstate == "23505" or "unique constraint failed" in text)


def run_with_retry(work: Callable[[], T], *, what: str, attempts: int = MAX_ATTEMPTS) -> T:
    """Run ``work`` (one whole transaction); retry transient failures with backoff.

    Non-transient database errors become ``StorageError`` with one line; ``LstmgenError``
    raised by ``work`` (validation, not found) passes through untouched.
    """
    delay = 0.02
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except exc.DBAPIError as err:
            if attempt < attempts and is_transient(err):
                log.info("%s: transient database error (attempt %d): %s",
                         what, attempt, _first_line(err.orig))
                time.sleep(delay * (0.5 + random.random()))  # jitter: writers do not re-collide
                delay = min(delay * 2, 1.0)
                continue
            raise as_storage_error(err, what) from None
    raise AssertionError("unreachable")  # pragma: no cover


def as_storage_error(err: BaseException, what: str) -> StorageError:
    """A one-line StorageError for a database failure during ``what``."""
    orig = getattr(err, "orig", None) or err
    if isinstance(err, exc.OperationalError) and _looks_unreachable(str(orig)):
        return StorageError(f"cannot connect to the database while trying to {what}: "
                            f"{_first_line(orig)}")
    return StorageError(f"database error while trying to {what}: {_first_line(orig)}")


def _looks_unreachable(text: str) -> bool:
    text = text.lower()
    return any(s in text for s in ("connection refused", "could not connect", "timeout expired",
                                   "connection failed", "could not translate host",
                                   "name or service not known", "unable to open database"))


def _first_line(err: object) -> str:
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return lines[0] if lines else type(err).__name__


def _redact(url: str) -> str:
    """The URL with any password hidden, for error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # malformed: show it, minus anything after a colon before '@'
        head, sep, tail = url.partition("@")
        if sep and ":" in head.split("//", 1)[-1]:
            scheme, _, cred = head.partition("//")
            return f"{scheme}//{cred.split(':', 1)[0]}:***@{tail}"
        return url
