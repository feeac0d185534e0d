"""Generation speed: onnxruntime fp32 / int8 vs PyTorch eager, against numpy matmul bounds.

For a Tang-size config (V 6000, E 256, H 512, L 2) and a Shakespeare-size config (V 65,
E 128, H 512, L 3) with random weights (the same weights for every backend), generate
``--tokens`` tokens at batch 1 and 32, end to end with the numpy sampler, and measure:

- PyTorch eager (``torch.inference_mode``, one step per token, numpy sampling);
- onnxruntime fp32 and int8 through ``Decoder.generate`` (the real serving path);
- the fp32 matrix-vector (B=1) / GEMM (B=32) bound: the step's matmuls timed in numpy;
- the sampler alone per step.

Prints a table and writes JSON (``--json PATH``). Usage:

    python benchmarks/generate.py [--tokens 500] [--repeats 3] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

CONFIGS = {
    "tang": {"vocab_size": 6000, "embed_dim": 256, "hidden_size": 512, "num_layers": 2},
    "shakespeare": {"vocab_size": 65, "embed_dim": 128, "hidden_size": 512, "num_layers": 3},
}


def _vocab(V: int) -> list[str]:
    specials = ["<pad>", "<unk>", "<bos>", "<eos>"]
    base = 0x4E00 if V > 200 else 0x21  # CJK for the Tang size, ASCII for the small one
    return specials + [chr(base + i) for i in range(V - len(specials))]


def build_models(folder: Path, name: str, seed: int = 0) -> dict[str, Any]:
    """A random-weight checkpoint of config ``name``, its fp32 export and a forced int8 copy."""
    import torch

    from exporters.export import export_onnx
    from exporters.quantize import QuantizeConfig, quantize_int8
    from shared_model.tokenizer import CharTokenizer
    from shared_model.training.checkpoint import save_checkpoint
    from shared_model.training.model import LSTMLanguageModel, ModelConfig

    torch.manual_seed(seed)
    cfg = ModelConfig(dropout=0.0, **CONFIGS[name])
    model = LSTMLanguageModel(cfg).eval()
    vocab = _vocab(cfg.vocab_size)
    tok = CharTokenizer(vocab)
    ckpt = save_checkpoint(folder / f"{name}.ckpt", {
        "step": 0, "domain": "text", "name": f"{name}-random", "model_config": cfg.to_dict(),
        "model_state": model.state_dict(), "vocab": vocab, "special_tokens": tok.special_tokens,
        "metrics": {"note": "random weights (benchmark)"}})
    fp32 = export_onnx(ckpt, folder / f"{name}.onnx")
    import numpy as np

    rng = np.random.default_rng(seed)
    val = [[tok.bos_id] + rng.integers(4, cfg.vocab_size, 256).tolist() for _ in range(8)]
    q = quantize_int8(fp32, folder / f"{name}.int8.onnx", val, QuantizeConfig(force=True))
    return {"model": model, "config": cfg, "fp32": fp32, "int8": folder / f"{name}.int8.onnx",
            "int8_agreement_random": q["top1_agreement"]}


def _timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times)


def eager_tokens_per_s(model: Any, B: int, n: int, repeats: int) -> float:
    import numpy as np
    import torch

    from shared_model.serving.sampling import RowParams, SamplingConfig, make_rng, sample_next

    params = RowParams.stack([SamplingConfig(temperature=0.8)] * B)

    def run() -> None:
        rngs = [make_rng(1, i) for i in range(B)]
        tok = torch.full((B, 1), 2, dtype=torch.long)
        state = model.initial_state(B)
        with torch.inference_mode():
            for _ in range(n):
                logits, state = model(tok, state)
                nxt = sample_next(logits[:, -1].numpy(), params, rngs)
                tok = torch.from_numpy(nxt.astype(np.int64))[:, None]

    return B * n / _timed(run, repeats)


def ort_tokens_per_s(path: Path, B: int, n: int, repeats: int, threads: int) -> tuple[float, str]:
    from shared_model.serving.decode import Decoder
    from shared_model.serving.sampling import SamplingConfig
    from shared_model.serving.session import ModelSession, SessionConfig

    session = ModelSession(path, SessionConfig(threads=threads))
    decoder = Decoder(session)
    cfg = SamplingConfig(temperature=0.8, seed=1, max_new_tokens=n, ignore_eos=True)
    decoder.generate("", cfg, n=B)  # warm-up
    return B * n / _timed(lambda: decoder.generate("", cfg, n=B), repeats), session.provider


def matmul_bound_tokens_per_s(cfg: Any, B: int, repeats: int) -> float:
    """Tokens/s if a step cost only its fp32 matmuls (numpy BLAS): the GEMV / GEMM bound."""
    import numpy as np

    rng = np.random.default_rng(0)
    E, H, L, V = cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.vocab_size
    mats = [(rng.standard_normal((4 * H, E if layer == 0 else H), np.float32),
             rng.standard_normal((4 * H, H), np.float32)) for layer in range(L)]
    head = rng.standard_normal((V, H), np.float32)
    # B=1 as 1-D vectors so BLAS runs GEMV, B>1 as matrices (GEMM)
    shape = (lambda n: (n,)) if B == 1 else (lambda n: (B, n))
    xs = {E: rng.standard_normal(shape(E), np.float32), H: rng.standard_normal(shape(H), np.float32)}
    wt = [(a.T.copy(), b.T.copy()) for a, b in mats]
    head_t = head.T.copy()

    def step() -> None:
        for w_ih, w_hh in wt:
            xs[w_ih.shape[0]] @ w_ih
            xs[H] @ w_hh
        xs[H] @ head_t

    for _ in range(20):
        step()
    steps = 200

    def run() -> None:
        for _ in range(steps):
            step()

    return B * steps / _timed(run, repeats)


def matmul_bound_best(name: str, B: int, repeats: int, threads: int) -> dict[str, float]:
    """The bound with 1 and with ``threads`` BLAS threads, each in a fresh process (the BLAS
    thread count is fixed at import); the faster one is the bound."""
    import json
    import subprocess

    out = {}
    for t in sorted({1, threads}):
        here = str(Path(__file__).resolve().parent)
        code = (f"import json, sys; sys.path.insert(0, {here!r}); from generate import *; "
                "from shared_model.training.model import ModelConfig; "
                f"print(json.dumps(matmul_bound_tokens_per_s(ModelConfig(dropout=0.0, "
                f"**CONFIGS[{name!r}]), {B}, {repeats})))")
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(t), "OMP_NUM_THREADS": str(t)}
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        out[f"threads_{t}"] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["best"] = max(out.values())
    return out


def sampler_ms(V: int, B: int) -> float:
    import numpy as np

    from shared_model.serving.sampling import RowParams, SamplingConfig, make_rng, sample_next

    x = (np.random.default_rng(0).standard_normal((B, V)) * 3).astype(np.float32)
    params = RowParams.stack([SamplingConfig(temperature=0.8)] * B)
    rngs = [make_rng(0, i) for i in range(B)]
    n = 300
    return _timed(lambda: [sample_next(x, params, rngs) for _ in range(n)], 3) / n * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default="tang,shakespeare")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    import json

    import onnxruntime
    import torch

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "threads": args.threads,
                    "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                    "providers": onnxruntime.get_available_providers()},
        "tokens": args.tokens, "repeats": args.repeats, "configs": {}}
    with tempfile.TemporaryDirectory(prefix="lstmgen-bench-") as tmp:
        for name in args.configs.split(","):
            models = build_models(Path(tmp), name)
            entry: dict[str, Any] = {"config": CONFIGS[name],
                                     "int8_agreement_random_weights": models["int8_agreement_random"],
                                     "size_fp32": models["fp32"].stat().st_size,
                                     "size_int8": models["int8"].stat().st_size}
            for B in batches:
                row: dict[str, Any] = {}
                row["eager"] = eager_tokens_per_s(models["model"], B, args.tokens, args.repeats)
                row["ort_fp32"], row["provider"] = ort_tokens_per_s(
                    models["fp32"], B, args.tokens, args.repeats, args.threads)
                row["ort_int8"], _ = ort_tokens_per_s(models["int8"], B, args.tokens,
                                                      args.repeats, args.threads)
                bound = matmul_bound_best(name, B, args.repeats, args.threads)
                row["fp32_matmul_bound"] = bound["best"]
                row["bound_by_blas_threads"] = {k: v for k, v in bound.items() if k != "best"}
                row["sampler_ms_per_step"] = sampler_ms(models["config"].vocab_size, B)
                row["fp32_vs_eager"] = row["ort_fp32"] / row["eager"]
                row["fp32_vs_bound"] = row["ort_fp32"] / row["fp32_matmul_bound"]
                row["int8_vs_bound"] = row["ort_int8"] / row["fp32_matmul_bound"]
                entry[f"B{B}"] = row
                print(f"{name} B={B}: " + ", ".join(
                    f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                    file=sys.stderr, flush=True)
                row["load_average"] = os.getloadavg()
            results["configs"][name] = entry
    _table(results, batches)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _table(results: dict[str, Any], batches: list[int]) -> None:
    print(f"\n{'config':<12} {'B':>3} {'eager':>8} {'ort fp32':>9} {'ort int8':>9} "
          f"{'fp32 bound':>10} {'fp32/eager':>10} {'fp32/bound':>10} {'int8/bound':>10} "
          f"{'sampler ms':>10}")
    for name, entry in results["configs"].items():
        for B in batches:
            r = entry[f"B{B}"]
            print(f"{name:<12} {B:>3} {r['eager']:>8,.0f} {r['ort_fp32']:>9,.0f} "
                  f"{r['ort_int8']:>9,.0f} {r['fp32_matmul_bound']:>10,.0f} "
                  f"{r['fp32_vs_eager']:>9.1f}x {r['fp32_vs_bound']:>9.0%} "
                  f"{r['int8_vs_bound']:>9.0%} {r['sampler_ms_per_step']:>10.3f}")
    print("(tokens/s, all rows counted, sampling included; medians)")


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
