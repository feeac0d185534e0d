"""The chorale encoding: notes <-> sixteenth-note frames <-> tokens, keys and transposition.

Owns the documented, reversible token format of the ``bach`` domain (pure Python + numpy;
never imports music21, torch or training).

Format (one chorale, tokens separated by single spaces, the Document text)::

    S:67 A:64 T:60 B:48 | S:67~ A:64~ T:60~ B:48~ | ... S:60 A:55 T:52 B:36 |F

* A **frame** is one sixteenth note: four voice tokens in the order S, A, T, B, then a
  frame delimiter. So every frame is exactly five tokens.
* A voice token is ``V:p`` (a note of MIDI pitch ``p`` starts in this frame), ``V:p~``
  (the note of pitch ``p`` sounding in the previous frame is held on) or ``V:-`` (the voice
  is silent). A held token always repeats the previous frame's pitch of the same voice;
  a repeated note is a new onset (``V:p`` again), so held and re-struck notes differ.
* The delimiter is ``|``, or ``|F`` when the frame lies under a fermata (any voice's
  sounding note carries one).
* ``<bos>``, a mode control (``<major>`` / ``<minor>``) and ``<eos>`` are added by the
  trainer around the text; they are vocabulary specials, never produced by ``encode``.

Pieces are transposed to C major or A minor (the smaller shift, -6..+5 semitones, after a
Krumhansl-Kessler key estimate) and every voice must stay inside ``VOICE_RANGES``.
Quantization to sixteenths rounds each note's start and end to the grid (rounding is
monotone, so a voice's notes never overlap); notes that round to zero length are dropped.
Encoding frames and decoding them again gives back exactly the same frames and notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from shared_model.errors import InvalidRequest

VOICES = ("S", "A", "T", "B")
FRAME_END, FERMATA_END = "|", "|F"
REST, HELD = "-", "~"
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16  # 4/4

# Inclusive MIDI ranges per voice, after transposition to C major / A minor. They cover
# the transposed music21 and JSB corpora; minima are ordered (S >= A >= T >= B) so a
# non-crossing chord always exists whatever the upper voices chose.
VOICE_RANGES: dict[str, tuple[int, int]] = {
    "S": (55, 86),
    "A": (47, 79),
    "T": (44, 74),
    "B": (31, 71),
}

# Traditional choir ranges (C4-A5, F3-D5, C3-A4, E2-D4): used to pick the octave of the
# output transposition, not to constrain decoding.
SINGING_RANGES: dict[str, tuple[int, int]] = {"S": (60, 81), "A": (53, 74), "T": (48, 69), "B": (40, 62)}

# Krumhansl-Kessler key profiles (C major / C minor), index = pitch class.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True, order=True)
class Note:
    """One note of one voice on the sixteenth grid: frames ``start`` .. ``end - 1``."""

    voice: int
    start: int
    end: int
    pitch: int
    fermata: bool = False


@dataclass(frozen=True, eq=False)
class ChoraleFrames:
    """A chorale as a sixteenth-note grid.

    Attributes:
        pitches: [T, 4] int16, MIDI pitch per frame and voice (S, A, T, B); -1 = silent.
        onsets: [T, 4] bool, True where a note starts (False on held frames and rests).
        fermata: [T] bool, True for frames under a fermata.
    """

    pitches: np.ndarray
    onsets: np.ndarray
    fermata: np.ndarray

    def __post_init__(self) -> None:
        t = self.pitches.shape[0]
        if self.pitches.shape != (t, 4) or self.onsets.shape != (t, 4) or self.fermata.shape != (t,):
            raise InvalidRequest("chorale frames must be [T, 4] pitches/onsets and [T] fermatas")

    def __len__(self) -> int:
        return int(self.pitches.shape[0])

    def equals(self, other: ChoraleFrames) -> bool:
        return (np.array_equal(self.pitches, other.pitches)
                and np.array_equal(self.onsets, other.onsets)
                and np.array_equal(self.fermata, other.fermata))

    def transposed(self, semitones: int) -> ChoraleFrames:
        p = np.where(self.pitches >= 0, self.pitches + semitones, -1).astype(np.int16)
        return ChoraleFrames(p, self.onsets.copy(), self.fermata.copy())


def frames_from_notes(notes: Iterable[Note], length: int | None = None) -> ChoraleFrames:
    """Lay notes on the grid. Notes of one voice must not overlap (InvalidRequest)."""
    notes = list(notes)
    t = max([n.end for n in notes], default=0) if length is None else length
    pitches = np.full((t, 4), -1, dtype=np.int16)
    onsets = np.zeros((t, 4), dtype=bool)
    fermata = np.zeros(t, dtype=bool)
    for n in notes:
        if not 0 <= n.voice < 4 or n.end <= n.start or n.end > t or n.start < 0:
            raise InvalidRequest(f"note {n} does not fit a {t}-frame, four-voice grid")
        if (pitches[n.start:n.end, n.voice] >= 0).any():
            raise InvalidRequest(f"overlapping notes in voice {VOICES[n.voice]} at frame {n.start}")
        pitches[n.start:n.end, n.voice] = n.pitch
        onsets[n.start, n.voice] = True
        if n.fermata:
            fermata[n.start:n.end] = True
    return ChoraleFrames(pitches, onsets, fermata)


def notes_from_frames(frames: ChoraleFrames) -> list[Note]:
    """The notes of a grid, sorted by (voice, start); a note carries a fermata if any of
    its frames is under one."""
    notes: list[Note] = []
    p, on, ferm = frames.pitches, frames.onsets, frames.fermata
    t = len(frames)
    for v in range(4):
        start = None
        for i in range(t + 1):
            ends = i == t or p[i, v] < 0 or on[i, v] or (start is not None and p[i, v] != p[start, v])
            if start is not None and ends:
                notes.append(Note(v, start, i, int(p[start, v]), bool(ferm[start:i].any())))
                start = None
            if i < t and p[i, v] >= 0 and start is None:
                start = i
    return sorted(notes)


def frame_tokens(pitches: Sequence[int], onsets: Sequence[bool], fermata: bool) -> list[str]:
    """The five tokens of one frame."""
    out = []
    for v, name in enumerate(VOICES):
        p = int(pitches[v])
        if p < 0:
            out.append(f"{name}:{REST}")
        else:
            out.append(f"{name}:{p}" if onsets[v] else f"{name}:{p}{HELD}")
    out.append(FERMATA_END if fermata else FRAME_END)
    return out


def frames_to_tokens(frames: ChoraleFrames) -> list[str]:
    """Tokens of a whole chorale (no <bos>/<eos>). A held note must continue the same
    pitch as the previous frame: a sounding frame without an onset after a rest or a
    different pitch is written as an onset (the grid cannot mean anything else)."""
    tokens: list[str] = []
    prev = np.full(4, -1, dtype=np.int16)
    for i in range(len(frames)):
        p = frames.pitches[i]
        on = frames.onsets[i] | (p != prev) | (prev < 0)
        tokens += frame_tokens(p, on, bool(frames.fermata[i]))
        prev = p
    return tokens


def parse_voice_token(token: str, voice: int) -> tuple[int, bool]:
    """``"S:72~"`` -> (72, held=True); ``"S:-"`` -> (-1, False). InvalidRequest if the
    token is not a voice token of ``voice``."""
    name, sep, body = token.partition(":")
    if sep != ":" or name != VOICES[voice]:
        raise InvalidRequest(f"expected a {VOICES[voice]} voice token, got {token!r}")
    if body == REST:
        return -1, False
    held = body.endswith(HELD)
    digits = body[:-1] if held else body
    if not digits.isdigit():
        raise InvalidRequest(f"bad voice token {token!r}")
    return int(digits), held


def tokens_to_frames(tokens: Sequence[str], *, strict: bool = True) -> ChoraleFrames:
    """Decode tokens (specials such as ``<bos>`` are skipped) back to frames.

    strict=True raises InvalidRequest on any malformed frame or impossible tie;
    strict=False (for unconstrained model output) drops a malformed frame, drops an
    incomplete last frame, and turns an impossible tie into an onset.
    """
    toks = [t for t in tokens if not (t.startswith("<") and t.endswith(">"))]
    rows: list[list[int]] = []
    onset_rows: list[list[bool]] = []
    ferm: list[bool] = []
    prev = [-1, -1, -1, -1]
    i = 0
    while i < len(toks):
        chunk = toks[i:i + 5]
        i += 5
        try:
            if len(chunk) < 5:
                raise InvalidRequest(f"incomplete last frame ({len(chunk)} of 5 tokens)")
            if chunk[4] not in (FRAME_END, FERMATA_END):
                raise InvalidRequest(f"expected a frame delimiter, got {chunk[4]!r}")
            row, ons = [], []
            for v in range(4):
                p, held = parse_voice_token(chunk[v], v)
                if held and prev[v] != p:
                    if strict:
                        raise InvalidRequest(
                            f"frame {len(rows)}: {chunk[v]} holds a note the previous frame lacks")
                    held = False
                row.append(p)
                ons.append(p >= 0 and not held)
        except InvalidRequest:
            if strict:
                raise
            # resynchronise on the next delimiter
            nxt = [j for j, t in enumerate(toks[i - 5:], start=i - 5) if t in (FRAME_END, FERMATA_END)]
            i = nxt[0] + 1 if nxt else len(toks)
            continue
        rows.append(row)
        onset_rows.append(ons)
        ferm.append(chunk[4] == FERMATA_END)
        prev = row
    pitches = np.array(rows, dtype=np.int16).reshape(-1, 4)
    onsets = np.array(onset_rows, dtype=bool).reshape(-1, 4)
    return ChoraleFrames(pitches, onsets, np.array(ferm, dtype=bool))


def out_of_range(frames: ChoraleFrames) -> list[str]:
    """Voices with a pitch outside VOICE_RANGES, as ``"T:76"`` strings (empty if none)."""
    bad = []
    for v, name in enumerate(VOICES):
        lo, hi = VOICE_RANGES[name]
        col = frames.pitches[:, v]
        col = col[col >= 0]
        bad += [f"{name}:{int(p)}" for p in np.unique(col[(col < lo) | (col > hi)])]
    return bad


def pitch_class_weights(frames: ChoraleFrames) -> np.ndarray:
    """[12] duration-weighted pitch-class counts (one per sounding voice-frame)."""
    p = frames.pitches[frames.pitches >= 0].astype(np.int64)
    return np.bincount(p % 12, minlength=12).astype(np.float64)


def estimate_key(weights: np.ndarray) -> tuple[int, str]:
    """Krumhansl-Kessler key estimate: (tonic pitch class, "major" | "minor")."""
    best = (-2.0, 0, "major")
    if weights.sum() <= 0:
        return 0, "major"
    for mode, prof in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(weights, np.roll(prof, tonic))[0, 1])
            if r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def shift_to_reference(tonic: int, mode: str) -> int:
    """Semitones (-6..+5) taking ``tonic`` to C (major) or A (minor)."""
    target = 0 if mode == "major" else 9
    return (target - tonic + 6) % 12 - 6


def normalize_key(frames: ChoraleFrames) -> tuple[ChoraleFrames, str, int]:
    """Transpose a chorale to C major / A minor: (frames, mode, semitones applied)."""
    tonic, mode = estimate_key(pitch_class_weights(frames))
    shift = shift_to_reference(tonic, mode)
    return frames.transposed(shift), mode, shift
