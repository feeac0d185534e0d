"""Music measures over chorale frames: voice crossing, ranges, parallels, pitch classes.

Owns the pure numpy measures used by the benchmark (benchmarks/bach_quality.py) and by
every rendered result: arrays in, numbers out; no I/O, no music21, no torch.

Definitions (documented so generated and real chorales are measured the same way):

* **crossing share**: frames where all four voices sound and S >= A >= T >= B fails,
  divided by frames where all four sound.
* **range violations**: notes outside ``encoding.VOICE_RANGES`` (count).
* **parallel fifths / octaves**: for consecutive frames t-1 -> t and each voice pair, both
  voices sound at both frames, both change pitch in the same direction, and the interval
  between them is a perfect fifth (mod 12 = 7) at both frames (fifths) or a unison /
  octave (mod 12 = 0) at both frames (octaves). Reported per 100 frames. Motion that is
  not simultaneous on the sixteenth grid is not counted.
* **pitch-class histogram**: duration-weighted (one count per sounding voice-frame),
  normalised to sum 1; **distance**: total variation, 0.5 * sum |p - q| (0 = identical,
  1 = disjoint).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from shared_model.domains.bach.encoding import (
    VOICE_RANGES,
    VOICES,
    ChoraleFrames,
    notes_from_frames,
)


def crossing_frames(pitches: np.ndarray) -> tuple[int, int]:
    """(frames with crossing, frames where all four voices sound) of [T, 4] pitches."""
    full = (pitches >= 0).all(axis=1)
    crossed = (np.diff(pitches.astype(np.int32), axis=1) > 0).any(axis=1) & full
    return int(crossed.sum()), int(full.sum())


def range_violations(frames: ChoraleFrames,
                     ranges: dict[str, tuple[int, int]] | None = None) -> int:
    """Notes outside each voice's range."""
    ranges = ranges or VOICE_RANGES
    bad = 0
    for n in notes_from_frames(frames):
        lo, hi = ranges[VOICES[n.voice]]
        bad += not lo <= n.pitch <= hi
    return bad


def parallel_counts(pitches: np.ndarray) -> tuple[int, int]:
    """(parallel fifths, parallel octaves/unisons) in [T, 4] pitches (see module doc)."""
    p = pitches.astype(np.int32)
    if len(p) < 2:
        return 0, 0
    a, b = p[:-1], p[1:]  # [T-1, 4] before / after
    sounding = (a >= 0) & (b >= 0)
    move = np.sign(b - a) * sounding  # [T-1, 4], 0 where not moving or silent
    fifths = octaves = 0
    for i in range(4):
        for j in range(i + 1, 4):
            same_dir = (move[:, i] != 0) & (move[:, i] == move[:, j])
            before = (a[:, i] - a[:, j]) % 12
            after = (b[:, i] - b[:, j]) % 12
            fifths += int((same_dir & (before == 7) & (after == 7)).sum())
            octaves += int((same_dir & (before == 0) & (after == 0)).sum())
    return fifths, octaves


def pitch_class_histogram(frames_list: Iterable[ChoraleFrames]) -> np.ndarray:
    """[12] duration-weighted pitch-class distribution over chorales (sums to 1, or 0s)."""
    counts = np.zeros(12, dtype=np.float64)
    for f in frames_list:
        p = f.pitches[f.pitches >= 0].astype(np.int64)
        counts += np.bincount(p % 12, minlength=12)
    total = counts.sum()
    return counts / total if total else counts


def pitch_class_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two pitch-class distributions."""
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())


def corpus_measures(frames_list: Iterable[ChoraleFrames]) -> dict[str, Any]:
    """Pooled measures over many chorales (real or generated)."""
    frames_list = list(frames_list)
    total = crossed = full = fifths = octaves = ranges = 0
    for f in frames_list:
        c, n = crossing_frames(f.pitches)
        pf, po = parallel_counts(f.pitches)
        total += len(f)
        crossed, full, fifths, octaves = crossed + c, full + n, fifths + pf, octaves + po
        ranges += range_violations(f)
    per100 = 100.0 / total if total else 0.0
    return {"chorales": len(frames_list), "frames": total,
            "crossing_share": crossed / full if full else 0.0,
            "range_violations": ranges,
            "parallel_fifths_per_100": fifths * per100,
            "parallel_octaves_per_100": octaves * per100,
            "pitch_class_histogram": [round(float(x), 5) for x in pitch_class_histogram(frames_list)]}


def chorale_measures(frames: ChoraleFrames) -> dict[str, Any]:
    """The measures of one chorale, for a result's summary."""
    m = corpus_measures([frames])
    del m["chorales"], m["pitch_class_histogram"]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
