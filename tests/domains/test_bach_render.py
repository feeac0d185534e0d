"""Rendering chorales: MIDI and MusicXML read back by music21 in four parts, a WAV that
never clips, a PNG, key and tempo validation, atomic all-or-nothing file writing."""

from __future__ import annotations

import io
import os
import wave

import numpy as np
import pytest

from shared_model.domains.bach import ChoraleRequest, parse_key
from shared_model.domains.bach.constraints import ChoraleConstraint
from shared_model.domains.bach.encoding import Note, frames_from_notes, frames_to_tokens
from shared_model.domains.bach.output import write_chorale_files
from shared_model.domains.bach.render import output_shift, render_chorale
from shared_model.domains.bach.tokenizer import MusicTokenizer
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState

music21 = pytest.importorskip("music21")
TOK = MusicTokenizer.default()


def _cadence() -> str:
    """Two bars: I - IV - V - I in C with a final fermata (hand-written)."""
    chords = [(72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48)]
    notes = []
    for i, chord in enumerate(chords):
        for v, p in enumerate(chord):
            notes.append(Note(v, i * 8, i * 8 + 8, p, fermata=i == 3))
    return " ".join(frames_to_tokens(frames_from_notes(notes)))


def _generated(bars: int, seed: int) -> str:
    """A constrained random chorale (random logits), as the runtime would produce."""
    rng = np.random.default_rng(seed)
    con = ChoraleConstraint(TOK, bars)
    prompt, gen = [TOK.bos_id, TOK.token_id("<minor>")], []
    while not con.finished(StepState(prompt, gen, np.zeros(1))):
        z = rng.normal(0, 2, len(TOK.vocab)) + con.adjust(StepState(prompt, gen, np.zeros(1)))
        p = np.exp(z - z.max())
        gen.append(int(rng.choice(len(p), p=p / p.sum())))
    return TOK.decode(gen)


def _read_wav(data: bytes) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(io.BytesIO(data)) as w:
        params = w.getparams()
        samples = np.frombuffer(w.readframes(params.nframes), dtype="<i2")
    return params, samples


@pytest.mark.parametrize("key,tonic,mode", [("C", "C", "major"), ("G", "G", "major"),
                                            ("Bb", "B-", "major"), ("F#m", "F#", "minor")])
def test_midi_and_musicxml_read_back_with_four_parts_in_the_key(tmp_path, key, tonic, mode):
    text = _cadence() if mode == "major" else _generated(2, 1)
    res = render_chorale(text, key=key, tempo=96)
    xml = music21.converter.parseData(res.musicxml_text, format="musicxml")
    assert len(xml.parts) == 4
    assert [p.partName for p in xml.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    ks = xml.parts[0].recurse().getElementsByClass("KeySignature")[0]
    assert ks.asKey(mode).tonic.name == tonic
    (tmp_path / "c.mid").write_bytes(res.midi_bytes)
    midi = music21.converter.parse(tmp_path / "c.mid")
    assert len(midi.parts) == 4
    n_notes = [len(p.flatten().notes) for p in midi.parts]
    assert all(n > 0 for n in n_notes)
    if mode == "major":  # the hand-written cadence: bass starts on the tonic, one final fermata
        first = xml.parts[3].flatten().notes[0].pitch  # bass starts on the tonic
        assert first.name == tonic
        fermatas = [n for n in xml.parts[0].flatten().notes
                    if any(isinstance(e, music21.expressions.Fermata) for e in n.expressions)]
        assert len(fermatas) == 1
    assert res.key == parse_key(key).name


def test_wav_is_22050_mono_16bit_normalized_without_clipping():
    res = render_chorale(_generated(2, 2), key="Eb", tempo=120, formats=("wav",))
    params, samples = _read_wav(res.wav_bytes)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
    peak = np.abs(samples.astype(np.int32)).max() / 32767
    assert 0.8 < peak <= 1.0
    assert params.nframes / 22050 == pytest.approx(32 * 15 / 120 + 0.68, abs=0.01)
    assert res.midi_bytes is None and res.png_bytes is None


def test_png_is_a_png():
    res = render_chorale(_cadence(), key="D", tempo=80, formats=("png",))
    assert res.png_bytes.startswith(b"\x89PNG\r\n\x1a\n") and len(res.png_bytes) > 5000


def test_result_summary_reports_measures_and_formats():
    res = render_chorale(_cadence(), key="C", tempo=60, formats=("midi",))
    s = res.summary()
    assert s["formats"] == ["midi"] and s["bars"] == 2 and s["seconds"] == 8.0
    assert s["measures"]["crossing_share"] == 0.0 and s["measures"]["range_violations"] == 0


def test_output_octave_keeps_voices_in_choir_ranges():
    frames = frames_from_notes([Note(v, 0, 16, p) for v, p in enumerate((72, 67, 64, 48))])
    assert output_shift(frames, parse_key("G")) == -5   # G below C keeps the bass at G2
    assert output_shift(frames, parse_key("F#")) in (-6, 6)


@pytest.mark.parametrize("key", ["H", "Fb", "E#m", "", "Cmajor7", "C##"])
def test_unknown_keys_are_invalid(key):
    with pytest.raises(InvalidRequest, match="unknown key"):
        render_chorale(_cadence(), key=key)
    with pytest.raises(InvalidRequest, match="unknown key"):
        ChoraleRequest(key=key)


@pytest.mark.parametrize("tempo", [0, 10, 301, "fast", float("nan")])
def test_bad_tempo_is_invalid(tempo):
    with pytest.raises(InvalidRequest, match="tempo"):
        ChoraleRequest(tempo=tempo)


@pytest.mark.parametrize("bars", [0, 10_000, 2.5, True])
def test_bad_bars_are_invalid(bars):
    with pytest.raises(InvalidRequest, match="bars"):
        ChoraleRequest(bars=bars)


def test_nothing_to_render_and_unknown_format():
    with pytest.raises(InvalidRequest, match="no complete frame"):
        render_chorale("<bos> S:72 A:67", key="C")
    with pytest.raises(InvalidRequest, match="format"):
        render_chorale(_cadence(), formats=("mp3",))


def test_files_are_written_atomically(tmp_path):
    res = render_chorale(_cadence(), key="A", tempo=90)
    paths = write_chorale_files(res, midi=tmp_path / "a.mid", musicxml=tmp_path / "a.musicxml",
                                wav=tmp_path / "a.wav", png=tmp_path / "a.png")
    assert [p.name for p in paths] == ["a.mid", "a.musicxml", "a.wav", "a.png"]
    assert (tmp_path / "a.mid").read_bytes() == res.midi_bytes
    assert (tmp_path / "a.wav").read_bytes() == res.wav_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mid", "a.musicxml", "a.png", "a.wav"]


def test_unwritable_path_writes_nothing(tmp_path):
    res = render_chorale(_cadence(), key="C", formats=("midi", "wav"))
    (tmp_path / "old.mid").write_bytes(b"old")
    with pytest.raises(InvalidRequest, match="cannot write") as err:
        write_chorale_files(res, midi=tmp_path / "old.mid", wav=tmp_path / "no" / "such" / "x.wav")
    assert "\n" not in str(err.value)
    assert (tmp_path / "old.mid").read_bytes() == b"old"  # untouched: all or nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mid"]  # no temp files left
    with pytest.raises(InvalidRequest, match="directory"):
        write_chorale_files(res, midi=tmp_path)
    with pytest.raises(InvalidRequest, match="no MusicXML"):
        write_chorale_files(res, musicxml=tmp_path / "x.musicxml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_one_line_error(tmp_path):
    res = render_chorale(_cadence(), key="C", formats=("midi",))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InvalidRequest, match="cannot write"):
            write_chorale_files(res, midi=ro / "x.mid")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)
