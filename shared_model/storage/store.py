"""The storage API used by every front end: record, rate, compare, fetch, list, export, stats.

Owns the unit of work: each public call opens exactly one transaction (``begin()``), so an
error (bad input, unknown id, a killed process) leaves nothing half-written; transient lock
or serialization failures re-run the whole transaction with backoff (``db.run_with_retry``).
Identities are stored only as HMAC-SHA256(secret, raw id). Imports SQLAlchemy, the ORM,
``storage.db``/``migrate``/``export``/``view`` and ``evaluation``; never torch, training or
exporters, and nothing from the adapters.

Asyncio: the ``a*`` coroutines run the same synchronous calls in a small thread pool owned by
the store (``loop.run_in_executor``), rather than an async engine. Why: one code path for
the CLI, the magic and the bot (the same transactions, retries and validation); the drivers
we use (sqlite3, psycopg) are synchronous-first and aiosqlite is not a dependency; SQLite
serialises writers anyway, so an async driver would only move the waiting; and the pool's
size bounds the connections a busy bot can open. Each call is short (milliseconds), so a
worker thread never holds the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared_model.errors import InvalidRequest, NotFound
from shared_model.storage import migrate
from shared_model.storage.db import make_engine, run_with_retry, writer
from shared_model.storage.export import ExportConfig, ExportResult, collect_records, write_records
from shared_model.storage.models import (
    DIMENSIONS,
    WINNERS,
    Comparison,
    Generation,
    Model,
    Rating,
    utcnow,
)
from shared_model.storage.query import filter_generations, filter_model
from shared_model.storage.view import (
    ComparisonRow,
    GenerationRecord,
    GenerationView,
    RatingResult,
    RatingRow,
    RatingSummary,
    check_dimension,
    check_id,
    check_rater,
    check_score,
)

T = TypeVar("T")

__all__ = ["GenerationRecord", "GenerationView", "RatingResult", "RatingSummary", "RatingRow",
           "ComparisonRow", "Store"]

_MAX_COMMENT = 2000
_MAX_LIMIT = 10_000


class Store:
    """Generations, ratings and comparisons in one SQLAlchemy database.

    Args:
        url: SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``).
        secret: HMAC key for requester/rater ids (``Settings.secret()``).
        upgrade: migrate the schema to head on open (default); ``False`` for read-only
            tools that must not change a database.

    Raises:
        StorageError: malformed URL, missing driver, unreachable server, migration failure.
    """

    def __init__(self, url: str, secret: bytes, *, upgrade: bool = True,
                 max_workers: int = 4) -> None:
        if not isinstance(secret, bytes | bytearray) or not secret:
            raise InvalidRequest("the store needs a non-empty secret (bytes) to hash user ids")
        self._secret = bytes(secret)
        self._engine = make_engine(url)
        self._read = sessionmaker(self._engine, expire_on_commit=False)
        self._write_factory = sessionmaker(writer(self._engine), expire_on_commit=False)
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        if upgrade:
            self.upgrade()

    @classmethod
    def from_settings(cls, settings: Any, *, upgrade: bool = True) -> Store:
        """The store at ``settings.db_url`` keyed with ``settings.secret()``."""
        return cls(settings.db_url, settings.secret(), upgrade=upgrade)

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def upgrade(self) -> migrate.UpgradeResult:
        """Run the shipped Alembic migrations to head (no-op when already there)."""
        return run_with_retry(lambda: migrate.upgrade(self._engine),
                              what="upgrade the database schema")

    def hash_id(self, raw: str) -> str:
        """The opaque id stored for a raw platform/user id: HMAC-SHA256 hex."""
        return hmac.new(self._secret, str(raw).encode("utf-8"), hashlib.sha256).hexdigest()

    # -- writes -------------------------------------------------------------------------

    def record_generation(self, rec: GenerationRecord) -> int:
        """Store one generation (and its model row on first sight); returns its id."""
        if not isinstance(rec, GenerationRecord):
            raise InvalidRequest("record_generation expects a GenerationRecord")
        requester = self.hash_id(rec.requester) if rec.requester is not None else None

        def work() -> int:
            with self._write() as s:
                if s.get(Model, rec.model_sha256) is None:
                    s.add(Model(sha256=rec.model_sha256, name=rec.model_name, domain=rec.domain))
                gen = Generation(model_sha256=rec.model_sha256, model_name=rec.model_name,
                                 domain=rec.domain, prompt=rec.prompt, params=dict(rec.params),
                                 output_text=rec.output_text, output_data=rec.output_data,
                                 source=rec.source, requester=requester,
                                 latency_ms=rec.latency_ms,
                                 metrics=dict(rec.metrics) if rec.metrics is not None else None)
                s.add(gen)
                s.flush()
                return gen.id

        return run_with_retry(work, what="record a generation")

    def rate(self, generation_id: int, rater: str, score: int, dimension: str = "overall",
             comment: str | None = None) -> RatingResult:
        """Rate a generation 1-5 on one dimension; a re-rate by the same rater updates it.

        Raises:
            InvalidRequest: score not an int in 1..5, unknown dimension, empty rater.
            NotFound: no generation with that id.
        """
        check_id(generation_id, "generation id")
        check_score(score)
        check_dimension(dimension)
        check_rater(rater)
        if comment is not None and (not isinstance(comment, str) or len(comment) > _MAX_COMMENT):
            raise InvalidRequest(f"comment must be text of at most {_MAX_COMMENT} characters")
        rater_hash = self.hash_id(rater)

        def work() -> RatingResult:
            with self._write() as s:
                self._require_generations(s, [generation_id])
                row = s.scalars(select(Rating).where(
                    Rating.generation_id == generation_id, Rating.rater == rater_hash,
                    Rating.dimension == dimension)).one_or_none()
                previous = None
                if row is None:
                    row = Rating(generation_id=generation_id, rater=rater_hash,
                                 dimension=dimension, score=int(score), comment=comment)
                    s.add(row)
                else:
                    previous = row.score
                    row.score = int(score)
                    if comment is not None:
                        row.comment = comment
                    row.updated = utcnow()
                s.flush()
                return RatingResult(id=row.id, generation_id=generation_id,
                                    dimension=dimension, score=int(score),
                                    previous_score=previous)

        return run_with_retry(work, what="store a rating")

    def compare(self, gen_a: int, gen_b: int, rater: str, winner: str) -> int:
        """Record that ``rater`` preferred A, B or neither ('tie'); returns the comparison id.

        The same rater comparing the same (A, B) again updates the verdict.
        """
        check_id(gen_a, "generation A id")
        check_id(gen_b, "generation B id")
        check_rater(rater)
        if gen_a == gen_b:
            raise InvalidRequest(f"cannot compare generation {gen_a} with itself")
        if winner not in WINNERS:
            raise InvalidRequest(f"winner must be one of {', '.join(WINNERS)}, got {winner!r}")
        rater_hash = self.hash_id(rater)

        def work() -> int:
            with self._write() as s:
                self._require_generations(s, [gen_a, gen_b])
                row = s.scalars(select(Comparison).where(
                    Comparison.generation_a_id == gen_a, Comparison.generation_b_id == gen_b,
                    Comparison.rater == rater_hash)).one_or_none()
                if row is None:
                    row = Comparison(generation_a_id=gen_a, generation_b_id=gen_b,
                                     rater=rater_hash, winner=winner)
                    s.add(row)
                else:
                    row.winner = winner
                    row.created = utcnow()
                s.flush()
                return row.id

        return run_with_retry(work, what="store a comparison")

    # -- reads --------------------------------------------------------------------------

    def get_generation(self, generation_id: int) -> GenerationView:
        """One generation with its ratings summarised per dimension.

        Raises:
            NotFound: no generation with that id.
        """
        check_id(generation_id, "generation id")

        def work() -> GenerationView:
            with self._reading() as s:
                gen = s.get(Generation, generation_id)
                if gen is None:
                    raise NotFound(f"no generation with id {generation_id}")
                return GenerationView.from_row(gen, self._summaries(s, [gen.id]).get(gen.id, ()))

        return run_with_retry(work, what="read a generation")

    def history(self, *, limit: int = 20, requester: str | None = None,
                source: str | None = None, model: str | None = None) -> list[GenerationView]:
        """The most recent generations, newest first, optionally filtered.

        ``requester`` is the raw id (hashed here); ``model`` is a model name or a sha256
        prefix of at least 8 hex digits.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
            raise InvalidRequest(f"limit must be an integer from 1 to {_MAX_LIMIT}, got {limit!r}")
        stmt = select(Generation).order_by(Generation.created.desc(), Generation.id.desc())
        if requester is not None:
            stmt = stmt.where(Generation.requester == self.hash_id(requester))
        if source is not None:
            stmt = stmt.where(Generation.source == source)
        stmt = filter_model(stmt, model).limit(limit)

        def work() -> list[GenerationView]:
            with self._reading() as s:
                gens = list(s.scalars(stmt))
                summaries = self._summaries(s, [g.id for g in gens])
                return [GenerationView.from_row(g, summaries.get(g.id, ())) for g in gens]

        return run_with_retry(work, what="list generations")

    def rating_rows(self, *, model: str | None = None, domain: str | None = None,
                    since: datetime | None = None) -> list[RatingRow]:
        """Every rating (one row per rater x dimension) with its generation's model."""
        stmt = (select(Rating.generation_id, Generation.model_name, Generation.model_sha256,
                       Generation.domain, Rating.rater, Rating.dimension, Rating.score,
                       Rating.comment, Rating.updated)
                .join(Generation, Rating.generation_id == Generation.id)
                .order_by(Rating.generation_id, Rating.dimension, Rating.rater))
        stmt = filter_generations(stmt, model=model, domain=domain, since=since)

        def work() -> list[RatingRow]:
            with self._reading() as s:
                return [RatingRow(*r) for r in s.execute(stmt)]

        return run_with_retry(work, what="read ratings")

    def comparison_rows(self) -> list[ComparisonRow]:
        """Every comparison with both generations' models."""
        from sqlalchemy.orm import aliased

        ga, gb = aliased(Generation), aliased(Generation)
        stmt = (select(Comparison.generation_a_id, Comparison.generation_b_id, ga.model_name,
                       ga.model_sha256, gb.model_name, gb.model_sha256, Comparison.winner,
                       Comparison.rater)
                .join(ga, Comparison.generation_a_id == ga.id)
                .join(gb, Comparison.generation_b_id == gb.id)
                .order_by(Comparison.id))

        def work() -> list[ComparisonRow]:
            with self._reading() as s:
                return [ComparisonRow(*r) for r in s.execute(stmt)]

        return run_with_retry(work, what="read comparisons")

    def metric_rows(self, *, model: str | None = None) -> list[tuple[int, str, str, dict]]:
        """(generation id, model name, sha256, automatic metrics) for generations with metrics."""
        stmt = filter_model(select(Generation.id, Generation.model_name, Generation.model_sha256,
                                   Generation.metrics)
                            .where(Generation.metrics.is_not(None)), model)

        def work() -> list[tuple[int, str, str, dict]]:
            with self._reading() as s:
                return [(i, n, h, m) for i, n, h, m in s.execute(stmt) if m]

        return run_with_retry(work, what="read metrics")

    def stats(self, *, model: str | None = None, min_correlation_n: int = 10) -> dict[str, Any]:
        """The evaluation report (``evaluation.report.build_report``) over this store."""
        from shared_model.evaluation.report import build_report

        return build_report(self.rating_rows(model=model), self.comparison_rows(),
                            self.metric_rows(model=model), model=model,
                            min_correlation_n=min_correlation_n)

    def export_ratings(self, path: str | Path, config: ExportConfig) -> ExportResult:
        """Write the ratings dataset selected by ``config`` atomically; see export.py."""

        def work() -> list[dict[str, Any]]:
            with self._reading() as s:
                return collect_records(s, config)

        return write_records(run_with_retry(work, what="export ratings"), Path(path), config)

    # -- asyncio ------------------------------------------------------------------------

    async def arecord_generation(self, rec: GenerationRecord) -> int:
        return await self._in_thread(self.record_generation, rec)

    async def arate(self, generation_id: int, rater: str, score: int,
                    dimension: str = "overall", comment: str | None = None) -> RatingResult:
        return await self._in_thread(self.rate, generation_id, rater, score, dimension, comment)

    async def acompare(self, gen_a: int, gen_b: int, rater: str, winner: str) -> int:
        return await self._in_thread(self.compare, gen_a, gen_b, rater, winner)

    async def aget_generation(self, generation_id: int) -> GenerationView:
        return await self._in_thread(self.get_generation, generation_id)

    async def ahistory(self, *, limit: int = 20, requester: str | None = None,
                       source: str | None = None, model: str | None = None) -> list[GenerationView]:
        return await self._in_thread(self.history, limit=limit, requester=requester,
                                     source=source, model=model)

    async def astats(self, *, model: str | None = None) -> dict[str, Any]:
        return await self._in_thread(self.stats, model=model)

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(fn, *args, **kwargs))

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._max_workers,
                                                    thread_name_prefix="lstmgen-store")
            return self._executor

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Finish pending async calls and close every pooled connection."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- internals ----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction (SQLite: BEGIN IMMEDIATE); commits on success."""
        with self._write_factory.begin() as session:
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._read.begin() as session:
            yield session

    @staticmethod
    def _require_generations(s: Session, ids: list[int]) -> None:
        found = set(s.scalars(select(Generation.id).where(Generation.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no generation with id {', '.join(map(str, missing))}")

    @staticmethod
    def _summaries(s: Session, ids: list[int]) -> dict[int, tuple[RatingSummary, ...]]:
        if not ids:
            return {}
        rows = s.execute(select(Rating.generation_id, Rating.dimension, func.count(),
                                func.avg(Rating.score))
                         .where(Rating.generation_id.in_(ids))
                         .group_by(Rating.generation_id, Rating.dimension))
        out: dict[int, list[RatingSummary]] = {}
        for gid, dim, count, mean in rows:
            out.setdefault(gid, []).append(RatingSummary(dim, int(count), float(mean)))
        order = {d: i for i, d in enumerate(DIMENSIONS)}
        return {g: tuple(sorted(v, key=lambda r: order.get(r.dimension, 99)))
                for g, v in out.items()}

