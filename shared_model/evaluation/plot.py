"""The ``lstmgen stats --plot`` figure: mean score with its interval per model and dimension.

Owns drawing a report (``evaluation.report.build_report``) with matplotlib's Agg backend
(no display needed) and writing it atomically. matplotlib is imported inside the function.
Never imports torch, training, exporters or storage.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shared_model.errors import InvalidRequest


def plot_report(report: dict[str, Any], path: str | Path) -> Path:
    """Draw means with 95% intervals, one group per dimension, one colour per model.

    Raises:
        InvalidRequest: nothing rated yet, or an output format matplotlib cannot write.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    models = report.get("models", [])
    if not models:
        raise InvalidRequest("nothing to plot: no ratings yet")
    path = Path(path)
    dims = [d for d in ("overall", "fluency", "coherence", "creativity", "form")
            if any(d in m["dimensions"] for m in models)]
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(dims) + 2), 4.0))
    try:
        for k, m in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for i, d in enumerate(dims):
                s = m["dimensions"].get(d)
                if not s or s["mean"] is None:
                    continue
                xs.append(i - 0.4 + width * (k + 0.5))
                ys.append(s["mean"])
                lo.append(s["mean"] - s["ci_low"] if s["ci_low"] is not None else 0.0)
                hi.append(s["ci_high"] - s["mean"] if s["ci_high"] is not None else 0.0)
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=4, label=m["model"])
        ax.set_xticks(range(len(dims)), dims)
        ax.set_ylim(0.5, 5.5)
        ax.set_ylabel(f"mean score ({int(report.get('confidence', 0.95) * 100)}% CI)")
        ax.set_title("Human ratings per model")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize="small", loc="best")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        fmt = path.suffix.lstrip(".").lower() or "png"
        try:
            fig.savefig(tmp, format=fmt, dpi=120)
        except ValueError as err:
            tmp.unlink(missing_ok=True)
            raise InvalidRequest(f"cannot write a plot as {fmt!r}: {err}") from None
        os.replace(tmp, path)
    finally:
        plt.close(fig)
    return path
