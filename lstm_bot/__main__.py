"""Launcher: ``python -m lstm_bot`` (and ``lstmgen bot``): logging, token, shards, console.

Owns ``resolve_token`` (``--token-file`` or ``DISCORD_TOKEN``; the value is held in a
``Token`` whose repr hides it: never printed, logged or stored), ``launch`` (the offline
console, or the bot with signal handling so SIGINT/SIGTERM drain in-flight work) and
``main``, an argparse front end with the same flags as ``lstmgen bot``. User mistakes are
``LstmgenError``: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shared_model import InvalidRequest, LstmgenError

log = logging.getLogger("lstm_bot")
LOG_LEVELS = ("debug", "info", "warning", "error")
NO_TOKEN = ("no Discord token: set DISCORD_TOKEN or pass --token-file FILE "
            "(or try the bot offline: lstmgen bot --console)")


class Token:
    """A secret string that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token(***)"

    __str__ = __repr__


def resolve_token(token_file: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Token:
    """The bot token from ``token_file`` (first line) or ``DISCORD_TOKEN``.

    Raises:
        InvalidRequest: neither given, the file is unreadable or empty, or the value has
            whitespace inside (the message never contains the token).
    """
    env = os.environ if environ is None else environ
    if token_file is not None:
        try:
            raw = Path(token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidRequest(f"cannot read the token file {str(token_file)!r}: "
                                 f"{exc.strerror or exc}") from None
        lines = raw.strip().splitlines()
        value, where = (lines[0].strip() if lines else ""), f"the token file {str(token_file)!r}"
    else:
        value, where = env.get("DISCORD_TOKEN", "").strip(), "DISCORD_TOKEN"
        if not value:
            raise InvalidRequest(NO_TOKEN)
    if not value:
        raise InvalidRequest(f"{where} is empty")
    if any(ch.isspace() for ch in value):
        raise InvalidRequest(f"{where} does not look like a bot token (it contains spaces)")
    return Token(value)


def setup_logging(level: str) -> None:
    """Log lines with levels on stderr (discord.py's formatter, colours on a terminal)."""
    import discord

    if level not in LOG_LEVELS:
        raise InvalidRequest(f"log level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    discord.utils.setup_logging(level=getattr(logging, level.upper()), root=True)


def launch(config: Any, *, console: bool = False, token_file: Path | None = None,
           log_level: str = "info", settings: Any = None) -> int:
    """Run the console or the bot until it stops; returns the exit status."""
    import shared_model
    from lstm_bot.console import run_console

    settings = settings or shared_model.Settings.from_env()
    if console:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return run_console(config, settings)
    token = resolve_token(token_file)
    setup_logging(log_level)
    if config.guild_id is None and settings.guild_id is not None:
        from dataclasses import replace

        config = replace(config, guild_id=settings.guild_id)
    return asyncio.run(_serve(config, settings, token))


async def _serve(config: Any, settings: Any, token: Token) -> int:
    import discord

    from lstm_bot.bot import LstmBot

    bot = LstmBot(config, settings)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop(signame: str) -> None:
        if not stopping:
            log.info("%s received: draining in-flight generations, then closing", signame)
            stopping.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform
            loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(token.reveal())
    except discord.LoginFailure:
        raise InvalidRequest("Discord rejected the bot token (check DISCORD_TOKEN or "
                             "--token-file)") from None
    except discord.PrivilegedIntentsRequired as exc:
        raise InvalidRequest(f"Discord refused the gateway intents: {exc}") from None
    except (OSError, discord.GatewayNotFound) as exc:
        raise LstmgenError(f"cannot reach Discord: {type(exc).__name__}") from None
    finally:
        for task in stopping:
            await task
    return 0


def parse_shard_ids(text: str | None) -> tuple[int, ...] | None:
    """``"0,1,4-6"`` -> (0, 1, 4, 5, 6)."""
    if not text:
        return None
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    except ValueError:
        raise InvalidRequest(f"shard ids must look like 0,1 or 0-3, got {text!r}") from None
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lstm_bot", description=(
        "Run the lstmgen Discord bot (token from DISCORD_TOKEN or --token-file), "
        "or its offline console."))
    p.add_argument("--console", action="store_true", help="offline console on stdin/stdout")
    p.add_argument("--sync", action="store_true", help="sync slash commands at start-up")
    p.add_argument("--token-file", type=Path, help="file whose first line is the bot token")
    p.add_argument("--shard-count", type=int, help="total shards across all processes")
    p.add_argument("--shard-ids", help="this process's shards, e.g. 0,1 or 0-3")
    p.add_argument("--guild-concurrency", type=int, default=8)
    p.add_argument("--max-in-flight", type=int, default=256)
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    return p


def config_from(*, sync: bool = False, shard_count: int | None = None,
                shard_ids: str | None = None, guild_concurrency: int = 8,
                max_in_flight: int = 256) -> Any:
    """The BotConfig for launcher flags (shared by argparse here and click in the CLI)."""
    from lstm_bot.bot import BotConfig
    from lstm_bot.limits import LimitsConfig

    limits = LimitsConfig(guild_concurrency=guild_concurrency, max_in_flight=max_in_flight)
    return BotConfig(limits=limits, sync=sync, shard_count=shard_count,
                     shard_ids=parse_shard_ids(shard_ids))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from(sync=args.sync, shard_count=args.shard_count,
                             shard_ids=args.shard_ids, guild_concurrency=args.guild_concurrency,
                             max_in_flight=args.max_in_flight)
        return launch(config, console=args.console, token_file=args.token_file,
                      log_level=args.log_level)
    except LstmgenError as exc:
        print(f"lstm_bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
