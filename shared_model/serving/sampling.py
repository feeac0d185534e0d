"""Sampling: logits -> next token, pure numpy, vectorised over the batch.

Owns ``SamplingConfig`` (validated request parameters and their caps), ``RowParams``
(the per-row parameter arrays of one batched step), ``make_rng`` (a request's seeded
generator) and ``sample_next``. Each row draws from its own ``numpy.random.Generator``
and every row's maths depends on that row alone, so a request's tokens are the same
whatever its position or neighbours in a batch. No full sort of V: top-k / top-p use
partial selection. numpy only; never imports onnxruntime, torch or training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shared_model.errors import InvalidRequest

MAX_TEMPERATURE = 5.0
MAX_NEW_TOKENS = 4096
MAX_PROMPT_CHARS = 4096
MAX_STOPS, MAX_STOP_CHARS = 8, 64
MAX_PENALTY = 10.0
_TOP_P_START = 64  # first candidate count tried for top-p without top-k
_BLOCK = 64  # inverse-CDF block size


@dataclass(frozen=True)
class SamplingConfig:
    """How to choose each token. Defaults give fluent, varied text.

    Attributes:
        temperature: 0 = greedy (argmax); higher = more varied. In [0, 5].
        top_k: keep the k most likely tokens; 0 = no limit.
        top_p: keep the smallest set of tokens whose probability reaches p; 1 = no limit.
        repetition_penalty: >1 discourages tokens already in the prompt or output.
        max_new_tokens: stop after this many tokens (at most ``MAX_NEW_TOKENS``).
        seed: same seed, same output; None draws one (reported in ``params``).
        stop: strings that end generation (not included in the text).
        ignore_eos: keep going past ``<eos>`` (benchmarks: fixed-length runs).
    """

    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 200
    seed: int | None = None
    stop: tuple[str, ...] = field(default=())
    ignore_eos: bool = False

    def __post_init__(self) -> None:
        t = self.temperature
        if not isinstance(t, (int, float)) or math.isnan(t) or not 0.0 <= t <= MAX_TEMPERATURE:
            raise InvalidRequest(f"temperature must be a number in [0, {MAX_TEMPERATURE:g}] "
                                 f"(0 = greedy), got {t!r}")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or self.top_k < 0:
            raise InvalidRequest(f"top_k must be an integer >= 0 (0 = no limit), got {self.top_k!r}")
        p = self.top_p
        if not isinstance(p, (int, float)) or math.isnan(p) or not 0.0 < p <= 1.0:
            raise InvalidRequest(f"top_p must be in (0, 1] (1 = no limit), got {p!r}")
        r = self.repetition_penalty
        if not isinstance(r, (int, float)) or math.isnan(r) or not 0.0 < r <= MAX_PENALTY:
            raise InvalidRequest(f"repetition_penalty must be in (0, {MAX_PENALTY:g}] "
                                 f"(1 = none), got {r!r}")
        n = self.max_new_tokens
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_NEW_TOKENS:
            raise InvalidRequest(f"max_new_tokens must be an integer in [1, {MAX_NEW_TOKENS}], got {n!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise InvalidRequest(f"seed must be a non-negative integer, got {self.seed!r}")
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        if len(self.stop) > MAX_STOPS:
            raise InvalidRequest(f"at most {MAX_STOPS} stop strings, got {len(self.stop)}")
        for s in self.stop:
            if not isinstance(s, str) or not s or len(s) > MAX_STOP_CHARS:
                raise InvalidRequest(f"stop strings must be 1 to {MAX_STOP_CHARS} characters, got {s!r}")

    def with_seed(self, seed: int) -> SamplingConfig:
        """A copy with ``seed`` set."""
        d = asdict(self)
        d["seed"] = seed
        d["stop"] = tuple(self.stop)
        return SamplingConfig(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


def check_prompt(prompt: str) -> None:
    """Raise InvalidRequest for a prompt that is not a string or longer than the cap.

    An empty prompt is allowed: generation starts from ``<bos>``.
    """
    if not isinstance(prompt, str):
        raise InvalidRequest(f"prompt must be text, got {type(prompt).__name__}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(f"prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")


def make_rng(seed: int, index: int = 0) -> np.random.Generator:
    """The generator of sample ``index`` of a request seeded ``seed`` (PCG64)."""
    return np.random.default_rng([int(seed), int(index)])


@dataclass(frozen=True)
class RowParams:
    """Per-row sampling parameters of one batched step, each an array [B]."""

    temperature: np.ndarray
    top_k: np.ndarray
    top_p: np.ndarray
    penalty: np.ndarray

    @classmethod
    def stack(cls, configs: Sequence[SamplingConfig]) -> RowParams:
        return cls(np.array([c.temperature for c in configs], np.float64),
                   np.array([c.top_k for c in configs], np.int64),
                   np.array([c.top_p for c in configs], np.float64),
                   np.array([c.repetition_penalty for c in configs], np.float32))


def apply_penalty(logits: np.ndarray, seen: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """CTRL repetition penalty: seen tokens' logits divided (if > 0) or multiplied by p.

    logits [B, V] float32, seen [B, V] bool, penalty [B]; returns a new array.
    """
    pen = penalty.astype(np.float32)[:, None]
    hit = seen & (pen != 1.0)
    return np.where(hit, np.where(logits > 0, logits / pen, logits * pen), logits)


def sample_next(logits: np.ndarray, params: RowParams, rngs: Sequence[np.random.Generator],
                *, seen: np.ndarray | None = None, adjust: np.ndarray | None = None) -> np.ndarray:
    """Choose one token per row.

    Args:
        logits: raw next-token logits [B, V].
        params: per-row temperature, top-k, top-p and repetition penalty.
        rngs: one generator per row; a sampled row draws exactly one uniform from it.
        seen: [B, V] bool, tokens each row already has (for the repetition penalty).
        adjust: [B, V] additive constraint adjustments (``-inf`` bans a token).
    Returns:
        Token ids [B] int64.
    """
    x = np.asarray(logits, dtype=np.float32)
    B, V = x.shape
    if seen is not None and np.any(params.penalty != 1.0):
        x = apply_penalty(x, seen, params.penalty)
    if adjust is not None:
        y = x + adjust
        # a row whose constraint bans everything keeps its raw logits rather than failing
        dead = ~np.isfinite(y.max(axis=1))
        x = np.where(dead[:, None], x, y) if dead.any() else y
    out = np.empty(B, np.int64)
    greedy = params.temperature <= 0.0
    if greedy.any():
        out[greedy] = np.argmax(x[greedy], axis=1)
    rows = np.flatnonzero(~greedy)
    if rows.size == 0:
        return out
    # one uniform in (0, 1] per sampled row, from that row's own generator
    u = np.array([1.0 - rngs[int(i)].random() for i in rows], np.float32)
    inv_t = (1.0 / params.temperature[rows]).astype(np.float32)
    z = x[rows] * inv_t[:, None]  # [R, V] float32
    k = params.top_k[rows]
    k = np.where((k <= 0) | (k >= V), V, k)
    p = params.top_p[rows]
    full = (k == V) & (p >= 1.0)
    if full.all():
        out[rows] = _sample_full(z, u)
    elif full.any():
        out[rows[full]] = _sample_full(z[full], u[full])
        out[rows[~full]] = _sample_truncated(z[~full], k[~full], p[~full], u[~full])
    else:
        out[rows] = _sample_truncated(z, k, p, u)
    return out


def _sample_full(z: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling over the whole softmax of each row. z [R, V], u [R]."""
    w = np.exp(z - z.max(axis=1, keepdims=True))
    return _inverse_cdf(w, u)


def _inverse_cdf(w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the first weight whose running sum reaches u * total, per row.

    Blocked so that only block sums and one block per row are cumulated (a full
    ``cumsum`` over [R, V] costs several times more). Zero weights are never chosen.
    w [R, V] >= 0 with a positive sum per row, u [R] in (0, 1].
    """
    R, V = w.shape
    if V <= 2 * _BLOCK:
        cdf = np.cumsum(w, axis=1)
        idx = (cdf < (u * cdf[:, -1])[:, None]).sum(axis=1)
        return _last_nonzero_cap(w, np.minimum(idx, V - 1))
    nb = -(-V // _BLOCK)
    if nb * _BLOCK != V:  # zero-pad to whole blocks (np.pad costs ~10x this per call)
        padded = np.zeros((R, nb * _BLOCK), w.dtype)
        padded[:, :V] = w
        w = padded
    blocks = w.reshape(R, nb, _BLOCK)
    bc = np.cumsum(blocks.sum(axis=2), axis=1)  # [R, nb] running block sums
    thr = u * bc[:, -1]
    b = np.minimum((bc < thr[:, None]).sum(axis=1), nb - 1)
    r = np.arange(R)
    before = np.where(b > 0, bc[r, np.maximum(b - 1, 0)], 0.0).astype(w.dtype)
    inner = blocks[r, b]  # [R, BLOCK]
    ic = np.cumsum(inner, axis=1) + before[:, None]
    j = np.minimum((ic < thr[:, None]).sum(axis=1), _BLOCK - 1)
    # rounding between the block sum and the in-block running sum may overshoot the
    # block: fall back to its last token with weight
    j = _last_nonzero_cap(inner, j)
    return b * _BLOCK + j


def _last_nonzero_cap(w: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Clamp each row's index j to that row's last index with positive weight."""
    r = np.arange(w.shape[0])
    ok = w[r, j] > 0
    if ok.all():
        return j
    last = w.shape[1] - 1 - np.argmax(w[:, ::-1] > 0, axis=1)
    return np.where(ok, j, np.minimum(j, last))


def _sample_truncated(z: np.ndarray, k: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Top-k / top-p sampling with partial selection. z [R, V]; k, p, u [R].

    Candidates are the C best logits of every row (C = the largest k, or grown until each
    top-p-only row's candidates hold mass p); each row then keeps its own prefix, so the
    result of a row does not depend on C or on the other rows.
    """
    R, V = z.shape
    m = z.max(axis=1, keepdims=True)
    total = None
    if (p < 1.0).any():
        total = np.exp(z - m).sum(axis=1, dtype=np.float64)  # [R] softmax normaliser
    p_only = (k == V) & (p < 1.0)
    C = int(k[~p_only].max()) if (~p_only).any() else 0
    if p_only.any():
        C = max(C, min(V, _TOP_P_START))
    while True:
        if C < V:
            cand = np.argpartition(-z, C - 1, axis=1)[:, :C]  # [R, C] unordered
        else:
            cand = np.broadcast_to(np.arange(V), (R, V))
        vals = np.take_along_axis(z, cand, axis=1)
        order = np.lexsort((cand, -vals), axis=1)  # by logit desc, then id: deterministic ties
        ids = np.take_along_axis(cand, order, axis=1)
        w = np.exp(np.take_along_axis(vals, order, axis=1) - m).astype(np.float64)  # [R, C]
        if total is None:
            keep = np.minimum(k, C)
            break
        mass = np.cumsum(w, axis=1) / total[:, None]  # cumulative probability
        short = p_only & (mass[:, -1] < p) & (C < V)
        if not short.any():
            # top-p keeps tokens up to and including the one where the mass reaches p
            keep_p = np.where(p < 1.0, (mass < p[:, None]).sum(axis=1) + 1, C)
            keep = np.minimum(np.minimum(k, keep_p), C)  # [R] support size per row
            break
        C = min(V, C * 4)
    w = np.where(np.arange(C)[None, :] < keep[:, None], w, 0.0)
    j = _inverse_cdf(w, u.astype(np.float64))
    return ids[np.arange(R), j]


def support_set(logits: np.ndarray, config: SamplingConfig) -> set[int]:
    """The tokens a config can choose for one row of logits [V] (for tests and docs).

    Greedy: the argmax. Otherwise the top-k / top-p prefix by probability.
    """
    z = np.asarray(logits, np.float64)
    if config.temperature == 0:
        return {int(np.argmax(z))}
    z = z / config.temperature
    order = np.lexsort((np.arange(z.size), -z))
    probs = np.exp(z[order] - z.max())
    probs /= probs.sum()
    k = config.top_k if 0 < config.top_k < z.size else z.size
    n = k
    if config.top_p < 1.0:
        n = min(n, int((np.cumsum(probs) < config.top_p).sum()) + 1)
    return {int(order[j]) for j in range(n) if probs[j] > 0}
