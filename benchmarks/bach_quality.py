"""Bach chorale quality benchmark: JSB quarter-note NLL per frame (baselines and a trained
LSTM), 100 generated chorales against real ones, and the 8-bar latency.

1. **JSB Chorales, quarter-note piano roll** (``jsb-chorales-quarter.json``, the
   Boulanger-Lewandowski et al. 2012 split): negative log-likelihood per frame, in nats,
   of the *set* of sounding pitches, pooled over all 4,725 test frames (total NLL / total
   frames) - the measure of the published piano-roll numbers (LSTM ~8.5-8.7, RNN-NADE
   ~5.6). Baselines fitted on the train split (88-key roll, MIDI 21..108), add-``alpha``
   smoothing picked on the valid split: ``bernoulli`` (each pitch independently),
   ``repeat`` (per pitch p(on_t | on_{t-1}), the smoothed repeat-previous-frame baseline),
   ``repeat+neighbours`` (also conditioned on a pitch within two semitones sounding).
2. **A trained LSTM on the same split** (``--jsb-model FILE.onnx``, trained with
   ``lstmgen train --domain bach --data jsb-chorales-quarter.json``, i.e. on the train
   split only, early-stopped on valid): every test chorale is voiced and encoded exactly
   as in training (``voice_sets``: a one-to-one map from the roll to tokens, one frame =
   one quarter note), its tokens scored by onnxruntime, and the NLL of all of a chorale's
   tokens (mode control, the five tokens per frame, end token) summed. That is the NLL of
   one token sequence that determines the pitch sets, so it bounds the model's NLL of
   the sets from above. Two choices the encoder makes are not scored by the model: the
   key/octave transposition (not in the tokens) and the mode control (given, not
   predicted). Charging them as uniform choices among 36 shifts (-18..+17 semitones) and
   2 modes adds ``log 72`` per chorale; ``nll_per_frame`` includes that charge (the
   comparable figure), ``nll_per_frame_tokens_only`` does not.
3. **Generated chorales** (``--generate N`` with ``--model``, default the shipped
   ``bach`` at temperature 1.0, 8 bars): share that render to MIDI *and* MusicXML which
   music21 reads back in four parts, voice-crossing share, range violations, parallel
   fifths/octaves per 100 sixteenth frames and the pitch-class distance (total
   variation) to real chorales, beside the same measures of real chorales (JSB 16th
   voice-separated test split; ``--music21``: the bundled music21 chorales as well).
4. **Latency** (``--latency``): ``lstmgen music bach --bars 8 -o x.mid --wav x.wav`` as a
   fresh process (median of 5; generation stored in a throwaway SQLite home), and the
   same request in a warm process (median of 10).

Usage: python benchmarks/bach_quality.py [--data DIR] [--jsb-model FILE] [--generate N]
       [--model NAME] [--latency] [--music21] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LOW, HIGH = 21, 108  # the 88-key piano roll of the published numbers
N_KEYS = HIGH - LOW + 1
DEFAULT_DATA = Path("/work/shared/data/bach")
ALPHAS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
UNSCORED_CHOICES = 36 * 2  # per chorale: transposition (12 keys x 3 octaves) x mode control


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


# ---- a trained LSTM on the JSB quarter split ------------------------------------------

def lstm_quarter_nll(model_path: Path, data_path: Path, split: str = "test") -> dict[str, Any]:
    """NLL per quarter frame of a bach ONNX model on one split of the quarter roll file."""
    from collections import Counter

    from shared_model.domains.bach.corpus import encode_chorale, read_jsb, voice_sets
    from shared_model.serving.scoring import ScoreConfig, document_sequences, score
    from shared_model.serving.session import ModelSession

    data = read_jsb(data_path)
    skipped: Counter[str] = Counter()
    docs = [encode_chorale(voice_sets(steps), skipped) for steps in data[split]]
    if skipped:  # every frame must be scored for the number to be comparable
        raise SystemExit(f"bach_quality: {sum(skipped.values())} {split} chorales could not "
                         f"be encoded ({dict(skipped)})")
    frames = sum(len(steps) for steps in data[split])
    session = ModelSession(model_path)
    if session.meta.domain != "bach":
        raise SystemExit(f"bach_quality: {model_path} is a {session.meta.domain} model")
    result = score(session, document_sequences(session.tokenizer, docs), ScoreConfig(window=512))
    shift_cost = len(docs) * math.log(UNSCORED_CHOICES)
    return {"model": str(model_path), "split": split, "chorales": len(docs), "frames": frames,
            "tokens": result.tokens, "nll_per_token": result.nll_per_token,
            "nll_per_frame_tokens_only": result.nll / frames,
            "nll_per_frame": (result.nll + shift_cost) / frames,
            "config": session.meta.config, "trained": session.meta.metrics,
            "corpus": {k: session.meta.corpus.get(k) for k in ("name", "sha256", "split")}}


# ---- generated chorales ------------------------------------------------------------

def generated_measures(model: str, n: int, bars: int, temperature: float, seed: int,
                       allow_parallels: bool = False) -> dict[str, Any]:
    """Generate ``n`` chorales and check and measure them."""
    import music21
    from tqdm import tqdm

    from shared_model.api import GenerateRequest, Studio
    from shared_model.domains.bach.analysis import corpus_measures
    from shared_model.domains.bach.request import ChoraleRequest
    from shared_model.serving.sampling import SamplingConfig

    frames, valid, fermata_end, bars_ok, seconds = [], 0, 0, 0, []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, Studio() as studio:
        for i in tqdm(range(n), desc="chorales", file=sys.stderr, disable=not sys.stderr.isatty()):
            req = GenerateRequest(model, sampling=SamplingConfig(temperature=temperature, seed=seed + i),
                                  domain_request=ChoraleRequest(bars=bars, formats=("midi", "musicxml"),
                                                                allow_parallels=allow_parallels))
            t0 = time.perf_counter()
            g = studio.generate(req, record=False)[0]
            seconds.append(time.perf_counter() - t0)
            res = g.result
            frames.append(res.frames)
            fermata_end += bool(res.frames.fermata[-1])
            bars_ok += res.bars == bars
            mid = Path(tmp) / f"{i}.mid"
            mid.write_bytes(res.midi_bytes)
            try:
                m = music21.converter.parse(mid)
                x = music21.converter.parseData(res.musicxml_text, format="musicxml")
                ok = len(m.parts) == 4 and len(x.parts) == 4 and all(
                    len(p.flatten().notes) > 0 for p in list(m.parts) + list(x.parts))
            except Exception as exc:  # noqa: BLE001 - any parse failure is a failure to count
                ok = False
                failures.append(f"seed {seed + i}: {type(exc).__name__}: {exc}")
            valid += ok
    out = corpus_measures(frames)
    out.update(model=model, temperature=temperature, bars=bars, seed_from=seed,
               parallels_rule=not allow_parallels,
               valid_midi_and_musicxml=valid / n, ends_on_fermata=fermata_end / n,
               exact_bars=bars_ok / n, median_generate_s=statistics.median(seconds),
               failures=failures[:5])
    return out


# ---- latency -----------------------------------------------------------------------

def latency(model: str, runs_cold: int = 5, runs_warm: int = 10) -> dict[str, Any]:
    """8-bar chorale + MIDI + WAV: a fresh ``lstmgen music`` process, and a warm Studio."""
    from shared_model.api import GenerateRequest, Studio
    from shared_model.domains.bach.output import write_chorale_files
    from shared_model.domains.bach.request import ChoraleRequest
    from shared_model.serving.sampling import SamplingConfig

    cold = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LSTMGEN_HOME": tmp}
        for i in range(runs_cold):
            cmd = [sys.executable, "-m", "shared_model.cli", "music", "bach", "--model", model,
                   "--bars", "8", "--seed", str(i), "-o", f"{tmp}/c.mid", "--wav", f"{tmp}/c.wav"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            cold.append(time.perf_counter() - t0)
        warm = []
        chorale = ChoraleRequest(bars=8, formats=("midi", "wav"))
        with Studio() as studio:
            def run(seed: int) -> Any:
                request = GenerateRequest(model, sampling=SamplingConfig(seed=seed), domain_request=chorale)
                return studio.generate(request, record=False)[0]

            run(99)  # load the model and warm the session
            for i in range(runs_warm):
                t0 = time.perf_counter()
                g = run(i)
                write_chorale_files(g.result, midi=f"{tmp}/w.mid", wav=f"{tmp}/w.wav")
                warm.append(time.perf_counter() - t0)
    return {"model": model, "cold_process_s": cold, "cold_process_median_s": statistics.median(cold),
            "warm_s": warm, "warm_median_s": statistics.median(warm), "target_s": 2.0}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="directory with jsb-chorales-quarter.json and Jsb16thSeparated.json")
    ap.add_argument("--jsb-model", type=Path, help="a bach .onnx trained on the JSB quarter train split")
    ap.add_argument("--generate", type=int, default=0, metavar="N", help="generate and measure N chorales")
    ap.add_argument("--model", default="bach", help="model for --generate/--latency (default: bach)")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1000, help="first seed of --generate")
    ap.add_argument("--allow-parallels", action="store_true",
                    help="--generate without the no-parallel-fifths/octaves decoding rule")
    ap.add_argument("--latency", action="store_true", help="time the 8-bar MIDI+WAV path")
    ap.add_argument("--music21", action="store_true",
                    help="also measure the bundled music21 chorales (first run parses them, ~1 min)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not (args.data / "jsb-chorales-quarter.json").is_file():
        print(f"bach_quality: no jsb-chorales-quarter.json in {args.data} "
              "(lstmgen data fetch jsb --dest DIR)", file=sys.stderr)
        return 2
    if args.jsb_model is not None and not args.jsb_model.is_file():
        print(f"bach_quality: no model file {args.jsb_model}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result: dict[str, Any] = {
        "jsb_quarter_baselines": run_baselines(args.data / "jsb-chorales-quarter.json"),
        "reference": reference_measures(args.data, args.music21)}
    if args.jsb_model is not None:
        result["jsb_quarter_lstm"] = lstm_quarter_nll(args.jsb_model, args.data / "jsb-chorales-quarter.json")
    if args.generate:
        gen = generated_measures(args.model, args.generate, args.bars, args.temperature, args.seed,
                                 args.allow_parallels)
        from shared_model.domains.bach.analysis import pitch_class_distance

        for name, ref in result["reference"].items():
            if isinstance(ref, dict):
                gen[f"pitch_class_distance_vs_{name}"] = pitch_class_distance(
                    np.array(gen["pitch_class_histogram"]), np.array(ref["pitch_class_histogram"]))
        result["generated"] = gen
    if args.latency:
        result["latency"] = latency(args.model)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(result))
    if args.json:
        return 0
    print("\nJSB Chorales, quarter-note roll, NLL per frame (nats), test split:")
    for name, r in result["jsb_quarter_baselines"].items():
        print(f"  {name:<18} {r['nll_per_frame']:.3f}  (valid {r['valid']:.3f}, alpha {r['alpha']}, "
              f"{r['frames']} frames)")
    if "jsb_quarter_lstm" in result:
        r = result["jsb_quarter_lstm"]
        print(f"  {'LSTM (ours)':<18} {r['nll_per_frame']:.3f}  (tokens only {r['nll_per_frame_tokens_only']:.3f}; "
              f"{r['nll_per_token']:.4f} nats/token over {r['tokens']} tokens, {r['frames']} frames)")
    rows = [(k, m) for k, m in result["reference"].items() if isinstance(m, dict)]
    if "generated" in result:
        rows.append(("generated", result["generated"]))
    print(f"\n{'chorales':<14} {'n':>5} {'frames':>7} {'5ths/100':>9} {'8ves/100':>9} {'crossing':>9} {'range':>6}")
    for name, m in rows:
        print(f"{name:<14} {m['chorales']:>5} {m['frames']:>7} {m['parallel_fifths_per_100']:>9.3f} "
              f"{m['parallel_octaves_per_100']:>9.3f} {m['crossing_share']:>9.4f} {m['range_violations']:>6}")
    if "generated" in result:
        g = result["generated"]
        print(f"generated: {g['valid_midi_and_musicxml']:.0%} valid MIDI+MusicXML in 4 parts, "
              f"{g['ends_on_fermata']:.0%} end on a fermata, {g['exact_bars']:.0%} exact length; "
              + ", ".join(f"{k.removeprefix('pitch_class_distance_vs_')} PC distance {v:.4f}"
                          for k, v in g.items() if k.startswith("pitch_class_distance_vs_")))
    if "latency" in result:
        lat = result["latency"]
        print(f"latency 8 bars + MIDI + WAV: fresh process {lat['cold_process_median_s']:.3f} s, "
              f"warm {lat['warm_median_s']:.3f} s (target < {lat['target_s']} s)")
    print(f"({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
