"""The command tree as Discord will see it: commands, options, choices, ranges, permissions."""

from __future__ import annotations

import pytest
from bot_support import start_bot


@pytest.fixture
async def payloads():
    bot, _ = await start_bot()
    try:
        yield {c["name"]: c for c in (cmd.to_dict(bot.tree) for cmd in bot.tree.get_commands())}
    finally:
        await bot.close()


def _options(cmd):
    return {o["name"]: o for o in cmd.get("options", [])}


async def test_the_tree_has_every_command(payloads):
    assert set(payloads) == {"poem", "scene", "music", "compare", "models", "stats", "history",
                             "reload"}
    assert all(p["description"] for p in payloads.values())


async def test_poem_options_choices_and_ranges(payloads):
    opts = _options(payloads["poem"])
    assert list(opts) == ["style", "form", "acrostic", "keyword", "prompt", "layout",
                          "temperature", "seed", "model"]
    assert [c["value"] for c in opts["style"]["choices"]] == ["tang"]
    assert [c["value"] for c in opts["form"]["choices"]] == ["5j", "7j", "5l", "7l"]
    assert opts["form"]["choices"][1]["name"] == "七言绝句 (7j)"
    assert [c["value"] for c in opts["layout"]["choices"]] == ["horizontal", "vertical"]
    assert (opts["temperature"]["min_value"], opts["temperature"]["max_value"]) == (0.1, 2.0)
    assert opts["temperature"]["type"] == 10  # number
    assert (opts["seed"]["min_value"], opts["seed"]["max_value"]) == (0, 2**31 - 1)
    assert opts["model"]["autocomplete"] is True
    assert not any(o.get("required") for o in opts.values())


async def test_scene_music_and_history_ranges(payloads):
    scene = _options(payloads["scene"])
    assert scene["characters"]["required"] is True
    assert (scene["turns"]["min_value"], scene["turns"]["max_value"]) == (1, 20)
    music = _options(payloads["music"])
    assert [c["value"] for c in music["style"]["choices"]] == ["bach"]
    assert (music["bars"]["min_value"], music["bars"]["max_value"]) == (1, 32)
    assert (music["tempo"]["min_value"], music["tempo"]["max_value"]) == (40, 200)
    assert music["key"]["autocomplete"] is True
    assert [c["value"] for c in _options(payloads["compare"])["kind"]["choices"]] == ["poem", "scene"]
    hist = _options(payloads["history"])
    assert (hist["limit"]["min_value"], hist["limit"]["max_value"]) == (1, 20)


async def test_reload_is_for_administrators_only(payloads):
    assert int(payloads["reload"]["default_member_permissions"]) == 8  # ADMINISTRATOR
    assert payloads["poem"].get("default_member_permissions") is None
