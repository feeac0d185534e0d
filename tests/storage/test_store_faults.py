"""Concurrency and crashes: several writer processes, SIGKILL mid-transaction, bad URLs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from storage_support import SECRET, count_rows, make_record

from shared_model.errors import StorageError
from shared_model.storage import Store

WRITER = Path(__file__).with_name("writer_proc.py")
ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WRITER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_four_processes_write_concurrently_without_lock_errors(db_url):
    """Fresh database: the processes also race on the first-use migration and model row."""
    n, procs = 20, 4
    writers = [_spawn(db_url, str(n), f"w{k}") for k in range(procs)]
    results = [w.communicate(timeout=240) for w in writers]
    for w, (out, err) in zip(writers, results, strict=True):
        assert w.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err
        assert len(out.split()) == n
    assert count_rows(db_url, "generation") == procs * n
    assert count_rows(db_url, "rating") == procs * n * 3
    assert count_rows(db_url, "model") == 1
    ids = [int(x) for out, _ in results for x in out.split()]
    assert len(set(ids)) == procs * n


def _kill_when_flushed(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "FLUSHED", proc.stderr.read() if proc.stderr else line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _assert_consistent(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        orphans = conn.execute(text(
            "SELECT count(*) FROM rating r LEFT JOIN generation g ON g.id = r.generation_id "
            "WHERE g.id IS NULL")).scalar_one()
        assert orphans == 0
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    engine.dispose()


def test_sigkill_mid_record_leaves_no_partial_generation(db_url):
    store = Store(db_url, SECRET)
    kept = store.record_generation(make_record())
    _kill_when_flushed(_spawn(db_url, "1", "victim", "pause-record"))
    _assert_consistent(db_url)
    assert count_rows(db_url, "generation") == 1 and count_rows(db_url, "model") == 1
    # the store still opens and writes (the dead writer's lock is gone)
    again = Store(db_url, SECRET)
    new = again.record_generation(make_record())
    assert again.rate(new, "alice", 5).score == 5
    assert [v.id for v in again.history()] == [new, kept]
    again.close()
    store.close()


def test_sigkill_mid_rate_leaves_no_rating(db_url):
    store = Store(db_url, SECRET)
    gid = store.record_generation(make_record())
    _kill_when_flushed(_spawn(db_url, "1", "victim", "pause-rate", str(gid)))
    _assert_consistent(db_url)
    assert count_rows(db_url, "rating") == 0
    assert store.rate(gid, "rater-victim", 2).previous_score is None
    store.close()


def test_sigkill_during_a_write_loop_keeps_the_file_sound(tmp_path):
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    Store(url, SECRET).close()
    proc = _spawn(url, "100000", "loop")
    assert proc.stdout is not None
    for _ in range(5):  # let it commit a few generations, then kill it wherever it is
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _assert_consistent(url)
    gens, ratings = count_rows(url, "generation"), count_rows(url, "rating")
    assert gens >= 5 and gens * 3 - 3 <= ratings <= gens * 3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url, message", [
    ("not a url", "malformed database URL"),
    ("", "empty"),
    ("nosuchdb://host/db", "unsupported database URL"),
    ("postgresql+nosuchdriver://u@h/db", "unsupported database URL"),
])
def test_bad_urls_raise_one_line_storage_error(url, message):
    with pytest.raises(StorageError, match=message) as info:
        Store(url, SECRET)
    assert "\n" not in str(info.value)


def test_unreachable_postgres_is_one_line_without_password():
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{_closed_port()}/postgres"
    with pytest.raises(StorageError, match="cannot connect to the database") as info:
        Store(url, SECRET)
    assert "\n" not in str(info.value) and "hunter2" not in str(info.value)
