"""The bach token format: reversible on real chorales, held vs repeated notes, keys, corpus."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shared_model.domains import get_domain
from shared_model.domains.bach.corpus import (
    jsb_frames,
    load_bach_corpus,
    score_notes,
    voice_sets,
    voicings,
)
from shared_model.domains.bach.encoding import (
    VOICE_RANGES,
    ChoraleFrames,
    Note,
    estimate_key,
    frames_from_notes,
    frames_to_tokens,
    normalize_key,
    notes_from_frames,
    out_of_range,
    shift_to_reference,
    tokens_to_frames,
)
from shared_model.domains.bach.tokenizer import MusicTokenizer
from shared_model.errors import CorpusError, InvalidRequest

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "bach" / "tiny_jsb16th.json"


def _toks(text: str) -> list[str]:
    return text.split()


def _roundtrip_ok(notes: list[Note]) -> None:
    frames = frames_from_notes(notes)
    tokens = frames_to_tokens(frames)
    assert len(tokens) == 5 * len(frames)
    back = tokens_to_frames(tokens)
    assert back.equals(frames)
    strip = [(n.voice, n.start, n.end, n.pitch) for n in sorted(notes)]
    assert [(n.voice, n.start, n.end, n.pitch) for n in notes_from_frames(back)] == strip
    # a note's fermata marks the frames it covers; decoding marks a note if any frame is
    assert [n.fermata for n in notes_from_frames(back)] == [
        bool(back.fermata[n.start:n.end].any()) for n in sorted(notes)]


def test_held_and_repeated_notes_differ_and_round_trip():
    notes = [Note(0, 0, 4, 72), Note(0, 4, 8, 72, fermata=True),  # repeated C5, the 2nd under a fermata
             Note(1, 0, 4, 67), Note(1, 4, 8, 65, fermata=True),
             Note(2, 0, 2, 64), Note(2, 3, 4, 62),                  # a sixteenth rest between
             Note(2, 4, 8, 64, fermata=True),
             Note(3, 0, 8, 48), Note(3, 8, 12, 43)]                 # a held C3, then G2
    frames = frames_from_notes(notes)
    tokens = frames_to_tokens(frames)
    assert tokens[:5] == ["S:72", "A:67", "T:64", "B:48", "|"]
    assert tokens[5:10] == ["S:72~", "A:67~", "T:64~", "B:48~", "|"]
    assert tokens[20:25] == ["S:72", "A:65", "T:64", "B:48~", "|F"]  # re-struck soprano
    assert tokens[10:15] == ["S:72~", "A:67~", "T:-", "B:48~", "|"]
    assert tokens[40:45] == ["S:-", "A:-", "T:-", "B:43", "|"]
    _roundtrip_ok(notes)


def test_strict_decode_rejects_bad_tie_and_lenient_repairs_it():
    tokens = _toks("S:72 A:67 T:64 B:48 | S:74~ A:67~ T:64~ B:48~ |")
    with pytest.raises(InvalidRequest, match="holds a note"):
        tokens_to_frames(tokens)
    frames = tokens_to_frames(tokens, strict=False)
    assert frames.onsets[1].tolist() == [True, False, False, False]


def test_lenient_decode_skips_malformed_and_incomplete_frames():
    tokens = _toks("<bos> <major> S:72 A:67 T:64 B:48 | S:72 A:67 T:64 | S:71 A:67 T:62 B:55 |F S:72")
    with pytest.raises(InvalidRequest):
        tokens_to_frames(tokens)
    frames = tokens_to_frames(tokens, strict=False)
    assert frames.pitches.tolist() == [[72, 67, 64, 48], [71, 67, 62, 55]]
    assert frames.fermata.tolist() == [False, True]


@pytest.mark.parametrize("bad", [
    [Note(0, 0, 4, 72), Note(0, 2, 6, 74)],   # overlap in one voice
    [Note(4, 0, 4, 72)],                       # no fifth voice
    [Note(0, 3, 3, 72)],                       # empty note
])
def test_frames_from_bad_notes_raise(bad):
    with pytest.raises(InvalidRequest):
        frames_from_notes(bad)


def test_key_estimate_and_shift_to_c_or_a():
    # G major scale over a G chord: tonic 7, major; shift +5 to C
    weights = np.zeros(12)
    for pc, w in [(7, 5), (11, 3), (2, 4), (0, 1), (4, 1), (9, 1), (6, 2)]:
        weights[pc] = w
    assert estimate_key(weights) == (7, "major")
    assert shift_to_reference(7, "major") == 5
    assert shift_to_reference(4, "minor") == 5     # E minor -> A minor
    assert shift_to_reference(2, "minor") == -5    # D minor -> A minor
    assert shift_to_reference(6, "major") == -6


def test_jsb_steps_merge_equal_pitches_and_map_silence():
    frames = jsb_frames([[72, 67, 64, 48], [72, 67, -1, 48.0], [74, 67, 64, 48]])
    assert frames.pitches[:, 2].tolist() == [64, -1, 64]
    assert frames.onsets.tolist() == [[True] * 4, [False, False, False, False], [True, False, True, False]]
    assert not frames.fermata.any()


def test_music_tokenizer_splits_on_spaces_and_round_trips():
    tok = MusicTokenizer.default()
    text = "S:72 A:67 T:64 B:48 | S:72~ A:67~ T:64~ B:48~ |F"
    ids = tok.encode(text)
    assert len(ids) == 10 and tok.unk_id not in ids
    assert tok.decode(ids) == text
    report = tok.encode_report("S:72 <eos> S:99 |")
    assert report.unknown == ["<eos>", "S:99"]  # specials cannot be spoofed from text
    assert tok.token_id("<minor>") in {tok.token_id(t) for t in tok.special_tokens.values()}
    same = MusicTokenizer(tok.vocab, tok.special_tokens)  # rebuilt from model metadata
    assert same.encode(text) == ids


def test_domain_registry_returns_bach():
    dom = get_domain("bach")
    assert dom.name == "bach" and dom.continuous is False
    assert dom.build_tokenizer().vocab == MusicTokenizer.default().vocab


def test_jsb_corpus_from_fixture_uses_file_splits():
    corpus = get_domain("bach").load_corpus(TINY)
    assert corpus.continuous is False
    assert (len(corpus.train), len(corpus.val)) == (6, 2)
    assert corpus.stats["skipped"] == {}
    tok = MusicTokenizer.default()
    for doc in corpus.train + corpus.val:
        assert doc.controls in (("<major>",), ("<minor>",))
        ids = tok.encode(doc.text)
        assert tok.unk_id not in ids
        frames = tokens_to_frames(doc.text.split())
        assert not out_of_range(frames)
        # every piece is in C major (the fixture has only major progressions)
        assert doc.controls == ("<major>",)
        assert estimate_key(np.bincount(frames.pitches[frames.pitches >= 0] % 12, minlength=12)) == (0, "major")
    assert corpus.train[2].text.startswith("S:- A:- T:- B:- |")
    again = get_domain("bach").load_corpus(TINY)
    assert [d.text for d in again.train] == [d.text for d in corpus.train]


def test_jsb_corpus_counts_out_of_range_and_bad_files(tmp_path):
    data = json.loads(TINY.read_text())
    data["train"][0] = [[100, 67, 64, 48]] * 8  # a soprano far above any range
    path = tmp_path / "jsb.json"
    path.write_text(json.dumps(data))
    corpus = load_bach_corpus(path)
    assert corpus.stats["skipped"] == {"out_of_range": 1} and len(corpus.train) == 5
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(CorpusError, match="not a JSB"):
        load_bach_corpus(tmp_path / "bad.json")
    with pytest.raises(CorpusError, match="no chorale corpus"):
        load_bach_corpus(tmp_path / "missing.json")


def _check_score_round_trip(name: str) -> bool:
    """Encode -> decode of one bundled chorale gives back its quantized notes."""
    from music21 import corpus

    try:
        notes, _ = score_notes(corpus.parse(name))
    except InvalidRequest:
        return False  # not four parts: skipped, as the corpus loader does
    frames = frames_from_notes(notes)
    norm, _, shift = normalize_key(frames)
    back = tokens_to_frames(frames_to_tokens(norm))
    assert back.equals(norm), name
    restored = [Note(n.voice, n.start, n.end, n.pitch - shift, n.fermata) for n in notes_from_frames(back)]
    fermata_frames = frames.fermata
    expected = [Note(n.voice, n.start, n.end, n.pitch, bool(fermata_frames[n.start:n.end].any()))
                for n in notes]
    assert restored == sorted(expected), name
    return True


def test_bundled_chorales_round_trip_a_handful():
    pytest.importorskip("music21")
    from music21 import corpus

    names = list(corpus.chorales.Iterator(returnType="filename"))[:6]
    assert sum(_check_score_round_trip(n) for n in names) >= 4


@pytest.mark.slow
def test_every_bundled_chorale_round_trips_and_the_cache_is_reused(tmp_path):
    pytest.importorskip("music21")
    from music21 import corpus

    for name in corpus.chorales.Iterator(returnType="filename"):
        _check_score_round_trip(name)
    dom = get_domain("bach")
    first = dom.load_corpus("music21", cache_dir=tmp_path)
    assert first.stats["found"] == 371
    assert first.stats["kept"] + sum(first.stats["skipped"].values()) == 371
    assert first.stats["kept"] >= 340 and 0 < len(first.val) < len(first.train)
    assert list(tmp_path.glob("bach-music21-*.json"))
    second = dom.load_corpus("music21", cache_dir=tmp_path)  # from the cache
    assert second.sha256 == first.sha256
    tok = MusicTokenizer.default()
    for doc in first.train:
        assert tok.unk_id not in tok.encode(doc.text)


def test_voice_ranges_are_ordered_for_feasible_non_crossing():
    lows = [VOICE_RANGES[v][0] for v in "SATB"]
    assert lows == sorted(lows, reverse=True)


def test_frames_equality_helper_detects_a_change():
    f = frames_from_notes([Note(0, 0, 4, 72)])
    g = ChoraleFrames(f.pitches.copy(), f.onsets.copy(), f.fermata.copy())
    assert f.equals(g)
    g.onsets[2, 0] = True
    assert not f.equals(g)


def test_voicings_cover_every_doubling_without_crossing():
    assert voicings([60, 64, 67, 72]) == [(72, 67, 64, 60)]
    assert sorted(voicings([48, 60, 67])) == sorted([(67, 60, 48, 48), (67, 60, 60, 48),
                                                     (67, 67, 60, 48)])
    assert len(voicings([60, 72])) == 3 and voicings([60]) == [(60, 60, 60, 60)]
    with pytest.raises(InvalidRequest):
        voicings([60, 62, 64, 65, 67])


def test_voice_sets_double_the_voice_that_moves_least_and_keep_every_set():
    steps = [[60, 64, 67, 48], [48, 60, 67], [], [62, 50, 65, 71.0]]
    frames = voice_sets(steps)
    assert frames.pitches[0].tolist() == [67, 64, 60, 48]
    assert frames.pitches[1].tolist() == [67, 67, 60, 48]  # alto 64 -> 67 moves 3, -> 60 moves 4
    assert frames.pitches[2].tolist() == [-1, -1, -1, -1]
    for step, row in zip(steps, frames.pitches, strict=True):
        assert {int(p) for p in step} == {int(p) for p in row if p >= 0}


def test_piano_roll_file_is_voiced_and_its_sets_survive_encoding(tmp_path):
    """A JSB pitch-set file (like jsb-chorales-quarter.json: unordered sets, an octave up)."""
    sep = json.loads(TINY.read_text())
    roll = {split: [[sorted({int(p) + 12 for p in step if p >= 0}, reverse=split == "valid")
                     for step in chorale[::4]] for chorale in chorales]
            for split, chorales in sep.items()}
    path = tmp_path / "jsb-chorales-quarter.json"
    path.write_text(json.dumps(roll))
    corpus = load_bach_corpus(path)
    assert corpus.stats["format"].startswith("piano roll")
    assert corpus.stats["skipped"] == {} and (len(corpus.train), len(corpus.val)) == (6, 2)
    for doc, chorale in zip(corpus.train + corpus.val, roll["train"] + roll["valid"], strict=True):
        frames = tokens_to_frames(doc.text.split())
        assert not out_of_range(frames) and len(frames) == len(chorale)
        got = [{int(p) for p in row if p >= 0} for row in frames.pitches]
        shift = next(s for s in range(-30, 31)
                     if all(g == {p + s for p in st} for g, st in zip(got, chorale, strict=True)))
        assert shift % 12 == 0 or doc.controls  # an octave (or key-normalising) transposition
    assert load_bach_corpus(TINY).stats["format"] == "voice-separated"
