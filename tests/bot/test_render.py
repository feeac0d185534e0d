"""Replies fit Discord: 2,000-character messages, embed limits, vertical poems, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from lstm_bot.render import (
    EMBED_FIELD_LIMIT,
    MESSAGE_LIMIT,
    compare_reply,
    error_reply,
    music_reply,
    poem_reply,
    scene_reply,
    vertical,
)
from lstm_bot.views import message_kwargs, parse_rate_id, rate_id
from shared_model import (
    Busy,
    Generation,
    GenerationTimeout,
    GenerationView,
    InvalidRequest,
    ModelNotFound,
    NotFound,
)


def Gen(id: int, text: str, formatted: str, *, model: str = "tang", seed: int | None = 1,
        params: dict[str, Any] | None = None, output: dict[str, Any] | None = None,
        data: bytes | None = None) -> Generation:
    """A real shared_model.Generation as the Studio returns it."""
    return Generation(id=id, model=model, model_sha256="0" * 64, domain="tang", prompt="",
                      text=text, formatted=formatted, params=params or {}, latency_ms=12.0,
                      provider="CPUExecutionProvider", finish_reason="eos", tokens=len(text),
                      seed=seed, output=output or {}, data=data)


def test_vertical_layout_reads_right_to_left():
    assert vertical(["白日依山尽", "黄河入海流"]) == "黄\u3000白\n河\u3000日\n入\u3000依\n海\u3000山\n流\u3000尽"


def test_poem_card_has_form_acrostic_and_layout():
    gen = Gen(7, "春眠不觉晓，处处闻啼鸟。", "春眠不觉晓，处处闻啼鸟。",
              params={"request": {"acrostic": "春处"}},
              output={"form": "5j", "lines": ["春眠不觉晓", "处处闻啼鸟"]})
    reply = poem_reply(gen, "vertical")
    assert reply.card is not None and reply.card.title == "五言绝句 · 藏头 春处"
    assert reply.card.body.splitlines()[0] == "处\u3000春"
    assert reply.rate == 7 and not reply.ephemeral
    assert "#7" in reply.card.footer and "rate 7 SCORE" in reply.plain()


def test_long_scene_is_cut_at_a_line_and_attached_in_full():
    text = "\n".join(f"ROMEO:\nline {i} " + "x" * 60 for i in range(80))
    reply = scene_reply(Gen(3, text, text, model="shakespeare"))
    assert len(reply.text) <= MESSAGE_LIMIT
    assert reply.text.count("```") == 2 and "…" in reply.text
    assert [a.filename for a in reply.files] == ["scene-3.txt"]
    assert reply.files[0].data.decode("utf-8").strip() == text


def test_short_scene_is_one_code_block_without_attachment():
    reply = scene_reply(Gen(4, "JULIET:\nAy me!", "JULIET:\nAy me!"))
    assert reply.text.endswith("```\nJULIET:\nAy me!\n```") and reply.files == ()


def test_compare_fields_fit_embed_limits():
    long = "月" * 3000
    reply = compare_reply(Gen(1, long, long), Gen(2, "b", "b"), "poem")
    assert reply.compare == (1, 2)
    assert all(len(value) <= EMBED_FIELD_LIMIT for _, value in reply.card.fields)


@pytest.mark.parametrize("exc, words", [
    (Busy("the engine is full"), "Sorry, the engine is full"),
    (GenerationTimeout("slow"), "took too long"),
    (NotFound("generation 9 does not exist"), "no longer exists"),
    (ModelNotFound("no model 'x'"), "not installed"),
    (InvalidRequest("temperature must be ..."), "I can't do that: temperature"),
    (RuntimeError("secret internals"), "went wrong on my side"),
])
def test_errors_become_ephemeral_friendly_text(exc, words):
    reply = error_reply(exc)
    assert reply.ephemeral and words in reply.text
    assert "secret internals" not in reply.text


def test_rate_custom_ids_round_trip():
    for dim in ("overall", "fluency", "form"):
        for score in range(1, 6):
            cid = rate_id(123456789012, dim, score)
            assert len(cid) <= 100 and cid.startswith("lstmgen:")
            assert parse_rate_id(cid) == (123456789012, dim, score)
    assert parse_rate_id("lstmgen:rate:1:overall:6") is None
    assert parse_rate_id("other:rate:1:overall:3") is None


def test_message_kwargs_carry_embed_files_and_view():
    gen = Gen(5, "t", "t", data=b"MThd", output={"key": "C", "bars": 4.0, "tempo": 80.0})
    # the domain's result object; only its rendered piano roll is read
    gen.result = SimpleNamespace(png_bytes=b"\x89PNG")
    kw = message_kwargs(music_reply(gen))
    assert [f.filename for f in kw["files"]] == ["chorale-5.mid", "pianoroll-5.png"]
    assert kw["embed"].image.url == "attachment://pianoroll-5.png"
    assert kw["embed"].description == "key C, bars 4, tempo 80"
    ids = [item.custom_id for item in kw["view"].children]
    assert ids[:5] == [rate_id(5, "overall", s) for s in range(1, 6)]
    assert ids[5:] == ["lstmgen:dim:5", "lstmgen:again:5"]
    # rows as Discord receives them: 1-5, the dimension select, "another one"
    assert [len(row["components"]) for row in kw["view"].to_components()] == [5, 1, 1]


def test_music_without_piano_roll_or_midi_says_so():
    reply = music_reply(Gen(6, "t", "t", params={"request": {"key": "G", "bars": 2}}))
    assert reply.files == () and reply.card is not None and reply.card.image is None
    assert reply.card.body.startswith("key G, bars 2") and "no MIDI" in reply.card.body


def test_compare_of_a_stored_and_a_fresh_poem():
    stored = GenerationView(id=3, model_name="tang", model_sha256="0" * 64, domain="tang",
                            prompt="", params={}, output_text="春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
                            source="discord", requester=None, created=datetime.now(UTC),
                            latency_ms=None, metrics=None)
    reply = compare_reply(stored, Gen(4, "b", "白日依山尽，\n黄河入海流。"), "poem")
    assert reply.compare == (3, 4)
    (_, a), (_, b) = reply.card.fields
    assert a == "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。"
    assert b == "白日依山尽，\n黄河入海流。" and reply.card.footer == "tang · ? / 12 ms"
