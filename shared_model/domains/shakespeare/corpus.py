"""Play text in ``NAME:`` turns (Tiny Shakespeare's layout): the corpus and its turns.

The format, as in karpathy/char-rnn's ``tinyshakespeare/input.txt``:

* a turn starts with a header line ``NAME:`` that follows a blank line (or opens the
  file); the name is the whole line before the colon (``First Citizen``,
  ``KING RICHARD III``, ``Senators, &C``);
* the speech is the following lines up to the next blank line; a speech line that
  ends with a colon (``Come:``) is speech, because it does not follow a blank line;
* two or more blank lines in a row separate sections (plays, in Tiny Shakespeare).

Accepted leniently: ``\\r\\n`` endings (normalised by the text rules), trailing spaces
after the colon, several blank lines, a header with an empty speech, and lines before
the first header (counted in ``stats["unattributed_lines"]``, kept in the text).
A header's name has at most ``MAX_NAME_CHARS`` characters, no colon, contains a
letter, and does not start with a space or a lower-case letter.

The corpus itself is the text domain's: the whole text as running text with the
standard prefix split (first 90% / last 10% of characters), so Tiny Shakespeare's
validation set is exactly its last 111,540 characters. Turns only add statistics.

Serving-safe: standard library only; never imports torch or ``shared_model.training``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_model.domains.base import Corpus
from shared_model.domains.text.corpus import TextCorpusConfig, build_corpus, read_text_file
from shared_model.errors import CorpusError

MAX_NAME_CHARS = 40
TOP_SPEAKERS = 50  # how many speakers Corpus.stats lists by name (it counts all of them)


@dataclass(frozen=True)
class Turn:
    """One speaker's turn.

    Attributes:
        speaker: the name as written in the header, without the colon.
        text: the speech lines joined by ``\\n`` (no trailing newline; may be empty).
        line: 1-based line number of the header.
        offset: character offset of the header in the (normalised) text.
    """

    speaker: str
    text: str
    line: int
    offset: int


def is_speaker_header(line: str) -> str | None:
    """The speaker name if ``line`` has the shape of a ``NAME:`` header, else None.

    Only the shape: whether the line follows a blank line is ``parse_turns``' concern.
    """
    body = line.rstrip()
    if not body.endswith(":"):
        return None
    name = body[:-1].rstrip()
    if (not name or len(name) > MAX_NAME_CHARS or ":" in name or not name[0].isalnum()
            or name[0].islower() or not any(c.isalpha() for c in name)):
        return None
    return name


def parse_turns(text: str) -> list[Turn]:
    """Split play text into speaker turns (see the module docstring for the format)."""
    return _scan(text)[0]


def _scan(text: str) -> tuple[list[Turn], int, int]:
    """``(turns, unattributed non-blank lines, sections)`` in one pass over the lines."""
    turns: list[Turn] = []
    speaker: str | None = None
    header_line = header_offset = 0
    speech: list[str] = []
    unattributed = 0
    sections = 0
    blank_run = 1  # the start of the text counts as a blank line before it
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        blank = not line.strip()
        name = None if blank or not blank_run else is_speaker_header(line)
        if name is not None:
            if speaker is not None:
                turns.append(Turn(speaker, "\n".join(speech), header_line, header_offset))
            if blank_run >= 2 or not sections:  # the first turn opens the first section
                sections += 1
            speaker, header_line, header_offset, speech = name, number, offset, []
        elif not blank:
            if speaker is None:
                unattributed += 1
            else:
                speech.append(line)
        if blank:
            blank_run += 1
            if speaker is not None and speech:
                # a blank line ends the speech; later lines before a header are strays
                turns.append(Turn(speaker, "\n".join(speech), header_line, header_offset))
                speaker, speech = None, []
        else:
            blank_run = 0
        offset += len(line) + 1
    if speaker is not None:
        turns.append(Turn(speaker, "\n".join(speech), header_line, header_offset))
    return turns, unattributed, sections


def speaker_counts(turns: Iterable[Turn]) -> Counter[str]:
    """Turns per speaker."""
    return Counter(t.speaker for t in turns)


def play_stats(turns: list[Turn], cut: int, unattributed: int, sections: int) -> dict[str, Any]:
    """Speaker statistics for ``Corpus.stats``; ``cut`` is the train/val character cut.

    A turn counts as train or validation by where its header starts.
    """
    counts = speaker_counts(turns)
    n_train = bisect.bisect_left([t.offset for t in turns], cut)  # turns starting before the cut
    train_speakers = {t.speaker for t in turns[:n_train]}
    val_speakers = {t.speaker for t in turns[n_train:]}
    return {
        "turns": len(turns),
        "turns_train": n_train,
        "turns_val": len(turns) - n_train,
        "speakers": len(counts),
        "speakers_val_only": len(val_speakers - train_speakers),
        "top_speakers": [[name, n] for name, n in counts.most_common(TOP_SPEAKERS)],
        "sections": sections,
        "unattributed_lines": unattributed,
    }


def load_play_corpus(path: str | Path, config: TextCorpusConfig | None = None) -> Corpus:
    """A play-text file as a continuous corpus, with speaker statistics.

    Raises:
        CorpusError: the text rules' errors, or no ``NAME:`` turn in the file.
    """
    config = config or TextCorpusConfig()
    file = read_text_file(path)
    turns, unattributed, sections = _scan(file.text)
    if not turns:
        raise CorpusError(f"{file.path} has no speaker turns: expected 'NAME:' header lines "
                          "after blank lines, as in Tiny Shakespeare; use --domain text for "
                          "other text")
    cut = int(len(file.text) * config.train_fraction)
    stats = play_stats(turns, cut, unattributed, sections)
    return build_corpus("shakespeare", file, config, extra_stats=stats)


class ShakespeareDomain:
    """The ``shakespeare`` domain: play text in speaker turns, trained as running text."""

    name = "shakespeare"
    continuous = True

    def load_corpus(self, path: Path, **options: Any) -> Corpus:
        return load_play_corpus(path, TextCorpusConfig.from_options(self.name, options))

    def plan(self, meta: Any, request: Any) -> Any:
        """The Studio's Task for a ``SceneRequest`` against this model (see ``task.py``)."""
        from shared_model.domains.shakespeare.task import plan_scene

        return plan_scene(meta, request)
