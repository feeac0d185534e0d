"""Character tokenizer and the tokenizer protocol every domain's tokenizer follows.

Ids are fixed by the vocab list (index = id), which travels inside checkpoints and the
``.onnx`` artifact, so the same text gives the same ids on every run and machine.
Serving-side module: numpy-free, torch-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared_model.errors import InvalidRequest

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
BASE_SPECIALS = {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS}


class Tokenizer(Protocol):
    """What the trainer, exporter and runtime need from a tokenizer."""

    vocab: list[str]
    special_tokens: dict[str, str]

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Iterable[int]) -> str: ...

    def token_id(self, token: str) -> int: ...


@dataclass(frozen=True)
class EncodeResult:
    ids: list[int]
    unknown: list[str]  # distinct characters mapped to <unk>, in order of appearance


class CharTokenizer:
    """One id per character, plus special and control tokens (``<bos>``, ``<7j>`` ...).

    Control tokens are whole vocabulary entries; ``encode`` never produces them from
    text (a prompt cannot spoof ``<eos>``), callers add them with ``token_id``.
    """

    def __init__(self, vocab: Sequence[str], special_tokens: dict[str, str] | None = None):
        self.vocab = list(vocab)
        self.special_tokens = dict(special_tokens or BASE_SPECIALS)
        self._ids = {tok: i for i, tok in enumerate(self.vocab)}
        if len(self._ids) != len(self.vocab):
            raise InvalidRequest("vocabulary has duplicate tokens")
        for name in ("pad", "unk", "bos", "eos"):
            if self.special_tokens.get(name) not in self._ids:
                raise InvalidRequest(f"vocabulary lacks the {name} token")
        self._specials = frozenset(self._ids[t] for t in self.special_tokens.values() if t in self._ids)
        self.pad_id = self._ids[self.special_tokens["pad"]]
        self.unk_id = self._ids[self.special_tokens["unk"]]
        self.bos_id = self._ids[self.special_tokens["bos"]]
        self.eos_id = self._ids[self.special_tokens["eos"]]

    @classmethod
    def build(cls, texts: Iterable[str], *, min_freq: int = 1,
              control_tokens: Sequence[str] = (), max_size: int | None = None) -> CharTokenizer:
        """Vocabulary from a corpus: specials, control tokens, then characters.

        Characters seen fewer than ``min_freq`` times (or beyond ``max_size`` by
        frequency) are left out and encode to ``<unk>``. Characters are ordered by
        code point, so ids do not depend on the order texts arrive in.
        """
        if min_freq < 1:
            raise InvalidRequest("min_freq must be at least 1")
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        chars = [c for c, n in counts.items() if n >= min_freq]
        if max_size is not None:
            room = max_size - len(BASE_SPECIALS) - len(control_tokens)
            chars = sorted(chars, key=lambda c: (-counts[c], c))[:max(room, 0)]
        specials = dict(BASE_SPECIALS)
        for tok in control_tokens:
            specials[tok.strip("<>")] = tok
        vocab = list(BASE_SPECIALS.values()) + list(control_tokens) + sorted(chars)
        return cls(vocab, specials)

    def __len__(self) -> int:
        return len(self.vocab)

    def token_id(self, token: str) -> int:
        try:
            return self._ids[token]
        except KeyError:
            raise InvalidRequest(f"token {token!r} is not in the vocabulary") from None

    def has(self, token: str) -> bool:
        return token in self._ids and self._ids[token] not in self._specials

    def encode_report(self, text: str) -> EncodeResult:
        """Encode characters, mapping out-of-vocabulary ones to ``<unk>`` and listing them."""
        ids: list[int] = []
        unknown: dict[str, None] = {}
        get = self._ids.get
        for ch in text:
            i = get(ch)
            if i is None or i in self._specials:
                unknown[ch] = None
                i = self.unk_id
            ids.append(i)
        return EncodeResult(ids, list(unknown))

    def encode(self, text: str) -> list[int]:
        return self.encode_report(text).ids

    def decode(self, ids: Iterable[int], *, keep_special: bool = False) -> str:
        vocab = self.vocab
        if keep_special:
            return "".join(vocab[i] for i in ids)
        return "".join(vocab[i] for i in ids if i not in self._specials)

    def is_special(self, token_id: int) -> bool:
        return token_id in self._specials
