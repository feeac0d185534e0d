"""Scoring on a real model: batched windows equal a plain token-by-token pass."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared_model.errors import InvalidRequest
from shared_model.serving.scoring import (
    ScoreConfig,
    load_sequences,
    score,
    text_sequences,
    token_nll,
)
from shared_model.serving.session import ModelSession


def _plain_nll(session, seq):
    h, c = session.initial_state(1)
    total = 0.0
    for t in range(len(seq) - 1):
        logits, h, c = session.run(np.array([[seq[t]]]), h, c)
        z = logits[0, 0].astype(np.float64)
        total += math.log(np.exp(z - z.max()).sum()) + z.max() - z[seq[t + 1]]
    return total


def test_batched_score_equals_plain_pass(tiny_model):
    s = ModelSession(tiny_model)
    tok = s.tokenizer
    seqs = [[tok.bos_id] + tok.encode(t) for t in ("Shall I compare", "So long", "And every fair")]
    expect = sum(_plain_nll(s, q) for q in seqs)
    for cfg in (ScoreConfig(batch_size=1, window=3), ScoreConfig(batch_size=2, window=256)):
        r = score(s, seqs, cfg)
        assert r.tokens == sum(len(q) - 1 for q in seqs)
        assert r.nll == pytest.approx(expect, rel=1e-5)
    assert r.perplexity == pytest.approx(math.exp(expect / r.tokens), rel=1e-5)
    assert r.bits_per_char == pytest.approx(expect / math.log(2) / r.chars, rel=1e-9)


def test_token_nll_matches_log_softmax():
    x = np.random.default_rng(0).normal(size=(2, 3, 5)).astype(np.float32)
    t = np.array([[0, 1, 4], [2, 2, 3]])
    ref = -np.log(np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    np.testing.assert_allclose(token_nll(x, t), np.take_along_axis(ref, t[..., None], -1)[..., 0],
                               rtol=1e-6)


def test_text_chunks_cover_every_character(tiny_model):
    tok = ModelSession(tiny_model).tokenizer
    seqs = text_sequences(tok, "abc" * 1000, chunk=700)
    assert sum(len(q) - 1 for q in seqs) == 3000
    assert all(q[0] == tok.bos_id for q in seqs)


def test_load_sequences_errors(tiny_model, tmp_path):
    tok = ModelSession(tiny_model).tokenizer
    with pytest.raises(InvalidRequest, match="no data file"):
        load_sequences(tok, tmp_path / "missing.txt", "text")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InvalidRequest, match="empty"):
        load_sequences(tok, empty, "text")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidRequest, match="UTF-8"):
        load_sequences(tok, binary, "text")
