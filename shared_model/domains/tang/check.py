"""Checking a finished poem against the rules of a request, independent of decoding.

Owns the verdicts reported as ``held`` in ``--json`` output and used by tests and the
quality benchmark: they are computed from the poem's tokens alone, never from what the
decoder believed, so a relaxed rule shows up as not held. numpy only; never torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared_model.domains.tang.constraints import TangRules, expected_tone, poem_ids
from shared_model.domains.tang.tables import TangVocab


def _lines(tv: TangVocab, rules: TangRules, tokens: Sequence[int]) -> list[list[int]] | None:
    """The lines as id lists if ``tokens`` have exactly the form, else None."""
    form = rules.form
    L = form.line_length
    if len(tokens) != form.num_tokens:
        return None
    lines = []
    for line in range(form.line_count):
        chunk = tokens[line * (L + 1):(line + 1) * (L + 1)]
        mark = tv.comma_id if line % 2 == 0 else tv.period_id
        if chunk[-1] != mark or not all(tv.hanzi[t] for t in chunk[:-1]):
            return None
        lines.append(list(chunk[:-1]))
    return lines


def _rhyme_holds(rules: TangRules, lines: list[list[int]]) -> bool:
    rhyme = rules.rhyme
    assert rhyme is not None
    target = rhyme.level.copy()
    for i in sorted(rules.rhyme_lines()):
        target &= rhyme.rhyme[lines[i][-1]]
        if not target.any():
            return False
    return True


def _tone_holds(rules: TangRules, lines: list[list[int]]) -> bool:
    tones = rules.tones
    assert tones is not None
    classes = (tones.ping, tones.ze)
    rhyme_lines = rules.rhyme_lines()
    L = rules.form.line_length
    for i, line in enumerate(lines):
        if not classes[0 if i in rhyme_lines else 1][line[-1]]:
            return False
    cols = [c for c in (1, 3, 5) if c < L - 1]
    return any(
        all(classes[expected_tone(k1, i, c)][line[c]] for i, line in enumerate(lines) for c in cols)
        for k1 in (0, 1))


def check_tokens(tv: TangVocab, rules: TangRules, ids: Sequence[int]) -> dict[str, Any]:
    """Which rules the poem ``ids`` satisfies: form, acrostic, rhyme, tone, no_repeat.

    A rule not asked for is None; with the form broken, the others are None too.
    Repeats count characters used twice outside acrostic positions.
    """
    tokens = poem_ids(tv, ids)
    lines = _lines(tv, rules, tokens)
    verdict: dict[str, Any] = {"form": lines is not None, "acrostic": None, "rhyme": None,
                               "tone": None, "no_repeat": None}
    if lines is None:
        return verdict
    if rules.acrostic_ids:
        verdict["acrostic"] = [line[0] for line in lines] == list(rules.acrostic_ids)
    if rules.rhyme is not None:
        verdict["rhyme"] = _rhyme_holds(rules, lines)
    if rules.tones is not None:
        verdict["tone"] = _tone_holds(rules, lines)
    if rules.no_repeat:
        skip = 1 if rules.acrostic_ids else 0
        chars = [t for line in lines for t in line[skip:]]
        heads = {line[0] for line in lines} if skip else set()
        verdict["no_repeat"] = len(set(chars)) == len(chars) and not heads & set(chars)
    return verdict
