"""The shakespeare domain: speaker turns in ``NAME:`` play text, the standard split, stats."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_model.domains import get_domain
from shared_model.domains.shakespeare import DOMAIN, Turn, is_speaker_header, parse_turns
from shared_model.errors import CorpusError

TINY = Path("/work/shared/data/shakespeare/tinyshakespeare.txt")


def test_registry_returns_the_shakespeare_domain():
    assert get_domain("shakespeare") is DOMAIN
    assert (DOMAIN.name, DOMAIN.continuous) == ("shakespeare", True)


def test_fixture_turns(fixtures_dir):
    text = (fixtures_dir / "shakespeare" / "play.txt").read_text(encoding="utf-8")
    turns = parse_turns(text)
    assert [t.speaker for t in turns] == ["ROMEO", "JULIET", "ROMEO", "JULIET", "ROMEO", "JULIET",
                                          "PROSPERO", "MIRANDA", "First Citizen", "All"]
    assert turns[1] == Turn("JULIET", "Ay me!", line=5, offset=99)
    # a speech line ending in a colon is speech, not a new speaker
    assert turns[2].text == "She speaks:\nO, speak again, bright angel!"
    assert turns[6].text.startswith("Now I arise:\n")
    for t in turns:
        assert text[t.offset:].startswith(t.speaker + ":\n")
        assert text.split("\n")[t.line - 1] == t.speaker + ":"


def test_fixture_corpus_split_and_stats(fixtures_dir):
    path = fixtures_dir / "shakespeare" / "play.txt"
    corpus = DOMAIN.load_corpus(path)
    text = path.read_text(encoding="utf-8")
    assert len(text) == 658
    assert corpus.train[0].text == text[:592] and corpus.val[0].text == text[592:]
    assert corpus.domain == "shakespeare" and corpus.name == "play.txt" and corpus.size == 658
    stats = corpus.stats
    assert stats["turns"] == 10 and stats["speakers"] == 6
    # "First Citizen" starts at 577, before the cut at 592; only "All" starts after it
    assert (stats["turns_train"], stats["turns_val"]) == (9, 1)
    assert stats["speakers_val_only"] == 1
    assert stats["top_speakers"][:2] == [["ROMEO", 3], ["JULIET", 3]]
    assert stats["sections"] == 2  # the double blank line before PROSPERO
    assert stats["unattributed_lines"] == 0


def test_lenient_format_details(tmp_path):
    play = ("A prologue line, before any speaker.\n\n"
            "HAMLET:   \n"          # trailing spaces after the colon
            "To be, or not to be:\n"
            "that is the question.\n\n\n\n"
            "OPHELIA:\n\n"          # a header whose speech follows a blank line
            "Good my lord,\n\n"
            "KING:\n"               # empty speech at the end of the file
            )
    turns = parse_turns(play)
    assert [(t.speaker, t.text) for t in turns] == [
        ("HAMLET", "To be, or not to be:\nthat is the question."),
        ("OPHELIA", "Good my lord,"),
        ("KING", ""),
    ]
    path = tmp_path / "hamlet.txt"
    path.write_text(play, encoding="utf-8")
    stats = DOMAIN.load_corpus(path).stats
    assert stats["unattributed_lines"] == 1 and stats["sections"] == 2


def test_crlf_play_gives_the_same_turns(tmp_path, fixtures_dir):
    lf = (fixtures_dir / "shakespeare" / "play.txt").read_bytes()
    path = tmp_path / "play-dos.txt"
    path.write_bytes(lf.replace(b"\n", b"\r\n"))
    dos = DOMAIN.load_corpus(path)
    unix = DOMAIN.load_corpus(fixtures_dir / "shakespeare" / "play.txt")
    assert dos.train == unix.train and dos.val == unix.val
    assert dos.stats["turns"] == unix.stats["turns"]
    assert dos.stats["newlines_normalised"] == lf.count(b"\n")
    assert dos.sha256 != unix.sha256  # identity is of the bytes on disk


@pytest.mark.parametrize(("line", "name"), [
    ("ROMEO:", "ROMEO"),
    ("First Citizen:", "First Citizen"),
    ("KING RICHARD III:", "KING RICHARD III"),
    ("Senators, &C:", "Senators, &C"),
    ("LADY CAPULET:  ", "LADY CAPULET"),
    ("罗密欧:", "罗密欧"),
    ("come:", None),                 # lower-case start: speech
    ("  ROMEO:", None),              # indented: speech
    (":", None),
    ("ROMEO: But soft", None),       # inline speech is not this format
    ("Time: now: then:", None),
    ("123:", None),
    ("A" * 41 + ":", None),          # longer than any speaker name
])
def test_is_speaker_header(line, name):
    assert is_speaker_header(line) == name


def test_a_header_must_follow_a_blank_line():
    turns = parse_turns("ROMEO:\nI say:\nJULIET:\nthis is still Romeo\n")
    assert [(t.speaker, t.text) for t in turns] == [
        ("ROMEO", "I say:\nJULIET:\nthis is still Romeo")]


@pytest.mark.parametrize("text", ["", "\n\n", "just prose, no speakers at all.\nMore prose.\n",
                                  "lower:\ncase names are not speakers\n"])
def test_parse_turns_without_turns_is_empty(text):
    assert parse_turns(text) == []


def test_text_without_turns_is_a_corpus_error(tmp_path):
    path = tmp_path / "prose.txt"
    path.write_text("It was the best of times, it was the worst of times.\n" * 5,
                    encoding="utf-8")
    with pytest.raises(CorpusError, match="prose.txt has no speaker turns.*--domain text"):
        DOMAIN.load_corpus(path)
    assert get_domain("text").load_corpus(path).stats["chars"] == 265


@pytest.mark.skipif(not TINY.is_file(), reason="needs /work/shared/data (the real corpus)")
def test_tiny_shakespeare():
    corpus = DOMAIN.load_corpus(TINY)
    text = TINY.read_text(encoding="utf-8")
    assert corpus.val[0].text == text[-111540:] and len(corpus.train[0].text) == 1003854
    assert corpus.split["cut"] == 1003854
    assert corpus.sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    stats = corpus.stats
    # every "NAME:" line that follows a blank line, counted independently of the parser
    lines = text.split("\n")
    headers = [b for a, b in zip([""] + lines, lines, strict=False) if a == "" and b.endswith(":")]
    assert stats["turns"] == len(headers) == 7222
    assert stats["speakers"] == len(set(headers)) == 309
    assert stats["turns_train"] + stats["turns_val"] == 7222
    assert stats["top_speakers"][0] == ["GLOUCESTER", 229]
    assert stats["sections"] == 3 and stats["unattributed_lines"] == 0
    turns = parse_turns(text)
    assert turns[0] == Turn("First Citizen", "Before we proceed any further, hear me speak.", 1, 0)
    # the speech of every turn is found verbatim right after its header
    for t in turns[:500]:
        assert text.startswith(f"{t.speaker}:\n{t.text}\n", t.offset)


def test_gutenberg_play_converts_to_turns_the_corpus_reads(fixtures_dir):
    from shared_model.domains.shakespeare.gutenberg import convert_play

    raw = (fixtures_dir / "shakespeare" / "gutenberg_hamlet_excerpt.txt").read_text(encoding="utf-8")
    play = convert_play(raw, alphabet=set("".join(chr(c) for c in range(32, 127)) + "\n") - {"'"})
    turns = play.text.split("\n\n")
    assert turns[0] == "BERNARDO:\nWho's there?".replace("'", "")  # "'" outside the alphabet
    assert turns[1].startswith("FRANCISCO:\nNay, answer me")
    assert "[" not in play.text and "Enter" not in play.text and "ACT" not in play.text
    assert "PERSONS" not in play.text and "Claudius" not in play.text
    # a speech resumed after a stage direction continues the same turn
    assert "HORATIO:\nWe do it wrong, being so majestical,\nTo offer it the show of violence." in turns
    # "King." is no persons-list name but a frequent label; a lone "No." is speech
    assert play.speakers["KING"] == 3 and play.speakers["HAMLET"] == 1
    assert turns[-1] == "KING:\nThese words are not mine.\nNo.\n"
    assert play.dropped_chars["'"] == 3 and play.turns == len(turns) == 12
    corpus_turns = parse_turns(play.text)
    assert [t.speaker for t in corpus_turns][:3] == ["BERNARDO", "FRANCISCO", "BERNARDO"]
