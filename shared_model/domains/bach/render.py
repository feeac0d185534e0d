"""Generated tokens -> ``ChoraleResult``: MIDI, MusicXML, WAV and piano-roll PNG.

Owns the result shape every adapter (CLI, bot, magic) renders: ``render_chorale(tokens,
key, tempo)`` decodes the model's C major / A minor tokens, transposes to ``key`` and
produces the outputs asked for. MIDI and WAV are pure Python/numpy (``midi.py``,
``audio.py``); music21 (MusicXML) and matplotlib (PNG) are imported only when those
formats are asked for. Never imports torch or training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared_model.domains.bach.analysis import chorale_measures
from shared_model.domains.bach.audio import SAMPLE_RATE, synthesize, wav_bytes
from shared_model.domains.bach.encoding import (
    SINGING_RANGES,
    STEPS_PER_BAR,
    VOICES,
    ChoraleFrames,
    frames_to_tokens,
    tokens_to_frames,
)
from shared_model.domains.bach.midi import chorale_midi
from shared_model.domains.bach.pianoroll import piano_roll_png
from shared_model.domains.bach.request import ChoraleRequest, KeySpec, parse_key
from shared_model.domains.bach.score import build_score, musicxml_text
from shared_model.errors import InvalidRequest

FORMATS = ("midi", "musicxml", "wav", "png")


@dataclass(frozen=True)
class ChoraleResult:
    """A rendered chorale.

    Attributes:
        text: the token text in C major / A minor (what the model wrote; stored as-is).
        frames: the decoded frames, in C major / A minor.
        key, tempo: the output key name (e.g. ``"F#m"``) and quarter notes per minute.
        semitones: transposition applied to reach ``key``.
        midi_bytes, musicxml_text, wav_bytes, png_bytes: the outputs (None if not asked).
        measures: voice crossing share, range violations, parallels, ... (analysis.py).
    """

    text: str
    frames: ChoraleFrames
    key: str
    tempo: float
    semitones: int
    midi_bytes: bytes | None = None
    musicxml_text: str | None = None
    wav_bytes: bytes | None = None
    png_bytes: bytes | None = None
    measures: dict[str, Any] = field(default_factory=dict)

    @property
    def bars(self) -> float:
        return len(self.frames) / STEPS_PER_BAR

    @property
    def seconds(self) -> float:
        return len(self.frames) * 15.0 / self.tempo

    @property
    def data(self) -> bytes | None:
        """What the store keeps beside the token text: the MIDI file."""
        return self.midi_bytes

    def formatted(self) -> str:
        """One line for a terminal: what was written."""
        return (f"{self.bars:g}-bar chorale in {self.key}, {self.tempo:g} BPM, "
                f"{self.seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts for ``--json`` output and storage (no binary payloads)."""
        return {"key": self.key, "tempo": self.tempo, "bars": self.bars,
                "frames": len(self.frames), "seconds": round(self.seconds, 3),
                "sample_rate": SAMPLE_RATE if self.wav_bytes else None,
                "formats": [f for f, v in (("midi", self.midi_bytes),
                                           ("musicxml", self.musicxml_text),
                                           ("wav", self.wav_bytes), ("png", self.png_bytes))
                            if v is not None],
                "measures": self.measures}


def output_shift(frames: ChoraleFrames, key: KeySpec) -> int:
    """The transposition to ``key`` (up or down, |shift| <= 11) that puts the fewest notes
    outside the choir ranges; ties go to the smaller move."""
    base = key.semitones_from_reference  # -6..+5
    best: tuple[int, int, int] | None = None
    for shift in (base - 12, base, base + 12):
        if abs(shift) > 11:
            continue
        outside = 0
        for v, name in enumerate(VOICES):
            lo, hi = SINGING_RANGES[name]
            col = frames.pitches[:, v]
            col = col[col >= 0] + shift
            outside += int(((col < lo) | (col > hi)).sum())
        cand = (outside, abs(shift), shift)
        best = cand if best is None or cand < best else best
    assert best is not None
    return best[2]


def _as_frames(tokens: str | Sequence[str] | ChoraleFrames, strict: bool) -> ChoraleFrames:
    if isinstance(tokens, ChoraleFrames):
        return tokens
    toks = tokens.split() if isinstance(tokens, str) else list(tokens)
    return tokens_to_frames(toks, strict=strict)


def render_chorale(tokens: str | Sequence[str] | ChoraleFrames, key: str = "C",
                   tempo: float = 80.0, *, formats: Iterable[str] = FORMATS,
                   strict: bool = False, title: str = "Chorale") -> ChoraleResult:
    """Decode and render a chorale written in C major / A minor.

    Args:
        tokens: the model's token text (space-separated; specials are ignored), a token
            list, or frames.
        key: output key (``"C"``, ``"G"``, ``"F#m"``, ``"Bb"`` ...); InvalidRequest if unknown.
        tempo: quarter notes per minute (20..300).
        formats: any of ``"midi"``, ``"musicxml"``, ``"wav"``, ``"png"``.
        strict: raise on malformed tokens instead of skipping malformed frames.

    Raises:
        InvalidRequest: bad key, tempo or format, or no complete frame to render.
    """
    ChoraleRequest(bars=1, key=key, tempo=tempo)  # validates key and tempo
    wanted = set(formats)
    if wanted - set(FORMATS):
        raise InvalidRequest(f"unknown output format(s) {sorted(wanted - set(FORMATS))}; "
                             f"choose from {', '.join(FORMATS)}")
    frames = _as_frames(tokens, strict)
    if len(frames) == 0:
        raise InvalidRequest("the chorale has no complete frame to render")
    spec = parse_key(key)
    shift = output_shift(frames, spec)
    midi = xml = wav = png = None
    if "midi" in wanted:
        midi = chorale_midi(frames, spec, float(tempo), shift, title=title)
    if "musicxml" in wanted:
        xml = musicxml_text(build_score(frames, spec, float(tempo), title=title, semitones=shift))
    if "wav" in wanted:
        wav = wav_bytes(synthesize(frames, float(tempo), shift))
    if "png" in wanted:
        png = piano_roll_png(frames, shift, title=f"{title} in {spec.name}")
    return ChoraleResult(text=" ".join(frames_to_tokens(frames)), frames=frames, key=spec.name,
                         tempo=float(tempo), semitones=shift, midi_bytes=midi, musicxml_text=xml,
                         wav_bytes=wav, png_bytes=png, measures=chorale_measures(frames))
