"""The training loop on real torch: learning, exact resume, budgets, records, bad resumes."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter

import pytest
import torch

from shared_model.domains.base import Corpus, Document
from shared_model.errors import CheckpointError, InvalidRequest
from shared_model.training.checkpoint import load_checkpoint
from shared_model.training.data import build_tokenizer
from shared_model.training.loop import TrainConfig, train
from shared_model.training.model import ModelConfig

from .corpora import continuous_corpus, poem_corpus

TINY = {"embed_dim": 8, "hidden_size": 24, "num_layers": 2, "dropout": 0.2}
PAYLOAD_KEYS = {"format", "step", "domain", "name", "model_config", "model_state", "vocab",
                "special_tokens", "corpus", "split", "metrics", "train_config", "trainer",
                "optimizer_state", "scheduler_state", "rng_state", "data_state", "loop_state"}


def _model(corpus: Corpus, **over) -> ModelConfig:
    return ModelConfig(vocab_size=len(build_tokenizer(corpus)), **{**TINY, **over})


def _cfg(**over) -> TrainConfig:
    base = {"batch_size": 4, "seq_len": 16, "lr": 1e-2, "warmup_steps": 3, "eval_interval": 4,
            "log_interval": 1, "patience": 0, "seed": 3}
    return TrainConfig(**{**base, **over})


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log(c / n) for c in counts.values())


def test_training_learns_running_text(tmp_path):
    corpus = continuous_corpus(6000)
    result = train(corpus, _model(corpus), _cfg(max_steps=80, batch_size=8, eval_interval=40),
                   tmp_path, progress=False)
    unigram = _entropy(corpus.val[0].text)  # what a model ignoring context reaches
    assert result.val_loss < unigram - 0.4
    assert result.val_bpc == pytest.approx(result.val_loss / math.log(2), rel=1e-4)
    assert result.val_ppl == pytest.approx(math.exp(result.val_loss), rel=1e-4)
    assert result.stopped == "max_steps" and result.steps == 80


def test_training_learns_poem_documents(tmp_path):
    corpus = poem_corpus(120)
    tok = build_tokenizer(corpus)
    result = train(corpus, _model(corpus), _cfg(max_steps=60, batch_size=8, eval_interval=30),
                   tmp_path, progress=False)
    # random characters but learnable lines, punctuation and <eos>: below log(V)
    assert result.val_loss < math.log(len(tok)) - 0.4


@pytest.mark.parametrize("make_corpus", [lambda: continuous_corpus(600), lambda: poem_corpus(60)],
                         ids=["continuous", "documents"])
def test_resume_continues_exactly(tmp_path, make_corpus):
    corpus = make_corpus()
    mc = _model(corpus)
    cfg = _cfg(max_steps=14, decay_steps=14, batch_size=8)  # crosses epoch boundaries
    full = train(corpus, mc, cfg, tmp_path / "full", progress=False)
    part = train(corpus, mc, dataclasses.replace(cfg, max_steps=5), tmp_path / "split",
                 progress=False)
    rest = train(corpus, mc, cfg, tmp_path / "split", resume=tmp_path / "split" / "last.pt",
                 progress=False)
    assert part.train_losses + rest.train_losses == full.train_losses
    assert rest.steps == full.steps == 14
    a = load_checkpoint(tmp_path / "full" / "last.pt")["model_state"]
    b = load_checkpoint(tmp_path / "split" / "last.pt")["model_state"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert rest.val_loss == full.val_loss


def test_checkpoint_holds_every_payload_key(tmp_path):
    corpus = continuous_corpus(600)
    train(corpus, _model(corpus), _cfg(max_steps=4), tmp_path, progress=False)
    payload = load_checkpoint(tmp_path / "last.pt")
    assert set(payload) >= PAYLOAD_KEYS
    assert payload["step"] == 4 and payload["split"] == corpus.split
    assert payload["metrics"]["val_loss"] > 0 and payload["trainer"]["torch"] == torch.__version__
    assert set(payload["rng_state"]) >= {"python", "numpy", "torch"}
    assert payload["train_config"]["max_steps"] == 4
    assert payload["vocab"] == build_tokenizer(corpus).vocab


def test_metrics_log_and_loss_curve_are_written(tmp_path):
    corpus = continuous_corpus(600)
    result = train(corpus, _model(corpus), _cfg(max_steps=8), tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == list(range(1, 9))
    assert [r["step"] for r in records if r["kind"] == "eval"] == [4, 8]
    assert result.plot_path is not None
    assert result.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_early_stopping_keeps_the_best_checkpoint(tmp_path):
    # train alternates strictly, val is a fixed random a/b string: fitting train hurts val
    g = torch.Generator().manual_seed(0)
    val = "".join("ab"[i] for i in torch.randint(0, 2, (400,), generator=g).tolist())
    corpus = Corpus("text", "alt", "0" * 64, 1400, [Document("ab" * 500)], [Document(val)], True)
    result = train(corpus, _model(corpus, dropout=0.0),
                   _cfg(max_steps=400, eval_interval=5, patience=2, lr=2e-2), tmp_path,
                   progress=False)
    assert result.stopped == "early_stop" and result.steps < 400
    evals = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    best = min(r["val_loss"] for r in evals if r["kind"] == "eval")
    assert load_checkpoint(tmp_path / "best.pt")["metrics"]["val_loss"] == best


def test_time_budget_stops_with_a_final_checkpoint(tmp_path):
    corpus = continuous_corpus(3000)
    result = train(corpus, _model(corpus), _cfg(minutes=0.005, eval_interval=10_000), tmp_path,
                   progress=False)
    assert result.stopped == "time"
    assert load_checkpoint(tmp_path / "last.pt")["step"] == result.steps


def test_resume_with_another_model_config_is_refused(tmp_path):
    corpus = continuous_corpus(600)
    train(corpus, _model(corpus), _cfg(max_steps=2), tmp_path / "a", progress=False)
    with pytest.raises(CheckpointError, match="different model config.*hidden_size"):
        train(corpus, _model(corpus, hidden_size=32), _cfg(max_steps=4), tmp_path / "b",
              resume=tmp_path / "a" / "last.pt", progress=False)


def test_resume_on_another_corpus_vocabulary_is_refused(tmp_path):
    corpus = continuous_corpus(600)
    train(corpus, _model(corpus), _cfg(max_steps=2), tmp_path / "a", progress=False)
    other = Corpus("text", "o", "0" * 64, 10, [Document("xyz" * 100)], [Document("xyz")], True)
    with pytest.raises(CheckpointError):
        train(other, _model(other), _cfg(max_steps=4), tmp_path / "b",
              resume=tmp_path / "a" / "last.pt", progress=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_checkpoint_is_refused(tmp_path, damage):
    corpus = continuous_corpus(600)
    train(corpus, _model(corpus), _cfg(max_steps=2), tmp_path / "a", progress=False)
    ckpt = tmp_path / "a" / "last.pt"
    data = ckpt.read_bytes()
    bad = tmp_path / "bad.pt"
    bad.write_bytes({"garbage": b"not a checkpoint" * 10, "truncated": data[: len(data) // 2],
                     "empty": b""}[damage])
    with pytest.raises(CheckpointError):
        train(corpus, _model(corpus), _cfg(max_steps=4), tmp_path / "b", resume=bad,
              progress=False)


def test_vocab_size_must_match_the_tokenizer(tmp_path):
    corpus = continuous_corpus(600)
    with pytest.raises(InvalidRequest, match="vocab_size"):
        train(corpus, ModelConfig(vocab_size=99, **TINY), _cfg(max_steps=2), tmp_path,
              progress=False)


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"lr": 0.0}, {"minutes": 0.0},
                                 {"minutes": -1.0}, {"epochs": float("nan")},
                                 {"device": "tpu"}, {"min_lr_ratio": 2.0}, {"patience": -1},
                                 {"max_steps": 0}])
def test_bad_train_config_is_refused(bad):
    with pytest.raises(InvalidRequest):
        TrainConfig(**bad)


def test_cuda_without_a_gpu_is_a_user_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    corpus = continuous_corpus(600)
    with pytest.raises(InvalidRequest, match="CUDA"):
        train(corpus, _model(corpus), _cfg(max_steps=2, device="cuda"), tmp_path, progress=False)
