""""Another one": a second sample of the same request, then A / tie / B, end to end.

Real tiny models, the real CommandTree and persistent ``DynamicItem`` buttons, a real SQLite
store; only Discord's HTTP session is replaced (``bot_support.FakeDiscordSession``)."""

from __future__ import annotations

import re

import pytest
from bot_support import (
    command_payload,
    component_payload,
    custom_ids,
    invoke,
    message_of,
    start_bot,
)

from lstm_bot.bot import BotConfig
from lstm_bot.limits import LimitsConfig

POEM = {"form": "7j", "acrostic": "春山月风", "seed": 1}

pytestmark = pytest.mark.usefixtures("no_errors_logged")


async def _generate(bot, session, name, **options):
    calls = await invoke(bot, session, command_payload(name, **options))
    assert [c.kind for c in calls] == ["defer", "followup"], calls
    message = message_of(session, calls[-1])
    again = custom_ids(message)[-1]
    assert again.startswith("lstmgen:again:")
    return message, int(again.rsplit(":", 1)[1])


async def _again(bot, session, message, gen_id, user_id=42):
    return await invoke(bot, session, component_payload(message, f"lstmgen:again:{gen_id}",
                                                        user_id=user_id))


async def test_another_poem_is_the_same_request_shown_beside_the_first(bot, store):
    b, session = bot
    message, first = await _generate(b, session, "poem", **POEM)
    calls = await _again(b, session, message, first, user_id=7)
    assert [c.kind for c in calls] == ["defer", "followup"]
    assert not any(c.ephemeral for c in calls)  # a public message everyone can vote on
    [embed] = calls[1].json["embeds"]
    assert embed["title"] == "Which poem is better?"
    (name_a, poem_a), (name_b, poem_b) = [(f["name"], f["value"]) for f in embed["fields"]]
    second = int(name_b.split("#")[1])
    assert name_a == f"A · #{first}" and second > first
    for poem in (poem_a, poem_b):  # both keep the acrostic and the 7-character form
        lines = [x for x in re.split(r"[，。\n]", poem) if x]
        assert [x[0] for x in lines] == list("春山月风") and {len(x) for x in lines} == {7}
    vote_message = message_of(session, calls[1])
    ids = custom_ids(vote_message)
    assert ids == [f"lstmgen:prefer:{first}:{second}:{w}" for w in ("a", "tie", "b")]
    views = {v.id: v for v in store.history(limit=5)}
    a, bb = views[first], views[second]
    assert a.params["request"] == bb.params["request"]
    assert a.params["sampling"]["temperature"] == bb.params["sampling"]["temperature"]
    assert a.params["sampling"]["seed"] == 1 and bb.params["sampling"]["seed"] != 1
    assert bb.source == "discord" and bb.requester == store.hash_id("discord:7")
    vote = await invoke(b, session, component_payload(vote_message, ids[0], user_id=7))
    assert vote[0].ephemeral and f"#{first}" in vote[0].json["data"]["content"]
    [row] = store.comparison_rows()
    assert (row.generation_a_id, row.generation_b_id, row.winner) == (first, second, "a")
    assert row.rater == store.hash_id("discord:7")


async def test_another_one_and_the_vote_work_after_a_restart(models_dir, store):
    first_bot, session = await start_bot()
    try:
        message, first = await _generate(first_bot, session, "poem", **POEM)
    finally:
        await first_bot.close()
    second_bot, session2 = await start_bot()  # a new process: only the old message is left
    try:
        calls = await _again(second_bot, session2, message, first)
        assert [c.kind for c in calls] == ["defer", "followup"]
        vote_message = message_of(session2, calls[1])
    finally:
        await second_bot.close()
    third_bot, session3 = await start_bot()
    try:
        ids = custom_ids(vote_message)
        vote = await invoke(third_bot, session3, component_payload(vote_message, ids[1]))
    finally:
        await third_bot.close()
    assert "a tie" in vote[0].json["data"]["content"]
    [row] = store.comparison_rows()
    assert (row.generation_a_id, row.winner) == (first, "tie")
    assert len(store.history(limit=5)) == 2


async def test_another_scene_and_another_chorale(domain_bot, domain_models):
    b, session = domain_bot
    message, first = await _generate(b, session, "scene", characters="ROMEO, JULIET", turns=2)
    calls = await _again(b, session, message, first)
    [embed] = calls[1].json["embeds"]
    assert embed["title"] == "Which scene is better?"
    for field in embed["fields"]:
        block = re.fullmatch(r"```\n(.*)\n```", field["value"], re.S)
        assert block, field["value"]
        heads = [ln for ln in block.group(1).splitlines() if re.fullmatch(r"[A-Z][A-Z ]*:", ln)]
        assert set(heads) <= {"ROMEO:", "JULIET:"} and heads[:1] == ["ROMEO:"]
    # another user (each may start 3 generations per 30 s by default)
    message, first = await _generate(b, session, "music", bars=2, key="D", user_id=43)
    calls = await _again(b, session, message, first, user_id=43)
    follow = calls[1]
    [embed] = follow.json["embeds"]
    second = int(embed["fields"][1]["name"].split("#")[1])
    assert embed["title"] == "Which chorale is better?"
    assert [f["value"] for f in embed["fields"]] == ["key D, bars 2, tempo 80"] * 2
    assert sorted(follow.files) == sorted([f"chorale-a-{first}.mid", f"chorale-b-{second}.mid",
                                           f"pianoroll-b-{second}.png"])
    assert all(blob[:4] == b"MThd" for name, blob in follow.files.items() if name.endswith(".mid"))
    assert embed["image"]["url"] == f"attachment://pianoroll-b-{second}.png"
    assert custom_ids(message_of(session, follow))[0] == f"lstmgen:prefer:{first}:{second}:a"


async def test_another_one_of_a_deleted_generation_is_a_private_note(bot, store):
    b, session = bot
    message, _ = await _generate(b, session, "poem", **POEM)
    gone = {**message, "components": [{"type": 1, "components": [
        {"type": 2, "style": 3, "label": "Another one", "custom_id": "lstmgen:again:424242"}]}]}
    calls = await _again(b, session, gone, 424242)
    assert [c.kind for c in calls] == ["defer", "delete", "followup"] and calls[-1].ephemeral
    assert "no longer exists" in calls[-1].json["content"]
    assert len(store.history(limit=5)) == 1


async def test_another_one_counts_against_the_cooldown(models_dir, store):
    b, session = await start_bot(BotConfig(limits=LimitsConfig(cooldown_uses=1,
                                                               cooldown_seconds=60)))
    try:
        message, first = await _generate(b, session, "poem", **POEM)
        calls = await _again(b, session, message, first)
    finally:
        await b.close()
    assert [c.kind for c in calls] == ["message"] and calls[0].ephemeral
    assert "going a little fast" in calls[0].json["data"]["content"]
    assert len(store.history(limit=5)) == 1
