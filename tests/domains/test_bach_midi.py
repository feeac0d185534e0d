"""The pure-Python MIDI writer: music21 reads its files back with the same notes, tempo,
key signature and four named parts; variable-length quantities and bad input."""

from __future__ import annotations

import pytest

from shared_model.domains.bach import parse_key
from shared_model.domains.bach.encoding import Note, frames_from_notes, notes_from_frames
from shared_model.domains.bach.midi import _vlq, chorale_midi, key_signature
from shared_model.errors import InvalidRequest

music21 = pytest.importorskip("music21")


def _frames():
    """Bar 1: held soprano, repeated alto notes, a tenor rest; bar 2 a final chord."""
    notes = [Note(0, 0, 12, 72), Note(0, 12, 16, 71), Note(0, 16, 32, 72, fermata=True),
             Note(1, 0, 4, 67), Note(1, 4, 8, 67), Note(1, 8, 16, 65), Note(1, 16, 32, 64),
             Note(2, 0, 6, 64), Note(2, 8, 16, 62), Note(2, 16, 32, 60),
             Note(3, 0, 8, 48), Note(3, 8, 16, 43), Note(3, 16, 32, 36)]
    return frames_from_notes(notes)


@pytest.mark.parametrize("n,expected", [(0, b"\x00"), (0x7F, b"\x7f"), (0x80, b"\x81\x00"),
                                        (0x3FFF, b"\xff\x7f"), (0x4000, b"\x81\x80\x00"),
                                        (0x0FFFFFFF, b"\xff\xff\xff\x7f")])
def test_variable_length_quantities_match_the_smf_specification(n, expected):
    assert _vlq(n) == expected


@pytest.mark.parametrize("key,shift", [("C", 0), ("G", -5), ("Eb", 3), ("F#m", -3)])
def test_music21_reads_back_the_same_notes_tempo_and_key(tmp_path, key, shift):
    frames = _frames()
    path = tmp_path / "c.mid"
    path.write_bytes(chorale_midi(frames, parse_key(key), 96.0, shift, title="T"))
    score = music21.converter.parse(path)
    assert len(score.parts) == 4
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    for v, part in enumerate(score.parts):
        got = [(float(n.offset), float(n.quarterLength), n.pitch.midi)
               for n in part.flatten().notes]
        want = [(n.start / 4, (n.end - n.start) / 4, n.pitch + shift)
                for n in notes_from_frames(frames) if n.voice == v]
        assert got == want
    marks = score.flatten().getElementsByClass("MetronomeMark")
    assert marks and marks[0].number == pytest.approx(96.0)
    ks = score.flatten().getElementsByClass("KeySignature")[0]
    assert ks.sharps == key_signature(parse_key(key))[0]


def test_key_signatures_follow_the_circle_of_fifths():
    assert key_signature(parse_key("A")) == (3, 0)
    assert key_signature(parse_key("Bbm")) == (-5, 1)
    assert key_signature(parse_key("c minor")) == (-3, 1)


def test_bad_tempo_and_unplayable_transposition_are_refused():
    with pytest.raises(InvalidRequest, match="tempo"):
        chorale_midi(_frames(), parse_key("C"), 0.0, 0)
    with pytest.raises(InvalidRequest, match="0-127"):
        chorale_midi(_frames(), parse_key("C"), 80.0, 100)
