"""Values crossing the storage API: what front ends hand over, and what they get back.

Owns ``GenerationRecord`` (validated in ``__post_init__``), the read-only views
(``GenerationView``, ``RatingResult``, rows for stats/export) and the input checks shared by
the store and the CLI. Plain dataclasses: no sessions, no SQL; imports the ORM module only
for its constants and to build views from rows. Never imports torch, training or exporters.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shared_model.errors import InvalidRequest
from shared_model.storage.models import DIMENSIONS, SOURCES, Generation

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_score(score: object) -> int:
    """A rating score: an integer 1..5 (not a bool, not a string like "five")."""
    if isinstance(score, bool) or not isinstance(score, numbers.Integral):
        raise InvalidRequest(f"score must be an integer from 1 to 5, got {score!r}")
    if not 1 <= int(score) <= 5:
        raise InvalidRequest(f"score must be from 1 to 5, got {int(score)}")
    return int(score)


def check_dimension(dimension: object) -> str:
    if dimension not in DIMENSIONS:
        raise InvalidRequest(f"unknown dimension {dimension!r}; choose one of "
                             f"{', '.join(DIMENSIONS)}")
    return str(dimension)


def check_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise InvalidRequest(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_rater(rater: object) -> str:
    if isinstance(rater, int) and not isinstance(rater, bool):
        rater = str(rater)
    if not isinstance(rater, str) or not rater.strip():
        raise InvalidRequest("rater must be a non-empty id (a user name or platform id)")
    return rater


def as_utc(value: datetime) -> datetime:
    """Timezone-aware UTC (SQLite returns naive datetimes that were stored as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _check_text(value: object, what: str, *, max_len: int | None = None,
                allow_empty: bool = True) -> None:
    if not isinstance(value, str):
        raise InvalidRequest(f"{what} must be text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InvalidRequest(f"{what} must not be empty")
    if max_len is not None and len(value) > max_len:
        raise InvalidRequest(f"{what} is longer than {max_len} characters")


@dataclass(frozen=True)
class GenerationRecord:
    """What a front end hands to ``Store.record_generation``.

    ``requester`` is the raw platform id (the store keeps only HMAC(secret, id)); front ends
    should namespace it (``"discord:1234"``) when ids from several platforms meet.
    ``metrics`` holds automatic metrics (``evaluation.metrics.compute_metrics``).
    """

    model_name: str
    model_sha256: str
    domain: str
    prompt: str
    params: dict[str, Any]
    output_text: str
    source: str
    requester: str | None = None
    latency_ms: float | None = None
    output_data: bytes | None = field(default=None, repr=False)
    metrics: dict[str, float] | None = None

    def __post_init__(self) -> None:
        _check_text(self.model_name, "model name", max_len=200, allow_empty=False)
        _check_text(self.domain, "domain", max_len=50, allow_empty=False)
        _check_text(self.prompt, "prompt")
        _check_text(self.output_text, "output text")
        if not isinstance(self.model_sha256, str) or not _SHA256.match(self.model_sha256.lower()):
            raise InvalidRequest(f"model sha256 must be 64 hex digits, got {self.model_sha256!r}")
        object.__setattr__(self, "model_sha256", self.model_sha256.lower())
        if self.source not in SOURCES:
            raise InvalidRequest(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if not isinstance(self.params, dict):
            raise InvalidRequest("params must be a dict of generation parameters")
        try:
            json.dumps(self.params, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise InvalidRequest(f"params must be JSON-serialisable: {err}") from None
        if self.requester is not None:
            object.__setattr__(self, "requester", check_rater(self.requester))
        if self.latency_ms is not None:
            if not _is_finite_number(self.latency_ms) or self.latency_ms < 0:
                raise InvalidRequest(f"latency_ms must be a number >= 0, got {self.latency_ms!r}")
            object.__setattr__(self, "latency_ms", float(self.latency_ms))
        if self.output_data is not None and not isinstance(self.output_data, bytes | bytearray):
            raise InvalidRequest("output_data must be bytes (e.g. a MIDI file)")
        if self.metrics is not None:
            object.__setattr__(self, "metrics", _check_metrics(self.metrics))


def _is_finite_number(value: object) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(float(value)))  # type: ignore[arg-type]


def _check_metrics(metrics: object) -> dict[str, float]:
    if not isinstance(metrics, dict):
        raise InvalidRequest("metrics must be a dict of metric name -> number")
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise InvalidRequest(f"metric names must be non-empty text, got {name!r}")
        if not _is_finite_number(value):
            raise InvalidRequest(f"metric {name!r} must be a finite number, got {value!r}")
        out[name] = float(value)
    return out


@dataclass(frozen=True)
class RatingResult:
    """The stored rating; ``previous_score`` is set when a re-rate updated an earlier one."""

    id: int
    generation_id: int
    dimension: str
    score: int
    previous_score: int | None = None

    @property
    def updated(self) -> bool:
        return self.previous_score is not None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "generation_id": self.generation_id, "dimension": self.dimension,
                "score": self.score, "updated": self.updated,
                "previous_score": self.previous_score}


@dataclass(frozen=True)
class RatingSummary:
    """Ratings of one generation on one dimension."""

    dimension: str
    count: int
    mean: float


@dataclass(frozen=True)
class GenerationView:
    """A stored generation as front ends see it (identities stay hashed)."""

    id: int
    model_name: str
    model_sha256: str
    domain: str
    prompt: str
    params: dict[str, Any]
    output_text: str
    source: str
    requester: str | None
    created: datetime
    latency_ms: float | None
    metrics: dict[str, float] | None
    output_data: bytes | None = field(default=None, repr=False)
    ratings: tuple[RatingSummary, ...] = ()

    @classmethod
    def from_row(cls, gen: Generation, ratings: tuple[RatingSummary, ...] = ()) -> GenerationView:
        return cls(id=gen.id, model_name=gen.model_name, model_sha256=gen.model_sha256,
                   domain=gen.domain, prompt=gen.prompt, params=dict(gen.params or {}),
                   output_text=gen.output_text, source=gen.source, requester=gen.requester,
                   created=as_utc(gen.created), latency_ms=gen.latency_ms,
                   metrics=dict(gen.metrics) if gen.metrics else None,
                   output_data=bytes(gen.output_data) if gen.output_data is not None else None,
                   ratings=tuple(ratings))

    def rating(self, dimension: str = "overall") -> RatingSummary | None:
        return next((r for r in self.ratings if r.dimension == dimension), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``id``, ``model``, ``text``, ``params``, ``latency_ms`` and the rest."""
        return {"id": self.id, "model": self.model_name, "model_sha256": self.model_sha256,
                "domain": self.domain, "prompt": self.prompt, "text": self.output_text,
                "params": self.params, "source": self.source, "requester": self.requester,
                "created": self.created.isoformat(), "latency_ms": self.latency_ms,
                "metrics": self.metrics,
                "output_bytes": len(self.output_data) if self.output_data is not None else None,
                "ratings": {r.dimension: {"count": r.count, "mean": r.mean}
                            for r in self.ratings}}


@dataclass(frozen=True)
class RatingRow:
    """One rating with its generation's model (input to stats and export)."""

    generation_id: int
    model_name: str
    model_sha256: str
    domain: str
    rater: str
    dimension: str
    score: int
    comment: str | None
    rated: datetime


@dataclass(frozen=True)
class ComparisonRow:
    """One comparison with both sides' models (input to Bradley-Terry)."""

    generation_a_id: int
    generation_b_id: int
    model_a: str
    sha256_a: str
    model_b: str
    sha256_b: str
    winner: str
    rater: str
