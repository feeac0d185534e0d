"""The tang corpus: chinese-poetry JSON -> cleaned, converted, split ``Corpus``.

Owns the corpus options (``TangCorpusConfig``), de-duplication, script conversion and
the train/validation split. Reading is ``source``, the per-poem rules are ``cleaning``
(its docstring lists them). Never imports torch or training.

Documents: one per poem, ``continuous=False``, text in the format of ``forms`` (lines
with ``，``/``。``, no newline), ``controls`` = its form token (``<5j>`` ``<7j>`` ``<5l>``
``<7l>`` or ``<other>``).

De-duplication: 《全唐诗》 lists some poems twice under different ids; a poem whose cleaned
text (in the source script) was already seen is dropped [duplicate].

Split: by poem, from the SHA-1 of the cleaned text in the source script (not the id,
so copies under two ids cannot straddle the split, and the result does not depend on
the order of files or poems, or on the output script): a poem is in validation when
the first 32 bits of the digest, over 2**32, fall below ``val_fraction`` (default 2%).
With at least two poems, neither side is left empty: if validation is empty the poem
with the smallest digest goes there, if training is, the one with the largest goes
there, so tiny corpora still train and validate.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_model.domains.base import Corpus, Document
from shared_model.domains.tang.cleaning import DROP_REASONS, CleanedPoem, clean_poem
from shared_model.domains.tang.forms import CONTROL_TOKENS, OTHER
from shared_model.domains.tang.script import CONVERSIONS, char_table, check_script, convert_text
from shared_model.domains.tang.source import corpus_files, describe_source, read_poems
from shared_model.errors import CorpusError, InvalidRequest

SOURCE_SCRIPT = "traditional"  # the chinese-poetry 全唐诗 files are in Traditional characters


@dataclass(frozen=True)
class TangCorpusConfig:
    """Options of ``load_corpus`` for the tang domain.

    Attributes:
        script: ``simplified`` (converted with OpenCC t2s) or ``traditional`` (as is).
        forms_only: keep only the four regulated forms, dropping ``<other>`` poems.
        val_fraction: share of poems in validation (by text hash, see module doc).
        conversion: ``char`` (a per-character table, fast) or ``phrase`` (OpenCC on
            each poem, exact, ~8 s on the full corpus); see ``script``.
    """

    script: str = "simplified"
    forms_only: bool = False
    val_fraction: float = 0.02
    conversion: str = "char"

    def __post_init__(self) -> None:
        check_script(self.script)
        if not 0.0 <= self.val_fraction < 0.5:
            raise InvalidRequest(f"val_fraction must be in [0, 0.5), got {self.val_fraction}")
        if self.conversion not in CONVERSIONS:
            raise InvalidRequest(
                f"unknown conversion {self.conversion!r}; choose one of: {', '.join(CONVERSIONS)}")


def split_bucket(text: str) -> float:
    """The poem's position in [0, 1) for the split: first 32 bits of SHA-1(text) / 2**32."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _convert(poems: list[CleanedPoem], config: TangCorpusConfig) -> list[str]:
    texts = [p.text for p in poems]
    if config.script == SOURCE_SCRIPT:
        return texts
    if config.conversion == "phrase":
        return [convert_text(t, config.script, "phrase") for t in texts]
    table = char_table(set().union(*map(set, texts)) if texts else set(), config.script)
    return ["".join(table[ch] for ch in t) for t in texts]


def load_corpus(path: Path | str, **options: Any) -> Corpus:
    """Read, clean, convert and split a Tang corpus (options: see ``TangCorpusConfig``).

    Raises:
        CorpusError: missing path, unreadable or invalid JSON (with its line), a record
            that is not a poem, or no poem left after cleaning.
        InvalidRequest: an unknown or invalid option.
    """
    try:
        config = TangCorpusConfig(**options)
    except TypeError as exc:
        raise InvalidRequest(f"tang corpus: {exc}".replace("__init__() ", "")) from None
    path = Path(path)
    files = corpus_files(path)
    info = describe_source(path, files)

    dropped: Counter[str] = Counter(dict.fromkeys(DROP_REASONS + ("not_a_form", "duplicate"), 0))
    kept: list[CleanedPoem] = []
    seen: set[str] = set()
    read = notes_removed = 0
    for file in files:
        for raw in read_poems(file):
            read += 1
            result = clean_poem(raw.paragraphs)
            if isinstance(result, str):
                dropped[result] += 1
            elif config.forms_only and result.control == OTHER:
                dropped["not_a_form"] += 1
            elif result.text in seen:
                dropped["duplicate"] += 1
            else:
                seen.add(result.text)
                kept.append(result)
                notes_removed += result.notes_removed
    if not kept:
        reasons = ", ".join(f"{n} {r}" for r, n in dropped.items() if n) or "the file holds none"
        raise CorpusError(f"{path}: no poems left after cleaning ({read} read; dropped: {reasons})")

    texts = _convert(kept, config)
    buckets = [split_bucket(p.text) for p in kept]
    is_val = [b < config.val_fraction for b in buckets]
    if len(kept) >= 2 and config.val_fraction > 0:
        if not any(is_val):
            is_val[min(range(len(kept)), key=buckets.__getitem__)] = True
        if all(is_val):
            is_val[max(range(len(kept)), key=buckets.__getitem__)] = False
    train: list[Document] = []
    val: list[Document] = []
    for poem, text, v in zip(kept, texts, is_val, strict=True):
        (val if v else train).append(Document(text, (poem.control,)))

    controls = tuple(t for t in CONTROL_TOKENS if not (config.forms_only and t == OTHER))
    forms = Counter(p.control for p in kept)
    stats = {
        "poems_read": read,
        "kept": len(kept),
        "dropped": dict(dropped),
        "notes_removed": notes_removed,
        "forms": {t: forms.get(t, 0) for t in controls},
        "characters": sum(len(t) for t in texts),
        "script": config.script,
        "conversion": config.conversion if config.script != SOURCE_SCRIPT else "none",
        "forms_only": config.forms_only,
    }
    split = {
        "unit": "poem",
        "method": "sha1(cleaned text, source script)[:4] / 2**32 < val_fraction",
        "val_fraction": config.val_fraction,
        "train": len(train),
        "val": len(val),
    }
    return Corpus(domain="tang", name=info.name, sha256=info.sha256, size=info.size,
                  train=train, val=val, continuous=False, control_tokens=controls,
                  split=split, stats=stats)
