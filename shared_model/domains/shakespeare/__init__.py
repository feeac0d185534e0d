"""The ``shakespeare`` domain: play text in ``NAME:`` turns (Tiny Shakespeare and the like).

Exposes ``DOMAIN`` for the registry in ``shared_model.domains``, ``parse_turns`` for
code that needs the speaker structure, and the scene API (``SceneRequest``,
``prepare_scene``, ``SceneResult``, ``parse_scene``) that the CLI, bot and magic share.
Serving-safe: numpy at most; no torch.
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
from shared_model.domains.shakespeare.scene import (
    ScenePlan,
    SceneRequest,
    SceneResult,
    SceneTurn,
    corpus_speakers,
    parse_characters,
    parse_scene,
    prepare_scene,
    scene_problems,
)

DOMAIN = ShakespeareDomain()

__all__ = ["DOMAIN", "ScenePlan", "SceneRequest", "SceneResult", "SceneTurn", "ShakespeareDomain",
           "Turn", "corpus_speakers", "is_speaker_header", "load_play_corpus", "parse_characters",
           "parse_scene", "parse_turns", "prepare_scene", "scene_problems", "speaker_counts"]
