"""Interpolated character trigram models: the baseline a neural model's perplexity must beat.

Owns trigram counting over token-id sequences, two interpolated estimators and the tuning
of their weights on held-out data:

- **Kneser–Ney** (interpolated, one absolute discount per order: raw counts at order 3,
  continuation counts at orders 2 and 1, a uniform floor over the vocabulary);
- **Jelinek–Mercer** (linear interpolation of maximum-likelihood trigram, bigram and
  unigram estimates and a uniform floor, the weights bucketed by how often the context
  was seen and fitted by EM).

Both give a proper distribution over the whole vocabulary for every context (tested).
Sequences are the ones ``serving.scoring`` scores (``<bos>``, control tokens, text,
``<eos>``); tokens in ``context_only`` (``<bos>``, control tokens) are context, never
predicted, exactly as the neural scorer counts them. The first predicted token's missing
left context is padded with the sequence's first token.

Pure numpy: no I/O, no clock, no module state. Never imports torch, training, serving
or exporters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from shared_model.errors import InvalidRequest

METHODS = ("kneser_ney", "jelinek_mercer")
_GRID = np.round(np.arange(0.05, 1.0, 0.05), 2)  # discount candidates, coordinate search


@dataclass(frozen=True)
class NgramConfig:
    """How to fit the trigram baseline.

    Attributes:
        method: ``kneser_ney`` or ``jelinek_mercer``.
        heldout_fraction: share of training sequences (every k-th one) held out to tune
            the discounts / weights; the final counts then use all training sequences.
        buckets: Jelinek–Mercer weight buckets, by log2 of the context count.
        em_iterations: EM iterations per Jelinek–Mercer level.
    """

    method: str = "kneser_ney"
    heldout_fraction: float = 0.05
    buckets: int = 12
    em_iterations: int = 30

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidRequest(f"unknown n-gram method {self.method!r}; choose one of: "
                                 f"{', '.join(METHODS)}")
        if not 0.0 < self.heldout_fraction <= 0.5:
            raise InvalidRequest(f"heldout_fraction must be in (0, 0.5], got {self.heldout_fraction}")
        if not 1 <= self.buckets <= 40:
            raise InvalidRequest(f"buckets must be in [1, 40], got {self.buckets}")
        if not 1 <= self.em_iterations <= 1000:
            raise InvalidRequest(f"em_iterations must be in [1, 1000], got {self.em_iterations}")


@dataclass(frozen=True)
class Triples:
    """Predicted positions: left context (u, v) and target w, int64 arrays of one length."""

    u: np.ndarray
    v: np.ndarray
    w: np.ndarray

    def __len__(self) -> int:
        return int(self.w.shape[0])


def trigram_triples(sequences: Iterable[Sequence[int]], context_only: Iterable[int] = ()) -> Triples:
    """Every predicted token of ``sequences`` with its two left tokens.

    Position 0 is never predicted; positions whose token is in ``context_only`` are skipped
    as targets but stay in later contexts. The context before position 1 is padded with the
    sequence's first token (``<bos>``).
    """
    skip = np.asarray(sorted(set(context_only)), np.int64)
    us, vs, ws = [], [], []
    for seq in sequences:
        s = np.asarray(seq, np.int64)
        if s.size < 2:
            continue
        padded = np.concatenate([s[:1], s])  # [T + 1]: pad, s0, s1, ...
        w = s[1:]
        keep = ~np.isin(w, skip)
        us.append(padded[:-2][keep])
        vs.append(padded[1:-1][keep])
        ws.append(w[keep])
    if not ws:
        empty = np.zeros(0, np.int64)
        return Triples(empty, empty, empty)
    return Triples(np.concatenate(us), np.concatenate(vs), np.concatenate(ws))


class _Table:
    """Sorted int64 keys -> values, looked up in bulk (missing keys give 0)."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        self.keys, self.values = keys, values

    @classmethod
    def count(cls, keys: np.ndarray) -> _Table:
        uniq, counts = np.unique(keys, return_counts=True)
        return cls(uniq, counts.astype(np.float64))

    def get(self, query: np.ndarray) -> np.ndarray:
        if self.keys.size == 0:
            return np.zeros(query.shape, np.float64)
        idx = np.minimum(np.searchsorted(self.keys, query), self.keys.size - 1)
        return np.where(self.keys[idx] == query, self.values[idx], 0.0)


def _group(keys: np.ndarray, values: np.ndarray, divisor: int) -> tuple[_Table, _Table]:
    """Per prefix ``key // divisor`` (keys sorted): the sum of values and the number of keys."""
    prefix = keys // divisor
    uniq, start, n = np.unique(prefix, return_index=True, return_counts=True)
    sums = np.add.reduceat(values, start) if values.size else values
    return _Table(uniq, sums.astype(np.float64)), _Table(uniq, n.astype(np.float64))


class TrigramCounts:
    """The counts both estimators need, from the ``Triples`` of a training set."""

    def __init__(self, triples: Triples, vocab_size: int):
        if vocab_size < 2:
            raise InvalidRequest(f"an n-gram model needs a vocabulary of at least 2, got {vocab_size}")
        V = self.V = int(vocab_size)
        if len(triples) and int(max(triples.u.max(), triples.v.max(), triples.w.max())) >= V:
            raise InvalidRequest("a token id is outside the vocabulary")
        if V**3 >= 2**63:
            raise InvalidRequest(f"vocabulary of {V} is too large for int64 trigram keys")
        self.tokens = len(triples)
        k3 = (triples.u * V + triples.v) * V + triples.w
        k2 = triples.v * V + triples.w
        # maximum-likelihood counts: c(uvw), c(uv.), c(vw), c(v.), c(w)
        self.c3 = _Table.count(k3)
        self.c3_ctx, self.t3 = _group(self.c3.keys, self.c3.values, V)  # t3: distinct w after uv
        self.c2 = _Table.count(k2)
        self.c2_ctx, _ = _group(self.c2.keys, self.c2.values, V)
        self.c1 = np.bincount(triples.w, minlength=V).astype(np.float64)
        # continuation counts: N1+(.vw) distinct u; N1+(.v.) and distinct w per v; N1+(.w)
        self.n2 = _Table.count(self.c3.keys % (V * V))
        self.n2_ctx, self.t2 = _group(self.n2.keys, self.n2.values, V)
        self.n1 = np.bincount(self.n2.keys % V, minlength=V).astype(np.float64)
        self.n1_total = float(self.n2.keys.size)
        self.t1 = float((self.n1 > 0).sum())


class TrigramModel(Protocol):
    name: str

    def prob(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray: ...

    def params(self) -> dict[str, object]: ...


class KneserNeyTrigram:
    """Interpolated Kneser–Ney with discounts (D1, D2, D3), each in (0, 1)."""

    name = "kneser_ney"

    def __init__(self, counts: TrigramCounts, discounts: tuple[float, float, float]):
        if not all(0.0 < d < 1.0 for d in discounts):
            raise InvalidRequest(f"Kneser-Ney discounts must be in (0, 1), got {discounts}")
        self.counts = counts
        self.discounts: tuple[float, float, float] = (float(discounts[0]), float(discounts[1]),
                                                       float(discounts[2]))

    def params(self) -> dict[str, object]:
        return {"discounts": [round(d, 4) for d in self.discounts]}

    def prob(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """P(w | u, v) for arrays of ids (broadcast to one shape)."""
        u, v, w = np.broadcast_arrays(*(np.asarray(x, np.int64) for x in (u, v, w)))
        return _kn_prob(self.discounts, self.counts.V, _kn_lookup(self.counts, u, v, w))


def _kn_lookup(c: TrigramCounts, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """The counts P_KN needs at each position (independent of the discounts)."""
    V = c.V
    return {"c3": c.c3.get((u * V + v) * V + w), "c3_ctx": c.c3_ctx.get(u * V + v),
            "t3": c.t3.get(u * V + v), "n2": c.n2.get(v * V + w), "n2_ctx": c.n2_ctx.get(v),
            "t2": c.t2.get(v), "n1": c.n1[w], "n1_total": np.float64(c.n1_total),
            "t1": np.float64(c.t1)}


def _kn_prob(d: Sequence[float], V: int, x: dict[str, np.ndarray]) -> np.ndarray:
    d1, d2, d3 = d
    total = x["n1_total"]
    if total > 0:
        p1 = (np.maximum(x["n1"] - d1, 0.0) + d1 * x["t1"] / V) / total
    else:  # nothing counted: uniform
        p1 = np.full(x["n1"].shape, 1.0 / V)
    seen2 = x["n2_ctx"] > 0
    den2 = np.where(seen2, x["n2_ctx"], 1.0)
    p2 = np.where(seen2, (np.maximum(x["n2"] - d2, 0.0) + d2 * x["t2"] * p1) / den2, p1)
    seen3 = x["c3_ctx"] > 0
    den3 = np.where(seen3, x["c3_ctx"], 1.0)
    return np.where(seen3, (np.maximum(x["c3"] - d3, 0.0) + d3 * x["t3"] * p2) / den3, p2)


class JelinekMercerTrigram:
    """Linear interpolation: P3 = l3[b] ML3 + (1 - l3[b]) P2, likewise P2 over P1, and
    P1 = l1 ML1 + (1 - l1) / V; ``b`` buckets the context count by log2; an unseen
    context gives the lower order whole."""

    name = "jelinek_mercer"

    def __init__(self, counts: TrigramCounts, l1: float, l2: Sequence[float] | np.ndarray,
                 l3: Sequence[float] | np.ndarray):
        weights = [float(x) for x in (l1, *l2, *l3)]
        if not all(0.0 <= x <= 1.0 for x in weights) or len(l2) != len(l3) or len(l2) == 0:
            raise InvalidRequest("Jelinek-Mercer weights must be in [0, 1], one per bucket")
        self.counts = counts
        self.l1 = float(l1)
        self.l2 = np.asarray(l2, np.float64)
        self.l3 = np.asarray(l3, np.float64)

    def params(self) -> dict[str, object]:
        return {"l1": round(self.l1, 4), "l2": [round(float(x), 4) for x in self.l2],
                "l3": [round(float(x), 4) for x in self.l3]}

    def prob(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """P(w | u, v) for arrays of ids (broadcast to one shape)."""
        u, v, w = np.broadcast_arrays(*(np.asarray(x, np.int64) for x in (u, v, w)))
        parts = _jm_parts(self.counts, u, v, w, len(self.l2))
        p1 = self.l1 * parts["ml1"] + (1.0 - self.l1) / self.counts.V
        p2 = _mix(self.l2, parts["b2"], parts["ml2"], p1)
        return _mix(self.l3, parts["b3"], parts["ml3"], p2)


def _bucket(context_count: np.ndarray, buckets: int) -> np.ndarray:
    """-1 for an unseen context, else min(floor(log2(count)), buckets - 1)."""
    safe = np.maximum(context_count, 1.0)
    b = np.minimum(np.floor(np.log2(safe)).astype(np.int64), buckets - 1)
    return np.where(context_count > 0, b, -1)


def _jm_parts(c: TrigramCounts, u: np.ndarray, v: np.ndarray, w: np.ndarray,
              buckets: int) -> dict[str, np.ndarray]:
    """Maximum-likelihood estimates and context buckets at each position."""
    V = c.V
    ctx3, ctx2 = c.c3_ctx.get(u * V + v), c.c2_ctx.get(v)
    ml3 = c.c3.get((u * V + v) * V + w) / np.maximum(ctx3, 1.0)
    ml2 = c.c2.get(v * V + w) / np.maximum(ctx2, 1.0)
    ml1 = c.c1[w] / max(c.tokens, 1)
    return {"ml3": ml3, "ml2": ml2, "ml1": ml1,
            "b3": _bucket(ctx3, buckets), "b2": _bucket(ctx2, buckets)}


def _mix(lam: np.ndarray, bucket: np.ndarray, ml: np.ndarray, lower: np.ndarray) -> np.ndarray:
    weight = np.where(bucket >= 0, lam[np.maximum(bucket, 0)], 0.0)
    return weight * ml + (1.0 - weight) * lower


def _em_weights(bucket: np.ndarray, ml: np.ndarray, lower: np.ndarray, n_buckets: int,
                iterations: int) -> np.ndarray:
    """EM for per-bucket weights of ``lam * ml + (1 - lam) * lower`` on held-out positions."""
    lam = np.full(n_buckets, 0.5)
    seen = bucket >= 0
    b, ml, lower = bucket[seen], ml[seen], lower[seen]
    n = np.bincount(b, minlength=n_buckets).astype(np.float64)
    for _ in range(iterations):
        top = lam[b] * ml
        post = top / np.maximum(top + (1.0 - lam[b]) * lower, 1e-300)
        lam = np.where(n > 0, np.bincount(b, post, minlength=n_buckets) / np.maximum(n, 1), 0.5)
    filled = np.flatnonzero(n > 0)
    if filled.size:  # a bucket no held-out position fell in takes its nearest filled one's weight
        nearest = filled[np.abs(np.arange(n_buckets)[:, None] - filled[None, :]).argmin(axis=1)]
        lam = lam[nearest]
    return np.clip(lam, 0.0, 1.0)


def tune_jelinek_mercer(counts: TrigramCounts, heldout: Triples,
                        config: NgramConfig | None = None) -> JelinekMercerTrigram:
    """Fit the weights level by level (unigram, bigram, trigram) by EM on ``heldout``."""
    config = config or NgramConfig(method="jelinek_mercer")
    parts = _jm_parts(counts, heldout.u, heldout.v, heldout.w, config.buckets)
    uniform = np.full(len(heldout), 1.0 / counts.V)
    l1 = float(_em_weights(np.zeros(len(heldout), np.int64), parts["ml1"], uniform, 1,
                           config.em_iterations)[0])
    p1 = l1 * parts["ml1"] + (1.0 - l1) * uniform
    l2 = _em_weights(parts["b2"], parts["ml2"], p1, config.buckets, config.em_iterations)
    p2 = _mix(l2, parts["b2"], parts["ml2"], p1)
    l3 = _em_weights(parts["b3"], parts["ml3"], p2, config.buckets, config.em_iterations)
    return JelinekMercerTrigram(counts, l1, l2, l3)


def tune_kneser_ney(counts: TrigramCounts, heldout: Triples) -> KneserNeyTrigram:
    """Discounts minimising held-out NLL: coordinate search over a 0.05 grid, two sweeps."""
    x = _kn_lookup(counts, heldout.u, heldout.v, heldout.w)
    best = [0.5, 0.75, 0.75]

    def nll(d: Sequence[float]) -> float:
        return float(-np.log(np.maximum(_kn_prob(d, counts.V, x), 1e-300)).sum())

    for _ in range(2):
        for i in (2, 1, 0):
            trials = [best[:i] + [float(g)] + best[i + 1:] for g in _GRID]
            best = min(trials, key=nll)
    return KneserNeyTrigram(counts, (best[0], best[1], best[2]))


@dataclass(frozen=True)
class FitResult:
    """A fitted baseline and how it was tuned."""

    model: KneserNeyTrigram | JelinekMercerTrigram
    heldout_sequences: int
    heldout_tokens: int
    train_tokens: int

    def to_dict(self) -> dict[str, object]:
        return {"method": self.model.name, "params": self.model.params(),
                "heldout_sequences": self.heldout_sequences, "heldout_tokens": self.heldout_tokens,
                "train_tokens": self.train_tokens}


def fit_trigram(sequences: Sequence[Sequence[int]], vocab_size: int, *,
                context_only: Iterable[int] = (), config: NgramConfig | None = None) -> FitResult:
    """Tune on every k-th training sequence (k = 1 / heldout_fraction) with the counts of
    the others, then count all training sequences with the tuned discounts / weights."""
    config = config or NgramConfig()
    context_only = tuple(context_only)
    k = max(2, round(1.0 / config.heldout_fraction))
    held = [s for i, s in enumerate(sequences) if i % k == k - 1]
    rest = [s for i, s in enumerate(sequences) if i % k != k - 1]
    if not held or not rest:
        raise InvalidRequest(f"too few training sequences ({len(sequences)}) to hold some out")
    heldout = trigram_triples(held, context_only)
    part = TrigramCounts(trigram_triples(rest, context_only), vocab_size)
    full = TrigramCounts(trigram_triples(sequences, context_only), vocab_size)
    tuned: KneserNeyTrigram | JelinekMercerTrigram
    if config.method == "kneser_ney":
        tuned = KneserNeyTrigram(full, tune_kneser_ney(part, heldout).discounts)
    else:
        jm = tune_jelinek_mercer(part, heldout, config)
        tuned = JelinekMercerTrigram(full, jm.l1, jm.l2, jm.l3)
    return FitResult(tuned, len(held), len(heldout), full.tokens)


def distribution(model: TrigramModel, u: int, v: int, vocab_size: int) -> np.ndarray:
    """P(. | u, v) over the whole vocabulary, [V]."""
    w = np.arange(vocab_size, dtype=np.int64)
    return model.prob(np.full_like(w, u), np.full_like(w, v), w)


def total_nll(model: TrigramModel, triples: Triples) -> float:
    """Summed -ln P(w | u, v) over the positions, in nats."""
    p = model.prob(triples.u, triples.v, triples.w)
    return float(-np.log(np.maximum(p, 1e-300)).sum())


def perplexity(nll: float, tokens: int) -> float:
    """exp(nll / tokens); NaN for no tokens."""
    return math.exp(nll / tokens) if tokens else float("nan")
