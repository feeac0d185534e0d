"""Store: record, rate, compare, fetch, history, privacy, validation (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
import threading
from datetime import timezone

import pytest
from sqlalchemy import create_engine, text
from storage_support import SECRET, SHA_A, SHA_B, count_rows, make_record

from shared_model.errors import InvalidRequest, NotFound
from shared_model.storage import GenerationView, Store


def test_record_and_fetch_round_trip(store):
    gid = store.record_generation(make_record(output_data=b"MThd\x00\x00\x00\x06",
                                              metrics={"distinct_1": 0.9, "perplexity": 12}))
    view = store.get_generation(gid)
    assert isinstance(view, GenerationView)
    assert (view.model_name, view.model_sha256, view.domain) == ("tang-small", SHA_A, "tang")
    assert view.params == {"temperature": 0.8, "top_k": 40}
    assert view.output_text == "春眠不觉晓，处处闻啼鸟。" and view.prompt == "春"
    assert view.output_data == b"MThd\x00\x00\x00\x06"
    assert view.metrics == {"distinct_1": 0.9, "perplexity": 12.0}
    assert view.latency_ms == 12.5 and view.source == "cli"
    assert view.created.tzinfo == timezone.utc
    d = view.to_dict()
    assert {"id", "model", "text", "params", "latency_ms"} <= set(d) and d["id"] == gid


def test_model_row_keyed_by_sha256(store, db_url):
    store.record_generation(make_record())
    store.record_generation(make_record())
    store.record_generation(make_record(model_sha256=SHA_B))  # same name, new weights
    assert count_rows(db_url, "model") == 2
    assert count_rows(db_url, "generation") == 3


def test_requester_and_rater_stored_as_hmac_only(store, db_url):
    gid = store.record_generation(make_record(requester="discord:1234"))
    store.rate(gid, "discord:5678", 4)
    expected = hmac.new(SECRET, b"discord:1234", hashlib.sha256).hexdigest()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        requester = conn.execute(text("SELECT requester FROM generation")).scalar_one()
        rater = conn.execute(text("SELECT rater FROM rating")).scalar_one()
    engine.dispose()
    assert requester == expected
    assert rater == hmac.new(SECRET, b"discord:5678", hashlib.sha256).hexdigest()
    assert "1234" not in requester and "5678" not in rater
    # another secret gives unlinkable ids
    other = Store(db_url, b"other-secret", upgrade=False)
    assert other.hash_id("discord:1234") != expected
    other.close()


def test_rerate_updates_row(store, db_url):
    gid = store.record_generation(make_record())
    first = store.rate(gid, "alice", 2, comment="meh")
    second = store.rate(gid, "alice", 5)
    assert first.id == second.id and not first.updated
    assert second.updated and second.previous_score == 2 and second.score == 5
    store.rate(gid, "alice", 3, "form")   # another dimension: a new row
    store.rate(gid, "bob", 1)             # another rater: a new row
    assert count_rows(db_url, "rating") == 3
    view = store.get_generation(gid)
    assert view.rating("overall").count == 2 and view.rating("overall").mean == 3.0
    assert view.rating("form").mean == 3.0


def test_compare_and_recompare(store, db_url):
    a = store.record_generation(make_record())
    b = store.record_generation(make_record(model_sha256=SHA_B))
    cid = store.compare(a, b, "alice", "a")
    assert store.compare(a, b, "alice", "tie") == cid
    store.compare(b, a, "alice", "b")  # the other presentation order is its own judgement
    assert count_rows(db_url, "comparison") == 2


def test_history_order_limit_and_filters(store):
    ids = [store.record_generation(make_record(prompt=str(i), source=src, requester=req,
                                               model_sha256=sha))
           for i, (src, req, sha) in enumerate([("cli", "u1", SHA_A), ("discord", "u2", SHA_B),
                                                ("notebook", "u1", SHA_A), ("cli", None, SHA_B)])]
    assert [v.id for v in store.history()] == ids[::-1]
    assert [v.id for v in store.history(limit=2)] == ids[:1:-1]
    assert [v.id for v in store.history(requester="u1")] == [ids[2], ids[0]]
    assert [v.id for v in store.history(source="cli")] == [ids[3], ids[0]]
    assert [v.id for v in store.history(model=SHA_B[:8])] == [ids[3], ids[1]]
    assert [v.id for v in store.history(model="tang-small")] == ids[::-1]
    assert store.history(model="nope") == []


@pytest.mark.parametrize("score", [0, 6, -1, "five", "5", 4.0, True, None])
def test_bad_score_rejected_and_nothing_written(store, db_url, score):
    gid = store.record_generation(make_record())
    with pytest.raises(InvalidRequest, match="score"):
        store.rate(gid, "alice", score)
    assert count_rows(db_url, "rating") == 0


@pytest.mark.parametrize("call, error, message", [
    (lambda s, g: s.rate(g, "alice", 3, "style"), InvalidRequest, "unknown dimension"),
    (lambda s, g: s.rate(g + 99, "alice", 3), NotFound, "no generation with id"),
    (lambda s, g: s.rate(0, "alice", 3), InvalidRequest, "positive integer"),
    (lambda s, g: s.rate(g, "", 3), InvalidRequest, "rater"),
    (lambda s, g: s.rate(g, "alice", 3, comment="x" * 5000), InvalidRequest, "comment"),
    (lambda s, g: s.compare(g, g, "alice", "a"), InvalidRequest, "with itself"),
    (lambda s, g: s.compare(g, g + 99, "alice", "a"), NotFound, "no generation with id"),
    (lambda s, g: s.compare(g, g + 1, "alice", "c"), InvalidRequest, "winner"),
    (lambda s, g: s.get_generation(g + 99), NotFound, "no generation"),
    (lambda s, g: s.history(limit=0), InvalidRequest, "limit"),
])
def test_bad_requests_raise_typed_errors_and_write_nothing(store, db_url, call, error, message):
    gid = store.record_generation(make_record())
    store.record_generation(make_record())
    with pytest.raises(error, match=message):
        call(store, gid)
    assert count_rows(db_url, "rating") == 0 and count_rows(db_url, "comparison") == 0
    assert count_rows(db_url, "generation") == 2


@pytest.mark.parametrize("overrides, message", [
    ({"model_sha256": "xyz"}, "sha256"),
    ({"model_name": ""}, "model name"),
    ({"source": "email"}, "source"),
    ({"params": {"t": float("nan")}}, "JSON"),
    ({"params": [1, 2]}, "params"),
    ({"latency_ms": -3}, "latency"),
    ({"metrics": {"bleu": "high"}}, "metric"),
    ({"output_data": "not bytes"}, "bytes"),
    ({"output_text": None}, "output text"),
])
def test_generation_record_validation(overrides, message):
    with pytest.raises(InvalidRequest, match=message):
        make_record(**overrides)


def test_sqlite_pragmas(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.db'}"  # directories are created
    s = Store(url, SECRET)
    with s._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    s.close()


async def test_async_calls_do_not_block_the_event_loop(tmp_path):
    """A rate waiting on a locked SQLite file must leave the loop free to release the lock."""
    path = tmp_path / "a.db"
    store = Store(f"sqlite:///{path}", SECRET)
    gid = await store.arecord_generation(make_record())
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # hold the write lock
    task = asyncio.ensure_future(store.arate(gid, "alice", 4))
    ticks = 0
    for _ in range(20):  # the loop keeps running while the rate waits in a worker thread
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 20 and not task.done()
    blocker.execute("COMMIT")
    blocker.close()
    result = await task
    assert result.score == 4
    view = await store.aget_generation(gid)
    assert view.rating().mean == 4.0
    assert [v.id for v in await store.ahistory(limit=5)] == [gid]
    other = await store.arecord_generation(make_record(model_sha256=SHA_B))
    assert await store.acompare(gid, other, "alice", "b") >= 1
    assert threading.main_thread().is_alive()
    store.close()
