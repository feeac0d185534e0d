"""Studio end to end: real exported models, real onnxruntime, a real SQLite store."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from shared_model import GenerateRequest, InvalidRequest, PoemRequest, SamplingConfig, Studio


@pytest.fixture
def studio(models_dir, tiny_model, tiny_tang_model):
    shutil.copy(tiny_model, models_dir / "sonnet.onnx")
    shutil.copy(tiny_tang_model, models_dir / "tang.onnx")
    s = Studio()
    yield s
    s.close()


def test_free_text_generation_is_recorded(studio):
    [g] = studio.generate(GenerateRequest("sonnet", prompt="Shall ",
                                          sampling=SamplingConfig(seed=3, max_new_tokens=40)))
    assert g.id is not None and g.domain == "text" and g.seed == 3
    view = studio.get(g.id)
    assert view.to_dict()["text"] == g.text
    assert 1.0 <= g.metrics["perplexity"] < 1000
    assert "distinct_1" in g.metrics


def test_same_seed_same_text(studio):
    req = GenerateRequest("sonnet", prompt="So ", sampling=SamplingConfig(seed=11))
    a = studio.generate(req, record=False)[0].text
    b = studio.generate(req, record=False)[0].text
    assert a == b


@pytest.mark.parametrize("form,lines,length", [("5j", 4, 5), ("7j", 4, 7), ("5l", 8, 5),
                                               ("7l", 8, 7)])
def test_poem_has_exact_form(studio, form, lines, length):
    gens = studio.generate(GenerateRequest("tang", domain_request=PoemRequest(form=form), n=3,
                                           sampling=SamplingConfig(seed=5)))
    for g in gens:
        assert len(g.output["lines"]) == lines
        assert all(len(line) == length for line in g.output["lines"])
        assert g.constraints and g.metrics["check_form"] == 1.0
        assert g.id is not None


def test_acrostic_poem(studio):
    head = "".join(studio.model("tang")[1].meta.vocab[20:24])  # four characters it knows
    [g] = studio.generate(GenerateRequest("tang", domain_request=PoemRequest(acrostic=head),
                                          sampling=SamplingConfig(seed=1)))
    assert [line[0] for line in g.output["lines"]] == list(head)


def test_domain_mismatch_is_a_clear_error(studio):
    with pytest.raises(InvalidRequest, match="writes text, not tang"):
        studio.generate(GenerateRequest("sonnet", domain_request=PoemRequest()))


def test_async_generation_through_the_engine(studio):
    async def run():
        gens = await studio.agenerate(
            GenerateRequest("tang", domain_request=PoemRequest(form="7j"), n=4,
                            sampling=SamplingConfig(seed=9)), source="discord",
            requester="discord:42")
        rated = await studio.arate(gens[0].id, "discord:7", 4)
        await studio.aclose()
        return gens, rated

    gens, rated = asyncio.run(run())
    assert len({g.id for g in gens}) == 4
    assert all(len(g.output["lines"]) == 4 for g in gens)
    assert rated.score == 4


def test_engine_and_offline_agree_for_one_seed(studio):
    req = GenerateRequest("tang", domain_request=PoemRequest(form="5j"),
                          sampling=SamplingConfig(seed=21))
    offline = studio.generate(req, record=False)[0].text

    async def run():
        [g] = await studio.agenerate(req, record=False)
        await studio.aclose()
        return g.text

    assert asyncio.run(run()) == offline
