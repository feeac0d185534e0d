"""``lstmgen bot --sync``: the real command tree pushed through discord.py's HTTP client
(only the aiohttp session is fake): to one guild when LSTMGEN_GUILD_ID is set, else
globally."""

from __future__ import annotations

from bot_support import APPLICATION_ID, start_bot

from lstm_bot.bot import BotConfig

EXPECTED = {"poem", "scene", "music", "models", "stats", "history"}


def _names(call) -> set[str]:
    return {cmd["name"] for cmd in call.json}


async def test_sync_to_a_guild_puts_every_slash_command_there(models_dir, no_errors_logged):
    bot, session = await start_bot(BotConfig(sync=True, guild_id=123))
    try:
        puts = [c for c in session.calls if c.method == "PUT"]
        assert [c.path for c in puts] == [f"/applications/{APPLICATION_ID}/guilds/123/commands"]
        names = _names(puts[0])
        assert names >= EXPECTED, names
        poem = next(cmd for cmd in puts[0].json if cmd["name"] == "poem")
        assert poem["description"] and poem.get("options") is not None
    finally:
        await bot.close()


async def test_sync_without_a_guild_is_global_and_without_sync_nothing_is_sent(models_dir):
    bot, session = await start_bot(BotConfig(sync=True))
    try:
        puts = [c for c in session.calls if c.method == "PUT"]
        assert [c.path for c in puts] == [f"/applications/{APPLICATION_ID}/commands"]
        assert _names(puts[0]) >= EXPECTED
        synced = await bot.sync_commands()  # what `lstmgen bot --sync` runs, returning the echo
        assert {c.name for c in synced} == _names(puts[0]) and all(c.id for c in synced)
    finally:
        await bot.close()
    bot, session = await start_bot(BotConfig())
    try:
        assert not [c for c in session.calls if c.method == "PUT"]
    finally:
        await bot.close()
