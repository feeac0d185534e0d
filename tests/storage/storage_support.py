"""Helpers shared by the storage tests (imported by name; tests/storage is on sys.path)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import create_engine, text

from shared_model.storage import GenerationRecord

PG_URL = os.environ.get("LSTMGEN_TEST_PG_URL")
SECRET = b"test-secret"
SHA_A = "a" * 64
SHA_B = "b" * 64


def make_record(**overrides: Any) -> GenerationRecord:
    fields: dict[str, Any] = dict(model_name="tang-small", model_sha256=SHA_A, domain="tang",
                                  prompt="春", params={"temperature": 0.8, "top_k": 40},
                                  output_text="春眠不觉晓，处处闻啼鸟。", source="cli",
                                  requester="discord:1234", latency_ms=12.5)
    fields.update(overrides)
    return GenerationRecord(**fields)


def count_rows(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
