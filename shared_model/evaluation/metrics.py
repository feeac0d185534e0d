"""Automatic metrics stored beside human ratings: distinct-n, BLEU, ROUGE, perplexity hook.

Owns the text units metrics are computed on (Chinese: one unit per character, punctuation
and spaces dropped; other text: lower-cased words), distinct-1/2, sentence BLEU (sacrebleu,
``zh`` tokenisation for Chinese) and ROUGE-1/2/L F1 (rouge-score, per character for Chinese)
against references when a reference set is given, and ``compute_metrics`` which gathers them
with values the runtime measures itself (perplexity of the generating model on its output)
and domain checks (e.g. Tang form compliance). Pure functions: no I/O, no clock. sacrebleu
and rouge-score are imported inside the function that needs them. Never imports torch,
training, exporters or storage.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Literal

from shared_model.errors import InvalidRequest

Unit = Literal["auto", "char", "word"]

_WORD = re.compile(r"\w+", re.UNICODE)


def is_cjk_char(ch: str) -> bool:
    """A Han character (CJK unified ideographs, extensions, compatibility ideographs)."""
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F
            or 0xF900 <= cp <= 0xFAFF)


def is_cjk(text: str) -> bool:
    """True when at least half of the letters in ``text`` are Han characters."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(map(is_cjk_char, letters)) * 2 >= len(letters)


def text_units(text: str, unit: Unit = "auto") -> list[str]:
    """The units metrics count: characters for Chinese, lower-cased words otherwise."""
    if not isinstance(text, str):
        raise InvalidRequest(f"metrics need text, got {type(text).__name__}")
    if unit == "auto":
        unit = "char" if is_cjk(text) else "word"
    if unit == "char":
        return [c for c in text
                if not c.isspace() and not unicodedata.category(c).startswith(("P", "S"))]
    if unit == "word":
        return [w.lower() for w in _WORD.findall(text)]
    raise InvalidRequest(f"unit must be auto, char or word, got {unit!r}")


def ngrams(units: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]


def distinct_n(texts: str | Sequence[str], n: int, unit: Unit = "auto") -> float | None:
    """Distinct-n (Li et al. 2016): unique n-grams / all n-grams over ``texts``.

    Returns None when the texts hold no n-gram at all.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidRequest(f"n must be a positive integer, got {n!r}")
    items = [texts] if isinstance(texts, str) else list(texts)
    grams = [g for t in items for g in ngrams(text_units(t, unit), n)]
    if not grams:
        return None
    return len(set(grams)) / len(grams)


def _references(references: str | Sequence[str]) -> list[str]:
    refs = [references] if isinstance(references, str) else list(references)
    if not refs or not all(isinstance(r, str) for r in refs):
        raise InvalidRequest("references must be one or more texts")
    return refs


def bleu(hypothesis: str, references: str | Sequence[str]) -> float:
    """Sentence BLEU (0-100, sacrebleu's default smoothing); Chinese tokenised per character."""
    try:
        import sacrebleu
    except ImportError:
        raise InvalidRequest("BLEU needs sacrebleu: pip install sacrebleu") from None
    refs = _references(references)
    tokenize = "zh" if is_cjk(hypothesis + "".join(refs)) else "13a"
    return float(sacrebleu.sentence_bleu(hypothesis, refs, tokenize=tokenize).score)


class _UnitTokenizer:
    """rouge-score tokenizer over ``text_units`` (its default drops every Han character)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    def tokenize(self, text: str) -> list[str]:
        return text_units(text, self.unit)


def rouge(hypothesis: str, references: str | Sequence[str]) -> dict[str, float]:
    """ROUGE-1/2/L F1 (0-1), the best over the references; Chinese per character."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise InvalidRequest("ROUGE needs rouge-score: pip install rouge-score") from None
    refs = _references(references)
    unit: Unit = "char" if is_cjk(hypothesis + "".join(refs)) else "word"
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"],
                                      tokenizer=_UnitTokenizer(unit))
    best = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for ref in refs:
        scores = scorer.score(ref, hypothesis)  # (target, prediction)
        for key in best:
            best[key] = max(best[key], float(scores[key].fmeasure))
    return best


def compute_metrics(text: str, *, references: str | Sequence[str] | None = None,
                    perplexity: float | None = None,
                    checks: Mapping[str, float | bool] | None = None) -> dict[str, float]:
    """Every automatic metric for one generation, ready for ``GenerationRecord.metrics``.

    Args:
        text: the generated text.
        references: reference text(s); adds ``bleu``, ``rouge1``, ``rouge2``, ``rougeL``.
        perplexity: the generating model's perplexity on ``text``, measured by the runtime
            (this module does not run models).
        checks: domain checks, e.g. ``{"form_ok": True, "rhyme_rate": 0.75}``; stored as
            ``check_<name>`` (booleans as 0/1).
    """
    out: dict[str, float] = {}
    for n in (1, 2):
        value = distinct_n(text, n)
        if value is not None:
            out[f"distinct_{n}"] = value
    if references is not None:
        out["bleu"] = bleu(text, references)
        out.update(rouge(text, references))
    if perplexity is not None:
        if isinstance(perplexity, bool) or not isinstance(perplexity, int | float) \
                or not math.isfinite(perplexity) or perplexity < 1.0:
            raise InvalidRequest(f"perplexity must be a finite number >= 1, got {perplexity!r}")
        out["perplexity"] = float(perplexity)
    for name, value in (checks or {}).items():
        if not isinstance(value, bool | int | float) or not math.isfinite(float(value)):
            raise InvalidRequest(f"domain check {name!r} must be a number or a boolean")
        out[f"check_{name}"] = float(value)
    return out
