"""Automatic metrics: distinct-n by hand, BLEU/ROUGE per character for Chinese."""

from __future__ import annotations

import pytest

from shared_model.errors import InvalidRequest
from shared_model.evaluation.metrics import (
    bleu,
    compute_metrics,
    distinct_n,
    is_cjk,
    rouge,
    text_units,
)


def test_units_chinese_per_character_english_per_word():
    assert text_units("床前明月光，疑是地上霜。") == list("床前明月光疑是地上霜")
    assert text_units("To be, or NOT to be!") == ["to", "be", "or", "not", "to", "be"]
    assert is_cjk("春眠不觉晓 ok") and not is_cjk("ROMEO: 春")


def test_distinct_n_hand_values():
    # to be or not to be: 6 unigrams, 4 distinct; 5 bigrams, 4 distinct (to be x2)
    assert distinct_n("to be or not to be", 1) == pytest.approx(4 / 6)
    assert distinct_n("to be or not to be", 2) == pytest.approx(4 / 5)
    # 春春春: 3 unigrams 1 distinct; 2 bigrams 1 distinct
    assert distinct_n("春春春。", 1) == pytest.approx(1 / 3)
    assert distinct_n("春春春。", 2) == pytest.approx(1 / 2)
    # corpus-level over several texts
    assert distinct_n(["a b", "a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n("a", 2) is None
    with pytest.raises(InvalidRequest):
        distinct_n("a b", 0)


def test_bleu_identity_and_sacrebleu_agreement():
    sacrebleu = pytest.importorskip("sacrebleu")
    assert bleu("床前明月光，疑是地上霜。", "床前明月光，疑是地上霜。") == pytest.approx(100.0)
    hyp, refs = "the cat sat on the mat", ["the cat is on the mat", "a cat sat on a mat"]
    assert bleu(hyp, refs) == pytest.approx(sacrebleu.sentence_bleu(hyp, refs).score)
    zh = bleu("床前明月光", "床前看月光")
    assert zh == pytest.approx(sacrebleu.sentence_bleu("床前明月光", ["床前看月光"],
                                                       tokenize="zh").score)
    assert 0 < zh < 100


def test_rouge_chinese_is_scored_per_character():
    pytest.importorskip("rouge_score")
    # 4 of 5 characters shared: P = R = F1 = 4/5 for ROUGE-1;
    # bigrams 床前 前明 明月 月光 vs 床前 前看 看月 月光: 2 of 4 -> 1/2
    r = rouge("床前明月光", ["床前看月光"])
    assert r["rouge1"] == pytest.approx(4 / 5)
    assert r["rouge2"] == pytest.approx(1 / 2)
    assert r["rougeL"] == pytest.approx(4 / 5)
    # the best reference counts
    assert rouge("床前明月光", ["秋风", "床前明月光"])["rouge1"] == pytest.approx(1.0)
    english = rouge("the cat sat", "the cat sat down")
    assert english["rouge1"] == pytest.approx(2 * 1 * 0.75 / 1.75)


def test_compute_metrics_gathers_everything():
    m = compute_metrics("床前明月光", references=["床前看月光"], perplexity=14.2,
                        checks={"form_ok": True, "rhyme_rate": 0.5})
    assert set(m) == {"distinct_1", "distinct_2", "bleu", "rouge1", "rouge2", "rougeL",
                      "perplexity", "check_form_ok", "check_rhyme_rate"}
    assert m["perplexity"] == 14.2 and m["check_form_ok"] == 1.0
    assert set(compute_metrics("hello world")) == {"distinct_1", "distinct_2"}


@pytest.mark.parametrize("kwargs", [{"perplexity": 0.5}, {"perplexity": float("inf")},
                                    {"checks": {"x": "yes"}}, {"references": []}])
def test_compute_metrics_rejects_bad_values(kwargs):
    with pytest.raises(InvalidRequest):
        compute_metrics("some text here", **kwargs)
