"""Storage of generations, human ratings and comparisons (SQLAlchemy 2.0 + Alembic).

The public surface for front ends is ``Store`` and the values it takes and returns; see
``store.py``. Serving side: never imports torch, training or exporters.
"""

from shared_model.storage.export import ExportConfig, ExportResult
from shared_model.storage.store import Store
from shared_model.storage.view import (
    ComparisonRow,
    GenerationRecord,
    GenerationView,
    RatingResult,
    RatingRow,
    RatingSummary,
)

__all__ = ["ComparisonRow", "ExportConfig", "ExportResult", "GenerationRecord", "GenerationView",
           "RatingResult", "RatingRow", "RatingSummary", "Store"]
