"""Cleaning rules for one Tang poem, and the form it is filed under.

Owns the rules below, each a pure function of the poem's text. Imports only the
standard library and ``forms``; never torch or training.

The rules, in the order they run (``clean_poem``; the drop reason counted in
``Corpus.stats["dropped"]`` is in brackets):

1. The ``paragraphs`` are joined and all whitespace removed. Nothing left -> [empty].
2. Editorial notes are removed with their content: ``（…）`` and ``(…)`` (variant
   readings such as ``（一作「叉」）``, nested ones from the inside out), ``〖…〗``
   (footnote numbers) and ``[…]`` (footnote numbers such as ``[一]`` and characters an
   editor supplied, such as ``[爽]``). Removing a supplied character shortens its line,
   so such a poem fails rule 7 and is dropped: a poem is kept only if its shape
   survives the removal.
3. Title and quotation marks are removed and their content kept: ``《長恨曲》`` inside a
   line is part of the verse (童子解吟《長恨曲》), as are quoted words.
4. Missing or garbled characters drop the poem [garbled]: ``□``, ``○``/``〇`` used as
   gaps, ``{…}`` glyph descriptions such as ``{𥫗/戢}``, characters outside the Basic
   Multilingual Plane, ASCII or full-width letters and digits, U+FFFD.
5. A bracket left over (a note cut off by the source) drops the poem [unbalanced_note].
6. Nothing but punctuation left -> [empty]. Punctuation: a run of marks counts as its
   strongest one (``。。`` is ``。``); the first line of each couplet must end in one of
   ``，；：、？！`` and the second in one of ``。？！；`` (questions and exclamations may
   end either line; a missing final mark is accepted). The text is rewritten with
   ``，`` and ``。`` only: ``夫子何为者？栖栖一代中。`` -> ``夫子何为者，栖栖一代中。``
7. Shape: an even number of lines, all of 5 or all of 7 characters, every character a
   BMP ideograph; anything else (杂言, 四言, 六言, an odd line count, other symbols,
   marks out of place) is dropped [irregular].
8. Form: 4 lines -> ``<5j>``/``<7j>`` (绝句), 8 lines -> ``<5l>``/``<7l>`` (律诗), any
   other number of couplets (排律, 古体 of regular lines) -> ``<other>``. The shape is
   all that is checked: tone patterns are not required of training poems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared_model.domains.tang.forms import OTHER, form_of_shape, is_hanzi, join_lines

DROP_REASONS = ("empty", "garbled", "unbalanced_note", "irregular")

_NOTE_PATTERNS = (
    re.compile(r"（[^（）]*）"),
    re.compile(r"\([^()]*\)"),
    re.compile(r"〖[^〖〗]*〗"),
    re.compile(r"\[[^\[\]]*\]"),
)
_KEEP_CONTENT_MARKS = re.compile(r"[《》〈〉「」『』“”‘’]")
_GARBLED = re.compile(r"[□■○〇{}\uFFFDA-Za-z0-9Ａ-Ｚａ-ｚ０-９]|[\U00010000-\U0010FFFF]")
_BRACKETS = re.compile(r"[（）()〖〗\[\]【】]")
_MARKS = "，；：、。？！"
_AFTER_ODD_LINE = frozenset("，；：、？！")  # ends the first line of a couplet
_AFTER_EVEN_LINE = frozenset("。？！；")  # ends a couplet
_MARK_RUN = re.compile(r"[，；：、。？！]+")
_STRENGTH = {ch: i for i, ch in enumerate("，、：；。！？")}


@dataclass(frozen=True)
class CleanedPoem:
    """A kept poem: text in the tang format, its control token, and what cleaning did."""

    text: str
    control: str
    notes_removed: bool


def remove_notes(text: str) -> str:
    """Rule 2: delete bracketed editorial notes with their content (inner ones first)."""
    previous = None
    while previous != text:
        previous = text
        for pattern in _NOTE_PATTERNS:
            text = pattern.sub("", text)
    return text


def regular_lines(text: str) -> list[str] | None:
    """Rules 6-7: the lines of a text of regular couplets, or None.

    A run of marks counts as its strongest mark. Line 1, 3, ... must end in one of
    ``，；：、？！`` and line 2, 4, ... in one of ``。？！；`` (a missing final mark is
    accepted); all lines 5 or all 7 BMP ideographs, an even number of them.
    """
    lines: list[str] = []
    start = 0
    for match in _MARK_RUN.finditer(text):
        mark = max(match.group(), key=_STRENGTH.__getitem__)
        allowed = _AFTER_ODD_LINE if len(lines) % 2 == 0 else _AFTER_EVEN_LINE
        if mark not in allowed:
            return None
        lines.append(text[start:match.start()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    if not lines or len(lines) % 2 or len({len(line) for line in lines}) != 1:
        return None
    if len(lines[0]) not in (5, 7) or not all(is_hanzi(ch) for line in lines for ch in line):
        return None
    return lines


def clean_poem(paragraphs: list[str]) -> CleanedPoem | str:
    """Apply rules 1-8 to one poem: a CleanedPoem, or the drop reason (see DROP_REASONS)."""
    text = "".join("".join(paragraphs).split())
    if not text:
        return "empty"
    stripped = remove_notes(text)
    notes_removed = stripped != text
    stripped = _KEEP_CONTENT_MARKS.sub("", stripped)
    if _GARBLED.search(stripped):
        return "garbled"
    if _BRACKETS.search(stripped):
        return "unbalanced_note"
    if not stripped.strip(_MARKS):
        return "empty"
    lines = regular_lines(stripped)
    if lines is None:
        return "irregular"
    form = form_of_shape(len(lines[0]), len(lines))
    return CleanedPoem(join_lines(lines), form.control if form else OTHER, notes_removed)
