"""``SceneConstraint``: a play scene's speaker turns as per-step logit masks (the
protocol of ``shared_model.serving.constraints``).

Owns ``SceneVocab`` (a model vocabulary's id arrays and fixed mask vectors, computed
once per vocabulary and cached), ``SceneRules`` (one request, resolved) and the
decoding state machine. numpy only; never torch, onnxruntime or training. Built by
``scene.prepare_scene``.

The generated text, one character token at a time::

    scene := turn{N} <eos>
    turn  := [direction "\\n" "\\n"] NAME ":" "\\n" line ("\\n" line)* "\\n" "\\n"
    line  := a non-blank character, then characters other than "\\n" "[" "]"

- ``NAME`` is spelled by a trie over the allowed names, character by character, so a
  name the model never saw is written as asked. Allowed: the request's names, minus
  the previous speaker (``alternate``, with two or more names), narrowed to those who
  have not spoken yet once the remaining turns are just enough for them to speak
  (``everyone_speaks``).
- Only a blank line ends a turn, and the next thing after it is a header (or, with
  ``stage_directions``, one direction line ``[...]`` or ``Enter ...``/``Exit``/...,
  then a blank line, then a header). A line cannot start with whitespace, so no blank
  line hides inside a speech; the first line of a turn cannot be empty.
- A speech line may not become ``XXX:`` with ``XXX`` upper case (``ROMEO:``, ``KING
  LEAR:``): the colon is banned there, so no line reads as a header for anyone.
  Mixed-case lines that end in a colon (``She speaks:``) stay allowed: Shakespeare
  writes them, and only a header after a blank line starts a turn.
- Length: from ``WRAP_LINE_CHARS`` on, the model's space becomes a line break (its
  probability moves to ``\n``); a line ends after ``MAX_LINE_CHARS`` even mid-word
  (a model that never ends lines); a turn ends at the first line end
  after ``max_turn_chars`` speech characters; and the whole scene fits ``budget``
  tokens: each turn's speech is cut short when the turns still to come need the room
  (each needs at most ``len(longest name) + 5`` tokens). So every scene terminates
  with exactly N complete turns, then ``<eos>``.

A token the mask banned (a decoder that ignores ``adjust``) is counted in the report
and otherwise ignored, so the state stays consistent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from shared_model.domains.shakespeare.corpus import MAX_NAME_CHARS
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState
from shared_model.tokenizer import BASE_SPECIALS

MAX_LINE_CHARS = 100  # Tiny Shakespeare's longest line has 63 characters
WRAP_LINE_CHARS = 80  # from here a space becomes a line break
MAX_DIRECTION_CHARS = 60
DIRECTION_WORDS = ("Enter", "Exit", "Exeunt", "Re-enter")  # no word is a prefix of another
NEWLINE, COLON, OPEN, CLOSE = "\n", ":", "[", "]"

# phases of the state machine
_BOUNDARY = 0  # typing a header name (or a direction opener)
_HEADER_END = 1  # after "NAME:", the newline
_LINE_START = 2  # first character of a speech line (or "\n": end of turn)
_IN_LINE = 3
_DIR_BRACKET = 4  # inside "[...]"
_DIR_LINE = 5  # after a direction word, up to the line end
_DIR_NEWLINE = 6  # after "]": the newline
_DIR_BLANK = 7  # the blank line after a direction
_DONE = 8


@dataclass(frozen=True, eq=False)
class SceneVocab:
    """A model vocabulary seen by the scene constraint (index = token id).

    Attributes:
        ids: single-character text tokens -> id (special and control tokens left out).
        vectors: the fixed additive masks (float32 [V], 0 allowed / -inf banned, read-only)
            by name: ``newline``, ``eos``, ``close``, ``line_first``, ``line_next``,
            ``in_line``, ``in_line_no_colon``, ``in_line_wrap``, ``dir_first``, ``dir_after_word``,
            ``dir_text``, ``dir_text_or_close``, ``dir_text_or_newline``.
        upper, lower, alnum: per id, the token is an upper-case letter, a lower-case
            letter, a letter or digit (for the header look-alike check).
    """

    vocab: tuple[str, ...]
    ids: Mapping[str, int]
    newline_id: int
    colon_id: int
    eos_id: int
    space_id: int | None
    has_brackets: bool
    vectors: Mapping[str, np.ndarray]
    upper: tuple[bool, ...]
    lower: tuple[bool, ...]
    alnum: tuple[bool, ...]

    def id_of(self, ch: str, what: str) -> int:
        """The id of character ``ch``; InvalidRequest naming ``what`` if the model lacks it."""
        i = self.ids.get(ch)
        if i is None:
            raise InvalidRequest(f"{what}: the character {ch!r} is not in this model's vocabulary")
        return i

    def vector(self, ids: Sequence[int]) -> np.ndarray:
        """A read-only float32 [V] mask allowing exactly ``ids``."""
        out = np.full(len(self.vocab), -np.inf, dtype=np.float32)
        out[list(ids)] = 0.0
        out.flags.writeable = False
        return out


def _mask_vector(allowed: np.ndarray) -> np.ndarray:
    out = np.where(allowed, np.float32(0.0), np.float32(-np.inf)).astype(np.float32)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=8)
def _scene_vocab(vocab: tuple[str, ...], specials: tuple[str, ...], eos: str) -> SceneVocab:
    special = set(specials)
    ids = {tok: i for i, tok in enumerate(vocab) if len(tok) == 1 and tok not in special}
    missing = [repr(ch) for ch in (NEWLINE, COLON) if ch not in ids]
    if eos not in vocab:
        missing.append(eos)
    if missing:
        raise InvalidRequest("this model cannot write play scenes: its vocabulary lacks "
                             + " and ".join(missing))
    V = len(vocab)
    text = np.zeros(V, dtype=bool)  # may appear inside a line
    for tok, i in ids.items():
        text[i] = (tok.isprintable() or tok == "\t") and tok not in (OPEN, CLOSE)
    space = np.array([len(t) == 1 and t.isspace() for t in vocab], dtype=bool)
    alpha = text & np.array([len(t) == 1 and t.isalpha() for t in vocab], dtype=bool)
    line_first = text & ~space
    if not line_first.any():
        raise InvalidRequest("this model cannot write play scenes: its vocabulary has no "
                             "printable characters")
    nl, colon, eos_id = ids[NEWLINE], ids[COLON], vocab.index(eos)
    has_brackets = OPEN in ids and CLOSE in ids

    def with_ids(base: np.ndarray, *extra: int, without: Sequence[int] = ()) -> np.ndarray:
        m = base.copy()
        m[list(extra)] = True
        m[list(without)] = False
        return _mask_vector(m)

    only = np.zeros(V, dtype=bool)
    dir_text = text.copy()
    dir_text[colon] = False  # "Enter ROMEO:" would read as a header
    vectors = {
        "newline": with_ids(only, nl),
        "eos": with_ids(only, eos_id),
        "close": with_ids(only, ids[CLOSE]) if has_brackets else with_ids(only, nl),
        "line_first": _mask_vector(line_first),
        "line_next": with_ids(line_first, nl),
        "in_line": with_ids(text, nl),
        "in_line_no_colon": with_ids(text, nl, without=[colon]),
        "in_line_wrap": with_ids(text, nl, without=[ids[" "]] if " " in ids else []),
        "dir_first": _mask_vector(dir_text & alpha),
        "dir_after_word": with_ids(only, nl, *([ids[" "]] if " " in ids else [])),
        "dir_text": _mask_vector(dir_text),
        "dir_text_or_close": with_ids(dir_text, ids[CLOSE]) if has_brackets else _mask_vector(dir_text),
        "dir_text_or_newline": with_ids(dir_text, nl),
    }
    upper = tuple(len(t) == 1 and t.isupper() and t not in special for t in vocab)
    lower = tuple(len(t) == 1 and t.islower() and t not in special for t in vocab)
    alnum = tuple(len(t) == 1 and t.isalnum() and t not in special for t in vocab)
    return SceneVocab(vocab, ids, nl, colon, eos_id, ids.get(" "), has_brackets, vectors,
                      upper, lower, alnum)


def scene_vocab(vocab: Sequence[str], special_tokens: Mapping[str, str] | None = None) -> SceneVocab:
    """The cached ``SceneVocab`` of a model vocabulary.

    Raises:
        InvalidRequest: the vocabulary lacks ``\\n``, ``:`` or ``<eos>``.
    """
    specials = dict(special_tokens or BASE_SPECIALS)
    return _scene_vocab(tuple(vocab), tuple(sorted(specials.values())),
                        specials.get("eos", BASE_SPECIALS["eos"]))


@dataclass(frozen=True)
class SceneRules:
    """One scene request, resolved against a vocabulary (see ``scene.prepare_scene``).

    Attributes:
        names: the speakers as they are spelled in headers.
        turns: complete turns to generate (the prompt's opened turn counts as one).
        opened_chars: characters of speech already in the prompt's opened turn (its
            first line and newline), or None when the scene starts with a header.
        budget: most tokens to generate, ``<eos>`` included.
    """

    names: tuple[str, ...]
    turns: int
    max_turn_chars: int = 600
    stage_directions: bool = False
    alternate: bool = True
    everyone_speaks: bool = True
    opened_chars: int | None = None
    budget: int = 4096

    @property
    def min_turn_tokens(self) -> int:
        """The fewest tokens one more turn can take: ``NAME:\\n`` + ``x\\n`` + ``\\n``."""
        return max(len(n) for n in self.names) + 5


class SceneConstraint:
    """Per-request decoding state implementing the constraint protocol."""

    def __init__(self, sv: SceneVocab, rules: SceneRules,
                 mask_cache: dict[tuple[Any, ...], np.ndarray] | None = None) -> None:
        self.sv = sv
        self.rules = rules
        for name in rules.names:
            for ch in name:
                sv.id_of(ch, f"speaker name {name!r}")
        self._openers = tuple(w for w in ((OPEN,) if sv.has_brackets else ()) + DIRECTION_WORDS
                              if all(ch in sv.ids for ch in w))
        if rules.stage_directions and not self._openers:
            raise InvalidRequest("this model cannot write stage directions: its vocabulary "
                                 "has neither brackets nor the letters of Enter/Exit")
        self._masks = mask_cache if mask_cache is not None else {}
        self._reset()

    # -- state ----------------------------------------------------------------------

    def _reset(self) -> None:
        r = self.rules
        self._n = 0  # generated tokens folded in
        self._last = -1  # the last of them
        self._done_turns = 0
        self._speakers: list[str] = []
        self._directions: list[int] = []  # turn index each direction preceded
        self._counts = {"wrapped_lines": 0, "forced_line_ends": 0, "forced_turn_ends": 0,
                        "budget_cuts": 0, "colon_blocked": 0, "off_grammar_tokens": 0}
        self._typed = ""
        self._allowed: frozenset[str] = frozenset(r.names)
        self._dirs_ok = False
        self._dir_len = self._dir_word = 0
        self._line_len = 0
        self._caps_line = self._has_upper = False
        if r.opened_chars is None:
            self._enter_boundary(after_direction=False)
        else:
            self._speakers.append(r.names[0])
            self._enter_speech()
            self._lines = 1
            self._speech = r.opened_chars

    def _enter_boundary(self, after_direction: bool) -> None:
        r = self.rules
        left = r.turns - self._done_turns
        allowed = set(r.names)
        if r.alternate and len(r.names) > 1 and self._speakers:
            allowed.discard(self._speakers[-1])
        if r.everyone_speaks:
            unspoken = allowed - set(self._speakers)
            if unspoken and left <= len(set(r.names) - set(self._speakers)):
                allowed = unspoken
        self._allowed = frozenset(allowed)
        self._typed = ""
        room = r.budget - self._n - 1 - left * r.min_turn_tokens
        self._dirs_ok = (r.stage_directions and not after_direction
                         and room >= MAX_DIRECTION_CHARS + 4)
        self._phase = _BOUNDARY

    def _enter_speech(self) -> None:
        r = self.rules
        left_after = r.turns - self._done_turns - 1
        # the speech's last newline must come by token index stop_at: room is kept for
        # this turn's blank line, <eos> and the shortest possible remaining turns
        self._stop_at = r.budget - 2 - left_after * r.min_turn_tokens
        self._lines = 0
        self._speech = 0
        self._phase = _LINE_START

    def _sync(self, state: StepState) -> None:
        generated = state.generated
        n = self._n
        if len(generated) < n or (n and generated[n - 1] != self._last):
            self._reset()  # a new request reusing this object
        for i in range(self._n, len(generated)):
            self._fold(int(generated[i]))

    def _fold(self, t: int) -> None:
        vec, reason = self._mask()
        self._n += 1
        self._last = t
        if not 0 <= t < len(vec) or vec[t] < 0:
            self._counts["off_grammar_tokens"] += 1
            return
        if reason is not None and t == self.sv.newline_id:
            self._counts[reason] += 1
        sv, phase = self.sv, self._phase
        newline = t == sv.newline_id
        ch = sv.vocab[t]
        if phase == _BOUNDARY:
            if t == sv.colon_id and self._typed in self._allowed:
                self._speakers.append(self._typed)
                self._phase = _HEADER_END
                return
            typed = self._typed + ch
            if self._dirs_ok and typed == OPEN:
                self._phase, self._dir_len = _DIR_BRACKET, 0
            elif self._dirs_ok and typed in DIRECTION_WORDS:
                self._phase, self._dir_len, self._dir_word = _DIR_LINE, len(typed), len(typed)
            else:
                self._typed = typed
        elif phase == _HEADER_END:
            self._enter_speech()
        elif phase == _LINE_START:
            if newline:  # a blank line: the turn is complete
                self._done_turns += 1
                if self._done_turns >= self.rules.turns:
                    self._phase = _DONE
                else:
                    self._enter_boundary(after_direction=False)
                return
            self._phase, self._line_len, self._speech = _IN_LINE, 1, self._speech + 1
            # a line can become a header look-alike only if it opens like a name
            self._caps_line = sv.alnum[t] and not sv.lower[t]
            self._has_upper = sv.upper[t]
        elif phase == _IN_LINE:
            self._speech += 1
            if newline:
                self._phase, self._lines = _LINE_START, self._lines + 1
                return
            self._line_len += 1
            if sv.lower[t]:
                self._caps_line = False
            self._has_upper = self._has_upper or sv.upper[t]
        elif phase == _DIR_BRACKET:
            if ch == CLOSE:
                self._phase = _DIR_NEWLINE
            else:
                self._dir_len += 1
        elif phase == _DIR_LINE:
            if newline:
                self._phase = _DIR_BLANK
            else:
                self._dir_len += 1
        elif phase == _DIR_NEWLINE:
            self._phase = _DIR_BLANK
        elif phase == _DIR_BLANK:
            self._directions.append(self._done_turns)
            self._enter_boundary(after_direction=True)

    # -- masks ----------------------------------------------------------------------

    def _mask(self) -> tuple[np.ndarray, str | None]:
        """The additive mask for the next token, and why a newline is forced (or None)."""
        vec = self.sv.vectors
        phase = self._phase
        if phase == _IN_LINE:
            if self._n + 1 >= self._stop_at:
                return vec["newline"], "budget_cuts"
            if self._line_len >= MAX_LINE_CHARS:
                return vec["newline"], "forced_line_ends"
            if self._line_len >= WRAP_LINE_CHARS:
                return vec["in_line_wrap"], "wrapped_lines"
            if self._caps_line and self._has_upper and self._line_len <= MAX_NAME_CHARS:
                return vec["in_line_no_colon"], None  # "ROMEO:" inside a speech
            return vec["in_line"], None
        if phase == _LINE_START:
            if self._lines == 0:
                return vec["line_first"], None
            if self._speech >= self.rules.max_turn_chars:
                return vec["newline"], "forced_turn_ends"
            if self._stop_at - self._n <= MAX_LINE_CHARS:
                return vec["newline"], "budget_cuts"
            return vec["line_next"], None
        if phase == _BOUNDARY:
            return self._boundary_mask(), None
        if phase in (_HEADER_END, _DIR_NEWLINE, _DIR_BLANK):
            return vec["newline"], None
        if phase == _DIR_BRACKET:
            if self._dir_len == 0:
                return vec["dir_first"], None
            if self._dir_len >= MAX_DIRECTION_CHARS:
                return vec["close"], None
            return vec["dir_text_or_close"], None
        if phase == _DIR_LINE:
            if self._dir_len == self._dir_word:  # "Enter" ends as a word: "Enter ROMEO", "Exit."
                return vec["dir_after_word"], None
            if self._dir_len >= MAX_DIRECTION_CHARS:
                return vec["newline"], None
            return vec["dir_text_or_newline"], None
        return vec["eos"], None

    def _boundary_mask(self) -> np.ndarray:
        key = (self._typed, self._allowed, self._dirs_ok)
        out = self._masks.get(key)
        if out is None:
            typed, n = self._typed, len(self._typed)
            words = list(self._allowed) + (list(self._openers) if self._dirs_ok else [])
            nxt = {w[n] for w in words if len(w) > n and w.startswith(typed)}
            ids = [self.sv.ids[ch] for ch in nxt]
            if typed in self._allowed:
                ids.append(self.sv.colon_id)
            out = self.sv.vector(ids)
            self._masks[key] = out
        return out

    # -- protocol -------------------------------------------------------------------

    def adjust(self, state: StepState) -> np.ndarray | None:
        """Additive logits [V]: 0 where the scene grammar allows the token, -inf elsewhere."""
        self._sync(state)
        vec, _ = self._mask()
        sv = self.sv
        if vec is sv.vectors["in_line_no_colon"]:
            if state.logits[sv.colon_id] >= np.max(state.logits):
                self._counts["colon_blocked"] += 1
        elif vec is sv.vectors["in_line_wrap"] and sv.space_id is not None:
            # p(\n) + p(space) goes to \n: the line breaks where the model wanted a space
            nl, space = float(state.logits[sv.newline_id]), float(state.logits[sv.space_id])
            if np.isfinite(nl) and np.isfinite(space):
                vec = vec.copy()
                vec[sv.newline_id] = np.logaddexp(nl, space) - nl
        return vec

    def finished(self, state: StepState) -> bool:
        """True once the last requested turn is complete (its blank line is in)."""
        self._sync(state)
        return self._phase == _DONE

    def report(self) -> dict[str, Any]:
        """What was asked, what the scene so far holds, and every forced step, counted."""
        r = self.rules
        return {
            "characters": list(r.names),
            "turns_requested": r.turns,
            "turns": self._done_turns,
            "complete": self._phase == _DONE,
            "speakers": list(self._speakers),
            "stage_directions": r.stage_directions,
            "directions": len(self._directions),
            "alternate": r.alternate,
            "everyone_speaks": r.everyone_speaks,
            "max_turn_chars": r.max_turn_chars,
            "budget": r.budget,
            **self._counts,
        }


__all__ = ["DIRECTION_WORDS", "MAX_DIRECTION_CHARS", "MAX_LINE_CHARS", "SceneConstraint",
           "SceneRules", "SceneVocab", "scene_vocab"]
