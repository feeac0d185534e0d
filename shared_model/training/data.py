"""Batches for training and evaluation: a Corpus plus a CharTokenizer -> id tensors.

Owns the vocabulary build (train split only, so validation characters unseen in training
become ``<unk>``) and the two batching schemes:

- **continuous text** (``Corpus.continuous``): the train text is one id stream cut into
  ``B`` parallel streams (``B * world_size`` under DDP, each rank taking its own ``B``);
  windows of ``T`` tokens go out in order so the trainer can carry the LSTM state from
  one window to the next (truncated BPTT). The position is (epoch, window).
- **documents** (poems): each is ``<bos> + controls + text + <eos>``. Per epoch, documents
  are shuffled with a generator seeded by (seed, epoch), cut into pools of 50 batches,
  sorted by length inside each pool and batched (bucketing: little padding, yet batches
  still vary from epoch to epoch), then the batch order is shuffled. Padding and control
  tokens are ignored by the loss (target ``IGNORE``), so the loss is per character + eos.
  Packing several poems into one row was not chosen: it would let one poem's state leak
  into the next unless the state were reset mid-row, which nn.LSTM cannot do.

Everything is deterministic given the seed; the iterator position is two integers, so
resuming needs no RNG state. Imports torch and numpy; nothing from serving or storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from shared_model.domains.base import Corpus, Document
from shared_model.errors import CorpusError, InvalidRequest
from shared_model.tokenizer import CharTokenizer

IGNORE = -100  # target id skipped by cross_entropy (padding, control tokens)
_POOL_BATCHES = 50  # documents are length-sorted within pools of this many batches


@dataclass(frozen=True)
class Batch:
    """One training or evaluation batch.

    Attributes:
        inputs: [B, T] int64 token ids.
        targets: [B, T] int64 next-token ids, ``IGNORE`` where no loss is taken.
        reset: True when the LSTM state must start from zero (new epoch, documents).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    reset: bool

    @property
    def num_targets(self) -> int:
        return int((self.targets != IGNORE).sum())


def build_tokenizer(corpus: Corpus, *, min_freq: int = 1) -> CharTokenizer:
    """Vocabulary over the train documents plus the corpus' control tokens.

    Raises:
        CorpusError: the train split is empty or uses fewer than two distinct characters.
    """
    from shared_model.domains import get_domain

    try:
        builder = getattr(get_domain(corpus.domain), "build_tokenizer", None)
    except InvalidRequest:  # a corpus built by hand under an unregistered domain name
        builder = None
    if builder is not None:  # e.g. bach: a fixed vocabulary of musical event tokens
        return builder(corpus)  # type: ignore[no-any-return]
    texts = [d.text for d in corpus.train]
    if not any(texts):
        raise CorpusError(f"corpus {corpus.name!r} has no training text")
    chars = set().union(*map(set, texts))
    if len(chars) < 2:
        raise CorpusError(f"corpus {corpus.name!r} uses only {len(chars)} distinct character; "
                          "a language model needs at least two")
    return CharTokenizer.build(texts, min_freq=min_freq, control_tokens=corpus.control_tokens)


def encode_stream(docs: list[Document], tok: CharTokenizer) -> np.ndarray:
    """All documents' text as one int64 id stream (continuous corpora)."""
    return np.asarray(tok.encode("".join(d.text for d in docs)), dtype=np.int64)


def encode_document(doc: Document, tok: CharTokenizer) -> list[int]:
    """``<bos> + controls + text + <eos>`` as ids."""
    return [tok.bos_id, *(tok.token_id(c) for c in doc.controls), *tok.encode(doc.text),
            tok.eos_id]


class StreamBatches:
    """Truncated-BPTT windows over ``B`` parallel streams of one long id stream.

    Args:
        ids: the whole id stream (train or val).
        batch_size: streams per rank; lowered (never below 1) when the text is short.
        seq_len: window length T.
        rank, world_size: this process' share under DDP (streams are split by rank).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int,
                 rank: int = 0, world_size: int = 1):
        n = len(ids) - 1  # every input needs a next token
        total_streams = batch_size * world_size
        if n < 2 * world_size:
            raise CorpusError(f"the text is too short to train on ({len(ids)} tokens)")
        # shrink the batch for tiny texts so every stream holds at least one full window
        while total_streams > world_size and n // total_streams < seq_len:
            total_streams -= world_size
        per = n // total_streams
        self.batch_size = total_streams // world_size
        self.seq_len = min(seq_len, per)
        rows = np.arange(rank * self.batch_size, (rank + 1) * self.batch_size)
        starts = rows * per
        # inputs [B, per], targets shifted by one token
        idx = starts[:, None] + np.arange(per)[None, :]
        self._x = torch.from_numpy(ids[idx].copy())
        self._y = torch.from_numpy(ids[idx + 1].copy())
        self.windows_per_epoch = -(-per // self.seq_len)  # ceil: last window may be short
        self.tokens_per_epoch = per * self.batch_size

    def __len__(self) -> int:
        return self.windows_per_epoch

    def batch(self, window: int) -> Batch:
        """Window ``window`` of an epoch; the state resets at window 0."""
        t0 = window * self.seq_len
        t1 = min(t0 + self.seq_len, self._x.shape[1])
        return Batch(self._x[:, t0:t1], self._y[:, t0:t1], reset=window == 0)

    def epoch(self, epoch: int = 0, start: int = 0) -> Iterator[Batch]:
        """The windows of one epoch in order, from window ``start``."""
        del epoch  # stream order does not change between epochs (state is carried)
        for w in range(start, self.windows_per_epoch):
            yield self.batch(w)


class DocumentBatches:
    """Length-bucketed, padded batches of documents; fresh state for every batch.

    Args:
        docs: encoded documents (``encode_document``); longer than ``max_len`` tokens
            are cropped (``cropped`` counts them).
        batch_size: documents per batch and rank.
        seed: with the epoch number, fixes each epoch's order.
        shuffle: False for evaluation (documents in corpus order, no pooling).
    """

    def __init__(self, docs: list[list[int]], batch_size: int, *, pad_id: int,
                 ignore_ids: frozenset[int] = frozenset(), max_len: int = 512, seed: int = 0,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        if not docs:
            raise CorpusError("the corpus split has no documents")
        self.cropped = sum(len(d) > max_len + 1 for d in docs)
        self._docs = [d[:max_len + 1] for d in docs]
        self._lens = np.asarray([len(d) for d in self._docs])
        self.batch_size = max(1, min(batch_size, len(docs) // world_size))
        self.pad_id, self.ignore_ids, self.seed, self.shuffle = pad_id, ignore_ids, seed, shuffle
        self.rank, self.world_size = rank, world_size
        # every rank takes the same number of batches, so DDP steps stay in lock-step
        self.batches_per_epoch = len(docs) // (self.batch_size * world_size)
        if not shuffle:
            self.batches_per_epoch = -(-len(docs) // (self.batch_size * world_size))
        self.tokens_per_epoch = int(self._lens.sum()) // world_size

    def __len__(self) -> int:
        return self.batches_per_epoch

    def _order(self, epoch: int) -> list[np.ndarray]:
        """The batches of an epoch as arrays of document indices (this rank's share)."""
        n, b, w = len(self._docs), self.batch_size, self.world_size
        if not self.shuffle:
            chunks = [np.arange(i, min(i + b * w, n)) for i in range(0, n, b * w)]
            return [c[self.rank::w] for c in chunks]
        rng = np.random.default_rng([self.seed, epoch])
        perm = rng.permutation(n)
        pool = b * w * _POOL_BATCHES
        batches: list[np.ndarray] = []
        for i in range(0, self.batches_per_epoch * b * w, pool):
            chunk = perm[i:min(i + pool, self.batches_per_epoch * b * w)]
            chunk = chunk[np.argsort(self._lens[chunk], kind="stable")]
            batches.extend(chunk[j:j + b * w] for j in range(0, len(chunk), b * w))
        batches = [batches[k] for k in rng.permutation(len(batches))]
        # ranks interleave inside each global batch: similar lengths on every rank
        return [g[self.rank::w] for g in batches]

    def _collate(self, idx: np.ndarray) -> Batch:
        rows = [self._docs[i] for i in idx]
        width = max(len(r) for r in rows) - 1
        x = torch.full((len(rows), width), self.pad_id, dtype=torch.int64)
        y = torch.full((len(rows), width), IGNORE, dtype=torch.int64)
        for r, ids in enumerate(rows):
            t = torch.tensor(ids, dtype=torch.int64)
            x[r, :len(ids) - 1] = t[:-1]
            y[r, :len(ids) - 1] = t[1:]
        for i in self.ignore_ids:  # control tokens are given, not predicted
            y[y == i] = IGNORE
        return Batch(x, y, reset=True)

    def epoch(self, epoch: int = 0, start: int = 0) -> Iterator[Batch]:
        """The batches of one epoch (order fixed by seed and epoch), from batch ``start``."""
        for idx in self._order(epoch)[start:]:
            if len(idx):
                yield self._collate(idx)


def make_batches(corpus: Corpus, tok: CharTokenizer, split: str, *, batch_size: int,
                 seq_len: int, seed: int, max_len: int = 512, rank: int = 0,
                 world_size: int = 1) -> StreamBatches | DocumentBatches:
    """The batcher for ``split`` ('train' or 'val') of a corpus.

    Raises:
        CorpusError: the split is empty or too short.
    """
    docs = corpus.train if split == "train" else corpus.val
    if not docs or not any(d.text for d in docs):
        raise CorpusError(f"corpus {corpus.name!r} has an empty {split} split")
    if corpus.continuous:
        return StreamBatches(encode_stream(docs, tok), batch_size, seq_len, rank, world_size)
    controls = frozenset(tok.token_id(c) for c in corpus.control_tokens)
    return DocumentBatches([encode_document(d, tok) for d in docs], batch_size,
                           pad_id=tok.pad_id, ignore_ids=controls, max_len=max_len, seed=seed,
                           shuffle=split == "train", rank=rank, world_size=world_size)
