"""Storage load benchmark: P processes x N (generation + 3 ratings) through the real Store.

Every write is its own API call (one transaction), as the bot makes them. Runs against a
fresh SQLite file and, when a URL is given, a fresh schema on PostgreSQL; checks that every
row is present; prints a table (stderr) and one JSON object per backend (stdout).

    python benchmarks/store.py                       # SQLite only, 8 x 500
    python benchmarks/store.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/store.py --processes 4 --per-process 100 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SECRET = b"benchmark-secret"
SHA = hashlib.sha256(b"benchmark-model").hexdigest()


def _worker(url: str, n: int, tag: int, barrier: Any, queue: Any) -> None:
    from shared_model.storage import GenerationRecord, Store

    store = Store(url, SECRET)
    latencies: list[float] = []
    errors: list[str] = []
    barrier.wait()
    start = time.perf_counter()
    for i in range(n):
        rec = GenerationRecord(model_name="bench", model_sha256=SHA, domain="text",
                               prompt=f"p{tag}-{i}", params={"temperature": 0.8, "i": i},
                               output_text="x" * 200, source="cli", requester=f"user{tag}",
                               latency_ms=1.0, metrics={"distinct_1": 0.5})
        try:
            t0 = time.perf_counter()
            gid = store.record_generation(rec)
            latencies.append(time.perf_counter() - t0)
            for dim in ("overall", "fluency", "form"):
                t0 = time.perf_counter()
                store.rate(gid, f"rater{tag}", 1 + (i % 5), dim)
                latencies.append(time.perf_counter() - t0)
        except Exception as err:  # reported, not hidden: the benchmark counts them
            errors.append(f"{type(err).__name__}: {err}")
    queue.put({"tag": tag, "start": start, "end": time.perf_counter(), "latencies": latencies,
               "errors": errors})
    store.close()


def _count(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        g = conn.execute(text("SELECT count(*) FROM generation")).scalar_one()
        r = conn.execute(text("SELECT count(*) FROM rating")).scalar_one()
    engine.dispose()
    return int(g), int(r)


def run(url: str, backend: str, processes: int, per_process: int) -> dict[str, Any]:
    from shared_model.storage import Store

    Store(url, SECRET).close()  # schema first: the timing covers writes only
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, per_process, k, barrier, queue))
             for k in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    gens, ratings = _count(url)
    lat = sorted(x for r in results for x in r["latencies"])
    errors = [e for r in results for e in r["errors"]]
    expected_g, expected_r = processes * per_process, processes * per_process * 3
    return {
        "backend": backend, "processes": processes, "per_process": per_process,
        "generations": gens, "ratings": ratings,
        "all_rows_present": gens == expected_g and ratings == expected_r,
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "locked_errors": sum("locked" in e for e in errors),
        "wall_s": round(wall, 3), "rows_per_s": round((gens + ratings) / wall, 1),
        "calls_per_s": round(len(lat) / wall, 1),
        "latency_ms_p50": round(1000 * statistics.median(lat), 2) if lat else None,
        "latency_ms_p99": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
        "python": platform.python_version(), "cpus": mp.cpu_count(),
    }


def _pg_schema(pg_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"lstmgen_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--per-process", type=int, default=500)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (a fresh schema is used)")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--json", action="store_true", help="only the JSON lines")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lstmgen-bench-") as tmp:
        rows.append(run(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", args.processes,
                        args.per_process))
    if args.pg_url and not args.sqlite_only:
        url, drop = _pg_schema(args.pg_url)
        try:
            rows.append(run(url, "postgresql", args.processes, args.per_process))
        finally:
            drop()
    for row in rows:
        print(json.dumps(row))
    if not args.json:
        head = f"{'backend':<11}{'procs':>6}{'rows':>8}{'ok':>5}{'errors':>7}{'wall s':>8}" \
               f"{'rows/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        print(head, file=sys.stderr)
        for r in rows:
            print(f"{r['backend']:<11}{r['processes']:>6}{r['generations'] + r['ratings']:>8}"
                  f"{'yes' if r['all_rows_present'] else 'NO':>5}{r['errors']:>7}"
                  f"{r['wall_s']:>8}{r['rows_per_s']:>9}{r['latency_ms_p50']:>8}"
                  f"{r['latency_ms_p99']:>8}", file=sys.stderr)
    return 0 if all(r["all_rows_present"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
