"""Bach chorale corpora: music21's bundled chorales and the JSB Chorales JSON, to Documents.

Owns reading both sources, the once-only music21 parse (cached as JSON in
``<LSTMGEN_HOME>/cache``, keyed by the music21 version and this module's
``CACHE_VERSION``), skipping unusable chorales with counts, transposition to C/Am and the
deterministic train/validation split. music21 is imported only inside the functions that
parse scores. Never imports torch or training.

Sources (``load_corpus(path)``):

* ``"music21"``: the 371 chorales of ``music21.corpus.chorales.Iterator()``. Chorales
  not in exactly four parts or failing to parse are skipped and counted. Ties are merged
  (``stripTies``), chords inside a part keep their top note (bottom note for the bass) and
  are counted, grace notes are dropped, fermatas come from the notes' expressions. A
  pickup bar is padded with rest frames so that frame 0 is a downbeat. Split: a chorale
  goes to validation when ``sha256(name)`` mod 100 < ``val_percent`` (default 10).
* a JSB JSON file (``Jsb16thSeparated.json``: ``{"train","valid","test"}``, each chorale a
  list of 16th steps of four numbers S, A, T, B, -1 silent). The source has no ties and
  no fermatas: consecutive equal pitches of a voice are read as one held note (a
  repeated note is therefore merged), and no frame is marked as a fermata. Split: the
  file's own ``train`` -> train and ``valid`` -> validation; ``test`` is never used for
  training (the benchmark keeps it).
* a JSB *piano-roll* JSON file (``jsb-chorales-quarter.json``, ``-8th``, ``-16th``: each
  step the set of sounding pitches, 0-4 of them, in no order). A step is one frame at the
  file's resolution (so a model trained on the quarter file has one frame per quarter
  note: a benchmark model, see ``benchmarks/bach_quality.py``). Sets are voiced
  deterministically (``voice_sets``), so the token text is a one-to-one function of the
  roll and the NLL of a roll's tokens bounds the NLL of its pitch sets.

Every chorale is transposed to C major / A minor; when that leaves a voice outside
``VOICE_RANGES`` the whole chorale is also tried an octave lower, then higher (the JSB
quarter roll sits an octave above the others), then in its own key at those octaves (the
key estimate can miss by a fifth), before it is skipped as out of range.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from shared_model.domains.bach.encoding import (
    VOICE_RANGES,
    ChoraleFrames,
    Note,
    frames_from_notes,
    frames_to_tokens,
    normalize_key,
    out_of_range,
)
from shared_model.domains.base import Corpus, Document, file_sha256
from shared_model.errors import CorpusError, InvalidRequest

log = logging.getLogger(__name__)

CACHE_VERSION = 1
MUSIC21_SOURCE = "music21"
MODE_CONTROLS = {"major": "<major>", "minor": "<minor>"}


# ---- music21 scores -> notes -------------------------------------------------------

def score_notes(score: Any) -> tuple[list[Note], dict[str, int]]:
    """Quantized notes of a four-part music21 score (original key).

    Returns the notes and counts of what was simplified (``chords_reduced``,
    ``notes_dropped`` for notes shorter than half a sixteenth, ``grace_dropped``).
    Raises InvalidRequest when the score is not in exactly four parts.
    """
    from music21 import expressions

    parts = list(score.parts)
    if len(parts) != 4:
        raise InvalidRequest(f"{len(parts)} parts, not 4")
    measures = parts[0].getElementsByClass("Measure")
    pad = float(measures[0].paddingLeft) if len(measures) else 0.0
    counts: Counter[str] = Counter()
    notes: list[Note] = []
    for v, part in enumerate(parts):
        last_end = -1
        for n in part.stripTies().flatten().notes:
            if n.duration.isGrace:
                counts["grace_dropped"] += 1
                continue
            start = round((float(n.offset) + pad) * 4)
            end = round((float(n.offset) + pad + float(n.quarterLength)) * 4)
            if end <= start or start < last_end:
                counts["notes_dropped"] += 1
                continue
            if n.isChord:
                counts["chords_reduced"] += 1
                midis = [p.midi for p in n.pitches]
                pitch = min(midis) if v == 3 else max(midis)
            else:
                pitch = n.pitch.midi
            fermata = any(isinstance(e, expressions.Fermata) for e in n.expressions)
            notes.append(Note(v, start, end, int(pitch), fermata))
            last_end = end
    return notes, dict(counts)


def parse_music21_corpus(progress: bool = False) -> dict[str, Any]:
    """Parse every bundled chorale once: {"chorales": [{name, notes}], "skipped": {...}}.

    Notes are stored as [voice, start, end, pitch, fermata] in the original key.
    """
    from music21 import corpus
    from tqdm import tqdm

    names = list(corpus.chorales.Iterator(returnType="filename"))
    chorales: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    simplified: Counter[str] = Counter()
    for name in tqdm(names, desc="parsing chorales", disable=not progress, unit="chorale"):
        try:
            score = corpus.parse(name)
            notes, counts = score_notes(score)
        except InvalidRequest:
            skipped["not_four_parts"] += 1
            continue
        except Exception as exc:  # music21 raises many types on a bad file
            log.warning("chorale %s does not parse: %s", name, exc)
            skipped["parse_error"] += 1
            continue
        simplified.update(counts)
        chorales.append({"name": str(name),
                         "notes": [[n.voice, n.start, n.end, n.pitch, int(n.fermata)] for n in notes]})
    return {"chorales": chorales, "found": len(names), "skipped": dict(skipped),
            "simplified": dict(simplified)}


def _cache_path(cache_dir: Path) -> Path:
    import music21

    return cache_dir / f"bach-music21-{music21.__version__}-v{CACHE_VERSION}.json"


def load_music21_chorales(cache_dir: Path | None, progress: bool = False) -> dict[str, Any]:
    """The parsed music21 corpus, from the cache when present, else parsed and cached."""
    path = _cache_path(cache_dir) if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (OSError, ValueError):
            log.warning("ignoring unreadable chorale cache %s", path)
    data = parse_music21_corpus(progress=progress)
    if path is not None:
        _write_json_atomic(path, data)
    return data


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def notes_from_rows(rows: Iterable[Iterable[int]]) -> list[Note]:
    return [Note(int(v), int(s), int(e), int(p), bool(f)) for v, s, e, p, f in rows]


# ---- JSB JSON -> frames ------------------------------------------------------------

def jsb_frames(steps: list[list[float]]) -> ChoraleFrames:
    """One Jsb16thSeparated chorale (16th steps of S, A, T, B; -1 silent) as frames.

    Consecutive equal pitches of a voice are one held note (the source cannot tell a
    repeated note from a held one); there are no fermatas.
    """
    arr = np.asarray(steps, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InvalidRequest("a JSB chorale step must hold four numbers (S, A, T, B)")
    pitches = np.where(arr < 0, -1, np.rint(arr)).astype(np.int16)
    prev = np.vstack([np.full((1, 4), -1, dtype=np.int16), pitches[:-1]])
    onsets = (pitches >= 0) & (pitches != prev)
    return ChoraleFrames(pitches, onsets, np.zeros(len(pitches), dtype=bool))


def voicings(pitches: list[int]) -> list[tuple[int, int, int, int]]:
    """Every non-increasing S, A, T, B assignment that uses each of the distinct
    ``pitches`` (1-4 of them) at least once, doublings on adjacent voices."""
    ps = sorted(set(pitches), reverse=True)
    k = len(ps)
    if not 1 <= k <= 4:
        raise InvalidRequest(f"a frame must hold 1-4 distinct pitches, got {k}")
    out = []
    # split the four voices into k non-empty consecutive groups: choose k - 1 cut points
    for cuts in combinations(range(1, 4), k - 1):
        bounds = (0, *cuts, 4)
        out.append(tuple(ps[i] for i in range(k) for _ in range(bounds[i + 1] - bounds[i])))
    return out  # type: ignore[return-value]


def voice_sets(steps: list[list[float]]) -> ChoraleFrames:
    """One JSB piano-roll chorale (each step the set of sounding pitches) voiced S, A, T, B.

    Four pitches are voiced top to bottom; with fewer, the doubling is the voicing (see
    ``voicings``) that moves least from the previous frame (sum of absolute steps over
    voices that sounded; ties go to the first, doubling the lowest voices); an empty step
    is a rest in every voice. As in ``jsb_frames``, equal consecutive pitches of a voice
    are one held note. Deterministic, and the set of each frame is recoverable from it.
    """
    rows: list[tuple[int, ...]] = []
    prev: tuple[int, ...] = (-1, -1, -1, -1)
    for step in steps:
        if not isinstance(step, list):
            raise InvalidRequest("a JSB piano-roll step must be a list of pitches")
        pitches = [int(round(float(p))) for p in step]
        if not pitches:
            row: tuple[int, ...] = (-1, -1, -1, -1)
        else:
            row = min(voicings(pitches), key=lambda v: sum(
                abs(a - b) for a, b in zip(v, prev, strict=True) if b >= 0))
        rows.append(row)
        prev = row if pitches else prev
    return jsb_frames([list(r) for r in rows]) if rows else ChoraleFrames(
        np.zeros((0, 4), dtype=np.int16), np.zeros((0, 4), dtype=bool), np.zeros(0, dtype=bool))


def is_piano_roll(data: dict[str, Any]) -> bool:
    """True for a JSB pitch-set file, False for the voice-separated one (every step S, A, T,
    B: four numbers)."""
    return any(not isinstance(step, list) or len(step) != 4
               for split in ("train", "valid") for chorale in data[split] for step in chorale)


def read_jsb(path: Path) -> dict[str, list[list[list[float]]]]:
    """The split -> chorales mapping of a JSB JSON file (CorpusError if unusable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorpusError(f"cannot read JSB chorales from {path}: {exc}") from exc
    if not isinstance(data, dict) or not {"train", "valid"} <= set(data):
        raise CorpusError(f"{path.name} is not a JSB chorales file (needs train/valid lists)")
    return data  # type: ignore[no-any-return]


# ---- both -> Corpus ----------------------------------------------------------------

def encode_chorale(frames: ChoraleFrames, skipped: Counter[str]) -> Document | None:
    """Transpose to C/Am and encode; None (counted in ``skipped``) if out of range."""
    if len(frames) == 0:
        skipped["empty"] += 1
        return None
    normal, mode, _ = normalize_key(frames)
    # the key-normalised chorale, else an octave off, else (key estimates can miss by a
    # fifth) the chorale in its own key at the octave that fits
    fitting = next((f.transposed(o) for f in (normal, frames) for o in (0, -12, 12)
                    if not out_of_range(f.transposed(o))), None)
    if fitting is None:
        skipped["out_of_range"] += 1
        return None
    normal = fitting
    return Document(" ".join(frames_to_tokens(normal)), controls=(MODE_CONTROLS[mode],))


def is_validation(name: str, val_percent: int) -> bool:
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % 100 < val_percent


def load_bach_corpus(path: str | Path, *, cache_dir: Path | None = None, val_percent: int = 10,
                     progress: bool = False) -> Corpus:
    """The bach Corpus from ``"music21"`` or a JSB JSON file (see the module docstring)."""
    if not 0 <= val_percent < 100:
        raise InvalidRequest("val_percent must be in 0..99")
    skipped: Counter[str] = Counter()
    train: list[Document] = []
    val: list[Document] = []
    stats: dict[str, Any] = {}
    if str(path) == MUSIC21_SOURCE:
        data = load_music21_chorales(cache_dir, progress=progress)
        skipped.update(data["skipped"])
        for ch in data["chorales"]:
            doc = encode_chorale(frames_from_notes(notes_from_rows(ch["notes"])), skipped)
            if doc is not None:
                (val if is_validation(ch["name"], val_percent) else train).append(doc)
        name, stats["found"], stats["simplified"] = "music21-bach-chorales", data["found"], data["simplified"]
        split = {"method": "sha256(name) % 100 < val_percent", "val_percent": val_percent}
    else:
        p = Path(path)
        if not p.is_file():
            raise CorpusError(f"no chorale corpus at {p} (use 'music21' or a JSB .json file)")
        data = read_jsb(p)
        roll = is_piano_roll(data)
        to_frames = voice_sets if roll else jsb_frames
        stats["format"] = "piano roll (pitch sets, voiced by rule)" if roll else "voice-separated"
        for split_name, out in (("train", train), ("valid", val)):
            for steps in data[split_name]:
                try:
                    doc = encode_chorale(to_frames(steps), skipped)
                except InvalidRequest:
                    skipped["malformed"] += 1
                    continue
                if doc is not None:
                    out.append(doc)
        name, stats["found"] = p.stem, len(data["train"]) + len(data["valid"])
        split = {"method": "file splits", "train": "train", "val": "valid"}
    if not train:
        raise CorpusError(f"no usable chorale in {path}")
    text = "\n".join(d.controls[0] + " " + d.text for d in train + val).encode("utf-8")
    sha = hashlib.sha256(text).hexdigest() if str(path) == MUSIC21_SOURCE else file_sha256(Path(path))
    size = len(text) if str(path) == MUSIC21_SOURCE else Path(path).stat().st_size
    stats.update(kept=len(train) + len(val), skipped=dict(skipped), train=len(train), val=len(val),
                 voice_ranges=VOICE_RANGES)
    return Corpus(domain="bach", name=name, sha256=sha, size=size, train=train, val=val,
                  continuous=False, control_tokens=tuple(MODE_CONTROLS.values()), split=split,
                  stats=stats)
