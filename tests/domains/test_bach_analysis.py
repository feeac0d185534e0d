"""Music measures (parallels, crossing, pitch classes) and the JSB benchmark's scoring."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from shared_model.domains.bach.analysis import (
    chorale_measures,
    corpus_measures,
    crossing_frames,
    parallel_counts,
    pitch_class_distance,
    pitch_class_histogram,
)
from shared_model.domains.bach.encoding import Note, frames_from_notes

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bach_quality", ROOT / "benchmarks" / "bach_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _chords(*chords):
    return frames_from_notes([Note(v, i * 4, i * 4 + 4, p) for i, c in enumerate(chords)
                              for v, p in enumerate(c)])


def test_parallel_fifths_and_octaves_are_counted_once_per_motion():
    # S and B both up a tone, two octaves apart before and after; A holds, T moves a semitone
    octaves = _chords((72, 67, 64, 48), (74, 67, 65, 50))
    assert parallel_counts(octaves.pitches) == (0, 1)
    # S-T and S-B fifths (mod 12) and T-B octaves, all voices up a tone
    frames = _chords((67, 64, 60, 48), (69, 65, 62, 50))
    assert parallel_counts(frames.pitches) == (2, 1)
    # contrary motion into the same intervals is not parallel
    contrary = _chords((72, 67, 60, 48), (74, 62, 55, 38))
    assert parallel_counts(contrary.pitches)[1] == 0
    # a held chord (no motion) is not parallel
    assert parallel_counts(_chords((72, 67, 60, 48), (72, 67, 60, 48)).pitches) == (0, 0)


def test_crossing_and_measures():
    frames = _chords((72, 67, 64, 48), (72, 74, 64, 48))  # alto above soprano in chord 2
    assert crossing_frames(frames.pitches) == (4, 8)
    m = chorale_measures(frames)
    assert m["crossing_share"] == 0.5 and m["frames"] == 8 and m["range_violations"] == 0
    pooled = corpus_measures([frames, _chords((100, 67, 64, 48))])
    assert pooled["range_violations"] == 1 and pooled["chorales"] == 2


def test_pitch_class_histogram_and_distance():
    c_major = pitch_class_histogram([_chords((72, 67, 64, 48))])
    assert c_major[0] == pytest.approx(0.5) and c_major[7] == pytest.approx(0.25)
    assert pitch_class_distance(c_major, c_major) == 0.0
    fsharp = pitch_class_histogram([_chords((78, 73, 70, 54))])
    assert pitch_class_distance(c_major, fsharp) == pytest.approx(1.0)


def test_bernoulli_frame_nll_matches_hand_computation():
    bench = _bench()
    probs = np.full((1, bench.N_KEYS), 0.1)
    roll = np.zeros((1, bench.N_KEYS), dtype=bool)
    roll[0, :4] = True
    expected = -(4 * np.log(0.1) + (bench.N_KEYS - 4) * np.log(0.9))
    assert bench.bernoulli_frame_nll(probs, roll)[0] == pytest.approx(expected)
    s = bench.summarize_frame_log_probs([np.array([-1.0, -3.0]), np.array([-2.0])])
    assert s == {"nll_per_frame": pytest.approx(2.0), "frames": 3}


def test_repeat_baseline_beats_independent_on_sustained_chords(tmp_path):
    bench = _bench()
    rng = np.random.default_rng(0)

    def chorale():  # chords held for 4 frames, random triads
        frames = []
        for _ in range(12):
            root = int(rng.integers(48, 60))
            frames += [[root, root + 4, root + 7, root + 12]] * 4
        return frames

    data = {s: [chorale() for _ in range(n)] for s, n in (("train", 8), ("valid", 3), ("test", 3))}
    path = tmp_path / "q.json"
    path.write_text(json.dumps(data))
    res = bench.run_baselines(path)
    assert res["repeat"]["nll_per_frame"] < res["bernoulli"]["nll_per_frame"]
    assert res["repeat+neighbours"]["frames"] == 3 * 48
    assert bench.main(["--data", str(tmp_path / "missing")]) == 2
