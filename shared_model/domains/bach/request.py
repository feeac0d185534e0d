"""What a user asks of the bach domain: ``ChoraleRequest`` (bars, key, tempo) and keys.

Owns validation of the musical options shared by the CLI, the bot and the magic, the
key-name parser and the transposition from the model's C major / A minor to the key
asked for. Pure Python; never imports numpy, music21, torch or training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared_model.domains.bach.constraints import MAX_BARS, ChoraleConstraint
from shared_model.domains.bach.tokenizer import CONTROL_TOKENS
from shared_model.errors import InvalidRequest
from shared_model.tokenizer import CharTokenizer

MIN_TEMPO, MAX_TEMPO = 20.0, 300.0
_FORMATS = ("midi", "musicxml", "wav", "png")  # what render_chorale can write
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# keys with at most seven sharps or flats, as written (tonic spelling)
MAJOR_KEYS = ("C", "G", "D", "A", "E", "B", "F#", "C#", "F", "Bb", "Eb", "Ab", "Db", "Gb", "Cb")
MINOR_KEYS = ("A", "E", "B", "F#", "C#", "G#", "D#", "A#", "D", "G", "C", "F", "Bb", "Eb", "Ab")


@dataclass(frozen=True)
class KeySpec:
    """A key: tonic spelling (``"F#"``, ``"Bb"``), mode, and its name (``"F#m"``)."""

    tonic: str
    mode: str  # "major" | "minor"

    @property
    def name(self) -> str:
        return self.tonic + ("m" if self.mode == "minor" else "")

    @property
    def tonic_pc(self) -> int:
        acc = {"": 0, "#": 1, "b": -1}[self.tonic[1:]]
        return (_PC[self.tonic[0]] + acc) % 12

    @property
    def semitones_from_reference(self) -> int:
        """Shift (-6..+5) from C major / A minor, where the model writes, to this key."""
        ref = 0 if self.mode == "major" else 9
        return (self.tonic_pc - ref + 6) % 12 - 6


def parse_key(text: str) -> KeySpec:
    """``"C"``, ``"G"``, ``"Bb"``, ``"F#m"``, ``"c minor"``, ``"Eb major"`` -> KeySpec.

    Raises:
        InvalidRequest: not a key with at most seven sharps or flats.
    """
    raw = text.strip()
    low = raw.lower().replace("-", " ")
    mode = "major"
    for suffix, m in ((" minor", "minor"), (" major", "major"), ("min", "minor"),
                      ("maj", "major"), ("m", "minor")):
        if low.endswith(suffix) and len(low) > len(suffix):
            low, mode = low[: -len(suffix)].strip(), m
            break
    tonic = low[:1].upper() + low[1:]
    known = MAJOR_KEYS if mode == "major" else MINOR_KEYS
    if tonic not in known:
        examples = "C, G, F#m, Bb, Ebm, 'A minor'"
        raise InvalidRequest(f"unknown key {text!r}; use a tonic with an optional 'm' for minor "
                             f"(e.g. {examples})")
    return KeySpec(tonic, mode)


@dataclass(frozen=True)
class ChoraleRequest:
    """A chorale to write. Adapters build it from flags, slash options or magic args.

    Attributes:
        bars: length in 4/4 bars (16 sixteenth frames each), 1..64.
        key: output key, e.g. ``"C"``, ``"G"``, ``"F#m"``, ``"Bb"``; minor keys ask the
            model for a minor chorale (``<minor>`` control) written in A minor, then
            transposed, major keys likewise from C major.
        tempo: quarter notes per minute, 20..300.
        formats: which outputs to render (MIDI, MusicXML, WAV, PNG); fewer is faster.
        allow_parallels: False (default) bans parallel fifths and octaves while decoding
            (see ``ChoraleConstraint``); True leaves them to the model.
    """

    domain: ClassVar[str] = "bach"

    bars: int = 8
    key: str = "C"
    tempo: float = 80.0
    formats: tuple[str, ...] = ("midi", "musicxml", "wav", "png")
    allow_parallels: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(self.formats))
        unknown = sorted(set(self.formats) - set(_FORMATS))
        if unknown:
            raise InvalidRequest(f"unknown output format(s) {unknown}; choose from {', '.join(_FORMATS)}")
        if isinstance(self.bars, bool) or not isinstance(self.bars, int):
            raise InvalidRequest(f"bars must be a whole number, got {self.bars!r}")
        if not 1 <= self.bars <= MAX_BARS:
            raise InvalidRequest(f"bars must be between 1 and {MAX_BARS}, got {self.bars}")
        parse_key(self.key)
        try:
            tempo = float(self.tempo)
        except (TypeError, ValueError):
            raise InvalidRequest(f"tempo must be a number of beats per minute, got {self.tempo!r}") from None
        if not MIN_TEMPO <= tempo <= MAX_TEMPO:
            raise InvalidRequest(f"tempo must be between {MIN_TEMPO:g} and {MAX_TEMPO:g} BPM, "
                                 f"got {self.tempo}")

    @property
    def key_spec(self) -> KeySpec:
        return parse_key(self.key)

    def controls(self) -> tuple[str, ...]:
        """Control tokens to feed after ``<bos>``: the mode (``<major>`` / ``<minor>``)."""
        return (CONTROL_TOKENS[0] if self.key_spec.mode == "major" else CONTROL_TOKENS[1],)

    def constraint(self, tokenizer: CharTokenizer) -> ChoraleConstraint:
        """The decoding constraint for this request (exactly ``bars`` bars, then <eos>)."""
        return ChoraleConstraint(tokenizer, self.bars, no_parallels=not self.allow_parallels)

    def max_new_tokens(self) -> int:
        """Tokens the decoder needs: five per frame plus ``<eos>``."""
        return self.bars * 16 * 5 + 1
