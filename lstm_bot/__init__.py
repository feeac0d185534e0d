"""lstm_bot: the Discord front end of lstmgen (slash commands, rating buttons, console).

A thin adapter over the public ``shared_model`` API. Layout: ``__main__`` (launcher:
logging, token, shards), ``bot`` (setup_hook: Studio, cogs, persistent views), ``cogs/``
(slash commands: defer, call a handler, follow up), ``handlers`` (transport-neutral:
options -> Reply, shared with the console), ``options`` (parsing), ``limits`` (cooldowns,
caps), ``views`` (persistent rating buttons), ``render`` (Result -> Reply), ``console``.
Importing this package is cheap (no discord, onnxruntime or torch until a module is
used); it never imports torch, ``shared_model.training``, ``exporters`` or ``lstm_magic``.
"""
