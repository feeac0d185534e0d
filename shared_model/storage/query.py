"""Reusable query filters shared by the store, stats and export (model, domain, time).

Owns how a user's ``--model`` / ``--domain`` / ``--since`` become WHERE clauses on
``generation``. Imports SQLAlchemy and the ORM only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select

from shared_model.errors import InvalidRequest
from shared_model.storage.models import Generation

SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]


def filter_model(stmt: SelectT, model: str | None) -> SelectT:
    """Restrict to a model name, or a sha256 prefix (8+ hex digits)."""
    if model is None:
        return stmt
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("model filter must be a model name or sha256 prefix")
    model = model.strip()
    cond = Generation.model_name == model
    if len(model) >= 8 and all(c in "0123456789abcdef" for c in model.lower()):
        cond = cond | Generation.model_sha256.startswith(model.lower())
    return stmt.where(cond)


def filter_generations(stmt: SelectT, *, model: str | None = None,
                       domain: str | None = None, since: datetime | None = None) -> SelectT:
    """Model, domain and creation-time filters shared by stats and export."""
    stmt = filter_model(stmt, model)
    if domain is not None:
        stmt = stmt.where(Generation.domain == domain)
    if since is not None:
        stmt = stmt.where(Generation.created >= since)
    return stmt
