"""How fast the IPython magic answers: first ``%%lstmgen`` after ``%load_ext`` (model load
included) and the later ones, in a real InteractiveShell, with the shipped default model.

    python benchmarks/magic_latency.py [--pause 0] [--runs 10] [--model tang] [--json out.json]

Runs in a fresh LSTMGEN_HOME (a temporary dir) so the store is created as a user's first
session would. Prints JSON and a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def measure(pause: float, runs: int, model: str) -> dict[str, float]:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    t = time.perf_counter()
    shell.run_cell("%load_ext lstm_magic", store_history=True)
    load_ms = (time.perf_counter() - t) * 1000
    time.sleep(pause)
    t = time.perf_counter()
    with capture_output():
        r = shell.run_cell(f"%%lstmgen --model {model} --seed 1\n春\n", store_history=True)
    first_ms = (time.perf_counter() - t) * 1000
    if r.error_in_exec is not None:
        raise SystemExit(f"the first cell failed: {r.error_in_exec}")
    later = []
    for i in range(runs):
        t = time.perf_counter()
        with capture_output():
            shell.run_cell(f"%%lstmgen --model {model} --seed {i + 2}\n月\n", store_history=True)
        later.append((time.perf_counter() - t) * 1000)
    return {"pause_s": pause, "load_ext_ms": round(load_ms, 1), "first_ms": round(first_ms, 1),
            "later_median_ms": round(statistics.median(later), 1),
            "later_min_ms": round(min(later), 1), "later_max_ms": round(max(later), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pause", type=float, default=0.0,
                    help="seconds between %%load_ext and the first cell (a person typing)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--model", default="tang")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        os.environ["LSTMGEN_HOME"] = home
        out = measure(args.pause, args.runs, args.model)
    out["model"] = args.model
    print(json.dumps(out))
    print(f"{'pause':>6} {'load_ext':>9} {'first':>8} {'later p50':>10}\n"
          f"{out['pause_s']:>5g}s {out['load_ext_ms']:>7.0f}ms {out['first_ms']:>6.0f}ms "
          f"{out['later_median_ms']:>8.0f}ms", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
