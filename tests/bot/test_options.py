"""Option parsing shared by the slash commands and the console: typed, checked, friendly."""

from __future__ import annotations

import pytest

from lstm_bot.options import (
    CompareOptions,
    MusicOptions,
    PoemOptions,
    SceneOptions,
    build_options,
    model_for,
    options_from_params,
    parse_line,
)
from shared_model import ChoraleRequest, InvalidRequest, PoemRequest, SceneRequest


def test_console_line_sets_options_and_the_bare_word():
    cmd = parse_line("/poem tang form:7j acrostic:春夏秋冬 temperature:0.5 seed:7")
    assert cmd is not None and cmd.name == "poem"
    assert dict(cmd.options) == {"style": "tang", "form": "7j", "acrostic": "春夏秋冬",
                                 "temperature": 0.5, "seed": 7}


def test_console_line_quotes_values_with_spaces():
    cmd = parse_line('/scene characters:"ROMEO, JULIET" first_line:"O Romeo!" turns:3')
    assert cmd is not None
    assert cmd.options == {"characters": "ROMEO, JULIET", "first_line": "O Romeo!", "turns": 3}


def test_blank_line_is_nothing():
    assert parse_line("   ") is None


@pytest.mark.parametrize("line, message", [
    ("/poem tang temperature:hot", "temperature must be a number"),
    ("/poem form:7j form:5j", "given twice"),
    ('/scene characters:"ROMEO', "cannot read that line"),
    ("/models extra", "unexpected"),
    ("/music bach bars:eight", "bars must be a whole number"),
])
def test_bad_console_lines_are_friendly(line, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_line(line)


@pytest.mark.parametrize("cls, options, message", [
    (PoemOptions, {"temperature": 3.0}, "temperature must be between 0.1 and 2.0"),
    (PoemOptions, {"temperature": float("nan")}, "temperature"),
    (PoemOptions, {"form": "9j"}, "unknown form '9j'"),
    (PoemOptions, {"style": "song"}, "unknown style"),
    (PoemOptions, {"layout": "diagonal"}, "unknown layout"),
    (PoemOptions, {"seed": -1}, "seed must be"),
    (PoemOptions, {"prompt": "月" * 400}, "too long"),
    (PoemOptions, {"rhyme": "x"}, "unknown option 'rhyme'"),
    (SceneOptions, {"characters": " , ,"}, "at least one character"),
    (SceneOptions, {"characters": "ROMEO", "turns": 0}, "turns must be a whole number from 1 to 20"),
    (MusicOptions, {"bars": 99}, "bars must be a whole number from 1 to 32"),
    (MusicOptions, {"tempo": 10}, "tempo"),
    (CompareOptions, {"kind": "music"}, "unknown kind"),
])
def test_bad_options_raise_invalid_request(cls, options, message):
    with pytest.raises(InvalidRequest, match=message):
        build_options(cls, options)


def test_poem_options_build_the_serving_request():
    opts = PoemOptions(form="7j", acrostic="春夏秋冬", keyword="月", temperature=0.5, seed=3)
    req = opts.to_request("tang")
    assert req.model == "tang" and req.n == 1
    assert req.sampling.temperature == 0.5 and req.sampling.seed == 3
    assert isinstance(req.domain_request, PoemRequest)
    assert req.domain_request.form == "7j" and req.domain_request.acrostic == "春夏秋冬"
    assert req.domain_request.keywords == ("月",)


@pytest.mark.parametrize("acrostic, message", [
    ("春夏秋", "4 characters"),
    ("spring", "Chinese characters only"),
])
def test_poem_request_checks_the_acrostic(acrostic, message):
    with pytest.raises(InvalidRequest, match=message):
        PoemOptions(acrostic=acrostic)


def test_scene_and_music_options_build_domain_requests():
    scene = SceneOptions(characters="romeo, Juliet", first_line="O Romeo", turns=3).to_request("sh")
    assert isinstance(scene.domain_request, SceneRequest)
    assert scene.domain_request.characters == ("ROMEO", "JULIET")
    music = MusicOptions(bars=4, key="F#m", tempo=90).to_request("bach", n=2)
    assert isinstance(music.domain_request, ChoraleRequest) and music.n == 2
    with pytest.raises(InvalidRequest, match="unknown key"):
        MusicOptions(key="H")


def test_model_option_overrides_the_default():
    defaults = {"poem": "tang"}
    assert model_for(PoemOptions(), defaults, "poem") == "tang"
    assert model_for(PoemOptions(model="tang-big"), defaults, "poem") == "tang-big"
    assert isinstance(CompareOptions(kind="scene").inner(), SceneOptions)


@pytest.mark.parametrize("command, opts", [
    ("poem", PoemOptions(form="7j", acrostic="春夏秋冬", keyword="月", temperature=1.3, seed=9)),
    ("scene", SceneOptions(characters="romeo, JULIET", first_line="O Romeo!", turns=3,
                           temperature=0.5, seed=2)),
    ("music", MusicOptions(bars=4, key="F#m", tempo=96, temperature=1.1, seed=4)),
])
def test_stored_params_ask_again_the_same_request_without_the_seed(command, opts):
    params = opts.to_request("m1").params()  # what the store keeps for the generation
    again_command, again = options_from_params(7, params, "m1")
    assert again_command == command and again.model == "m1" and again.seed is None
    assert again.temperature == opts.temperature
    assert again.to_request("m1").params()["request"] == params["request"]


@pytest.mark.parametrize("params", [{}, {"request": None}, {"request": {"type": "Haiku"}},
                                    {"request": "PoemRequest"}])
def test_free_text_generations_cannot_be_asked_again(params):
    with pytest.raises(InvalidRequest, match="#7 was not written by /poem, /scene or /music"):
        options_from_params(7, params, "m1")
