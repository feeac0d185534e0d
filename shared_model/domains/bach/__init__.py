"""The ``bach`` domain: four-part chorales as tokens, constraints and rendered output.

Owns the domain object (``DOMAIN``) the registry returns and the public names adapters
use. Modules: ``encoding`` (the reversible token format), ``tokenizer`` (MusicTokenizer),
``corpus`` (music21 / JSB JSON -> Documents, cached), ``constraints`` (the decoding
hook), ``request`` (ChoraleRequest, keys), ``score`` / ``audio`` / ``pianoroll`` /
``render`` / ``output`` (MIDI, MusicXML, WAV, PNG, files), ``analysis`` (measures).
Imports here are light (no music21, matplotlib, torch); heavy ones happen on use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared_model.domains.bach.constraints import ChoraleConstraint
from shared_model.domains.bach.request import ChoraleRequest, KeySpec, parse_key
from shared_model.domains.bach.tokenizer import CONTROL_TOKENS, MusicTokenizer
from shared_model.domains.base import Corpus


class BachDomain:
    """Bach chorales: ``load_corpus("music21")`` or ``load_corpus(".../Jsb16thSeparated.json")``."""

    name = "bach"
    continuous = False
    named_sources = ("music21",)  # corpora named rather than given by path
    control_tokens = CONTROL_TOKENS

    def load_corpus(self, path: str | Path, **options: Any) -> Corpus:
        """Options: ``cache_dir`` (default ``<LSTMGEN_HOME>/cache``), ``use_cache``
        (default True; False parses music21 again and writes nothing), ``val_percent``
        (music21 split, default 10), ``progress`` (tqdm bar on stderr while parsing)."""
        from shared_model.domains.bach.corpus import load_bach_corpus
        from shared_model.settings import Settings

        use_cache = options.pop("use_cache", True)
        cache_dir = options.pop("cache_dir", None)
        if use_cache and cache_dir is None:
            cache_dir = Settings.from_env().home / "cache"
        return load_bach_corpus(path, cache_dir=Path(cache_dir) if use_cache else None, **options)

    def plan(self, meta: Any, request: Any) -> Any:
        """The Studio's Task for a ``ChoraleRequest`` against this model (see ``task.py``)."""
        from shared_model.domains.bach.task import plan_chorale

        return plan_chorale(meta, request)

    def build_tokenizer(self, corpus: Corpus | None = None) -> MusicTokenizer:
        """The tokenizer for training (fixed vocabulary; the corpus is not needed)."""
        return MusicTokenizer.default()

    def tokenizer_from_vocab(self, vocab: list[str], special_tokens: dict[str, str]) -> MusicTokenizer:
        """The tokenizer of a trained model, from its artifact metadata."""
        return MusicTokenizer(vocab, special_tokens)


DOMAIN = BachDomain()

__all__ = ["DOMAIN", "BachDomain", "ChoraleConstraint", "ChoraleRequest", "KeySpec",
           "MusicTokenizer", "parse_key"]
