"""The typed ORM: model, generation, rating, comparison (SQLAlchemy 2.0 declarative).

Owns the schema as Python classes; every change here needs an Alembic revision in
``migrations/versions`` (a test checks that autogenerate finds no difference). Imports
SQLAlchemy only: no sessions, engines, torch, training or exporters.

Identities (``requester``, ``rater``) are HMAC-SHA256 hex digests made by the store, never
raw platform ids. A ``model`` row is keyed by the sha256 of the .onnx file, so ratings
follow the exact weights even when a name is reused for a retrained model.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SOURCES = ("discord", "notebook", "cli", "console")
DIMENSIONS = ("overall", "fluency", "coherence", "creativity", "form")
WINNERS = ("a", "b", "tie")
HASH_LEN = 64  # hex HMAC-SHA256 / sha256

# Deterministic constraint names, so migrations can address them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now (UTC); the default for every ``created`` column."""
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Model(Base):
    """One exact set of weights (the .onnx file's sha256), first seen under ``name``."""

    __tablename__ = "model"

    sha256: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(50))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    generations: Mapped[list[Generation]] = relationship(back_populates="model")

    def __repr__(self) -> str:
        return f"Model(sha256={self.sha256[:12]!r}, name={self.name!r}, domain={self.domain!r})"


class Generation(Base):
    """One output a front end showed to someone, with everything needed to reproduce it."""

    __tablename__ = "generation"
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint("latency_ms IS NULL OR latency_ms >= 0", name="latency"),
        Index("ix_generation_model_created", "model_sha256", "created"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_sha256: Mapped[str] = mapped_column(
        ForeignKey("model.sha256", ondelete="RESTRICT"), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(50), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    output_text: Mapped[str] = mapped_column(Text)
    output_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str | None] = mapped_column(String(HASH_LEN), index=True)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, float] | None] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                              index=True)

    model: Mapped[Model] = relationship(back_populates="generations")
    ratings: Mapped[list[Rating]] = relationship(back_populates="generation",
                                                 cascade="all, delete-orphan",
                                                 passive_deletes=True)

    def __repr__(self) -> str:
        return (f"Generation(id={self.id!r}, model={self.model_name!r}, "
                f"domain={self.domain!r}, source={self.source!r})")


class Rating(Base):
    """A 1-5 score by one rater on one dimension; a re-rate updates the same row."""

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("generation_id", "rater", "dimension",
                         name="uq_rating_generation_rater_dimension"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        CheckConstraint(_in("dimension", DIMENSIONS), name="dimension"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("generation.id", ondelete="CASCADE"), index=True)
    rater: Mapped[str] = mapped_column(String(HASH_LEN), index=True)
    dimension: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    generation: Mapped[Generation] = relationship(back_populates="ratings")

    def __repr__(self) -> str:
        return (f"Rating(id={self.id!r}, generation_id={self.generation_id!r}, "
                f"dimension={self.dimension!r}, score={self.score!r})")


class Comparison(Base):
    """Two generations shown side by side (A left, B right) and the rater's verdict."""

    __tablename__ = "comparison"
    __table_args__ = (
        UniqueConstraint("generation_a_id", "generation_b_id", "rater",
                         name="uq_comparison_pair_rater"),
        CheckConstraint(_in("winner", WINNERS), name="winner"),
        CheckConstraint("generation_a_id <> generation_b_id", name="distinct_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_a_id: Mapped[int] = mapped_column(
        ForeignKey("generation.id", ondelete="CASCADE"), index=True)
    generation_b_id: Mapped[int] = mapped_column(
        ForeignKey("generation.id", ondelete="CASCADE"), index=True)
    rater: Mapped[str] = mapped_column(String(HASH_LEN))
    winner: Mapped[str] = mapped_column(String(3))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    generation_a: Mapped[Generation] = relationship(foreign_keys=[generation_a_id])
    generation_b: Mapped[Generation] = relationship(foreign_keys=[generation_b_id])

    def __repr__(self) -> str:
        return (f"Comparison(id={self.id!r}, a={self.generation_a_id!r}, "
                f"b={self.generation_b_id!r}, winner={self.winner!r})")
