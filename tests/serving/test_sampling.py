"""Sampler maths: greedy, top-k / top-p support sets, seeds across batch positions, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared_model.errors import InvalidRequest
from shared_model.serving.sampling import (
    MAX_NEW_TOKENS,
    MAX_PROMPT_CHARS,
    RowParams,
    SamplingConfig,
    apply_penalty,
    check_prompt,
    make_rng,
    sample_next,
    support_set,
)


def _logits(B: int, V: int, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(B, V)) * scale).astype(np.float32)


def _draw(logits_row: np.ndarray, config: SamplingConfig, n: int, seed: int = 0) -> np.ndarray:
    rng = make_rng(seed)
    params = RowParams.stack([config])
    return np.array([sample_next(logits_row[None], params, [rng])[0] for _ in range(n)])


def test_greedy_is_argmax_per_row():
    x = _logits(16, 500)
    out = sample_next(x, RowParams.stack([SamplingConfig(temperature=0)] * 16),
                      [make_rng(0, i) for i in range(16)])
    assert out.tolist() == np.argmax(x, axis=1).tolist()


@pytest.mark.parametrize("config", [
    SamplingConfig(temperature=1.0, top_k=5),
    SamplingConfig(temperature=0.7, top_p=0.5),
    SamplingConfig(temperature=1.3, top_k=50, top_p=0.3),
    SamplingConfig(temperature=2.0, top_p=0.95),  # flat: the candidate set must grow
])
def test_samples_stay_in_support_set(config):
    x = _logits(1, 3000, seed=4)[0]
    support = support_set(x, config)
    drawn = set(_draw(x, config, 400).tolist())
    assert drawn <= support
    assert len(drawn) > 1


def test_top_k_support_is_the_k_largest():
    x = _logits(1, 1000, seed=2)[0]
    assert support_set(x, SamplingConfig(top_k=7)) == set(np.argsort(-x)[:7].tolist())


def test_top_p_keeps_smallest_set_reaching_p():
    x = np.log(np.array([0.5, 0.3, 0.15, 0.05], np.float32))
    cfg = SamplingConfig(temperature=1.0, top_p=0.7)
    assert support_set(x, cfg) == {0, 1}
    drawn = _draw(x, cfg, 4000)
    assert set(drawn.tolist()) == {0, 1}
    assert abs((drawn == 0).mean() - 0.5 / 0.8) < 0.03  # renormalised inside the support


def test_full_sampling_matches_softmax():
    p = np.random.default_rng(5).dirichlet(np.ones(200))
    x = np.log(p).astype(np.float32)
    rows = 200  # 200 rows x 200 steps = 40000 draws, batched
    params = RowParams.stack([SamplingConfig(temperature=1.0)] * rows)
    rngs = [make_rng(3, i) for i in range(rows)]
    batch = np.repeat(x[None], rows, axis=0)
    drawn = np.concatenate([sample_next(batch, params, rngs) for _ in range(200)])
    freq = np.bincount(drawn, minlength=200) / drawn.size
    assert np.abs(freq - p).max() < 0.01


def test_banned_tokens_are_never_drawn():
    x = _logits(4, 300)
    adjust = np.zeros_like(x)
    adjust[:, np.argsort(-x[0])[:20]] = -np.inf
    params = RowParams.stack([SamplingConfig(temperature=1.0, top_k=30)] * 4)
    rngs = [make_rng(1, i) for i in range(4)]
    for _ in range(200):
        out = sample_next(x, params, rngs, adjust=adjust)
        assert not np.isinf(adjust[np.arange(4), out]).any()


def test_row_output_does_not_depend_on_batch_position_or_neighbours():
    V = 6000
    target = _logits(1, V, seed=9)
    config = SamplingConfig(temperature=0.9, top_p=0.9, seed=42)
    alone_rng = make_rng(42)
    alone = [sample_next(target, RowParams.stack([config]), [alone_rng])[0] for _ in range(50)]
    others = [SamplingConfig(temperature=0.5, top_k=3), SamplingConfig(temperature=0),
              SamplingConfig(temperature=1.5), SamplingConfig(top_k=500, top_p=0.5)]
    for pos in (0, 2, 4):
        batch_cfgs = others[:pos] + [config] + others[pos:]
        x = np.concatenate([_logits(pos, V, seed=1), target, _logits(4 - pos, V, seed=2)])
        rngs = [make_rng(7, i) for i in range(5)]
        rngs[pos] = make_rng(42)
        params = RowParams.stack(batch_cfgs)
        got = [sample_next(x, params, rngs)[pos] for _ in range(50)]
        assert got == alone


def test_same_seed_same_draws():
    x = _logits(1, 100)
    cfg = SamplingConfig(temperature=1.0)
    assert _draw(x[0], cfg, 30, seed=5).tolist() == _draw(x[0], cfg, 30, seed=5).tolist()
    assert _draw(x[0], cfg, 30, seed=5).tolist() != _draw(x[0], cfg, 30, seed=6).tolist()


def test_repetition_penalty_divides_positive_and_multiplies_negative():
    x = np.array([[2.0, -2.0, 1.0]], np.float32)
    seen = np.array([[True, True, False]])
    out = apply_penalty(x, seen, np.array([2.0], np.float32))
    assert out.tolist() == [[1.0, -4.0, 1.0]]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"temperature": -0.1}, "temperature"),
    ({"temperature": math.nan}, "temperature"),
    ({"temperature": 5.01}, "temperature"),
    ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_p": math.nan}, "top_p"),
    ({"top_k": -1}, "top_k"),
    ({"max_new_tokens": MAX_NEW_TOKENS + 1}, "max_new_tokens"),
    ({"max_new_tokens": 0}, "max_new_tokens"),
    ({"repetition_penalty": 0.0}, "repetition_penalty"),
    ({"seed": -3}, "seed"),
    ({"stop": ("",)}, "stop"),
])
def test_bad_sampling_config_is_a_clear_error(kwargs, fragment):
    with pytest.raises(InvalidRequest, match=fragment):
        SamplingConfig(**kwargs)


def test_prompt_cap_and_empty_prompt():
    check_prompt("")  # allowed: starts from <bos>
    with pytest.raises(InvalidRequest, match="limit"):
        check_prompt("x" * (MAX_PROMPT_CHARS + 1))
