"""The training progress bar (tqdm on stderr): loss, tokens/s, last val loss and ETA.

Step budgets count steps; a time budget (``--minutes``) counts seconds, so the ETA is
right either way. Disabled when asked (``--json``/``--quiet``) or when stderr is not a TTY.
"""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, *, enabled: bool, total_steps: int | None, total_s: float | None,
                 start_step: int = 0):
        self._bar = None
        self._by_time = total_steps is None and total_s is not None
        self._val: float | None = None
        self._shown = -1.0  # elapsed time of the last redraw (redraw at most 4x a second)
        if not enabled or not sys.stderr.isatty():
            return
        from tqdm import tqdm

        if self._by_time:
            self._bar = tqdm(total=round(total_s or 0), unit="s", desc="train", file=sys.stderr,
                             dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total}s "
                             "[{elapsed}<{remaining}{postfix}]")
        else:
            self._bar = tqdm(total=total_steps, initial=start_step, unit="step", desc="train",
                             file=sys.stderr, dynamic_ncols=True)

    def update(self, step: int, loss: float, elapsed_s: float, tokens: int) -> None:
        if self._bar is None or elapsed_s - self._shown < 0.25:
            return
        self._shown = elapsed_s
        self._bar.n = min(elapsed_s, self._bar.total) if self._by_time else step
        post = {"loss": f"{loss:.3f}", "tok/s": f"{tokens / max(elapsed_s, 1e-9):,.0f}"}
        if self._val is not None:
            post["val"] = f"{self._val:.3f}"
        self._bar.set_postfix(post, refresh=False)
        self._bar.refresh()

    def note_eval(self, val_loss: float) -> None:
        self._val = val_loss

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
