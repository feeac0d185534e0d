"""``PoemRequest``: what a user asks of a Tang poem, checked before any model is touched.

Owns the request options shared by the CLI, the bot and the magic, and every check that
needs no vocabulary (the vocabulary checks are in ``poem.prepare_poem``). Imports only
``forms`` and ``shared_model.errors``; never numpy-heavy code, torch or training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from shared_model.domains.tang.forms import FORMS, Form, is_hanzi, parse_form
from shared_model.errors import InvalidRequest

RHYMES = ("xinyun", "pingshui", "none")
TONES = ("modern", "pingshui")
OUTPUT_SCRIPTS = ("simplified", "traditional")


def _check_chinese(value: str, what: str) -> None:
    bad = [ch for ch in value if not is_hanzi(ch)]
    if bad:
        shown = "".join(dict.fromkeys(bad))
        raise InvalidRequest(f"{what} must be Chinese characters only; {shown!r} is not")


@dataclass(frozen=True)
class PoemRequest:
    """A Tang poem request (defaults: a 五言绝句 rhymed by 中华新韵, no repeats).

    Attributes:
        form: ``5j`` ``7j`` ``5l`` ``7l`` (or 五绝, 七律, ...); None: from the acrostic
            (4 characters -> 5j, 8 -> 5l), else 5j.
        acrostic: 藏头: the first character of every line (4 or 8 characters).
        prompt: the opening characters of the poem (at most one line, no punctuation).
        rhyme: ``xinyun`` (中华新韵), ``pingshui`` (平水韵) or ``none``.
        rhyme_first_line: line 1 rhymes too (common in 七言).
        tonal: enforce 平仄 at the 2nd/4th/6th characters (standard pattern, 粘对) and
            at line ends (rhyming lines 平, the others 仄).
        tones: where tone classes come from: ``modern`` (pypinyin, 入声 lost) or
            ``pingshui`` (平水韵 membership, 入声 kept).
        no_repeat: no character twice in the poem unless the model prefers the repeat
            by at least ``repeat_margin`` nats over the best fresh character.
        keywords: characters to steer the theme by (corpus co-occurrence PMI).
        keyword_strength: scale of the keyword bias, in nats (0 turns it off).
        script: output script; None: the model's own.
    """

    domain: ClassVar[str] = "tang"

    form: str | None = None
    acrostic: str = ""
    prompt: str = ""
    rhyme: str = "xinyun"
    rhyme_first_line: bool = False
    tonal: bool = False
    tones: str = "modern"
    no_repeat: bool = True
    repeat_margin: float = 4.0
    keywords: tuple[str, ...] = ()
    keyword_strength: float = 1.5
    script: str | None = None

    def __post_init__(self) -> None:
        if self.form is not None:
            object.__setattr__(self, "form", parse_form(self.form).code)
        object.__setattr__(self, "acrostic", "".join(self.acrostic.split()))
        object.__setattr__(self, "prompt", "".join(self.prompt.split()))
        if isinstance(self.keywords, str):
            object.__setattr__(self, "keywords", (self.keywords,))
        object.__setattr__(self, "keywords", tuple(k.strip() for k in self.keywords if k.strip()))
        if self.rhyme not in RHYMES:
            raise InvalidRequest(f"unknown rhyme scheme {self.rhyme!r}; choose one of: {', '.join(RHYMES)}")
        if self.tones not in TONES:
            raise InvalidRequest(f"unknown tone scheme {self.tones!r}; choose one of: {', '.join(TONES)}")
        if self.script is not None and self.script not in OUTPUT_SCRIPTS:
            raise InvalidRequest(
                f"unknown script {self.script!r}; choose one of: {', '.join(OUTPUT_SCRIPTS)}")
        if not (self.repeat_margin >= 0 and not math.isnan(self.repeat_margin)):
            raise InvalidRequest(f"repeat margin must be a number >= 0, got {self.repeat_margin}")
        if not 0 <= self.keyword_strength <= 20:
            raise InvalidRequest(f"keyword strength must be between 0 and 20, got {self.keyword_strength}")
        self._check_acrostic()
        self._check_prompt()
        for keyword in self.keywords:
            _check_chinese(keyword, "a keyword")

    def _check_acrostic(self) -> None:
        if not self.acrostic:
            return
        _check_chinese(self.acrostic, "the acrostic")
        if len(self.acrostic) not in (4, 8):
            raise InvalidRequest(
                f"an acrostic has 4 characters (绝句) or 8 (律诗), not {len(self.acrostic)}")
        if self.form is not None and FORMS[self.form].line_count != len(self.acrostic):
            form = FORMS[self.form]
            raise InvalidRequest(
                f"a {len(self.acrostic)}-character acrostic does not fit form {form.code} "
                f"({form.name}, {form.line_count} lines)")

    def _check_prompt(self) -> None:
        if not self.prompt:
            return
        _check_chinese(self.prompt, "the prompt")
        form = self.resolved_form()
        if len(self.prompt) > form.line_length:
            raise InvalidRequest(
                f"the prompt has {len(self.prompt)} characters, longer than a line of "
                f"{form.name} ({form.line_length}); give at most the opening line")
        if self.acrostic and self.prompt[0] != self.acrostic[0]:
            raise InvalidRequest(
                f"the prompt starts with {self.prompt[0]!r} but the acrostic with {self.acrostic[0]!r}")

    def resolved_form(self) -> Form:
        """The form to write: as asked, else 4/8 lines from the acrostic, else 5j."""
        if self.form is not None:
            return FORMS[self.form]
        if len(self.acrostic) == 8:
            return FORMS["5l"]
        return FORMS["5j"]
