"""The learning-rate schedule: linear warm-up, then cosine decay to a floor.

Pure maths (nanoGPT's ``get_lr``): no torch, no clock. The caller says how far training
has come (``progress`` in [0, 1], by steps, epochs or elapsed time), so one function
serves step budgets and time budgets alike.
"""

from __future__ import annotations

import math


def lr_at(step: int, progress: float, *, lr: float, warmup_steps: int,
          min_lr_ratio: float) -> float:
    """Learning rate for optimizer step ``step`` (0-based).

    Args:
        step: steps already taken; the first ``warmup_steps`` ramp up linearly.
        progress: fraction of the budget used (clamped to [0, 1]); after warm-up the
            rate follows a half cosine from ``lr`` at 0 to ``lr * min_lr_ratio`` at 1.
    """
    if step < warmup_steps:
        return lr * (step + 1) / (warmup_steps + 1)
    p = min(max(progress, 0.0), 1.0)
    coeff = 0.5 * (1.0 + math.cos(math.pi * p))  # 1 -> 0
    floor = lr * min_lr_ratio
    return floor + coeff * (lr - floor)
