"""Statistics for human evaluation: pure functions over arrays.

Owns: Student-t CDF/quantile (regularised incomplete beta; no scipy at run time), mean with
a t confidence interval, Krippendorff's alpha (nominal / ordinal / interval / ratio),
Bradley-Terry strengths by Hunter's MM algorithm with an Elo-scale conversion, and Spearman's
rank correlation. No I/O, no clock, no module state; imports numpy and
``shared_model.errors`` only (never torch, training, exporters or storage).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shared_model.errors import InvalidRequest

Level = Literal["nominal", "ordinal", "interval", "ratio"]


# -- Student's t --------------------------------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))  # even step
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))  # odd step
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on this side
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise InvalidRequest(f"degrees of freedom must be > 0, got {df}")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t value with P(T <= t) = p (bisection on ``t_cdf``; |error| < 1e-10)."""
    if not 0.0 < p < 1.0:
        raise InvalidRequest(f"probability must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:  # bracket: heavy tails at df=1 need a wide range
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


# -- mean and interval --------------------------------------------------------------------

@dataclass(frozen=True)
class MeanCI:
    """Sample mean with a two-sided t interval; ``low``/``high`` are None when n < 2."""

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None
    confidence: float


def mean_ci(values: np.ndarray | list[float], confidence: float = 0.95) -> MeanCI:
    """Mean and its ``confidence`` interval from Student's t (n - 1 degrees of freedom)."""
    if not 0.0 < confidence < 1.0:
        raise InvalidRequest(f"confidence must be in (0, 1), got {confidence}")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return MeanCI(0, None, None, None, None, confidence)
    mean = float(x.mean())
    if n == 1:
        return MeanCI(1, mean, None, None, None, confidence)
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half, confidence)


# -- Krippendorff's alpha -----------------------------------------------------------------

def coincidences(data: np.ndarray | list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Krippendorff's coincidence matrix from reliability data.

    Args:
        data: [raters, units] with NaN for a missing value.

    Returns:
        (values [V] sorted, o [V, V]); units with fewer than two values are not pairable
        and contribute nothing.
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidRequest("reliability data must be a 2-D array [raters, units]")
    present = ~np.isnan(x)
    values = np.unique(x[present])
    counts = np.zeros((x.shape[1], values.size))  # [units, V]: n_uv
    raters, units = np.nonzero(present)
    np.add.at(counts, (units, np.searchsorted(values, x[raters, units])), 1.0)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    # o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1)
    weighted = counts / (m - 1.0)[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    return values, o


def _delta2(values: np.ndarray, marginals: np.ndarray, level: Level) -> np.ndarray:
    """Squared difference function delta^2(c, k) for one level of measurement."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "ordinal":
        # (sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2 with cumulative sums of the marginals
        cum = np.concatenate([[0.0], np.cumsum(marginals)])
        i = np.arange(values.size)
        lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
        between = cum[hi + 1] - cum[lo]
        return (between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        s = np.add.outer(values, values)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(s == 0, 0.0, np.subtract.outer(values, values) / s)
        return r ** 2
    raise InvalidRequest(f"unknown level of measurement {level!r}; "
                         "choose nominal, ordinal, interval or ratio")


def krippendorff_alpha(data: np.ndarray | list[list[float]], level: Level = "ordinal") -> float:
    """Krippendorff's alpha for reliability data [raters, units] (NaN = missing).

    Returns NaN when alpha is undefined: fewer than two pairable values, or no variation
    at all (every pairable value identical).
    """
    values, o = coincidences(data)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    if values.size < 2 or n < 2:
        return math.nan
    d2 = _delta2(values, n_c, level)
    observed = float((o * d2).sum()) / n
    expected = float((np.outer(n_c, n_c) * d2).sum()) / (n * (n - 1.0))
    if expected == 0.0:
        return math.nan
    return 1.0 - observed / expected


# -- Bradley-Terry ------------------------------------------------------------------------

@dataclass(frozen=True)
class BradleyTerry:
    """Fitted strengths (geometric mean 1), their Elo-scale equivalents, fit details."""

    strengths: np.ndarray
    elo: np.ndarray
    iterations: int
    converged: bool
    prior: float


def elo_from_strengths(strengths: np.ndarray, base: float = 1500.0,
                       scale: float = 400.0) -> np.ndarray:
    """Elo ratings: P(i beats j) = 1 / (1 + 10^((elo_j - elo_i) / scale)), centred on base."""
    logp = np.log10(np.asarray(strengths, dtype=np.float64))
    return base + scale * (logp - logp.mean())


def is_strongly_connected(wins: np.ndarray) -> bool:
    """Every item reaches every other along 'beat' edges (the MLE exists; Ford 1957)."""
    w = np.asarray(wins) > 0
    m = w.shape[0]

    def reach(adj: np.ndarray) -> bool:
        seen, stack = {0}, [0]
        while stack:
            i = stack.pop()
            for j in np.nonzero(adj[i])[0]:
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        return len(seen) == m

    return m <= 1 or (reach(w) and reach(w.T))


def bradley_terry(wins: np.ndarray | list[list[float]], *, prior: float = 1.0,
                  tol: float = 1e-10, max_iter: int = 100_000) -> BradleyTerry:
    """Bradley-Terry strengths by Hunter's (2004) MM algorithm.

    Args:
        wins: [M, M], wins[i, j] = times i beat j (count a tie as 0.5 to each side).
        prior: pseudo-games: each item also wins ``prior`` and loses ``prior`` against a
            fixed virtual opponent of strength 1, so items with no wins (or a comparison
            graph in pieces) still get finite strengths. 0 gives the plain MLE, which
            exists only if the 'beat' graph is strongly connected.
        tol: stop when no log-strength moves by more than this.

    Raises:
        InvalidRequest: negative counts, a non-square matrix, or prior=0 without an MLE.
    """
    w = np.asarray(wins, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise InvalidRequest("wins must be a square matrix [M, M]")
    if (w < 0).any() or prior < 0:
        raise InvalidRequest("win counts and prior must be >= 0")
    w = w * (1.0 - np.eye(w.shape[0]))  # self-comparisons carry no information
    m = w.shape[0]
    if prior == 0.0 and not is_strongly_connected(w):
        raise InvalidRequest("the Bradley-Terry MLE does not exist: some model never beat "
                             "(or never lost to) the others; use a prior > 0")
    games = w + w.T                     # n_ij
    won = w.sum(axis=1) + prior         # W_i (+ wins against the virtual opponent)
    p = np.ones(m)
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        denom += 2.0 * prior / (p + 1.0)   # prior games against strength 1
        new = won / denom
        if prior == 0.0:
            new /= math.exp(np.log(new).mean())  # the scale is free: fix geomean = 1
        step = float(np.max(np.abs(np.log(new) - np.log(p))))
        p = new
        if step < tol:
            converged = True
            break
    strengths = p / math.exp(np.log(p).mean())
    return BradleyTerry(strengths, elo_from_strengths(strengths), it, converged, prior)


# -- Spearman -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Correlation:
    """Spearman's rho with a two-sided p-value from the t approximation."""

    n: int
    rho: float | None
    p_value: float | None


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    sorted_x = x[order]
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(x: np.ndarray | list[float], y: np.ndarray | list[float]) -> Correlation:
    """Spearman's rank correlation of paired samples (pairs with a NaN are dropped)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape:
        raise InvalidRequest("spearman needs two samples of the same length")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n < 3:
        return Correlation(n, None, None)
    ra, rb = rankdata(a) - (n + 1) / 2.0, rankdata(b) - (n + 1) / 2.0
    denom = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    if denom == 0.0:  # one sample constant: correlation undefined
        return Correlation(n, None, None)
    rho = max(-1.0, min(1.0, float((ra * rb).sum()) / denom))
    if abs(rho) == 1.0:
        return Correlation(n, rho, 0.0)
    t = rho * math.sqrt((n - 2) / (1.0 - rho * rho))
    return Correlation(n, rho, 2.0 * (1.0 - t_cdf(abs(t), n - 2)))
