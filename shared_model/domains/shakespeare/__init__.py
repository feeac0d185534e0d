"""The ``shakespeare`` domain: play text in ``NAME:`` turns (Tiny Shakespeare and the like).

Exposes ``DOMAIN`` for the registry in ``shared_model.domains``, and ``parse_turns`` for
code that needs the speaker structure. Serving-safe: no torch.
"""

from __future__ import annotations

from shared_model.domains.shakespeare.corpus import (
    ShakespeareDomain,
    Turn,
    is_speaker_header,
    load_play_corpus,
    parse_turns,
    speaker_counts,
)

DOMAIN = ShakespeareDomain()

__all__ = ["DOMAIN", "ShakespeareDomain", "Turn", "is_speaker_header", "load_play_corpus",
           "parse_turns", "speaker_counts"]
