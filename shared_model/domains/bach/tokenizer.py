"""The music tokenizer: whole-word tokens separated by spaces, the Tokenizer protocol.

A ``CharTokenizer`` whose units are space-separated tokens (``S:72``, ``S:72~``, ``S:-``,
``|``, ``|F``) instead of characters, so training, export and serving treat chorales like
text: ``encode`` splits the Document text on whitespace, ``decode`` joins with one space.
The vocabulary is fixed by ``encoding.VOICE_RANGES`` (not learned from a corpus), so
every bach model shares ids. Pure Python; never imports torch, numpy or music21.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared_model.domains.bach.encoding import (
    FERMATA_END,
    FRAME_END,
    HELD,
    REST,
    VOICE_RANGES,
    VOICES,
)
from shared_model.tokenizer import BASE_SPECIALS, CharTokenizer, EncodeResult

CONTROL_TOKENS = ("<major>", "<minor>")


def music_vocab() -> list[str]:
    """Specials, mode controls, delimiters, then per voice: rest, then each pitch as onset
    and held (``S:-``, ``S:55``, ``S:55~``, ``S:56`` ...)."""
    vocab = list(BASE_SPECIALS.values()) + list(CONTROL_TOKENS) + [FRAME_END, FERMATA_END]
    for v in VOICES:
        lo, hi = VOICE_RANGES[v]
        vocab.append(f"{v}:{REST}")
        for p in range(lo, hi + 1):
            vocab += [f"{v}:{p}", f"{v}:{p}{HELD}"]
    return vocab


class MusicTokenizer(CharTokenizer):
    """Space-separated music tokens; unknown tokens (and specials in text) -> ``<unk>``."""

    @classmethod
    def default(cls) -> MusicTokenizer:
        """The bach vocabulary (see ``music_vocab``)."""
        specials = dict(BASE_SPECIALS)
        specials.update({t.strip("<>"): t for t in CONTROL_TOKENS})
        return cls(music_vocab(), specials)

    def encode_report(self, text: str) -> EncodeResult:
        ids: list[int] = []
        unknown: dict[str, None] = {}
        get = self._ids.get
        for tok in text.split():
            i = get(tok)
            if i is None or i in self._specials:
                unknown[tok] = None
                i = self.unk_id
            ids.append(i)
        return EncodeResult(ids, list(unknown))

    def decode(self, ids: Iterable[int], *, keep_special: bool = False) -> str:
        vocab = self.vocab
        if keep_special:
            return " ".join(vocab[i] for i in ids)
        return " ".join(vocab[i] for i in ids if i not in self._specials)

    def tokens(self, ids: Sequence[int]) -> list[str]:
        """The token strings of ``ids`` (specials included)."""
        return [self.vocab[i] for i in ids]
