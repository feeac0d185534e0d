"""Decoding constraints for chorales: the ``Constraint`` hook of serving/constraints.py.

Owns the per-step logit mask that keeps generated tokens a valid chorale in the
``encoding`` format: every frame is S, A, T, B voice tokens then a delimiter; voices stay
in their ranges and never cross (S >= A >= T >= B); a held token only continues the
previous frame's pitch of that voice; rests appear only as whole leading (pickup) frames;
the piece is exactly ``bars`` x 16 frames, the last one under a fermata, then ``<eos>``.
With ``no_parallels`` (the default) a lower voice may not move into a perfect fifth or
octave/unison with an upper voice that moves the same way from that same interval (the
parallels of ``analysis.parallel_counts``); if that rule alone would leave a voice no
pitch, it is relaxed for that step and counted in ``report()["relaxed"]``. numpy only; never imports music21, torch or training.

Per-vocab arrays are built once per tokenizer (``ChoraleVocab``), so one step is a
handful of numpy operations over one voice's ~70 token ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared_model.domains.bach.encoding import (
    FERMATA_END,
    FRAME_END,
    HELD,
    REST,
    STEPS_PER_BAR,
    VOICE_RANGES,
    VOICES,
)
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState
from shared_model.tokenizer import CharTokenizer

MAX_BARS = 64
MAX_LEAD_REST_FRAMES = STEPS_PER_BAR - 1  # a pickup is shorter than a bar


class ChoraleVocab:
    """Per-token arrays for one tokenizer: which voice, pitch, held flag."""

    def __init__(self, tokenizer: CharTokenizer):
        v = len(tokenizer.vocab)
        self.size = v
        self.voice_ids: list[np.ndarray] = []      # per voice: token ids
        self.voice_pitch: list[np.ndarray] = []    # per voice: pitch (-1 rest)
        self.voice_held: list[np.ndarray] = []     # per voice: held flag
        by_id = {tok: i for i, tok in enumerate(tokenizer.vocab)}
        for name in VOICES:
            ids, pitch, held = [], [], []
            for tok, i in by_id.items():
                head, sep, body = tok.partition(":")
                if head != name or sep != ":":
                    continue
                ids.append(i)
                if body == REST:
                    pitch.append(-1)
                    held.append(False)
                else:
                    h = body.endswith(HELD)
                    pitch.append(int(body[:-1] if h else body))
                    held.append(h)
            if not ids:
                raise InvalidRequest(f"the model's vocabulary has no {name} voice tokens")
            self.voice_ids.append(np.array(ids, dtype=np.int64))
            self.voice_pitch.append(np.array(pitch, dtype=np.int16))
            self.voice_held.append(np.array(held, dtype=bool))
        try:
            self.frame_end = tokenizer.token_id(FRAME_END)
            self.fermata_end = tokenizer.token_id(FERMATA_END)
        except InvalidRequest:
            raise InvalidRequest("the model's vocabulary has no frame delimiters; "
                                 "is it a bach model?") from None
        self.eos = tokenizer.eos_id
        self.specials = frozenset(i for i in range(v) if tokenizer.is_special(i))
        self._lookup = {int(i): (voice, int(p), bool(h))
                        for voice in range(4)
                        for i, p, h in zip(self.voice_ids[voice], self.voice_pitch[voice],
                                           self.voice_held[voice], strict=True)}

    def describe(self, token_id: int) -> tuple[int, int, bool] | None:
        """(voice, pitch, held) of a voice token, else None."""
        return self._lookup.get(int(token_id))


@dataclass
class _Progress:
    frames: int = 0               # complete frames so far
    pos: int = 0                  # 0..3 voice, 4 delimiter
    cur: np.ndarray | None = None  # [4] pitches chosen in the current frame
    prev: np.ndarray | None = None  # [4] previous frame's pitches (-1 rest / none)
    started: bool = False         # a sounding frame has begun
    last_fermata: bool = False
    done: bool = False            # <eos> seen


class ChoraleConstraint:
    """Keeps one request's tokens a valid ``bars``-bar chorale (see module docstring)."""

    def __init__(self, tokenizer: CharTokenizer, bars: int, *,
                 ranges: dict[str, tuple[int, int]] | None = None,
                 vocab: ChoraleVocab | None = None, no_parallels: bool = True):
        if not 1 <= bars <= MAX_BARS:
            raise InvalidRequest(f"bars must be between 1 and {MAX_BARS}, got {bars}")
        self.vocab = vocab or ChoraleVocab(tokenizer)
        self.bars = bars
        self.no_parallels = no_parallels
        self.relaxed_steps = 0
        self.total_frames = bars * STEPS_PER_BAR
        self.ranges = dict(ranges or VOICE_RANGES)
        # per voice: tokens inside the requested range (rests handled separately)
        self._in_range = []
        for v, name in enumerate(VOICES):
            lo, hi = self.ranges[name]
            p = self.vocab.voice_pitch[v]
            self._in_range.append((p >= lo) & (p <= hi))
        lows = [self.ranges[name][0] for name in VOICES]
        if lows != sorted(lows, reverse=True) or any(lo > hi for lo, hi in self.ranges.values()):
            raise InvalidRequest("voice ranges must be non-empty with lower limits S >= A >= T >= B")
        self._reset()

    def _reset(self) -> None:
        self._state = _Progress(cur=np.full(4, -1, np.int16), prev=np.full(4, -1, np.int16))
        self._consumed = 0
        self.relaxed_steps = 0

    # -- state tracking ---------------------------------------------------------------

    def _advance(self, token_id: int) -> None:
        s = self._state
        assert s.cur is not None and s.prev is not None
        if s.done:
            return
        if token_id == self.vocab.eos:
            if s.frames < self.total_frames or s.pos != 0:
                raise InvalidRequest(f"<eos> after {s.frames} of {self.total_frames} frames")
            s.done = True
            return
        if token_id in self.vocab.specials:
            return  # <bos>, mode controls
        if s.pos < 4:
            desc = self.vocab.describe(token_id)
            if desc is None or desc[0] != s.pos:
                raise InvalidRequest(f"frame {s.frames}: expected a {VOICES[s.pos]} voice token")
            _, pitch, held = desc
            if held and s.prev[s.pos] != pitch:
                raise InvalidRequest(f"frame {s.frames}: a tie must continue the same pitch")
            s.cur[s.pos] = pitch
            s.pos += 1
            return
        if token_id not in (self.vocab.frame_end, self.vocab.fermata_end):
            raise InvalidRequest(f"frame {s.frames}: expected a frame delimiter")
        s.started = s.started or bool((s.cur >= 0).any())
        s.last_fermata = token_id == self.vocab.fermata_end
        s.prev, s.cur = s.cur, np.full(4, -1, np.int16)
        s.frames += 1
        s.pos = 0

    def _sync(self, state: StepState) -> None:
        ids = list(state.prompt) + list(state.generated)
        if len(ids) < self._consumed:  # a different request reused the object: restart
            self._reset()
        for i in ids[self._consumed:]:
            self._advance(int(i))
        self._consumed = len(ids)

    # -- the hook ---------------------------------------------------------------------

    def adjust(self, state: StepState) -> np.ndarray:
        """[V] float32: 0 for allowed tokens, -inf for banned ones."""
        self._sync(state)
        s = self._state
        assert s.cur is not None and s.prev is not None
        mask = np.full(self.vocab.size, -np.inf, dtype=np.float32)
        if s.done or s.frames >= self.total_frames:
            mask[self.vocab.eos] = 0.0
            return mask
        last = s.frames == self.total_frames - 1
        if s.pos == 4:
            lead_rest = bool((s.cur < 0).all())
            if last:
                mask[self.vocab.fermata_end] = 0.0
            else:
                mask[self.vocab.frame_end] = 0.0
                if not lead_rest:
                    mask[self.vocab.fermata_end] = 0.0
            return mask
        v = s.pos
        pitch, held = self.vocab.voice_pitch[v], self.vocab.voice_held[v]
        rest = pitch < 0
        if v == 0:
            # a leading rest frame (pickup) only before any sound and well before the end
            may_rest = not s.started and s.frames < min(MAX_LEAD_REST_FRAMES, self.total_frames - 1)
            allowed = self._in_range[v] | (rest & may_rest)
        elif s.cur[0] < 0:
            allowed = rest  # the whole frame rests with the soprano
        else:
            allowed = self._in_range[v] & (pitch <= s.cur[v - 1])  # no crossing
        # a tie only continues the previous frame's pitch of this voice
        allowed &= ~held | (pitch == s.prev[v])
        if self.no_parallels and v > 0 and s.prev[v] >= 0:
            strict = allowed & ~self._parallels(v, pitch)
            if strict.any():
                allowed = strict
            else:
                self.relaxed_steps += 1
        mask[self.vocab.voice_ids[v][allowed]] = 0.0
        return mask

    def _parallels(self, v: int, pitch: np.ndarray) -> np.ndarray:
        """[n] bool over voice ``v``'s candidate pitches: which would make parallel fifths
        or octaves with an upper voice (both moving the same way, same interval class)."""
        s = self._state
        assert s.cur is not None and s.prev is not None
        bad = np.zeros(len(pitch), dtype=bool)
        pv = int(s.prev[v])
        direction = np.sign(pitch.astype(np.int32) - pv)
        for u in range(v):
            pu, cu = int(s.prev[u]), int(s.cur[u])
            if pu < 0 or cu < 0 or cu == pu:
                continue
            before = (pu - pv) % 12
            if before not in (0, 7):
                continue
            after = (cu - pitch.astype(np.int32)) % 12
            bad |= (pitch >= 0) & (direction == np.sign(cu - pu)) & (after == before)
        return bad

    def finished(self, state: StepState) -> bool:
        self._sync(state)
        return self._state.done

    def report(self) -> dict[str, Any]:
        s = self._state
        return {
            "bars": self.bars,
            "frames": s.frames,
            "frames_target": self.total_frames,
            "complete": s.done,
            "ended_with_fermata": s.frames == self.total_frames and s.last_fermata,
            "rules": ["four voices S A T B per frame", "no voice crossing",
                      "voice ranges", "ties continue the same pitch",
                      "rests only in a leading pickup", "ends on a fermata frame"]
                     + (["no parallel fifths or octaves"] if self.no_parallels else []),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "relaxed": ([f"no parallel fifths or octaves ({self.relaxed_steps} steps)"]
                        if self.relaxed_steps else []),
        }
