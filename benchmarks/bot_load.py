"""Bot load: 200 concurrent /poem interactions vs the same interactions one by one.

Drives the real bot (``LstmBot`` after ``setup_hook``: cogs, Handlers, Studio with its
continuous-batching engine, a SQLite store) with gateway ``INTERACTION_CREATE`` payloads;
only Discord's HTTP session is replaced (``tests/bot/bot_support.FakeDiscordSession``,
which timestamps each request). For every interaction: time from delivery to the
deferral and to the follow-up; checks that every interaction got a deferral and a public
follow-up with its poem, and that every generation is stored. Model: the shipped ``tang``
model when there is one, else a tiny tang model trained here on the test fixture (said
in the output). Usage:

    python benchmarks/bot_load.py [--n 200] [--http-latency-ms 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bot"))
sys.path.insert(0, str(ROOT / "tests"))  # tinymodels, used by bot_support

FORMS = ("5j", "7j")


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _model(home: Path) -> tuple[Path, str]:
    """The tang model to serve and a description of it."""
    from shared_model import Registry, Settings

    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    try:
        info = Registry(Settings.from_env()).resolve("tang")
        if info.source == "shipped":
            return info.path, f"shipped tang model ({info.path.name}, {info.size / 1e6:.1f} MB)"
    except Exception:  # noqa: BLE001 - no shipped model: train the stand-in below
        pass
    from bot_support import train_tang_model

    path = train_tang_model(home / "train")
    shutil.copy(path, models / "tang.onnx")
    return models / "tang.onnx", ("tiny tang model trained here on tests/fixtures/tang "
                                  "(E16 H32 L1; no shipped tang model yet)")


async def _round(bot: Any, session: Any, payloads: list[dict[str, Any]], concurrent: bool
                 ) -> dict[str, Any]:
    from bot_support import settle

    sent: dict[str, float] = {}
    t0 = time.perf_counter()
    for p in payloads:
        sent[p["id"]] = time.perf_counter()
        bot._connection.parse_interaction_create(p)
        if not concurrent:
            await settle(timeout=120)
    await settle(timeout=600)
    wall = time.perf_counter() - t0
    defer_ms, follow_ms, answered = [], [], 0
    for p in payloads:
        calls = session.for_interaction(int(p["id"]), p["token"])
        kinds = [c.kind for c in calls]
        if kinds == ["defer", "followup"] and calls[1].json.get("embeds") and not calls[1].ephemeral:
            answered += 1
            defer_ms.append((calls[0].at - sent[p["id"]]) * 1000)
            follow_ms.append((calls[1].at - sent[p["id"]]) * 1000)
    stats = {"n": len(payloads), "answered": answered, "wall_s": round(wall, 3),
             "poems_per_s": round(answered / wall, 1) if wall else None}
    for name, xs in (("defer", defer_ms), ("followup", follow_ms)):
        if xs:
            stats[f"{name}_p50_ms"] = round(_percentile(xs, 0.5), 1)
            stats[f"{name}_p99_ms"] = round(_percentile(xs, 0.99), 1)
            stats[f"{name}_max_ms"] = round(max(xs), 1)
    return stats


async def run(n: int, latency_ms: float) -> dict[str, Any]:
    from bot_support import command_payload, start_bot

    from lstm_bot.bot import BotConfig
    from lstm_bot.limits import LimitsConfig
    from shared_model import Settings, Store

    home = Path(os.environ["LSTMGEN_HOME"])
    _, described = _model(home)
    limits = LimitsConfig(cooldown_uses=10_000, guild_concurrency=10_000, max_in_flight=10_000)
    bot, session = await start_bot(BotConfig(limits=limits, max_batch=n, max_queue=10 * n))
    session.latency_s = latency_ms / 1000
    try:
        def payloads(offset: int) -> list[dict[str, Any]]:
            return [command_payload("poem", user_id=offset + i, form=FORMS[i % 2], seed=i)
                    for i in range(n)]

        await _round(bot, session, payloads(10**6)[:2], concurrent=False)  # warm-up
        one = await _round(bot, session, payloads(2 * 10**6), concurrent=False)
        many = await _round(bot, session, payloads(3 * 10**6), concurrent=True)
    finally:
        await bot.close()
    with Store.from_settings(Settings.from_env()) as store:
        stored = len(store.history(limit=10 * n, source="discord"))
    return {"model": described, "interactions": n, "http_latency_ms": latency_ms,
            "one_by_one": one, "concurrent": many, "stored": stored,
            "expected_stored": 2 * n + 2,
            "all_answered": one["answered"] == n and many["answered"] == n,
            "all_stored": stored == 2 * n + 2}


def _table(r: dict[str, Any]) -> str:
    rows = [("", "one by one", "concurrent")]
    for key in ("answered", "wall_s", "poems_per_s", "defer_p50_ms", "defer_p99_ms",
                "followup_p50_ms", "followup_p99_ms"):
        rows.append((key, str(r["one_by_one"].get(key)), str(r["concurrent"].get(key))))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, width, strict=True)) for row in rows]
    return "\n".join([f"model: {r['model']}", f"{r['interactions']} /poem interactions, "
                      f"simulated HTTP latency {r['http_latency_ms']} ms", *lines,
                      f"stored generations: {r['stored']} (expected {r['expected_stored']})"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--http-latency-ms", type=float, default=0.0)
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LSTMGEN_HOME"] = tmp
        os.environ.pop("LSTMGEN_DB_URL", None)
        os.environ.pop("LSTMGEN_MODELS", None)
        result = asyncio.run(run(args.n, args.http_latency_ms))
    print(_table(result), file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0 if result["all_answered"] and result["all_stored"] else 1


if __name__ == "__main__":
    sys.exit(main())
