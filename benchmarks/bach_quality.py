"""Bach chorale quality benchmark (partial): JSB quarter-note NLL baselines and the
real-chorale reference measures.

What it computes (no trained model needed):

1. **JSB Chorales, quarter-note piano roll** (``jsb-chorales-quarter.json``, the
   Boulanger-Lewandowski et al. 2012 split): negative log-likelihood per frame, in nats,
   of the *set* of sounding pitches, on the 88-key roll (MIDI 21..108), pooled over all
   test frames (total NLL / total frames) - the measure of the published piano-roll
   numbers (LSTM ~8.5-8.7, RNN-NADE ~5.6). Baselines fitted on the train split, with
   add-``alpha`` smoothing (alpha picked on the valid split):
   * ``bernoulli``: each pitch on independently with its train frequency;
   * ``repeat``: per pitch, a first-order Markov chain p(on_t | on_{t-1}) - the smoothed
     "repeat the previous frame" baseline;
   * ``repeat+neighbours``: as ``repeat`` but also conditioned on whether a pitch within
     two semitones sounded in the previous frame (4 states per pitch).
2. **Reference measures of real chorales** (analysis.py definitions): parallel fifths /
   octaves per 100 sixteenth frames, voice-crossing share, range violations and the
   pitch-class histogram, for the JSB 16th voice-separated test split and (``--music21``)
   the bundled music21 chorales, both transposed to C major / A minor.

For a trained model later: compute each test frame's log-probability of its true pitch
set and call ``summarize_frame_log_probs`` (or ``bernoulli_frame_nll`` for per-pitch
probabilities); the numbers are then comparable with the baselines printed here.

Usage: python benchmarks/bach_quality.py [--data DIR] [--music21] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LOW, HIGH = 21, 108  # the 88-key piano roll of the published numbers
N_KEYS = HIGH - LOW + 1
DEFAULT_DATA = Path("/work/shared/data/bach")
ALPHAS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


# ---- data --------------------------------------------------------------------------

def load_quarter_rolls(path: Path, split: str) -> list[np.ndarray]:
    """The chorales of one split as [T, 88] bool piano rolls (MIDI 21..108)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rolls = []
    for chorale in data[split]:
        roll = np.zeros((len(chorale), N_KEYS), dtype=bool)
        for t, frame in enumerate(chorale):
            for p in frame:
                roll[t, int(p) - LOW] = True
        rolls.append(roll)
    return rolls


# ---- scoring (what a trained model plugs into) -------------------------------------

def bernoulli_frame_nll(probs: np.ndarray, roll: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """[T] NLL (nats) of each frame's pitch set under independent per-pitch probabilities.

    Args:
        probs: [T, 88] probability that each pitch sounds in each frame.
        roll: [T, 88] bool, the true frames.
    """
    p = np.clip(probs, eps, 1 - eps)
    return -(np.where(roll, np.log(p), np.log1p(-p))).sum(axis=1)


def summarize_frame_log_probs(frame_log_probs: Sequence[np.ndarray]) -> dict[str, float]:
    """Pooled NLL per frame from per-chorale arrays of log p(true pitch set of frame t).

    Any model fits: an LSTM over SATB tokens gives log p of a quarter frame's set by
    summing its token log-probabilities (marginalising voice assignments of doubled
    pitches when they arise); natural logs, so the result is in nats.
    """
    lp = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in frame_log_probs])
    return {"nll_per_frame": float(-lp.mean()), "frames": int(lp.size)}


# ---- baselines ---------------------------------------------------------------------

def _neighbour_on(roll: np.ndarray, width: int = 2) -> np.ndarray:
    """[T, 88] bool: some *other* pitch within ``width`` semitones sounds in that frame."""
    out = np.zeros_like(roll)
    for d in range(1, width + 1):
        out[:, d:] |= roll[:, :-d]
        out[:, :-d] |= roll[:, d:]
    return out


def _states(roll: np.ndarray, model: str) -> np.ndarray:
    """[T, 88] int context state of each pitch at each frame (from the previous frame)."""
    if model == "bernoulli":
        return np.zeros(roll.shape, dtype=np.int64)
    prev = np.vstack([np.zeros((1, N_KEYS), dtype=bool), roll[:-1]])
    state = prev.astype(np.int64)
    if model == "repeat+neighbours":
        state += 2 * _neighbour_on(prev)
    return state


def fit_baseline(train: Sequence[np.ndarray], model: str, alpha: float) -> np.ndarray:
    """[S, 88] probability tables p(on | state, pitch), add-alpha smoothed."""
    n_states = {"bernoulli": 1, "repeat": 2, "repeat+neighbours": 4}[model]
    on = np.zeros((n_states, N_KEYS))
    total = np.zeros((n_states, N_KEYS))
    for roll in train:
        st = _states(roll, model)
        for s in range(n_states):
            m = st == s
            total[s] += m.sum(axis=0)
            on[s] += (m & roll).sum(axis=0)
    return (on + alpha) / (total + 2 * alpha)


def baseline_nll(table: np.ndarray, rolls: Sequence[np.ndarray], model: str) -> dict[str, float]:
    """Pooled NLL per frame of a fitted baseline on ``rolls``."""
    per = []
    for roll in rolls:
        st = _states(roll, model)
        probs = table[st, np.arange(N_KEYS)[None, :]]  # [T, 88]
        per.append(-bernoulli_frame_nll(probs, roll))
    return summarize_frame_log_probs(per)


def run_baselines(path: Path) -> dict[str, Any]:
    train, valid, test = (load_quarter_rolls(path, s) for s in ("train", "valid", "test"))
    out: dict[str, Any] = {}
    for model in ("bernoulli", "repeat", "repeat+neighbours"):
        best = min(ALPHAS, key=lambda a: baseline_nll(fit_baseline(train, model, a), valid, model)["nll_per_frame"])
        table = fit_baseline(train, model, best)
        out[model] = {"alpha": best, "valid": baseline_nll(table, valid, model)["nll_per_frame"],
                      **baseline_nll(table, test, model)}
    return out


# ---- real-chorale reference measures -----------------------------------------------

def reference_measures(data_dir: Path, music21: bool) -> dict[str, Any]:
    from shared_model.domains.bach.analysis import corpus_measures, pitch_class_distance
    from shared_model.domains.bach.corpus import jsb_frames
    from shared_model.domains.bach.encoding import normalize_key, out_of_range

    out: dict[str, Any] = {}
    sep = json.loads((data_dir / "Jsb16thSeparated.json").read_text(encoding="utf-8"))
    frames = [normalize_key(jsb_frames(c))[0] for c in sep["test"]]
    out["jsb16_test"] = corpus_measures([f for f in frames if not out_of_range(f)])
    if music21:
        from shared_model.domains import get_domain
        from shared_model.domains.bach.encoding import tokens_to_frames

        corpus = get_domain("bach").load_corpus("music21", progress=True)
        m21 = [tokens_to_frames(d.text.split()) for d in corpus.train + corpus.val]
        out["music21_all"] = corpus_measures(m21)
        out["pitch_class_distance_music21_vs_jsb16_test"] = pitch_class_distance(
            np.array(out["music21_all"]["pitch_class_histogram"]),
            np.array(out["jsb16_test"]["pitch_class_histogram"]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="directory with jsb-chorales-quarter.json and Jsb16thSeparated.json")
    ap.add_argument("--music21", action="store_true",
                    help="also measure the bundled music21 chorales (first run parses them, ~1 min)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not (args.data / "jsb-chorales-quarter.json").is_file():
        print(f"bach_quality: no jsb-chorales-quarter.json in {args.data} "
              "(lstmgen data fetch jsb --dest DIR)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = {"jsb_quarter_baselines": run_baselines(args.data / "jsb-chorales-quarter.json"),
              "reference": reference_measures(args.data, args.music21),
              "seconds": 0.0}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        print(json.dumps(result))
        return 0
    print("JSB Chorales, quarter-note roll, NLL per frame (nats), test split:")
    for name, r in result["jsb_quarter_baselines"].items():
        print(f"  {name:<18} {r['nll_per_frame']:.3f}  (valid {r['valid']:.3f}, alpha {r['alpha']}, "
              f"{r['frames']} frames)")
    for name, m in result["reference"].items():
        if not isinstance(m, dict):
            print(f"{name}: {m:.4f}")
            continue
        print(f"{name}: {m['chorales']} chorales, {m['frames']} frames; parallel fifths "
              f"{m['parallel_fifths_per_100']:.3f} / octaves {m['parallel_octaves_per_100']:.3f} per 100 "
              f"frames; crossing share {m['crossing_share']:.4f}; range violations {m['range_violations']}")
        print("  pitch classes C..B: " + " ".join(f"{x:.3f}" for x in m["pitch_class_histogram"]))
    print(f"({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
