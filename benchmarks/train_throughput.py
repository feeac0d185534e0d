"""Training throughput (characters/s): our training step vs a plain PyTorch loop.

Both run the default shakespeare configuration (``lstmgen train --domain shakespeare``
sizes) on the same batches, alternating in rounds so background load hits both alike:

- ours: ``LSTMLanguageModel`` + the trainer's forward/backward (state carried across
  BPTT windows), gradient clipping and AdamW step, exactly as ``training.loop`` runs them;
- plain: ``nn.Embedding`` + ``nn.LSTM`` + ``nn.Linear`` and ``torch.optim.Adam`` written
  the obvious way (fresh state every batch, no clipping).

Usage: python benchmarks/train_throughput.py [--data FILE] [--seconds 8] [--rounds 3]
       [--threads N] [--onednn on|off|default]
Prints a short table on stderr and one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shared_model.cli.train import DOMAIN_DEFAULTS
from shared_model.tokenizer import CharTokenizer
from shared_model.training.data import StreamBatches
from shared_model.training.loop import _forward_backward, _param_groups
from shared_model.training.model import LSTMLanguageModel, ModelConfig

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "shakespeare" / "tinyshakespeare.txt"


class PlainLM(nn.Module):
    def __init__(self, v: int, e: int, h: int, layers: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(v, e)
        self.lstm = nn.LSTM(e, h, layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(h, v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(self.embed(x))
        return self.head(y)


def _ours(mc: ModelConfig, lr: float, data: StreamBatches):
    model = LSTMLanguageModel(mc)
    opt = torch.optim.AdamW(_param_groups(model, 0.01), lr=lr, betas=(0.9, 0.99), foreach=True)
    hidden = None
    cpu = torch.device("cpu")

    def step(window: int) -> None:
        nonlocal hidden
        _, hidden = _forward_backward(model, data.batch(window), hidden, cpu, None, None)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def _plain(mc: ModelConfig, lr: float, data: StreamBatches):
    model = PlainLM(mc.vocab_size, mc.embed_dim, mc.hidden_size, mc.num_layers, mc.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(window: int) -> None:
        b = data.batch(window)
        logits = model(b.inputs)
        loss = F.cross_entropy(logits.reshape(-1, mc.vocab_size), b.targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _measure(step, windows: int, seconds: float, tokens_per_step: int) -> float:
    step(1)  # warm-up (allocations, oneDNN primitives)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step(1 + n % (windows - 1))
        n += 1
    return n * tokens_per_step / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--onednn", choices=["on", "off", "default"], default="default")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.onednn != "default":
        torch.backends.mkldnn.enabled = args.onednn == "on"
    d = DOMAIN_DEFAULTS["shakespeare"]
    if args.data.is_file():
        text = args.data.read_text(encoding="utf-8")
    else:  # random characters of the same alphabet size when the file is absent
        rng = np.random.default_rng(0)
        text = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz .,;:!?\n"), 300_000))
    tok = CharTokenizer.build([text])
    data = StreamBatches(np.asarray(tok.encode(text), dtype=np.int64), d["batch_size"],
                         d["seq_len"])
    mc = ModelConfig(vocab_size=len(tok), embed_dim=d["embed_dim"], hidden_size=d["hidden_size"],
                     num_layers=d["layers"], dropout=d["dropout"])
    tokens = data.batch_size * data.seq_len
    torch.manual_seed(0)
    runners = {"ours": _ours(mc, d["lr"], data), "plain": _plain(mc, d["lr"], data)}
    rates: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.rounds):
        for name, step in runners.items():
            rates[name].append(_measure(step, len(data), args.seconds, tokens))
    result = {
        "config": {**mc.to_dict(), "batch_size": data.batch_size, "seq_len": data.seq_len},
        "threads": torch.get_num_threads(), "onednn": torch.backends.mkldnn.enabled,
        "torch": torch.__version__, "seconds_per_round": args.seconds, "rounds": args.rounds,
        **{f"{k}_chars_per_s": round(statistics.median(v)) for k, v in rates.items()},
        "all_rounds": {k: [round(x) for x in v] for k, v in rates.items()},
    }
    print(f"{'loop':<8}{'chars/s (median)':>18}  rounds", file=sys.stderr)
    for k, v in rates.items():
        print(f"{k:<8}{statistics.median(v):>18,.0f}  {', '.join(f'{x:,.0f}' for x in v)}",
              file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
