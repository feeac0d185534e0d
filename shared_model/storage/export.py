"""Ratings as an evaluation dataset: one flat record per generation (or per rating), JSONL/CSV.

Owns the dataset's columns and the atomic write. Every record has the same flat columns
(no nested objects whose shape varies between rows), so the JSONL loads unchanged with
``pandas.read_json(lines=True)`` and ``datasets.load_dataset("json", ...)``: ``params`` is
a JSON-encoded string, ratings are aggregated into ``<dimension>_mean`` / ``<dimension>_n``,
automatic metrics become ``metric_<name>`` columns (null where absent), MIDI bytes are
base64. Runs inside a session the store opens; imports SQLAlchemy and the ORM only, never
torch, training or exporters.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_model.errors import InvalidRequest
from shared_model.storage.models import DIMENSIONS, Comparison, Generation, Rating
from shared_model.storage.query import filter_generations
from shared_model.storage.view import as_utc

FORMATS = ("jsonl", "csv")


@dataclass(frozen=True)
class ExportConfig:
    """Which generations go into the dataset and in what shape.

    Attributes:
        format: ``jsonl`` (one JSON object per line) or ``csv``.
        model: a model name or a sha256 prefix (8+ hex digits).
        domain: only generations of this domain.
        since: only generations created at or after this time (naive = UTC).
        min_ratings: only generations rated by at least this many distinct raters
            (0 includes unrated generations).
        per_rater: one row per (generation, rater, dimension) instead of one per generation.
    """

    format: Literal["jsonl", "csv"] = "jsonl"
    model: str | None = None
    domain: str | None = None
    since: datetime | None = None
    min_ratings: int = 1
    per_rater: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise InvalidRequest(f"format must be jsonl or csv, got {self.format!r}")
        if isinstance(self.min_ratings, bool) or not isinstance(self.min_ratings, int) \
                or self.min_ratings < 0:
            raise InvalidRequest(f"min_ratings must be an integer >= 0, got {self.min_ratings!r}")
        if self.since is not None:
            if not isinstance(self.since, datetime):
                raise InvalidRequest("since must be a date or datetime")
            object.__setattr__(self, "since", as_utc(self.since))


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, rows written and generations they cover."""

    path: Path
    format: str
    rows: int
    generations: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "rows": self.rows,
                "generations": self.generations}


def _generation_fields(gen: Generation) -> dict[str, Any]:
    data = gen.output_data
    return {
        "created": as_utc(gen.created).isoformat(),
        "model": gen.model_name,
        "model_sha256": gen.model_sha256,
        "domain": gen.domain,
        "source": gen.source,
        "requester": gen.requester,
        "prompt": gen.prompt,
        "text": gen.output_text,
        "params": json.dumps(gen.params or {}, ensure_ascii=False, sort_keys=True),
        "latency_ms": gen.latency_ms,
        "output_data_b64": base64.b64encode(data).decode("ascii") if data is not None else None,
    }


def collect_records(session: Session, config: ExportConfig) -> list[dict[str, Any]]:
    """The dataset rows for ``config`` (the caller owns the session's transaction)."""
    gen_stmt = filter_generations(select(Generation), model=config.model,
                                  domain=config.domain, since=config.since).order_by(Generation.id)
    gens = list(session.scalars(gen_stmt))
    rating_stmt = (filter_generations(select(Rating).join(Generation, Rating.generation_id
                                                          == Generation.id),
                                      model=config.model, domain=config.domain,
                                      since=config.since)
                   .order_by(Rating.generation_id, Rating.dimension, Rating.rater))
    ratings: dict[int, list[Rating]] = defaultdict(list)
    for r in session.scalars(rating_stmt):
        ratings[r.generation_id].append(r)
    gens = [g for g in gens if len({r.rater for r in ratings[g.id]}) >= config.min_ratings]
    wanted = {g.id for g in gens}
    tally: dict[int, dict[str, int]] = defaultdict(lambda: {"won": 0, "lost": 0, "tied": 0})
    for a, b, winner in session.execute(select(Comparison.generation_a_id,
                                               Comparison.generation_b_id, Comparison.winner)):
        if a not in wanted and b not in wanted:
            continue
        if winner == "tie":
            tally[a]["tied"] += 1
            tally[b]["tied"] += 1
        else:
            tally[a if winner == "a" else b]["won"] += 1
            tally[b if winner == "a" else a]["lost"] += 1
    metric_names = sorted({k for g in gens for k in (g.metrics or {})})
    records = []
    for g in gens:
        base = _generation_fields(g)
        metrics = {f"metric_{k}": (g.metrics or {}).get(k) for k in metric_names}
        if config.per_rater:
            for r in ratings[g.id]:
                records.append({"generation_id": g.id, **base, "rater": r.rater,
                                "dimension": r.dimension, "score": r.score,
                                "comment": r.comment, "rated_at": as_utc(r.updated).isoformat(),
                                **metrics})
            continue
        rs = ratings[g.id]
        agg: dict[str, Any] = {"n_ratings": len(rs), "n_raters": len({r.rater for r in rs})}
        for d in DIMENSIONS:
            scores = [r.score for r in rs if r.dimension == d]
            agg[f"{d}_mean"] = sum(scores) / len(scores) if scores else None
            agg[f"{d}_n"] = len(scores)
        t = tally.get(g.id, {"won": 0, "lost": 0, "tied": 0})
        records.append({"id": g.id, **base, **agg, "comparisons_won": t["won"],
                        "comparisons_lost": t["lost"], "comparisons_tied": t["tied"], **metrics})
    return records


def write_records(records: list[dict[str, Any]], path: Path, config: ExportConfig) -> ExportResult:
    """Write ``records`` to ``path`` atomically (temp file in the same dir, fsync, rename)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidRequest(f"cannot create {path.parent}: {err.strerror or err}") from None
    if path.is_dir():
        raise InvalidRequest(f"{path} is a directory; give a file name")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if config.format == "jsonl":
                for rec in records:
                    fh.write(json.dumps(rec, ensure_ascii=False, allow_nan=False) + "\n")
            else:
                fields = list(records[0]) if records else _empty_columns(config)
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(records)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InvalidRequest(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    ids = {r.get("id", r.get("generation_id")) for r in records}
    return ExportResult(path, config.format, len(records), len(ids))


def _empty_columns(config: ExportConfig) -> list[str]:
    base = ["created", "model", "model_sha256", "domain", "source", "requester", "prompt",
            "text", "params", "latency_ms", "output_data_b64"]
    if config.per_rater:
        return ["generation_id", *base, "rater", "dimension", "score", "comment", "rated_at"]
    dims = [c for d in DIMENSIONS for c in (f"{d}_mean", f"{d}_n")]
    return ["id", *base, "n_ratings", "n_raters", *dims, "comparisons_won", "comparisons_lost",
            "comparisons_tied"]


def parse_since(text: str) -> datetime:
    """A ``--since`` value: ISO date or datetime (naive means UTC)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(f"--since must be a date like 2024-05-01 or an ISO datetime, "
                             f"got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
