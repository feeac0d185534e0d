"""Per-vocabulary arrays for the tang constraints, computed once and cached.

Owns ``TangVocab`` (which ids are Chinese characters, the ids of ``，`` ``。`` and
``<eos>``) and the cached phonology arrays per rhyme or tone scheme, so that a request
costs dictionary look-ups and a decoding step a few vectorised numpy operations.
Imports numpy and the tang modules; never torch or training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from shared_model.domains.tang.forms import COMMA, PERIOD, is_hanzi
from shared_model.domains.tang.phonology import (
    VocabPhonology,
    lay_over_vocab,
    modern_phonology,
    pingshui_phonology,
)
from shared_model.errors import InvalidRequest
from shared_model.tokenizer import BASE_SPECIALS


@dataclass(frozen=True)
class TangVocab:
    """A model vocabulary seen by the tang domain (index = token id).

    Attributes:
        hanzi: bool [V], the token is one Chinese character (never a special token).
    """

    vocab: tuple[str, ...]
    ids: Mapping[str, int]
    hanzi: np.ndarray
    comma_id: int
    period_id: int
    eos_id: int
    bos_id: int

    def id_of(self, ch: str, what: str) -> int:
        """The id of character ``ch``; InvalidRequest naming ``what`` if the model lacks it."""
        i = self.ids.get(ch)
        if i is None or not self.hanzi[i]:
            raise InvalidRequest(f"{what} {ch!r} is not in this model's vocabulary")
        return i


@lru_cache(maxsize=8)
def _tang_vocab(vocab: tuple[str, ...], eos: str, bos: str) -> TangVocab:
    ids = {tok: i for i, tok in enumerate(vocab)}
    missing = [tok for tok in (COMMA, PERIOD, eos, bos) if tok not in ids]
    if missing:
        raise InvalidRequest(f"this model cannot write Tang poems: its vocabulary lacks {' '.join(missing)}")
    hanzi = np.fromiter((is_hanzi(tok) for tok in vocab), dtype=bool, count=len(vocab))
    if not hanzi.any():
        raise InvalidRequest("this model cannot write Tang poems: its vocabulary has no Chinese characters")
    return TangVocab(vocab, ids, hanzi, ids[COMMA], ids[PERIOD], ids[eos], ids[bos])


def tang_vocab(vocab: Sequence[str], special_tokens: Mapping[str, str] | None = None) -> TangVocab:
    """The cached TangVocab of ``vocab`` (``special_tokens`` as in the artifact metadata)."""
    specials = dict(BASE_SPECIALS, **(special_tokens or {}))
    return _tang_vocab(tuple(vocab), specials["eos"], specials["bos"])


_PHONOLOGY_CACHE: dict[tuple[tuple[str, ...], str, str, bool], VocabPhonology] = {}
_PHONOLOGY_CACHE_SIZE = 8


def vocab_phonology(tv: TangVocab, scheme: str, *, script: str = "simplified",
                    extra: Mapping[str, Any] | None = None) -> VocabPhonology:
    """Rhyme groups and tones laid over ``tv`` for ``scheme`` (``xinyun`` or ``pingshui``).

    ``xinyun`` uses the table the model carries in ``extra["phonology"]`` when there is
    one (no pypinyin import at serving time), else computes it with pypinyin. Results
    are cached per (vocabulary, scheme, script, stored or computed).
    """
    stored = extra.get("phonology") if (scheme == "xinyun" and extra) else None
    key = (tv.vocab, scheme, script, stored is not None)
    cached = _PHONOLOGY_CACHE.get(key)
    if cached is not None:
        return cached
    if scheme == "pingshui":
        table = pingshui_phonology(script)
    elif stored is not None:
        table = stored
    else:
        table = modern_phonology(tok for tok in tv.vocab if len(tok) == 1)
    result = lay_over_vocab(table, tv.vocab)
    if len(_PHONOLOGY_CACHE) >= _PHONOLOGY_CACHE_SIZE:
        _PHONOLOGY_CACHE.pop(next(iter(_PHONOLOGY_CACHE)))
    _PHONOLOGY_CACHE[key] = result
    return result
