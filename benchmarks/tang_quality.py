"""Tang poem benchmark (issue 5, "What it must show"): form, acrostic, rhyme, perplexity vs a
trigram, copying, latency, bad input.

For one tang model (a registry name such as ``tang`` or a path to an .onnx file) and its
corpus, re-read with the options recorded in the model (same deterministic hash split):

1. **Constraints**: ``--poems`` poems (the four forms in equal shares, temperature 0.8,
   seeds drawn from ``--seed``) through ``Studio.generate`` (the CLI's call, constraints on,
   ``record=False``); each verdict is ``check_tokens`` on the poem's tokens alone. Then
   ``--acrostics`` acrostic poems (half 4, half 8 random characters from the 300 most
   frequent training characters; 4 -> 5j/7j, 8 -> 5l/7l alternately). The raw model: feed
   ``<bos>`` + the form's control token and sample with the ``Decoder`` and no constraint
   until ``<eos>`` (at most twice the form's length); the share with the exact form.
2. **Perplexity**: the model on the validation poems (``scoring.score`` over
   ``document_sequences``) vs interpolated character trigrams (Kneser–Ney and
   Jelinek–Mercer, ``shared_model.evaluation.ngram``) counted on the training poems with the
   model's own tokenizer, weights tuned on every 20th training poem. Predicted tokens are
   the same for both: characters (``<unk>`` included), punctuation, ``<eos>``; ``<bos>``
   and the form control token are given as context and never predicted (the trigram sees
   the control token as context for the first two characters, as the model does).
3. **Copying**: the share of generated lines (constrained poems) found verbatim among the
   training poems' lines; distinct-2 over the poems (characters, punctuation dropped).
4. **Latency**: a 七言律诗 through ``Studio.generate`` (median of ``--latency-runs``), and
   ``lstmgen poem tang --form 7l`` as a whole process (median of ``--process-runs``, with
   recording to a throwaway LSTMGEN_HOME, and with ``--no-save``).
5. **Bad input**: the messages for the issue's bad requests.

Usage:

    python benchmarks/tang_quality.py [--model tang] [--data poems.jsonl.gz] [--poems 200]
        [--acrostics 50] [--seed 0] [--threads 2] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from shared_model.api import GenerateRequest, Studio
from shared_model.artifact import ArtifactMeta
from shared_model.domains import get_domain
from shared_model.domains.base import Corpus
from shared_model.domains.tang.forms import FORMS, form_of_text, is_hanzi, split_lines
from shared_model.domains.tang.request import PoemRequest
from shared_model.errors import LstmgenError
from shared_model.evaluation.metrics import distinct_n
from shared_model.evaluation.ngram import NgramConfig, fit_trigram, total_nll, trigram_triples
from shared_model.serving.decode import Decoder
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.scoring import document_sequences, score
from shared_model.serving.session import ModelSession, SessionConfig

DEFAULT_DATA = Path("/work/shared/data/tang/poems.jsonl.gz")
FORM_CODES = ("5j", "7j", "5l", "7l")
COMMON_CHARS = 300


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def load_split(meta: ArtifactMeta, data: Path | None) -> tuple[Corpus, dict[str, Any]]:
    """The corpus with the options the model was trained with, and whether the split matches."""
    info = meta.corpus or {}
    split, stats = info.get("split", {}), info.get("stats", {})
    path = data or (Path(split["path"]) if split.get("path") else DEFAULT_DATA)
    options: dict[str, Any] = {}
    if "script" in stats:
        options["script"] = stats["script"]
    if "forms_only" in stats:
        options["forms_only"] = bool(stats["forms_only"])
    if "val_fraction" in split:
        options["val_fraction"] = float(split["val_fraction"])
    if stats.get("conversion") in ("char", "phrase"):
        options["conversion"] = stats["conversion"]
    corpus = get_domain("tang").load_corpus(path, **options)
    check = {"data": str(path), "options": options, "train": len(corpus.train),
             "val": len(corpus.val),
             "same_file": info.get("sha256") in (None, corpus.sha256),
             "same_split": (split.get("train"), split.get("val")) in
             ((None, None), (len(corpus.train), len(corpus.val)))}
    return corpus, check


def _poem(studio: Studio, model: str, request: PoemRequest, seed: int) -> dict[str, Any]:
    g = studio.generate(GenerateRequest(model, domain_request=request,
                                        sampling=SamplingConfig(temperature=0.8, seed=seed)),
                        record=False)[0]
    report = g.output.get("constraints", {})
    return {"form": request.resolved_form().code, "text": g.text, "lines": g.output["lines"],
            "held": report.get("held", {}), "relaxed": report.get("relaxed", []),
            "latency_ms": g.latency_ms}


def constrained_section(studio: Studio, model: str, n: int, seeds: np.ndarray) -> dict[str, Any]:
    """``n`` poems, the four forms in turn, constraints on (default rhyme: 中华新韵)."""
    rows = [_poem(studio, model, PoemRequest(form=FORM_CODES[i % 4]), int(seeds[i]))
            for i in range(n)]
    relaxed = Counter(r for row in rows for r in row["relaxed"])
    per_form = {code: _share(sum(r["held"].get("form") is True for r in rows if r["form"] == code),
                             sum(r["form"] == code for r in rows)) for code in FORM_CODES}
    return {"poems": n, "exact_form": _share(sum(r["held"].get("form") is True for r in rows), n),
            "exact_form_by_form": per_form,
            "rhyme": _share(sum(r["held"].get("rhyme") is True for r in rows), n),
            "no_repeat": _share(sum(r["held"].get("no_repeat") is True for r in rows), n),
            "poems_with_relaxation": sum(bool(r["relaxed"]) for r in rows),
            "relaxed": dict(relaxed), "examples": [r["text"] for r in rows[:4]], "_rows": rows}


def common_chars(corpus: Corpus, vocab: set[str], k: int = COMMON_CHARS) -> list[str]:
    """The ``k`` most frequent Chinese characters of the training poems the model knows."""
    counts = Counter(ch for d in corpus.train for ch in d.text if is_hanzi(ch) and ch in vocab)
    return [ch for ch, _ in counts.most_common(k)]


def acrostic_section(studio: Studio, model: str, n: int, chars: list[str],
                     rng: np.random.Generator) -> dict[str, Any]:
    """``n`` acrostics: half of 4 characters (5j/7j), half of 8 (5l/7l), distinct characters."""
    rows = []
    for i in range(n):
        size = 4 if i < (n + 1) // 2 else 8
        form = ("5j", "7j")[i % 2] if size == 4 else ("5l", "7l")[i % 2]
        acrostic = "".join(rng.choice(chars, size=size, replace=False))
        row = _poem(studio, model, PoemRequest(form=form, acrostic=acrostic),
                    int(rng.integers(2**31 - 1)))
        rows.append({**row, "acrostic": acrostic})
    ok = [r for r in rows if r["held"].get("acrostic") is True]
    return {"requests": n, "correct": _share(len(ok), n),
            "correct_4": _share(sum(len(r["acrostic"]) == 4 for r in ok),
                                sum(len(r["acrostic"]) == 4 for r in rows)),
            "correct_8": _share(sum(len(r["acrostic"]) == 8 for r in ok),
                                sum(len(r["acrostic"]) == 8 for r in rows)),
            "exact_form": _share(sum(r["held"].get("form") is True for r in rows), n),
            "rhyme": _share(sum(r["held"].get("rhyme") is True for r in rows), n),
            "examples": [f"{r['acrostic']}: {r['text']}" for r in rows[:2]]}


def raw_section(session: ModelSession, n: int, seeds: np.ndarray) -> dict[str, Any]:
    """The model alone: ``<bos>`` + control token, sampled to ``<eos>`` without constraints."""
    decoder = Decoder(session)
    vocab = set(session.meta.vocab)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        form = FORMS[FORM_CODES[i % 4]]
        controls = (form.control,) if form.control in vocab else ()
        config = SamplingConfig(temperature=0.8, seed=int(seeds[i]),
                                max_new_tokens=2 * form.num_tokens + 2)
        out = decoder.generate("", config, controls=controls)[0]
        got = form_of_text(out.text)
        rows.append({"form": form.code, "got": got.code if got else None,
                     "eos": out.finish_reason == "eos", "text": out.text})
    exact = [r for r in rows if r["got"] == r["form"]]
    return {"poems": n, "exact_form": _share(len(exact), n),
            "exact_form_by_form": {c: _share(sum(r["form"] == c for r in exact),
                                             sum(r["form"] == c for r in rows)) for c in FORM_CODES},
            "some_regulated_form": _share(sum(r["got"] is not None for r in rows), n),
            "ended_with_eos": _share(sum(r["eos"] for r in rows), n),
            "controls_used": all(FORMS[c].control in vocab for c in FORM_CODES),
            "examples": [r["text"] for r in rows[:4]]}


def perplexity_section(session: ModelSession, corpus: Corpus) -> dict[str, Any]:
    """Model vs interpolated trigrams on the validation poems, same predicted tokens."""
    tok = session.tokenizer
    val = document_sequences(tok, corpus.val)
    t0 = time.perf_counter()
    model = score(session, val)
    model_s = time.perf_counter() - t0
    context_only = [i for i in range(len(tok.vocab))
                    if tok.is_special(i) and i not in (tok.eos_id, tok.unk_id)]
    train = document_sequences(tok, corpus.train)
    val_triples = trigram_triples(val, context_only)
    out: dict[str, Any] = {
        "val_poems": len(corpus.val), "predicted_tokens": model.tokens,
        "model": {**model.to_dict(), "seconds": round(model_s, 2)},
        "unk_in_val": int(sum(s.count(tok.unk_id) for s in val)),
        "trigram": {}}
    if len(val_triples) != model.tokens:  # the two must score the very same positions
        raise LstmgenError(f"trigram predicts {len(val_triples)} tokens, model {model.tokens}")
    for method in ("kneser_ney", "jelinek_mercer"):
        t0 = time.perf_counter()
        fit = fit_trigram(train, len(tok.vocab), context_only=context_only,
                          config=NgramConfig(method=method))
        nll = total_nll(fit.model, val_triples)
        out["trigram"][method] = {**fit.to_dict(), "nll_per_token": round(nll / model.tokens, 6),
                                  "perplexity": round(float(np.exp(nll / model.tokens)), 4),
                                  "seconds": round(time.perf_counter() - t0, 2)}
    best = min(out["trigram"].values(), key=lambda r: r["perplexity"])
    out["best_trigram"] = best["method"]
    out["reduction_vs_best_trigram"] = round(1.0 - model.perplexity / best["perplexity"], 4)
    return out


def copying_section(rows: list[dict[str, Any]], corpus: Corpus) -> dict[str, Any]:
    """Generated lines found verbatim in the training poems; distinct-1/2 over the poems."""
    train_lines = {line for d in corpus.train for line in split_lines(d.text)}
    lines = [line for r in rows for line in r["lines"]]
    copied = [line for line in lines if line in train_lines]
    texts = [r["text"] for r in rows]
    return {"lines": len(lines), "copied_lines": len(copied), "copied_share": _share(len(copied), len(lines)),
            "distinct_1": distinct_n(texts, 1), "distinct_2": distinct_n(texts, 2),
            "copied_examples": copied[:5]}


def latency_section(studio: Studio, model: Path, runs: int, process_runs: int,
                    rng: np.random.Generator) -> dict[str, Any]:
    """七言律诗 latency: the library call (wall and decoder) and the whole CLI process."""
    _poem(studio, str(model), PoemRequest(form="7l"), 0)  # warm-up: session, tables
    walls, decode = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        row = _poem(studio, str(model), PoemRequest(form="7l"), int(rng.integers(2**31 - 1)))
        walls.append((time.perf_counter() - t0) * 1000.0)
        decode.append(row["latency_ms"])
    out: dict[str, Any] = {"library": {"runs": runs, "median_ms": round(median(walls), 2),
                                       "p90_ms": round(float(np.percentile(walls, 90)), 2),
                                       "decoder_median_ms": round(median(decode), 2)}}
    exe = shutil.which("lstmgen")
    cmd = [exe] if exe else [sys.executable, "-m", "shared_model.cli"]
    cmd += ["poem", "tang", "--form", "7l", "--model", str(model), "--json"]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LSTMGEN_HOME": home}
        _process(cmd, env)  # first run creates and migrates the throwaway database
        out["process"] = {"command": f"lstmgen poem tang --form 7l --model {model} --json",
                          "runs": process_runs,
                          "median_ms": round(median(_process(cmd, env) for _ in range(process_runs)), 1),
                          "no_save_median_ms": round(median(
                              _process([*cmd, "--no-save"], env) for _ in range(process_runs)), 1)}
    return out


def _process(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    ms = (time.perf_counter() - t0) * 1000.0
    if done.returncode != 0:
        raise LstmgenError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    json.loads(done.stdout.splitlines()[0])  # the poem came out as JSON
    return ms


def bad_input_section(studio: Studio, meta: ArtifactMeta) -> dict[str, str]:
    """The message a user gets for each bad request of the issue."""
    vocab = set(meta.vocab)
    absent = next(ch for ch in map(chr, range(0x4E00, 0xA000)) if ch not in vocab)
    cases = {
        "acrostic with non-Chinese characters": {"acrostic": "春夏AB"},
        "acrostic character outside the vocabulary": {"acrostic": f"春夏秋{absent}"},
        "unknown form": {"form": "9x"},
        "keyword outside the vocabulary": {"keywords": (absent,)},
        "prompt longer than a line": {"form": "5j", "prompt": "床前明月光疑"},
    }
    out = {}
    for label, kwargs in cases.items():
        try:
            studio.plan(meta, PoemRequest(**kwargs))  # type: ignore[arg-type]
            out[label] = "ACCEPTED (a bug)"
        except LstmgenError as err:
            out[label] = f"{type(err).__name__}: {err}"
    return out


def print_table(r: dict[str, Any]) -> None:
    c, a, raw, p = r["constrained"], r["acrostic"], r["raw"], r["perplexity"]
    cp, lat = r["copying"], r["latency"]
    best = p["trigram"][p["best_trigram"]]
    rows = [
        ("exact form, constrained", f"{c['exact_form']:.1%} of {c['poems']}", "100%"),
        ("acrostic correct", f"{a['correct']:.1%} of {a['requests']}", "100%"),
        ("rhyme rule held", f"{c['rhyme']:.1%} of {c['poems']}", ">= 95%"),
        ("exact form, raw model", f"{raw['exact_form']:.1%} of {raw['poems']}", "(report)"),
        ("val perplexity, model", f"{p['model']['perplexity']:.2f}", ""),
        (f"val perplexity, trigram ({best['method']})", f"{best['perplexity']:.2f}", ""),
        ("reduction vs trigram", f"{p['reduction_vs_best_trigram']:.1%}", ">= 25%"),
        ("lines copied from training", f"{cp['copied_share']:.1%} of {cp['lines']}", "<= 10%"),
        ("distinct-2", f"{cp['distinct_2']:.3f}", "(report)"),
        ("7l latency, Studio.generate", f"{lat['library']['median_ms']:.1f} ms", "< 50 ms"),
        ("7l latency, lstmgen process", f"{lat['process']['median_ms']:.0f} ms", "< 1000 ms"),
    ]
    width = max(len(k) for k, _, _ in rows)
    print(f"\n{'measure':<{width}}  {'value':>18}  target", file=sys.stderr)
    for k, v, t in rows:
        print(f"{k:<{width}}  {v:>18}  {t}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tang", help="model name (registry) or .onnx path")
    parser.add_argument("--data", type=Path, default=None,
                        help="the tang corpus (default: the path recorded in the model, else "
                             f"{DEFAULT_DATA})")
    parser.add_argument("--poems", type=int, default=200, help="constrained and raw poems each")
    parser.add_argument("--acrostics", type=int, default=50)
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--process-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 poems, 8 acrostics, 5 latency runs, 2 processes")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.poems, args.acrostics, args.latency_runs, args.process_runs = 20, 8, 5, 2

    studio = Studio(session_config=SessionConfig(threads=args.threads))
    info, session = studio.model(args.model)
    model = str(info.path)
    rng = np.random.default_rng(args.seed)
    seeds = rng.integers(2**31 - 1, size=args.poems)
    corpus, split = load_split(session.meta, args.data)
    results: dict[str, Any] = {"model": model, "provider": session.provider,
                               "threads": args.threads, "seed": args.seed,
                               "model_metrics": session.meta.metrics, "split": split}
    t0 = time.perf_counter()
    constrained = constrained_section(studio, model, args.poems, seeds)
    rows = constrained.pop("_rows")
    results["constrained"] = constrained
    results["acrostic"] = acrostic_section(studio, model, args.acrostics,
                                           common_chars(corpus, set(session.meta.vocab)), rng)
    results["raw"] = raw_section(session, args.poems, seeds)
    results["sampling_seconds"] = round(time.perf_counter() - t0, 1)
    results["perplexity"] = perplexity_section(session, corpus)
    results["copying"] = copying_section(rows, corpus)
    results["latency"] = latency_section(studio, info.path, args.latency_runs, args.process_runs, rng)
    results["bad_input"] = bad_input_section(studio, session.meta)
    studio.close()
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
