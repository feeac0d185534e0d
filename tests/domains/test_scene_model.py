"""Scenes decoded by the real runtime: the session's tiny exported .onnx model, served by
onnxruntime through ``serving.decode.Decoder`` with the scene constraint as its hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_model.domains.shakespeare import SceneRequest, parse_turns, prepare_scene
from shared_model.errors import InvalidRequest
from shared_model.serving.decode import Decoder
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.session import ModelSession, SessionConfig

# The tiny model learnt a sonnet: its capitals are A B I M N R S T W, so these names were
# never in its training text and can only be spelled by the constraint.
CAST = "SAM,TIM,ANNA,BRAN"


@pytest.fixture(scope="module")
def decoder(tiny_model: Path) -> Decoder:
    return Decoder(ModelSession(tiny_model, SessionConfig(threads=1)))


def _plan(decoder: Decoder, request: SceneRequest):
    meta = decoder.session.meta
    return prepare_scene(meta.vocab, request, special_tokens=meta.special_tokens)


def test_tiny_model_writes_well_formed_scenes(decoder: Decoder) -> None:
    request = SceneRequest(CAST, first_line="Shall I compare thee to a summer's day?", turns=5,
                           max_turn_chars=150)
    plan = _plan(decoder, request)
    config = SamplingConfig(temperature=1.0, seed=123, max_new_tokens=plan.max_new_tokens)
    outs = decoder.generate(plan.prompt, config, n=8, constraint=plan.new_constraint)
    for out in outs:
        assert out.finish_reason == "constraint"
        result = plan.result(out.text, out.constraint_report)
        assert result.problems == [], result.text
        speakers = [t.speaker for t in result.turns]
        assert len(speakers) == 5 and set(speakers) == {"SAM", "TIM", "ANNA", "BRAN"}
        assert speakers[0] == "SAM"
        assert result.turns[0].text.startswith("Shall I compare thee to a summer's day?")
        assert [t.speaker for t in parse_turns(result.text)] == speakers
        assert out.constraint_report["complete"] and out.constraint_report["off_grammar_tokens"] == 0
    # same seed, same scenes
    again = decoder.generate(plan.prompt, config, n=8, constraint=plan.new_constraint)
    assert [o.text for o in again] == [o.text for o in outs]


def test_greedy_decoding_terminates_with_the_turn_cap(decoder: Decoder) -> None:
    """Greedy decoding of a tiny model loops; the caps still end every turn and the scene."""
    request = SceneRequest("SAM,TIM", turns=3, max_turn_chars=60)
    plan = _plan(decoder, request)
    out = decoder.generate(plan.prompt, SamplingConfig(temperature=0.0, seed=0,
                                                       max_new_tokens=plan.max_new_tokens),
                           constraint=plan.new_constraint)[0]
    result = plan.result(out.text, out.constraint_report)
    assert result.well_formed, result.text
    assert [t.speaker for t in result.turns] == ["SAM", "TIM", "SAM"] or \
        [t.speaker for t in result.turns] == ["TIM", "SAM", "TIM"]
    assert out.tokens_generated <= plan.max_new_tokens


def test_streamed_scene_matches_the_result(decoder: Decoder) -> None:
    plan = _plan(decoder, SceneRequest("ANNA,BRAN", turns=2, max_turn_chars=80))
    config = SamplingConfig(seed=5, max_new_tokens=plan.max_new_tokens)
    streamed = "".join(decoder.stream(plan.prompt, config, constraint=plan.new_constraint()))
    whole = decoder.generate(plan.prompt, config, constraint=plan.new_constraint)[0].text
    assert streamed == whole and plan.result(streamed).well_formed


def test_names_the_model_cannot_spell_are_refused(decoder: Decoder) -> None:
    with pytest.raises(InvalidRequest, match="'O' is not in this model's vocabulary"):
        _plan(decoder, SceneRequest("ROMEO,SAM"))
