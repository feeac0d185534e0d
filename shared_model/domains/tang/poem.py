"""From a ``PoemRequest`` and a model's vocabulary to a decoding plan, and back to a poem.

Owns ``prepare_poem`` (vocabulary checks, script conversion of the user's characters,
the prefix to feed, a fresh ``TangConstraint``) and ``PoemResult`` (the poem as text,
lines and JSON). The API the CLI, the bot and the magic share:

    plan = prepare_poem(meta.vocab, request, special_tokens=meta.special_tokens,
                        extra=meta.extra)
    # feed plan.prefix_ids (= <bos>, plan.controls, plan.prompt_text), then decode with
    # plan.constraint (one per sampled row: plan.new_constraint()), at most
    # plan.max_new_tokens; then, with the generated ids only:
    result = plan.result(generated)        # result.text, result.lines, result.to_dict()

numpy only (pypinyin lazily when a model carries no phonology table); never torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared_model.domains.tang.check import check_tokens
from shared_model.domains.tang.constraints import TangConstraint, TangRules, poem_ids
from shared_model.domains.tang.forms import Form, format_poem, split_lines
from shared_model.domains.tang.keywords import keyword_bias
from shared_model.domains.tang.request import PoemRequest
from shared_model.domains.tang.script import convert_chars, convert_text
from shared_model.domains.tang.tables import TangVocab, tang_vocab, vocab_phonology
from shared_model.errors import InvalidRequest


@dataclass(frozen=True)
class PoemResult:
    """A finished poem: tang text format (``，``/``。``, no newline) in the output script."""

    text: str
    lines: list[str]
    form: str
    script: str
    report: dict[str, Any] = field(default_factory=dict)

    def formatted(self) -> str:
        """One couplet per display line."""
        return format_poem(self.text)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` fields the tang domain contributes (poem, lines, constraints)."""
        return {"text": self.text, "poem": self.formatted(), "lines": self.lines,
                "form": self.form, "script": self.script, "constraints": self.report}


@dataclass
class PoemPlan:
    """What to feed and how to constrain one poem request.

    Attributes:
        prefix_ids: ``<bos>``, the form's control token (when the model has it) and
            the prompt's characters: feed these, then generate.
        prompt_ids: the prompt's characters alone.
        controls: the control tokens in ``prefix_ids`` (``("<7l>",)``; empty for a model
            trained without them).
        prompt_text: the prompt converted to the model's script.
        max_new_tokens: enough for the rest of the poem and ``<eos>``.
    """

    request: PoemRequest
    form: Form
    tv: TangVocab
    prefix_ids: list[int]
    prompt_ids: list[int]
    constraint: TangConstraint
    model_script: str
    keywords_used: dict[str, str]
    max_new_tokens: int
    controls: tuple[str, ...] = ()
    prompt_text: str = ""

    def new_constraint(self) -> TangConstraint:
        """A fresh constraint with the same rules (one per sampled row)."""
        return TangConstraint(self.tv, self.constraint.rules)

    def result(self, generated: Sequence[int], constraint: TangConstraint | None = None,
               report: dict[str, Any] | None = None) -> PoemResult:
        """The poem from the generated ids (without the prefix; specials are dropped).

        ``constraint``: the one that decoded this row, if not ``self.constraint``;
        ``report``: that constraint's ``report()`` when only the report is at hand.
        """
        ids = poem_ids(self.tv, list(self.prompt_ids) + list(generated))
        text = "".join(self.tv.vocab[t] for t in ids)
        script = self.request.script or self.model_script
        if script != self.model_script:
            text = convert_text(text, script, "phrase")
        report = dict(report) if report is not None else (constraint or self.constraint).report()
        report["held"] = check_tokens(self.tv, self.constraint.rules, ids)
        if self.keywords_used:
            report["keywords"] = self.keywords_used
        return PoemResult(text, split_lines(text), self.form.code, script, report)

    def check_text(self, text: str) -> dict[str, Any]:
        """Which of this request's rules a poem text satisfies (e.g. unconstrained output)."""
        ids = [self.tv.ids.get(ch, -1) for ch in "".join(text.split())]
        if any(i < 0 for i in ids):
            return check_tokens(self.tv, self.constraint.rules, [])
        return check_tokens(self.tv, self.constraint.rules, ids)


def _model_chars(tv: TangVocab, text: str, script: str, what: str) -> list[int]:
    """Ids of the user's characters, converted to the model's script first."""
    return [tv.id_of(ch, what) for ch in convert_chars(text, script)]


def prepare_poem(vocab: Sequence[str], request: PoemRequest, *,
                 special_tokens: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None) -> PoemPlan:
    """Resolve ``request`` against a model's vocabulary (and metadata ``extra``).

    Raises:
        InvalidRequest: a character of the acrostic, prompt or keywords the model does
            not know, keywords for a model without a keyword table, or a vocabulary
            without Chinese characters, ``，``, ``。``, ``<bos>`` or ``<eos>``.
    """
    extra = extra or {}
    tv = tang_vocab(vocab, special_tokens)
    model_script = str(extra.get("script", "simplified"))
    form = request.resolved_form()
    acrostic = tuple(_model_chars(tv, request.acrostic, model_script, "acrostic character"))
    prompt = _model_chars(tv, request.prompt, model_script, "prompt character")

    bias: np.ndarray | None = None
    used: dict[str, str] = {}
    if request.keywords and request.keyword_strength > 0:
        keywords = [convert_chars(k, model_script) for k in request.keywords]
        for k in keywords:
            _model_chars(tv, k, model_script, "keyword")
        table = extra.get("keyword_pmi")
        if not table:
            raise InvalidRequest("this model carries no keyword table; it cannot steer by keywords")
        bias, used = keyword_bias(table, tv.vocab, keywords, request.keyword_strength)

    rhyme = None
    if request.rhyme != "none":
        rhyme = vocab_phonology(tv, request.rhyme, script=model_script, extra=extra)
    tones = None
    if request.tonal:
        scheme = "xinyun" if request.tones == "modern" else "pingshui"
        tones = vocab_phonology(tv, scheme, script=model_script, extra=extra)
    rules = TangRules(form=form, acrostic_ids=acrostic, rhyme=rhyme,
                      rhyme_first_line=request.rhyme_first_line, tones=tones,
                      no_repeat=request.no_repeat, repeat_margin=request.repeat_margin, bias=bias)
    controls = [tv.ids[form.control]] if form.control in tv.ids else []
    return PoemPlan(
        request=request, form=form, tv=tv,
        prefix_ids=[tv.bos_id, *controls, *prompt], prompt_ids=prompt,
        constraint=TangConstraint(tv, rules), model_script=model_script,
        keywords_used=used, max_new_tokens=form.num_tokens - len(prompt) + 1,
        controls=tuple(tv.vocab[i] for i in controls),
        prompt_text="".join(tv.vocab[i] for i in prompt))
