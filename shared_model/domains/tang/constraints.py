"""``TangConstraint``: the form, acrostic, rhyme, tone, no-repeat and keyword rules as
per-step logit adjustments (the protocol of ``shared_model.serving.constraints``).

Owns the decoding state machine and its back-off. numpy only, over the cached arrays
of ``tables``; never torch or training. Built by ``poem.prepare_poem``.

The poem so far is the prompt's characters plus the generated ids (special and control
tokens in the prompt are skipped, so the decoder may pass them or not). At token index
``i`` (line, col) = divmod(i, L + 1):

- col == L: only ``，`` (odd lines) or ``。`` (even lines); after the last line the poem
  is complete (``finished``) and only ``<eos>`` is allowed;
- col == 0 with an acrostic: only that line's character;
- otherwise a Chinese character, and, each rule a boolean mask over the vocabulary:
  rhyme (last character of lines 2, 4, ... and optionally 1: a level-tone group shared
  with every rhyme so far), tone (2nd/4th/6th characters follow 二四六分明 with 粘对
  between lines, the first unambiguous one fixing 平起/仄起; line ends 平 on rhyming
  lines, 仄 elsewhere), no-repeat (a character already in the poem, or a later
  acrostic character, only if the model's logit beats the best fresh one by
  ``repeat_margin``).

Back-off: when no token survives, rhyme is dropped for that position, then tone, then
no-repeat; each relaxation is recorded and shown by ``report()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared_model.domains.tang.forms import Form
from shared_model.domains.tang.phonology import VocabPhonology
from shared_model.domains.tang.tables import TangVocab
from shared_model.serving.constraints import StepState

RELAX_ORDER = ("rhyme", "tone", "repeat")
# 粘对: the tone class of a line's 2nd character, relative to line 1's, flips as 0 1 1 0.
_LINE_FLIP = (0, 1, 1, 0, 0, 1, 1, 0)


@dataclass(frozen=True, eq=False)
class TangRules:
    """The resolved, id-level rules of one request (see ``poem.prepare_poem``)."""

    form: Form
    acrostic_ids: tuple[int, ...] = ()
    rhyme: VocabPhonology | None = None
    rhyme_first_line: bool = False
    tones: VocabPhonology | None = None
    no_repeat: bool = True
    repeat_margin: float = 4.0
    bias: np.ndarray | None = None  # [V] float32 keyword steering

    def rhyme_lines(self) -> frozenset[int]:
        lines = {i for i in range(self.form.line_count) if i % 2 == 1}
        return frozenset(lines | {0}) if self.rhyme_first_line else frozenset(lines)


def expected_tone(k1: int, line: int, col: int) -> int:
    """0 (平) or 1 (仄) expected at 0-based ``col`` 1, 3 or 5 of ``line`` given line 1's key."""
    return k1 ^ _LINE_FLIP[line % 8] ^ (1 if col == 3 else 0)


class TangConstraint:
    """Per-request decoding state implementing the constraint protocol."""

    def __init__(self, tv: TangVocab, rules: TangRules) -> None:
        self.tv = tv
        self.rules = rules
        self.form = rules.form
        self._rhyme_lines = rules.rhyme_lines()
        self._tone_cols = tuple(c for c in (1, 3, 5) if c < self.form.line_length - 1)
        V = len(tv.vocab)
        self._zeros = np.zeros(V, dtype=np.float32)
        self._neg = np.full(V, -np.inf, dtype=np.float32)
        self._acrostic_future = np.zeros(V, dtype=bool)
        self._only: dict[int, np.ndarray] = {}
        self._reset()

    def _reset(self) -> None:
        self._tokens: list[int] = []
        self._used = np.zeros(len(self.tv.vocab), dtype=bool)
        self._acrostic_future[:] = False
        self._acrostic_future[list(self.rules.acrostic_ids)] = True
        # Characters neither used nor reserved for a later acrostic line (only shrinks).
        self._fresh = self.tv.hanzi & ~self._acrostic_future
        rhyme = self.rules.rhyme
        self._target = rhyme.level.copy() if rhyme is not None else None
        self._k1: int | None = None
        self._relaxed: list[dict[str, Any]] = []
        self._repeats: list[dict[str, Any]] = []

    # -- state ------------------------------------------------------------------

    def _poem_tokens(self, state: StepState) -> list[int]:
        hanzi, tv = self.tv.hanzi, self.tv
        prompt = [t for t in state.prompt if hanzi[t] or t in (tv.comma_id, tv.period_id)]
        return prompt + list(state.generated)

    def _sync(self, state: StepState) -> int:
        """Fold tokens not yet seen into the state; the index of the next token."""
        tokens = self._poem_tokens(state)
        if tokens[:len(self._tokens)] != self._tokens:
            self._reset()  # a new request reusing this object
        L = self.form.line_length
        for i in range(len(self._tokens), len(tokens)):
            line, col = divmod(i, L + 1)
            if col < L and line < self.form.line_count:
                self._fold_char(tokens[i], line, col)
        self._tokens = tokens
        return len(tokens)

    def _fold_char(self, t: int, line: int, col: int) -> None:
        L = self.form.line_length
        acrostic = self.rules.acrostic_ids
        if acrostic and col == 0:
            self._acrostic_future[t] = False
        elif self._used[t] or self._acrostic_future[t]:
            self._repeats.append({"char": self.tv.vocab[t], "line": line + 1, "position": col + 1})
        self._used[t] = True
        self._fresh[t] = False
        tones = self.rules.tones
        if tones is not None and self._k1 is None and col in self._tone_cols:
            p, z = bool(tones.ping[t]), bool(tones.ze[t])
            if p != z:
                self._k1 = (0 if p else 1) ^ _LINE_FLIP[line % 8] ^ (1 if col == 3 else 0)
        rhyme = self.rules.rhyme
        if rhyme is not None and self._target is not None and col == L - 1 and line in self._rhyme_lines:
            narrowed = self._target & rhyme.rhyme[t]
            if narrowed.any():
                self._target = narrowed

    # -- protocol -------------------------------------------------------------------

    def _single(self, token: int) -> np.ndarray:
        out = self._only.get(token)
        if out is None:
            out = self._neg.copy()
            out[token] = 0.0
            self._only[token] = out
        return out.copy()  # callers may write into what they get

    def _rule_masks(self, line: int, col: int) -> dict[str, np.ndarray]:
        rules: dict[str, np.ndarray] = {}
        L = self.form.line_length
        is_end = col == L - 1
        rhyming = line in self._rhyme_lines
        if self.rules.rhyme is not None and self._target is not None and is_end and rhyming:
            rules["rhyme"] = np.asarray(self.rules.rhyme.rhyme[:, self._target].any(axis=1))
        tones = self.rules.tones
        if tones is not None:
            if is_end:
                rules["tone"] = tones.ping if rhyming else tones.ze
            elif col in self._tone_cols:
                if self._k1 is None:
                    rules["tone"] = tones.ping | tones.ze
                else:
                    rules["tone"] = tones.ping if expected_tone(self._k1, line, col) == 0 else tones.ze
        return rules

    def _allowed(self, line: int, col: int, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The allowed tokens after back-off, and their 0/-inf vector if already built."""
        rules = self._rule_masks(line, col)
        no_repeat = self.rules.no_repeat
        steps = [r for r in RELAX_ORDER if r in rules or (r == "repeat" and no_repeat)]
        for name in [None, *steps]:
            if name == "repeat":
                no_repeat = False
            elif name is not None:
                del rules[name]
            if name is not None:
                self._relaxed.append({"rule": name, "line": line + 1, "position": col + 1})
            allowed = self._fresh if no_repeat else self.tv.hanzi
            for mask in rules.values():
                allowed = allowed & mask
            if not allowed.any():
                continue
            if no_repeat:
                return self._with_preferred_repeats(allowed, rules, logits)
            return allowed, None
        return self.tv.hanzi, None

    def _with_preferred_repeats(self, fresh: np.ndarray, rules: dict[str, np.ndarray],
                                logits: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Add used characters the model prefers by ``repeat_margin`` over the best fresh one."""
        penalty = np.where(fresh, self._zeros, self._neg)
        bar = float((logits + penalty).max()) + self.rules.repeat_margin
        if not float(logits.max()) >= bar:  # the usual case: nothing used is that strong
            return fresh, penalty
        hot = (logits >= bar) & self.tv.hanzi & ~self._fresh
        for mask in rules.values():
            hot &= mask
        return fresh | hot, None

    def adjust(self, state: StepState) -> np.ndarray | None:
        """Additive logits [V]: 0 (plus keyword bias) where allowed, -inf elsewhere."""
        i = self._sync(state)
        L = self.form.line_length
        line, col = divmod(i, L + 1)
        if line >= self.form.line_count:
            return self._single(self.tv.eos_id)
        if col == L:
            return self._single(self.tv.comma_id if line % 2 == 0 else self.tv.period_id)
        if self.rules.acrostic_ids and col == 0:
            return self._single(self.rules.acrostic_ids[line])
        allowed, penalty = self._allowed(line, col, np.asarray(state.logits))
        if penalty is None:
            penalty = np.where(allowed, self._zeros, self._neg)
        return penalty if self.rules.bias is None else penalty + self.rules.bias

    def finished(self, state: StepState) -> bool:
        """True once the last line's ``。`` is in (or the model produced ``<eos>``)."""
        generated = state.generated
        if generated and generated[-1] == self.tv.eos_id:
            return True
        return self._sync(state) >= self.form.num_tokens

    def report(self) -> dict[str, Any]:
        """The rules asked for, whether each held in the poem so far, and what was relaxed."""
        from shared_model.domains.tang.check import check_tokens

        held = check_tokens(self.tv, self.rules, self._tokens)
        return {
            "form": self.form.code,
            "rules": {
                "acrostic": bool(self.rules.acrostic_ids),
                "rhyme": self.rules.rhyme.scheme if self.rules.rhyme is not None else None,
                "rhyme_first_line": self.rules.rhyme_first_line,
                "tonal": self.rules.tones.scheme if self.rules.tones is not None else None,
                "no_repeat": self.rules.no_repeat,
                "keywords": self.rules.bias is not None,
            },
            "held": held,
            "relaxed": list(self._relaxed),
            "repeats": list(self._repeats),
        }


def poem_ids(tv: TangVocab, ids: Sequence[int]) -> list[int]:
    """The characters and ``，``/``。`` of ``ids`` (specials, controls and ``<eos>`` dropped)."""
    return [t for t in ids if tv.hanzi[t] or t in (tv.comma_id, tv.period_id)]
