"""The offline console: try the bot without Discord, and drive it from tests.

Reads lines such as ``/poem tang form:7j acrostic:春夏秋冬``, ``rate 12 5 fluency`` or
``again 12`` from a terminal or stdin, runs the SAME ``Handlers`` the cogs use (same
options, limits, Studio and store; recorded with source ``console``), and prints each
``Reply`` as plain text followed by a blank line. Lines are read in a worker thread so the batching engine
keeps running. Imports ``handlers``, ``options`` and the public ``shared_model`` API;
never discord, torch or SQL.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Any, TextIO

import shared_model
from lstm_bot.handlers import Caller, Handlers
from lstm_bot.limits import Admission, LimitsConfig
from lstm_bot.options import parse_line
from lstm_bot.render import error_reply
from shared_model import LstmgenError

BANNER = "lstmgen console: type 'help' for commands, 'quit' to leave."
PROMPT = "lstmgen> "
# no cooldown for the one person at the keyboard; the engine's queue still bounds work
CONSOLE_LIMITS = LimitsConfig(cooldown_uses=1, cooldown_seconds=0.0)


async def serve_console(handlers: Handlers, caller: Caller, stdin: TextIO, stdout: TextIO,
                        *, interactive: bool) -> None:
    """Read, run and print until end of input or ``quit``."""
    if interactive:
        stdout.write(BANNER + "\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.strip()
        if line in ("quit", "exit", "/quit"):
            break
        if not line or line.startswith("#"):
            continue
        stdout.write(await run_line(handlers, caller, line) + "\n\n")
        stdout.flush()


async def run_line(handlers: Handlers, caller: Caller, line: str) -> str:
    """One console line -> the reply as plain text."""
    try:
        words = line.split()
        if words[0].lower() in ("rate", "prefer", "again"):
            reply = await handlers.run_words([words[0].lower(), *words[1:]], caller)
        else:
            command = parse_line(line)
            if command is None:
                return ""
            reply = await handlers.run(command.name, command.options, caller)
    except LstmgenError as exc:
        reply = error_reply(exc)
    return reply.plain()


def run_console(config: Any, settings: Any = None, *, stdin: TextIO | None = None,
                stdout: TextIO | None = None) -> int:
    """Run the console with ``config`` (a ``BotConfig``) until end of input; returns 0."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout

    async def main() -> None:
        studio = shared_model.Studio(settings or shared_model.Settings.from_env(),
                                     engine_config=config.engine_config())
        handlers = Handlers(studio, models=config.models, admission=Admission(CONSOLE_LIMITS),
                            timeout_s=config.timeout_s)
        caller = Caller(user=f"console:{_user_name()}", guild=None, source="console")
        try:
            await serve_console(handlers, caller, stdin, stdout, interactive=stdin.isatty())
        finally:
            await studio.aclose(drain=True)

    asyncio.run(main())
    return 0


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
