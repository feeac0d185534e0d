"""The ``text`` domain: any UTF-8 text file as a running-text corpus.

Exposes ``DOMAIN`` for the registry in ``shared_model.domains``. Serving-safe: no torch.
"""

from __future__ import annotations

from shared_model.domains.text.corpus import (
    TextCorpusConfig,
    TextDomain,
    TextFile,
    load_text_corpus,
    normalise_newlines,
    read_text_file,
    split_text,
)

DOMAIN = TextDomain()

__all__ = ["DOMAIN", "TextCorpusConfig", "TextDomain", "TextFile", "load_text_corpus",
           "normalise_newlines", "read_text_file", "split_text"]
