"""The run's records beside its checkpoints: ``metrics.jsonl`` and ``loss.png``.

One JSON object per line: ``{"kind": "train", step, epoch, loss, lr, grad_norm,
tokens_per_s, wall_s}`` every log interval and ``{"kind": "eval", step, val_loss, val_ppl,
val_bpc, wall_s}`` at each evaluation. A resumed run appends. The plot reads the whole
log back, so it covers every session. Matplotlib (Agg) is imported only to plot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only JSONL writer (a no-op when ``path`` is None, e.g. on ranks > 0)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._f = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._f = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self._f is not None:
            self._f.write(json.dumps(record) + "\n")
            self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def read_log(path: Path) -> list[dict[str, Any]]:
    """All records of a metrics log; a torn last line (crash mid-write) is skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def plot_losses(log_path: Path, png_path: Path, title: str = "") -> Path | None:
    """Train and validation loss against step as a PNG; None when there is nothing to plot."""
    records = read_log(log_path) if log_path.is_file() else []
    train = [(r["step"], r["loss"]) for r in records if r.get("kind") == "train"]
    val = [(r["step"], r["val_loss"]) for r in records if r.get("kind") == "eval"]
    if not train and not val:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), lw=0.8, alpha=0.7, label="train")
    if val:
        ax.plot(*zip(*val, strict=True), marker="o", ms=3, label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = png_path.with_name(f".{png_path.name}.tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(png_path)
    return png_path
