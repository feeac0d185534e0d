"""Slash-command cogs: each command defers, calls a ``Handlers`` method, sends the Reply.

Owns ``EXTENSIONS`` (what ``bot.setup_hook`` loads). The flow every command shares,
``respond`` (parse options, ask admission, defer within Discord's 3 s, run the handler,
follow up with the result and its controls), lives in ``lstm_bot.views`` because the
"another one" button runs it too; it is re-exported here for the cogs. Imports discord,
``views``; never SQL, numpy or torch.
"""

from __future__ import annotations

from lstm_bot.views import respond

EXTENSIONS = ("lstm_bot.cogs.create", "lstm_bot.cogs.info", "lstm_bot.cogs.admin")

__all__ = ["EXTENSIONS", "respond"]
