"""Serving: continuous batching vs one-by-one vs one offline batch; cold start; memory.

64 concurrent requests (a 4-line 七言 poem each: 32 characters, different seeds) through
the batching engine, the same requests one after another, and one offline batched call
(``Decoder.generate(n=64)``); throughput and p50/p99 latency. Cold start: process start
to first token for the shipped Tang model (imports included). Resident memory of a
process holding every shipped model. Without a shipped Tang model the Tang-size model
with random weights stands in (said in the output). Usage:

    python benchmarks/serve.py [--requests 64] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POEM_TOKENS = 32  # 4 lines x (7 characters + punctuation)


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _configs(n: int) -> list[Any]:
    from shared_model.serving.sampling import SamplingConfig

    return [SamplingConfig(temperature=0.8, top_k=40, seed=1000 + i, max_new_tokens=POEM_TOKENS,
                           ignore_eos=True) for i in range(n)]


async def _engine_run(session: Any, configs: list[Any]) -> tuple[float, list[float]]:
    from shared_model.serving.engine import Engine, EngineConfig

    async with Engine(session, EngineConfig(max_batch=len(configs), timeout_s=None)) as engine:
        await engine.generate("", configs[0].with_seed(1))  # warm-up
        t0 = time.perf_counter()
        results = await asyncio.gather(*[engine.generate("", c) for c in configs])
        wall = time.perf_counter() - t0
    return wall, [r.latency_ms for r in results]


def throughput(model: Path, n: int, threads: int) -> dict[str, Any]:
    from shared_model.serving.decode import Decoder
    from shared_model.serving.session import ModelSession, SessionConfig

    session = ModelSession(model, SessionConfig(threads=threads))
    decoder = Decoder(session)
    configs = _configs(n)
    tokens = n * POEM_TOKENS
    decoder.generate("", configs[0])  # warm-up
    t0 = time.perf_counter()
    seq_lat = [decoder.generate("", c)[0].latency_ms for c in configs]
    seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    decoder.generate("", configs[0], n=n)
    offline = time.perf_counter() - t0
    wall, lat = asyncio.run(_engine_run(session, configs))
    return {
        "requests": n, "tokens_each": POEM_TOKENS, "provider": session.provider,
        "engine_tokens_per_s": tokens / wall, "sequential_tokens_per_s": tokens / seq,
        "offline_batch_tokens_per_s": tokens / offline,
        "engine_vs_sequential": seq / wall, "engine_vs_offline": offline / wall,
        "engine_latency_ms": {"p50": _percentile(lat, 0.5), "p99": _percentile(lat, 0.99)},
        "sequential_latency_ms": {"p50": _percentile(seq_lat, 0.5), "p99": _percentile(seq_lat, 0.99),
                                  "p99_queued": seq * 1000.0},
    }


_COLD = """
import time, sys
t0 = float(sys.argv[1])
from shared_model.serving.registry import Registry
from shared_model.serving.decode import Decoder
from shared_model.serving.sampling import SamplingConfig
session = Registry().open(sys.argv[2])
piece = next(iter(Decoder(session).stream("", SamplingConfig(seed=1, max_new_tokens=8, ignore_eos=True))))
print(time.time() - t0, "torch" in sys.modules)
"""

_RSS = """
import sys
from shared_model.serving.registry import Registry
from shared_model.serving.decode import Decoder
from shared_model.serving.sampling import SamplingConfig
sessions = [Registry().open(p) for p in sys.argv[1:]]
for s in sessions:
    Decoder(s).generate("", SamplingConfig(seed=1, max_new_tokens=4), n=4)
rss = [l for l in open("/proc/self/status") if l.startswith(("VmRSS", "VmHWM"))]
print(" ".join(l.split()[1] for l in rss))
"""


def cold_start(model: Path, repeats: int = 5) -> dict[str, Any]:
    times = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, "-c", _COLD, repr(time.time()), str(model)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        seconds, torch_loaded = proc.stdout.split()
        times.append(float(seconds))
    return {"seconds_median": median(times), "seconds_all": times, "torch_imported": torch_loaded}


def resident_memory(models: list[Path]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _RSS, *map(str, models)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    hwm, rss = (int(v) / 1024 for v in proc.stdout.split())  # VmHWM comes first in the file
    return {"models": [m.name for m in models], "rss_mib": rss, "peak_rss_mib": hwm}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from shared_model.serving.registry import Registry

    shipped = [i for i in Registry().list() if i.source == "shipped" and not i.broken]
    tang = next((i.path for i in shipped if i.domain == "tang"), None)
    out: dict[str, Any] = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="lstmgen-serve-") as tmp:
        if tang is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from generate import build_models

            tang = build_models(Path(tmp), "tang")["fp32"]
            out["model"] = "Tang-size random weights (no shipped tang model yet)"
            memory_models = [tang, Path(tmp) / "tang.int8.onnx"]
        else:
            out["model"] = f"shipped {tang.name}"
            memory_models = [i.path for i in shipped]
        out["throughput"] = throughput(tang, args.requests, args.threads)
        out["cold_start"] = cold_start(tang)
        out["memory"] = resident_memory(memory_models)
    out["load_average_end"] = os.getloadavg()
    t = out["throughput"]
    print(f"model: {out['model']} ({t['provider']})")
    print(f"{'mode':<16} {'tokens/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'engine':<16} {t['engine_tokens_per_s']:>10,.0f} {t['engine_latency_ms']['p50']:>9.1f} "
          f"{t['engine_latency_ms']['p99']:>9.1f}")
    print(f"{'sequential':<16} {t['sequential_tokens_per_s']:>10,.0f} "
          f"{t['sequential_latency_ms']['p50']:>9.1f} {t['sequential_latency_ms']['p99_queued']:>9.1f}")
    print(f"{'offline batch':<16} {t['offline_batch_tokens_per_s']:>10,.0f}")
    print(f"engine = {t['engine_vs_sequential']:.1f}x sequential, {t['engine_vs_offline']:.0%} of offline")
    print(f"cold start to first token: {out['cold_start']['seconds_median']:.3f} s "
          f"(torch imported: {out['cold_start']['torch_imported']})")
    print(f"resident memory holding {', '.join(out['memory']['models'])}: "
          f"{out['memory']['rss_mib']:.0f} MiB (peak {out['memory']['peak_rss_mib']:.0f} MiB)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
