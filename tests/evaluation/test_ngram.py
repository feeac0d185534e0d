"""The trigram baseline: counts, proper distributions, hand-computed values, tuning."""

from __future__ import annotations

import numpy as np
import pytest

from shared_model.errors import InvalidRequest
from shared_model.evaluation.ngram import (
    JelinekMercerTrigram,
    KneserNeyTrigram,
    NgramConfig,
    TrigramCounts,
    distribution,
    fit_trigram,
    perplexity,
    total_nll,
    trigram_triples,
    tune_jelinek_mercer,
)

V = 4
SEQ = [0, 1, 2, 1, 2, 3]  # 0 plays <bos>: context only


def _counts() -> TrigramCounts:
    return TrigramCounts(trigram_triples([SEQ], context_only=[0]), V)


def test_triples_pad_with_first_token_and_skip_context_only_targets():
    t = trigram_triples([[0, 5, 1, 2], [7]], context_only=[0, 5])
    # targets 1 and 2 only (5 is a control token); the sequence of length 1 adds nothing
    assert t.u.tolist() == [0, 5]
    assert t.v.tolist() == [5, 1]
    assert t.w.tolist() == [1, 2]


def test_counts_of_a_known_sequence():
    c = _counts()
    assert c.tokens == 5
    assert c.c1.tolist() == [0, 2, 2, 1]
    assert c.c3_ctx.get(np.array([1 * V + 2]))[0] == 2  # c(1 2 .)
    assert c.t3.get(np.array([1 * V + 2]))[0] == 2  # two distinct followers of (1, 2)
    assert c.n2.get(np.array([1 * V + 2]))[0] == 2  # (1, 2) follows 0 and 2
    assert c.n1.tolist() == [0, 2, 1, 1]  # N1+(. w)
    assert c.n1_total == 4 and c.t1 == 3


def test_kneser_ney_known_value():
    d = 0.5
    p1 = (1 - d + d * 3 / V) / 4  # N1+(.3) = 1, 3 types, 4 bigram types
    p2 = (1 - d + d * 2 * p1) / 2  # N1+(. 2 3) = 1, two types after 2, N1+(. 2 .) = 2
    p3 = (1 - d + d * 2 * p2) / 2  # c(1 2 3) = 1, two types after (1, 2), c(1 2 .) = 2
    got = KneserNeyTrigram(_counts(), (d, d, d)).prob(np.array([1]), np.array([2]), np.array([3]))
    assert got[0] == pytest.approx(p3, rel=1e-12)
    assert p3 == pytest.approx(0.4296875)


def test_jelinek_mercer_known_value():
    model = JelinekMercerTrigram(_counts(), 0.8, [0.6] * 12, [0.7] * 12)
    p1 = 0.8 * 1 / 5 + 0.2 / V
    p2 = 0.6 * 1 / 2 + 0.4 * p1
    p3 = 0.7 * 1 / 2 + 0.3 * p2
    assert model.prob(np.array([1]), np.array([2]), np.array([3]))[0] == pytest.approx(p3)
    # an unseen context falls back to the lower orders whole
    assert model.prob(np.array([3]), np.array([3]), np.array([1]))[0] == pytest.approx(
        0.8 * 2 / 5 + 0.2 / V)


@pytest.mark.parametrize("method", ["kneser_ney", "jelinek_mercer"])
def test_distributions_sum_to_one_for_seen_and_unseen_contexts(method):
    rng = np.random.default_rng(0)
    vocab = 30
    seqs = [[0, 1, *rng.integers(2, 25, size=rng.integers(5, 40)).tolist(), 29] for _ in range(80)]
    fit = fit_trigram(seqs, vocab, context_only=[0, 1], config=NgramConfig(method=method))
    for u, v in [(0, 1), (5, 6), (28, 27), (1, 29), (3, 3)]:
        p = distribution(fit.model, u, v, vocab)
        assert p.shape == (vocab,)
        assert (p > 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-9)


def _markov_sequences(n: int, seed: int) -> list[list[int]]:
    """A second-order source: the next token is mostly (a + b) mod 20, from 2..21."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        s = [0, 1, 2 + int(rng.integers(20)), 2 + int(rng.integers(20))]
        for _ in range(30):
            nxt = (s[-1] + s[-2]) % 20 if rng.random() < 0.8 else int(rng.integers(20))
            s.append(2 + nxt)
        seqs.append(s + [22])
    return seqs


@pytest.mark.parametrize("method", ["kneser_ney", "jelinek_mercer"])
def test_tuned_trigram_captures_a_second_order_source(method):
    train, test = _markov_sequences(1000, 1), _markov_sequences(50, 2)
    fit = fit_trigram(train, 23, context_only=[0, 1], config=NgramConfig(method=method))
    t = trigram_triples(test, context_only=[0, 1])
    ppl = perplexity(total_nll(fit.model, t), len(t))
    # the source's own perplexity is ~3.2; a unigram or bigram model sits near 20
    assert ppl < 5.0
    assert fit.heldout_sequences == 50 and fit.train_tokens == len(trigram_triples(train, [0, 1]))


def test_em_weights_beat_fixed_half_weights_on_heldout():
    train, held = _markov_sequences(300, 3), _markov_sequences(40, 4)
    counts = TrigramCounts(trigram_triples(train, [0, 1]), 23)
    t = trigram_triples(held, [0, 1])
    tuned = tune_jelinek_mercer(counts, t, NgramConfig(method="jelinek_mercer"))
    half = JelinekMercerTrigram(counts, 0.5, [0.5] * 12, [0.5] * 12)
    assert total_nll(tuned, t) < total_nll(half, t)


@pytest.mark.parametrize("kwargs", [
    {"method": "witten_bell"}, {"heldout_fraction": 0.0}, {"heldout_fraction": 0.9},
    {"buckets": 0}, {"em_iterations": 0},
])
def test_bad_config_is_a_clear_error(kwargs):
    with pytest.raises(InvalidRequest):
        NgramConfig(**kwargs)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(InvalidRequest, match="outside the vocabulary"):
        TrigramCounts(trigram_triples([[0, 1, 9]]), 4)
    with pytest.raises(InvalidRequest, match="discounts"):
        KneserNeyTrigram(_counts(), (0.5, 1.0, 0.5))
    with pytest.raises(InvalidRequest, match="too few"):
        fit_trigram([[0, 1, 2]], 4)
