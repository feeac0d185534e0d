"""Statistics against published worked examples, hand computation and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared_model.errors import InvalidRequest
from shared_model.evaluation.stats import (
    bradley_terry,
    coincidences,
    elo_from_strengths,
    krippendorff_alpha,
    mean_ci,
    spearman,
    t_cdf,
    t_quantile,
)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C/D example:
# 4 observers x 12 units, missing values; reported alpha nominal 0.743, ordinal 0.815,
# interval 0.849, ratio 0.797.
K2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
# The three-coder example of Wikipedia's "Krippendorff's alpha" article (nominal 0.691).
WIKI = [[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
        [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
        [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]]


@pytest.mark.parametrize("level, published", [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, published):
    assert round(krippendorff_alpha(K2011, level), 3) == published


def test_krippendorff_2011_coincidence_matrix():
    # computed by hand from the units (1/(m_u - 1) per pair); marginals 9, 13, 10, 5, 3; n = 40
    values, o = coincidences(K2011)
    t = 1 / 3
    expected = np.array([[7, 1 + t, t, t, 0],
                         [1 + t, 10, 1 + t, t, 0],
                         [t, 1 + t, 8, t, 0],
                         [t, t, t, 4, 0],
                         [0, 0, 0, 0, 3]])
    assert values.tolist() == [1, 2, 3, 4, 5]
    assert o == pytest.approx(expected)
    assert o.sum(axis=1) == pytest.approx([9, 13, 10, 5, 3])


def test_wikipedia_example_nominal_and_interval():
    assert round(krippendorff_alpha(WIKI, "nominal"), 3) == 0.691
    assert round(krippendorff_alpha(WIKI, "interval"), 3) == 0.811


def test_krippendorff_hand_computed_two_raters():
    # units: (1,1), (2,2), (1,2): o = [[2, 1], [1, 2]] -> n_1 = n_2 = 3, n = 6
    # nominal: D_o = 2/6, D_e = 2*3*3/(6*5) = 3/5 -> alpha = 1 - (1/3)/(3/5) = 4/9
    data = [[1, 2, 1], [1, 2, 2]]
    assert krippendorff_alpha(data, "nominal") == pytest.approx(4 / 9)
    # two categories: ordinal delta^2 = (n_1 + n_2 - (n_1 + n_2)/2)^2 is a constant, so
    # ordinal alpha equals nominal alpha
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(4 / 9)


def test_krippendorff_undefined_and_perfect():
    assert math.isnan(krippendorff_alpha([[3, 3], [3, 3]]))      # no variation
    assert math.isnan(krippendorff_alpha([[1, nan], [nan, 2]]))  # nothing pairable
    assert krippendorff_alpha([[1, 2, 5], [1, 2, 5]]) == 1.0
    with pytest.raises(InvalidRequest):
        krippendorff_alpha(K2011, "cosine")  # type: ignore[arg-type]


def test_t_distribution_matches_scipy():
    st = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 10, 29, 100, 1000, 2.5):
        assert t_quantile(0.975, df) == pytest.approx(st.t.ppf(0.975, df), rel=1e-9)
        assert t_quantile(0.05, df) == pytest.approx(st.t.ppf(0.05, df), rel=1e-9)
        for t in (-4.0, -1.3, 0.0, 0.7, 2.2):
            assert t_cdf(t, df) == pytest.approx(st.t.cdf(t, df), abs=1e-12)


def test_mean_ci_matches_scipy_t_interval():
    st = pytest.importorskip("scipy.stats")
    x = np.array([4, 5, 3, 4, 2, 5, 4, 4])
    ci = mean_ci(x, 0.95)
    low, high = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert (ci.n, ci.mean) == (8, pytest.approx(3.875))
    assert (ci.low, ci.high) == (pytest.approx(low), pytest.approx(high))
    assert mean_ci([]).mean is None and mean_ci([3]).low is None
    with pytest.raises(InvalidRequest):
        mean_ci(x, 1.5)


def _bt_mle(wins: np.ndarray, prior: float) -> np.ndarray:
    """Direct maximum likelihood with scipy.optimize (log-strengths, sum fixed to 0)."""
    opt = pytest.importorskip("scipy.optimize")
    m = wins.shape[0]

    def nll(free: np.ndarray) -> float:
        beta = np.append(free, -free.sum()) if prior == 0 else free
        diff = beta[:, None] - beta[None, :]
        ll = (wins * -np.logaddexp(0.0, -diff)).sum()  # w_ij log sigma(b_i - b_j)
        ll += prior * (-np.logaddexp(0.0, -beta) - np.logaddexp(0.0, beta)).sum()
        return -ll

    x0 = np.zeros(m - 1 if prior == 0 else m)
    res = opt.minimize(nll, x0, method="BFGS", options={"gtol": 1e-10})
    beta = np.append(res.x, -res.x.sum()) if prior == 0 else res.x
    return np.exp(beta - beta.mean())


WINS = np.array([[0, 3, 1, 2.5],
                 [1, 0, 2, 1],
                 [2, 1, 0, 0.5],
                 [0.5, 2, 1.5, 0]])


@pytest.mark.parametrize("prior", [0.0, 1.0])
def test_bradley_terry_mm_equals_direct_mle(prior):
    fit = bradley_terry(WINS, prior=prior)
    assert fit.converged
    assert fit.strengths == pytest.approx(_bt_mle(WINS, prior), rel=1e-5)


def test_bradley_terry_hand_case_and_elo():
    # two models, A beat B 3 times out of 4: MLE p_A / p_B = 3
    fit = bradley_terry([[0, 3], [1, 0]], prior=0.0)
    assert fit.strengths[0] / fit.strengths[1] == pytest.approx(3.0, rel=1e-8)
    # Elo reproduces the same win probability: 1 / (1 + 10^(-diff/400)) = 3/4
    diff = fit.elo[0] - fit.elo[1]
    assert 1 / (1 + 10 ** (-diff / 400)) == pytest.approx(0.75, rel=1e-8)
    assert elo_from_strengths(np.array([1.0, 1.0])).tolist() == [1500.0, 1500.0]


def test_bradley_terry_without_mle_needs_a_prior():
    never_wins = [[0, 2], [0, 0]]
    with pytest.raises(InvalidRequest, match="prior"):
        bradley_terry(never_wins, prior=0.0)
    fit = bradley_terry(never_wins, prior=1.0)
    assert fit.converged and fit.strengths[0] > fit.strengths[1] > 0


def test_spearman_matches_scipy_with_ties():
    st = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=40).astype(float)
    y = x + rng.normal(size=40)
    ours, ref = spearman(x, y), st.spearmanr(x, y)
    assert ours.rho == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert spearman([1, 2], [2, 1]).rho is None          # too few pairs
    assert spearman([1, 1, 1], [1, 2, 3]).rho is None    # constant sample
    assert spearman([1, 2, 3, nan], [3, 2, 1, 5]).rho == pytest.approx(-1.0)
