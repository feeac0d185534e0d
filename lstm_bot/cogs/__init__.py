"""Slash-command cogs: each command defers, calls a ``Handlers`` method, sends the Reply.

Owns ``EXTENSIONS`` (what ``bot.setup_hook`` loads) and ``respond``, the one flow every
generation command shares: parse options (mistakes: an ephemeral reply at once), ask
admission (cooldown / busy: an ephemeral reply at once), defer within Discord's 3 s,
run the handler, follow up with the result and its rating controls (errors after the
deferral: the placeholder is removed and the message is sent privately). Imports
discord, ``handlers``, ``views``, ``render``; never SQL, numpy or torch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from lstm_bot.handlers import Caller, Handlers
from lstm_bot.render import Reply, error_reply
from lstm_bot.views import caller_of, handlers_of, message_kwargs, send_error
from shared_model import LstmgenError

EXTENSIONS = ("lstm_bot.cogs.create", "lstm_bot.cogs.info", "lstm_bot.cogs.admin")


async def respond(interaction: discord.Interaction, build: Callable[[], Any],
                  work: Callable[[Handlers, Any, Caller], Awaitable[Reply]], *,
                  admit: bool = True, ephemeral: bool = False) -> None:
    """Parse -> admit -> defer -> work -> follow up (see the module docstring)."""
    handlers = handlers_of(interaction)
    caller = caller_of(interaction)
    try:
        opts = build()
        ticket = handlers.admit(caller) if admit else None
    except LstmgenError as exc:
        await send_error(interaction, error_reply(exc))
        return
    try:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        try:
            reply = await work(handlers, opts, caller)
        except LstmgenError as exc:
            await send_error(interaction, error_reply(exc))
            return
        await interaction.followup.send(**message_kwargs(reply))
    finally:
        if ticket is not None:
            ticket.release()
