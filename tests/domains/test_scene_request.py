"""SceneRequest checks, prepare_scene's vocabulary checks, parse_scene and scene_problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared_model.domains.shakespeare import (
    SceneRequest,
    SceneTurn,
    corpus_speakers,
    parse_scene,
    parse_turns,
    prepare_scene,
    scene_problems,
)
from shared_model.errors import InvalidRequest, LstmgenError
from shared_model.tokenizer import CharTokenizer


@pytest.fixture(scope="module")
def tok() -> CharTokenizer:
    play = Path(__file__).parents[1] / "fixtures" / "shakespeare" / "play.txt"
    return CharTokenizer.build([play.read_text(encoding="utf-8")])


@pytest.mark.parametrize("kwargs, message", [
    ({"characters": ""}, "at least one character"),
    ({"characters": " , ,"}, "at least one character"),
    ({"characters": []}, "at least one character"),
    ({"characters": "ROMEO", "turns": 0}, "turns must be a whole number from 1 to 200"),
    ({"characters": "ROMEO", "turns": 201}, "from 1 to 200"),
    ({"characters": "ROMEO", "turns": 10_000}, "got 10000"),
    ({"characters": "ROMEO", "turns": True}, "turns"),
    ({"characters": "ROMEO", "turns": 2.5}, "turns"),
    ({"characters": "ROMEO:"}, "cannot be a speaker"),
    ({"characters": "[ROMEO]"}, "cannot be a speaker"),
    ({"characters": "123"}, "cannot be a speaker"),
    ({"characters": "X" * 41}, "too long"),
    ({"characters": ",".join(f"N{i}" for i in range(13))}, "at most 12 characters"),
    ({"characters": "ROMEO", "first_line": "one\ntwo"}, "single line"),
    ({"characters": "ROMEO", "first_line": "x" * 301}, "too long"),
    ({"characters": "ROMEO", "max_turn_chars": 5}, "max_turn_chars"),
])
def test_bad_requests_raise_readable_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as err:
        SceneRequest(**kwargs)
    assert isinstance(err.value, LstmgenError) and "\n" not in str(err.value)


def test_names_are_upper_cased_trimmed_and_deduplicated() -> None:
    req = SceneRequest(" romeo ,Juliet,  ROMEO, friar   laurence ,juliet")
    assert req.characters == ("ROMEO", "JULIET", "FRIAR LAURENCE")
    assert SceneRequest(["Nurse", "nurse"]).characters == ("NURSE",)
    assert SceneRequest("ROMEO", first_line="  But, soft!  ").first_line == "But, soft!"


def test_name_with_a_character_outside_the_vocabulary_names_it(tok: CharTokenizer) -> None:
    # play.txt has no capital G: the model could never spell GERTRUDE
    with pytest.raises(InvalidRequest, match=r"GERTRUDE.*'G' is not in this model's vocabulary"):
        prepare_scene(tok.vocab, SceneRequest("ROMEO,Gertrude"), special_tokens=tok.special_tokens)
    with pytest.raises(InvalidRequest, match=r"first line.*'é'"):
        prepare_scene(tok.vocab, SceneRequest("ROMEO", first_line="café"),
                      special_tokens=tok.special_tokens)


def test_vocabulary_without_newline_cannot_write_scenes() -> None:
    tok = CharTokenizer.build(["ROMEO: hi"])
    with pytest.raises(InvalidRequest, match=r"cannot write play scenes.*'\\n'"):
        prepare_scene(tok.vocab, SceneRequest("ROMEO"), special_tokens=tok.special_tokens)


def test_too_many_turns_for_the_token_budget(tok: CharTokenizer) -> None:
    req = SceneRequest("FRIAR LAURENCE OF PADUA,ROMEO", turns=200)
    with pytest.raises(InvalidRequest, match="ask for fewer turns"):
        prepare_scene(tok.vocab, req, special_tokens=tok.special_tokens)
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,JULIET", turns=200),
                         special_tokens=tok.special_tokens)
    assert plan.max_new_tokens == 4096


def test_first_line_opens_the_first_speakers_turn(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("juliet,romeo", first_line="Ay me!"),
                         special_tokens=tok.special_tokens)
    assert plan.prompt == "JULIET:\nAy me!\n"
    assert plan.names == ("JULIET", "ROMEO")
    empty = prepare_scene(tok.vocab, SceneRequest("juliet"), special_tokens=tok.special_tokens)
    assert empty.prompt == ""


def test_known_speakers_keep_the_corpus_spelling(tok: CharTokenizer) -> None:
    corpus = {"stats": {"top_speakers": [["ROMEO", 3], ["First Citizen", 1], ["All", 1]]}}
    known = corpus_speakers(corpus)
    assert known == ["ROMEO", "First Citizen", "All"]
    plan = prepare_scene(tok.vocab, SceneRequest("first citizen, all, hamlet"),
                         special_tokens=tok.special_tokens, known_speakers=known)
    assert plan.names == ("First Citizen", "All", "HAMLET")
    assert corpus_speakers(None) == [] and corpus_speakers({"stats": {}}) == []


def test_parse_scene_splits_turns_at_blank_lines() -> None:
    text = ("ROMEO:\nBut, soft!\nShe speaks:\nJULIET:\n\n[Enter NURSE]\n\n"
            "Nurse:\nMadam!\n  \nExit\n\n\n")
    turns = parse_scene(text)
    assert turns == [
        SceneTurn("ROMEO", "But, soft!\nShe speaks:\nJULIET:"),  # no blank line: still speech
        SceneTurn(None, "[Enter NURSE]"),
        SceneTurn("Nurse", "Madam!"),
        SceneTurn(None, "Exit"),
    ]
    json.dumps([t.to_dict() for t in turns])
    assert parse_scene("") == []


def test_parse_scene_agrees_with_the_corpus_parser(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "shakespeare" / "play.txt").read_text(encoding="utf-8")
    ours = [(t.speaker, t.text) for t in parse_scene(text)]
    corpus = [(t.speaker, t.text) for t in parse_turns(text)]
    assert ours == corpus


def test_scene_problems_finds_each_kind_of_fault() -> None:
    req = SceneRequest("ROMEO,JULIET", turns=2, first_line="But, soft!")
    good = parse_scene("ROMEO:\nBut, soft!\n\nJULIET:\nAy me!")
    assert scene_problems(good, req) == []
    bad = parse_scene("ROMEO:\nHark!\n\n[Enter NURSE]\n\nNURSE:\nMadam!\n\nJULIET:\n")
    problems = scene_problems(bad, req)
    assert "unknown speaker 'NURSE'" in problems
    assert "JULIET has an empty turn" in problems
    assert "3 turns instead of 2" in problems
    assert "1 text block(s) outside any turn" in problems
    assert "the scene does not open with the first line" in problems


def test_result_to_dict_is_json(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,JULIET", turns=2, first_line="Hark!"),
                         special_tokens=tok.special_tokens)
    result = plan.result("\nJULIET:\nAy me!\n\n", {"turns": 2})
    d = json.loads(json.dumps(result.to_dict()))
    assert d["turns"] == [{"speaker": "ROMEO", "text": "Hark!"}, {"speaker": "JULIET", "text": "Ay me!"}]
    assert d["well_formed"] and d["text"] == "ROMEO:\nHark!\n\nJULIET:\nAy me!"
    assert SceneRequest("ROMEO").to_dict()["characters"] == ["ROMEO"]
