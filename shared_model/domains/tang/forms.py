"""The regulated forms of Tang poetry and the text format every tang module relies on.

Owns: the four forms (五言/七言 绝句/律诗) with their control tokens, what counts as a
Chinese character here, and the poem text format. Imports only the standard library and
``shared_model.errors``; never torch or training.

Text format (training documents, prompts, generated poems): the lines with their
punctuation and nothing else, ``，`` after odd lines and ``。`` after even lines, no
newline, e.g. ``床前明月光，疑是地上霜。举头望明月，低头思故乡。`` A 七言律诗 is then
exactly 8 * (7 + 1) = 64 tokens. ``format_poem`` breaks it after each ``。`` for display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared_model.errors import InvalidRequest

COMMA = "，"
PERIOD = "。"
OTHER = "<other>"
_LINE_END = re.compile("[，。]")


@dataclass(frozen=True)
class Form:
    """One regulated form: ``line_count`` lines of ``line_length`` characters."""

    code: str
    name: str
    line_length: int
    line_count: int

    @property
    def control(self) -> str:
        """The control token placed after ``<bos>`` (``<7l>`` for 七言律诗)."""
        return f"<{self.code}>"

    @property
    def num_tokens(self) -> int:
        """Tokens of the whole poem, punctuation included (64 for 七律)."""
        return self.line_count * (self.line_length + 1)

    def punctuation(self, line: int) -> str:
        """The mark ending 0-based ``line``: ``，`` after odd lines, ``。`` after even ones."""
        return COMMA if line % 2 == 0 else PERIOD


FORMS: dict[str, Form] = {
    "5j": Form("5j", "五言绝句", 5, 4),
    "7j": Form("7j", "七言绝句", 7, 4),
    "5l": Form("5l", "五言律诗", 5, 8),
    "7l": Form("7l", "七言律诗", 7, 8),
}
CONTROL_TOKENS: tuple[str, ...] = tuple(f.control for f in FORMS.values()) + (OTHER,)

_ALIASES: dict[str, str] = {
    "五绝": "5j", "五言绝句": "5j", "五絕": "5j", "五言絕句": "5j",
    "七绝": "7j", "七言绝句": "7j", "七絕": "7j", "七言絕句": "7j",
    "五律": "5l", "五言律诗": "5l", "五言律詩": "5l",
    "七律": "7l", "七言律诗": "7l", "七言律詩": "7l",
}


def parse_form(name: str) -> Form:
    """The Form for ``5j``/``7j``/``5l``/``7l`` (also ``<7l>``, ``七律``, ``七言律诗``).

    Raises:
        InvalidRequest: an unknown form, naming the four known ones.
    """
    key = name.strip().strip("<>").lower()
    key = _ALIASES.get(key, key)
    form = FORMS.get(key)
    if form is None:
        choices = ", ".join(f"{f.code} ({f.name})" for f in FORMS.values())
        raise InvalidRequest(f"unknown poem form {name!r}; choose one of: {choices}")
    return form


def form_of_shape(line_length: int, line_count: int) -> Form | None:
    """The regulated form with this shape, or None (e.g. 6 lines, or 4-character lines)."""
    for form in FORMS.values():
        if (form.line_length, form.line_count) == (line_length, line_count):
            return form
    return None


def is_hanzi(ch: str) -> bool:
    """A CJK ideograph of the Basic Multilingual Plane (Unified, Extension A, Compatibility).

    Characters outside the BMP are left out on purpose: in this corpus they mark rare
    or garbled glyphs, and the cleaning rules drop poems that contain them.
    """
    if len(ch) != 1:
        return False
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def split_lines(text: str) -> list[str]:
    """The lines of a poem in the tang text format, without punctuation.

    ``"床前明月光，疑是地上霜。"`` -> ``["床前明月光", "疑是地上霜"]``. Whitespace and
    newlines (as in ``format_poem`` output) are ignored; an unterminated last line is kept.
    """
    lines = _LINE_END.split("".join(text.split()))
    return lines[:-1] if lines[-1] == "" else lines


def join_lines(lines: list[str]) -> str:
    """The tang text format for these lines (inverse of ``split_lines``)."""
    return "".join(line + (COMMA if i % 2 == 0 else PERIOD) for i, line in enumerate(lines))


def form_of_text(text: str) -> Form | None:
    """The regulated form a poem text has exactly (punctuation included), or None."""
    lines = split_lines(text)
    if not lines or join_lines(lines) != "".join(text.split()):
        return None
    lengths = {len(line) for line in lines}
    if len(lengths) != 1 or not all(is_hanzi(ch) for line in lines for ch in line):
        return None
    return form_of_shape(lengths.pop(), len(lines))


def format_poem(text: str) -> str:
    """One couplet per display line: a newline after each ``。`` (the tail kept as is)."""
    text = "".join(text.split())
    return "\n".join(part for part in text.replace(PERIOD, PERIOD + "\n").split("\n") if part)
