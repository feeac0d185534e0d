"""The learning-rate schedule: warm-up, cosine, floor."""

from __future__ import annotations

import pytest

from shared_model.training.schedule import lr_at


def _lr(step: int, progress: float) -> float:
    return lr_at(step, progress, lr=1e-2, warmup_steps=10, min_lr_ratio=0.1)


def test_warmup_rises_linearly_to_the_peak():
    warm = [_lr(s, 0.0) for s in range(10)]
    assert warm == sorted(warm) and warm[0] == pytest.approx(1e-2 / 11)
    assert _lr(10, 0.0) == pytest.approx(1e-2)


def test_cosine_decays_to_the_floor_and_stays():
    after = [_lr(100, p / 10) for p in range(11)]
    assert after == sorted(after, reverse=True)
    assert after[5] == pytest.approx(0.5 * (1e-2 + 1e-3))
    assert after[-1] == pytest.approx(1e-3)
    assert _lr(100, 3.0) == pytest.approx(1e-3)
