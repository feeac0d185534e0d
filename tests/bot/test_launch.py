"""Start-up: token sources and errors (never echoing the token), flags, shards, --help."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lstm_bot.__main__ import Token, config_from, parse_shard_ids, resolve_token
from lstm_bot.bot import BotConfig, LstmBot
from shared_model import InvalidRequest

SECRET = "MTIzNDU2Nzg5.secret-token-value"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60,
                          env=env or os.environ.copy())


def test_without_a_token_the_cli_says_what_to_do():
    out = _run("-c", "from shared_model.cli import main; main()", "bot")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "lstmgen: no Discord token: set DISCORD_TOKEN or pass --token-file FILE "
        "(or try the bot offline: lstmgen bot --console)"]


def test_python_m_lstm_bot_has_the_same_launcher():
    assert "--shard-ids" in _run("-m", "lstm_bot", "--help").stdout
    out = _run("-m", "lstm_bot")
    assert out.returncode == 2 and "no Discord token" in out.stderr and "Traceback" not in out.stderr


def test_a_malformed_token_file_is_refused_without_echoing_it(tmp_path):
    bad = tmp_path / "token"
    bad.write_text(SECRET + " " + SECRET + "\n")
    out = _run("-c", "from shared_model.cli import main; main()", "bot", "--token-file", str(bad))
    assert out.returncode == 2 and "does not look like a bot token" in out.stderr
    assert SECRET not in out.stderr + out.stdout


def test_token_from_file_or_environment_never_shows_itself(tmp_path):
    f = tmp_path / "token"
    f.write_text(f"\n{SECRET}\n")
    token = resolve_token(f, {})
    assert token.reveal() == SECRET
    assert SECRET not in repr(token) and SECRET not in str(token) and SECRET not in f"{token}"
    assert resolve_token(None, {"DISCORD_TOKEN": f" {SECRET} "}).reveal() == SECRET
    assert isinstance(resolve_token(f, {"DISCORD_TOKEN": "other"}), Token)
    assert resolve_token(f, {"DISCORD_TOKEN": "other"}).reveal() == SECRET  # the file wins


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "cannot read the token file"),
    (lambda p: p.write_text("  \n"), "is empty"),
])
def test_bad_token_files(tmp_path, setup, message):
    path = tmp_path / "token"
    setup(path)
    with pytest.raises(InvalidRequest, match=message):
        resolve_token(path, {})


def test_shards_and_config():
    assert parse_shard_ids("0,1,4-6") == (0, 1, 4, 5, 6)
    cfg = config_from(shard_count=8, shard_ids="2-3", guild_concurrency=2)
    assert cfg.shard_ids == (2, 3) and cfg.limits.guild_concurrency == 2
    with pytest.raises(InvalidRequest, match="needs --shard-count"):
        config_from(shard_ids="0")
    with pytest.raises(InvalidRequest, match=r"shard ids must be in 0\.\.1"):
        config_from(shard_count=2, shard_ids="0,2")
    with pytest.raises(InvalidRequest, match="look like"):
        parse_shard_ids("zero")
    with pytest.raises(InvalidRequest, match="timeout"):
        BotConfig(timeout_s=0)


async def test_the_bot_is_auto_sharded_as_configured():
    bot = LstmBot(BotConfig(shard_count=4, shard_ids=(1, 3)))
    assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])
    assert not bot.intents.message_content  # slash commands need no privileged intent
