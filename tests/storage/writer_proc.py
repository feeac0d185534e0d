"""A separate writer process for the concurrency and crash tests (run as a script).

usage: python writer_proc.py URL N TAG [pause-record|pause-rate GENERATION_ID]

Writes N x (generation + 3 ratings) through the real Store. With ``pause-*`` it instead
starts one record/rate call, prints FLUSHED once the rows are flushed inside the open
transaction, and sleeps so the test can SIGKILL it mid-transaction.
"""

from __future__ import annotations

import hashlib
import sys
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared_model.storage import GenerationRecord, Store

SHARED_SHA = hashlib.sha256(b"shared").hexdigest()  # every writer races to insert it first


def record(tag: str, i: int) -> GenerationRecord:
    return GenerationRecord(model_name="shared-model", model_sha256=SHARED_SHA,
                            domain="text", prompt=f"{tag}-{i}", params={"i": i},
                            output_text=f"output {tag} {i}", source="cli", requester=tag,
                            latency_ms=1.0)


def main() -> None:
    url, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = Store(url, b"test-secret")
    if len(sys.argv) > 4:
        @event.listens_for(Session, "after_flush")
        def _pause(session: Session, ctx: object) -> None:
            print("FLUSHED", flush=True)
            time.sleep(120)

        if sys.argv[4] == "pause-record":
            store.record_generation(record(tag, 0))
        else:
            store.rate(int(sys.argv[5]), f"rater-{tag}", 4)
        return
    for i in range(n):
        gid = store.record_generation(record(tag, i))
        for dim, score in (("overall", 4), ("fluency", 3), ("form", 5)):
            store.rate(gid, f"rater-{tag}", score, dim)
        print(gid, flush=True)
    store.close()


if __name__ == "__main__":
    main()
