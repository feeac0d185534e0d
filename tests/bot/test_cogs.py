"""Slash commands and buttons end to end: real discord.py objects, a real tang model, a real
SQLite store; only Discord's HTTP session is replaced (``bot_support.FakeDiscordSession``)."""

from __future__ import annotations

import asyncio
import re

import pytest
from bot_support import (
    command_payload,
    component_payload,
    custom_ids,
    invoke,
    message_of,
    settle,
    start_bot,
)

from lstm_bot.bot import BotConfig
from lstm_bot.limits import LimitsConfig

POEM = {"form": "7j", "acrostic": "春山月风", "seed": 1}

pytestmark = pytest.mark.usefixtures("no_errors_logged")


async def _poem(bot, session, **options):
    calls = await invoke(bot, session, command_payload("poem", **{**POEM, **options}))
    return calls, message_of(session, calls[-1])


async def test_poem_defers_then_follows_up_with_card_and_rating_controls(bot, store):
    b, session = bot
    calls, message = await _poem(b, session)
    assert [c.kind for c in calls] == ["defer", "followup"]
    assert not calls[0].ephemeral and not calls[1].ephemeral
    embed = calls[1].json["embeds"][0]
    assert embed["title"] == "七言绝句 · 藏头 春山月风"
    lines = [x for x in re.split(r"[，。\n]", embed["description"]) if x]
    assert [line[0] for line in lines] == list("春山月风") and {len(x) for x in lines} == {7}
    gen_id = int(embed["footer"]["text"].split()[0].lstrip("#"))
    assert custom_ids(message) == [f"lstmgen:rate:{gen_id}:overall:{s}" for s in range(1, 6)] + \
        [f"lstmgen:dim:{gen_id}", f"lstmgen:again:{gen_id}"]
    [view] = store.history(limit=5)
    assert (view.id, view.source, view.model_name) == (gen_id, "discord", "tang")
    assert view.requester == store.hash_id("discord:42")  # hashed, never the raw id


async def test_rating_click_records_the_row_and_a_second_click_updates_it(bot, store):
    b, session = bot
    _, message = await _poem(b, session)
    gen_id = int(custom_ids(message)[0].split(":")[2])
    first = await invoke(b, session, component_payload(message, f"lstmgen:rate:{gen_id}:overall:4"))
    assert [c.kind for c in first] == ["message"] and first[0].ephemeral
    assert "recorded: 4/5" in first[0].json["data"]["content"]
    again = await invoke(b, session, component_payload(message, f"lstmgen:rate:{gen_id}:overall:2"))
    assert "updated from 4 to 2" in again[0].json["data"]["content"]
    other = await invoke(b, session, component_payload(message, f"lstmgen:rate:{gen_id}:overall:5",
                                                       user_id=7))
    assert other[0].ephemeral
    rows = sorted((r.rater, r.generation_id, r.dimension, r.score) for r in store.rating_rows())
    assert rows == sorted([(store.hash_id("discord:42"), gen_id, "overall", 2),
                           (store.hash_id("discord:7"), gen_id, "overall", 5)])


async def test_buttons_keep_working_after_a_restart(models_dir, store):
    first, session = await start_bot()
    _, message = await _poem(first, session)
    await first.close()
    gen_id = int(custom_ids(message)[0].split(":")[2])
    second, session2 = await start_bot()  # a new process: nothing kept but the message
    try:
        calls = await invoke(second, session2,
                             component_payload(message, f"lstmgen:rate:{gen_id}:overall:3"))
    finally:
        await second.close()
    assert "recorded: 3/5" in calls[0].json["data"]["content"]
    assert [(r.generation_id, r.score) for r in store.rating_rows()] == [(gen_id, 3)]


async def test_dimension_select_gives_private_buttons_for_that_dimension(bot, store):
    b, session = bot
    _, message = await _poem(b, session)
    gen_id = int(custom_ids(message)[0].split(":")[2])
    calls = await invoke(b, session, component_payload(message, f"lstmgen:dim:{gen_id}",
                                                       values=["fluency"]))
    assert calls[0].kind == "message" and calls[0].ephemeral
    private = {"components": calls[0].json["data"]["components"]}
    ids = custom_ids(private)
    assert ids == [f"lstmgen:rate:{gen_id}:fluency:{s}" for s in range(1, 6)]
    await invoke(b, session, component_payload({**message, **private}, ids[3]))
    assert [(r.dimension, r.score) for r in store.rating_rows()] == [("fluency", 4)]


async def test_compare_shows_two_and_records_the_preference(bot, store):
    b, session = bot
    calls = await invoke(b, session, command_payload("compare", kind="poem"))
    assert [c.kind for c in calls] == ["defer", "followup"]
    message = message_of(session, calls[-1])
    ids = custom_ids(message)
    assert [i.rsplit(":", 1)[1] for i in ids] == ["a", "tie", "b"]
    _, _, a, bb, _ = ids[0].split(":")
    vote = await invoke(b, session, component_payload(message, ids[2]))
    assert vote[0].ephemeral and f"#{bb}" in vote[0].json["data"]["content"]
    [row] = store.comparison_rows()
    assert (row.generation_a_id, row.generation_b_id, row.winner) == (int(a), int(bb), "b")
    assert len(store.history(limit=10)) == 2


async def test_cooldown_answers_at_once_and_privately(models_dir):
    b, session = await start_bot(BotConfig(limits=LimitsConfig(cooldown_uses=1,
                                                               cooldown_seconds=60)))
    try:
        await _poem(b, session)
        calls = await invoke(b, session, command_payload("poem", **POEM))
    finally:
        await b.close()
    assert [c.kind for c in calls] == ["message"] and calls[0].ephemeral
    assert "going a little fast" in calls[0].json["data"]["content"]


async def test_guild_cap_gives_a_polite_busy_reply(models_dir):
    b, session = await start_bot(BotConfig(limits=LimitsConfig(guild_concurrency=1)))
    try:
        first = command_payload("poem", user_id=1, **POEM)
        second = command_payload("poem", user_id=2, **POEM)
        elsewhere = command_payload("poem", user_id=3, guild_id=555, **POEM)
        for p in (first, second, elsewhere):
            b._connection.parse_interaction_create(p)
        await settle()
    finally:
        await b.close()
    kinds = {p["id"]: [c.kind for c in session.for_interaction(int(p["id"]), p["token"])]
             for p in (first, second, elsewhere)}
    assert kinds[first["id"]] == ["defer", "followup"]
    assert kinds[elsewhere["id"]] == ["defer", "followup"]
    [busy] = session.for_interaction(int(second["id"]), second["token"])
    assert busy.ephemeral and "as many generations running" in busy.json["data"]["content"]


@pytest.mark.parametrize("name, options, expected_kinds, words", [
    ("poem", {"temperature": 3.0}, ["message"], "temperature must be between 0.1 and 2.0"),
    ("poem", {"acrostic": "春山月"}, ["message"], "4 characters"),
    ("poem", {"acrostic": "夏夏夏夏"}, ["defer", "delete", "followup"], "not in this model's vocabulary"),
    ("poem", {"model": "nope"}, ["defer", "delete", "followup"], "not installed"),
    ("scene", {"characters": " , "}, ["message"], "at least one character"),
    ("music", {"key": "H"}, ["message"], "unknown key"),
])
async def test_bad_input_gets_a_private_friendly_message(bot, name, options, expected_kinds, words):
    b, session = bot
    calls = await invoke(b, session, command_payload(name, **options))
    assert [c.kind for c in calls] == expected_kinds
    last = calls[-1]
    assert last.ephemeral
    text = (last.json.get("data") or last.json)["content"]
    assert words in text


async def test_rating_a_generation_that_no_longer_exists(bot):
    b, session = bot
    _, message = await _poem(b, session)
    gone = {**message, "components": [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "3", "custom_id": "lstmgen:rate:999999:overall:3"}]}]}
    calls = await invoke(b, session, component_payload(gone, "lstmgen:rate:999999:overall:3"))
    assert calls[0].ephemeral and "no longer exists" in calls[0].json["data"]["content"]


async def test_history_models_and_stats_are_private(bot, store):
    b, session = bot
    _, message = await _poem(b, session)
    gen_id = int(custom_ids(message)[0].split(":")[2])
    await invoke(b, session, component_payload(message, f"lstmgen:rate:{gen_id}:overall:5"))
    hist = await invoke(b, session, command_payload("history"))
    assert [c.kind for c in hist] == ["defer", "followup"] and all(c.ephemeral for c in hist)
    assert f"#{gen_id} tang" in hist[1].json["embeds"][0]["description"]
    other = await invoke(b, session, command_payload("history", user_id=99))
    assert "no generations yet" in other[1].json["content"]
    models = await invoke(b, session, command_payload("models"))
    assert "**tang** (tang, user" in models[1].json["embeds"][0]["description"]
    stats = await invoke(b, session, command_payload("stats"))
    [field] = stats[1].json["embeds"][0]["fields"]
    assert field["name"].startswith("tang@") and "overall: 5.00" in field["value"]


async def test_reload_needs_administrator(bot):
    b, session = bot
    denied = await invoke(b, session, command_payload("reload"))
    assert [c.kind for c in denied] == ["message"] and denied[0].ephemeral
    assert "administrators" in denied[0].json["data"]["content"]
    done = await invoke(b, session, command_payload("reload", admin=True))
    assert [c.kind for c in done] == ["defer", "followup"]
    assert "**tang**" in done[1].json["embeds"][0]["description"]
    assert {c.name for c in b.tree.get_commands()} >= {"poem", "reload"}


async def test_close_drains_in_flight_generations(models_dir, store):
    b, session = await start_bot()
    payload = command_payload("poem", **POEM)
    b._connection.parse_interaction_create(payload)
    while b.admission.in_flight == 0:
        await asyncio.sleep(0.001)
    await b.close()
    await settle()
    calls = session.for_interaction(int(payload["id"]), payload["token"])
    assert [c.kind for c in calls] == ["defer", "followup"]
    assert len(store.history()) == 1
