"""Batching: tokenizer on train only, BPTT streams, bucketed document batches, shards."""

from __future__ import annotations

import pytest
import torch

from shared_model.domains.base import Corpus, Document
from shared_model.errors import CorpusError
from shared_model.training.data import (
    IGNORE,
    DocumentBatches,
    StreamBatches,
    build_tokenizer,
    encode_document,
    make_batches,
)

from .corpora import continuous_corpus, poem_corpus


def _corpus(train: str, val: str = "ab") -> Corpus:
    return Corpus("text", "t", "0" * 64, len(train), [Document(train)], [Document(val)], True)


def test_tokenizer_is_built_on_train_only():
    tok = build_tokenizer(_corpus("abcabc", val="abz"))
    assert "z" not in tok.vocab
    assert tok.encode("z") == [tok.unk_id]


def test_control_tokens_are_in_the_vocab():
    corpus = poem_corpus(20)
    tok = build_tokenizer(corpus)
    assert "<5j>" in tok.vocab and "<7j>" in tok.vocab


@pytest.mark.parametrize("train", ["", "aaaaaaa", "\n\n\n"])
def test_unusable_train_text_is_a_corpus_error(train):
    with pytest.raises(CorpusError):
        build_tokenizer(_corpus(train))


def test_empty_validation_split_is_a_corpus_error():
    corpus = Corpus("text", "t", "0" * 64, 4, [Document("abab")], [], True)
    with pytest.raises(CorpusError, match="empty val"):
        make_batches(corpus, build_tokenizer(corpus), "val", batch_size=2, seq_len=4, seed=0)


def test_stream_windows_cover_parallel_streams_in_order():
    ids = torch.arange(101).numpy()
    data = StreamBatches(ids, batch_size=4, seq_len=10)
    assert (data.batch_size, len(data)) == (4, 3)  # 100 // 4 = 25 per stream: 10 + 10 + 5
    batches = list(data.epoch())
    assert [b.reset for b in batches] == [True, False, False]
    x = torch.cat([b.inputs for b in batches], dim=1)
    y = torch.cat([b.targets for b in batches], dim=1)
    assert torch.equal(x[1], torch.arange(25, 50))  # stream 1 continues where stream 0 stops
    assert torch.equal(y, x + 1)  # next-token targets


def test_streams_shrink_for_short_texts():
    data = StreamBatches(torch.arange(30).numpy(), batch_size=16, seq_len=8)
    assert data.batch_size == 3 and data.seq_len == 8


def test_stream_shards_split_streams_between_ranks():
    ids = torch.arange(401).numpy()
    whole = StreamBatches(ids, batch_size=4, seq_len=10)
    ranks = [StreamBatches(ids, batch_size=2, seq_len=10, rank=r, world_size=2) for r in (0, 1)]
    assert torch.equal(torch.cat([r.batch(0).inputs for r in ranks]), whole.batch(0).inputs)


def _docs(n: int) -> list[list[int]]:
    return [[2] + [5 + (i % 3)] * (1 + i % 9) + [3] for i in range(n)]


def test_document_epochs_are_seeded_and_cover_every_document_once():
    docs = _docs(64)
    a = DocumentBatches(docs, 8, pad_id=0, seed=7)
    b = DocumentBatches(docs, 8, pad_id=0, seed=7)
    order = [i for batch in a._order(0) for i in batch.tolist()]
    assert sorted(order) == list(range(64))
    assert [x.tolist() for x in a._order(0)] == [x.tolist() for x in b._order(0)]
    assert [x.tolist() for x in a._order(0)] != [x.tolist() for x in a._order(1)]


def test_document_batch_pads_and_masks():
    tok = build_tokenizer(poem_corpus(20))
    doc = Document("春花。", controls=("<5j>",))
    ids = encode_document(doc, tok)
    assert ids[0] == tok.bos_id and ids[1] == tok.token_id("<5j>") and ids[-1] == tok.eos_id
    data = DocumentBatches([ids, ids[:3] + [tok.eos_id]], 2, pad_id=tok.pad_id,
                           ignore_ids=frozenset({tok.token_id("<5j>")}), shuffle=False)
    (batch,) = list(data.epoch())
    assert batch.inputs.shape == (2, len(ids) - 1)
    assert batch.targets[0, 0] == IGNORE  # the control token is given, not predicted
    assert batch.targets[0, -1] == tok.eos_id
    assert (batch.targets[1, 3:] == IGNORE).all() and (batch.inputs[1, 3:] == tok.pad_id).all()
    assert batch.num_targets == (len(ids) - 2) + 2


def test_document_resume_position_gives_the_same_batches():
    data = DocumentBatches(_docs(80), 4, pad_id=0, seed=3)
    full = [b.inputs for b in data.epoch(2)]
    tail = [b.inputs for b in data.epoch(2, start=5)]
    assert all(torch.equal(x, y) for x, y in zip(full[5:], tail, strict=True))


def test_document_shards_are_disjoint_and_equal_in_count():
    docs = _docs(50)
    ranks = [DocumentBatches(docs, 4, pad_id=0, seed=1, rank=r, world_size=2) for r in (0, 1)]
    seen = [set(i for b in r._order(0) for i in b.tolist()) for r in ranks]
    assert not seen[0] & seen[1]
    assert len(ranks[0]) == len(ranks[1]) == 50 // 8


def test_make_batches_picks_the_scheme_from_the_corpus():
    c = continuous_corpus(2000)
    assert isinstance(make_batches(c, build_tokenizer(c), "train", batch_size=4, seq_len=16,
                                   seed=0), StreamBatches)
    p = poem_corpus(40)
    assert isinstance(make_batches(p, build_tokenizer(p), "val", batch_size=4, seq_len=16,
                                   seed=0), DocumentBatches)
