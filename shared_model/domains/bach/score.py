"""Chorale frames -> a music21 score -> MusicXML text (MIDI is written by ``midi.py``).

Owns the notation side of the output: four parts (Soprano, Alto, Tenor, Bass) in 4/4
with clefs, key signature, metronome mark and fermatas, transposed from the model's
C major / A minor to the requested key with proper spelling (music21 intervals).
music21 is imported inside the functions (an optional dependency, the ``music`` extra).
Never imports torch or training.
"""

from __future__ import annotations

from typing import Any

from shared_model.domains.bach.encoding import ChoraleFrames, notes_from_frames
from shared_model.domains.bach.request import KeySpec
from shared_model.errors import InvalidRequest

PART_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
_CLEFS = ("TrebleClef", "TrebleClef", "Treble8vbClef", "BassClef")
# spelling of the twelve pitch classes in C major / A minor (before transposition)
_REFERENCE_SPELLING = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")


def _music21() -> Any:
    try:
        import music21
    except ImportError:
        raise InvalidRequest("MIDI/MusicXML output needs music21: pip install 'lstmgen[music]'") from None
    return music21


def _interval_to(key: KeySpec, semitones: int) -> Any:
    """The music21 Interval from the reference tonic (C4 / A4) to ``key``'s tonic,
    ``semitones`` away (up or down to the octave chosen for the voices)."""
    m21 = _music21()
    ref = m21.pitch.Pitch("C4" if key.mode == "major" else "A4")
    name = key.tonic.replace("b", "-")
    for octave in range(1, 8):
        target = m21.pitch.Pitch(f"{name}{octave}")
        if target.midi - ref.midi == semitones:
            return m21.interval.Interval(noteStart=ref, noteEnd=target)
    raise InvalidRequest(f"no octave of {key.tonic} is {semitones} semitones from the reference")


def build_score(frames: ChoraleFrames, key: KeySpec, tempo: float, title: str = "Chorale",
                semitones: int | None = None) -> Any:
    """A music21 Score of ``frames`` (written in C major / A minor) in ``key`` at ``tempo``.

    ``semitones`` is the transposition (default ``key.semitones_from_reference``; it must
    reach ``key``'s tonic, e.g. +7 or -5 for G major).
    """
    m21 = _music21()
    score = m21.stream.Score()
    score.insert(0, m21.metadata.Metadata(title=title, composer="lstmgen (after J. S. Bach)"))
    by_voice: list[list[Any]] = [[], [], [], []]
    for n in notes_from_frames(frames):
        by_voice[n.voice].append(n)
    m21_key = key.tonic.replace("b", "-")
    for v, name in enumerate(PART_NAMES):
        part = m21.stream.Part(id=name)
        part.partName = name
        part.insert(0, getattr(m21.clef, _CLEFS[v])())
        part.insert(0, m21.meter.TimeSignature("4/4"))
        if v == 0:
            part.insert(0, m21.tempo.MetronomeMark(number=float(tempo)))
        for n in by_voice[v]:
            octave = n.pitch // 12 - 1
            note = m21.note.Note(f"{_REFERENCE_SPELLING[n.pitch % 12]}{octave}",
                                 quarterLength=(n.end - n.start) / 4.0)
            if n.fermata and (n.end == len(frames) or not frames.fermata[n.end]):
                note.expressions.append(m21.expressions.Fermata())  # once, on the last note under it
            part.insert(n.start / 4.0, note)
        score.insert(0, part)
    shift = key.semitones_from_reference if semitones is None else semitones
    if (shift - key.semitones_from_reference) % 12:
        raise InvalidRequest(f"a shift of {shift} semitones does not reach {key.name}")
    if shift:
        score.transpose(_interval_to(key, shift), inPlace=True)
    for part in score.parts:
        part.insert(0, m21.key.Key(m21_key if key.mode == "major" else m21_key.lower()))
    add_notation(score, len(frames) / 4.0)
    return score


def add_notation(score: Any, quarters: float) -> None:
    """Rests, measures and ties, in place (what MusicXML needs; MIDI does not)."""
    for part in score.parts:
        part.makeRests(fillGaps=True, refStreamOrTimeRange=(0.0, quarters), inPlace=True)
        part.makeMeasures(inPlace=True)
        part.makeTies(inPlace=True)


def musicxml_text(score: Any) -> str:
    """MusicXML (partwise, UTF-8 text) of a score."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return bytes(GeneralObjectExporter(score).parse()).decode("utf-8")
