"""The tang domain: Tang poems (chinese-poetry JSON), regulated forms, and their rules.

``DOMAIN`` is what the registry returns. The training side calls ``load_corpus`` and
``metadata_extra`` (what the model file must carry: script, 中华新韵 phonology of the
vocabulary, keyword PMI table); the serving side calls ``prepare_poem``. Serving-safe:
numpy, opencc and (lazily) pypinyin only; never torch, training or exporters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shared_model.artifact import ArtifactMeta
from shared_model.domains.base import Corpus
from shared_model.domains.tang.corpus import TangCorpusConfig, load_corpus
from shared_model.domains.tang.forms import CONTROL_TOKENS, FORMS, Form, format_poem, parse_form
from shared_model.domains.tang.keywords import KeywordConfig, compute_keyword_table
from shared_model.domains.tang.phonology import modern_phonology
from shared_model.domains.tang.poem import PoemPlan, PoemResult, prepare_poem
from shared_model.domains.tang.request import PoemRequest
from shared_model.domains.tang.task import PoemTask, plan_poem


class TangDomain:
    """The ``tang`` entry of the domain registry."""

    name = "tang"
    continuous = False
    control_tokens = CONTROL_TOKENS

    def load_corpus(self, path: Path, **options: Any) -> Corpus:
        """See ``corpus.load_corpus`` and ``TangCorpusConfig`` for the options."""
        return load_corpus(path, **options)

    def metadata_extra(self, corpus: Corpus, vocab: Sequence[str],
                       keyword_config: KeywordConfig | None = None) -> dict[str, Any]:
        """The ``extra`` a tang model carries: its script, phonology and keyword table.

        Computed at training/export time from the training poems (~10 s for PMI over
        the full corpus); serving reads it back without pypinyin or the corpus.
        """
        return {
            "script": corpus.stats.get("script", "simplified"),
            "phonology": modern_phonology(tok for tok in vocab if len(tok) == 1),
            "keyword_pmi": compute_keyword_table((d.text for d in corpus.train), keyword_config),
        }

    def prepare_poem(self, vocab: Sequence[str], request: PoemRequest, *,
                     special_tokens: Mapping[str, str] | None = None,
                     extra: Mapping[str, Any] | None = None) -> PoemPlan:
        """See ``poem.prepare_poem``."""
        return prepare_poem(vocab, request, special_tokens=special_tokens, extra=extra)


    def plan(self, meta: ArtifactMeta, request: Any) -> PoemTask:
        """The Studio's Task for a ``PoemRequest`` against this model (see ``task.py``)."""
        return plan_poem(meta, request)


DOMAIN = TangDomain()

__all__ = ["CONTROL_TOKENS", "DOMAIN", "FORMS", "Form", "KeywordConfig", "PoemPlan", "PoemRequest",
           "PoemResult", "TangCorpusConfig", "TangDomain", "format_poem", "parse_form",
           "prepare_poem"]
