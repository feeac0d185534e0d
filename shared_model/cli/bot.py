"""``lstmgen bot``: run the Discord bot, or its offline console (``--console``).

Thin: flags -> ``BotConfig`` -> ``lstm_bot.__main__.launch``. The token comes from
``DISCORD_TOKEN`` or ``--token-file`` and is never printed. Imports ``lstm_bot`` only
inside the command (the CLI is the composition root).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("bot")
@click.option("--console", is_flag=True,
              help="Offline console: read commands like '/poem tang form:7j' from stdin; no token.")
@click.option("--sync", is_flag=True,
              help="Sync slash commands at start-up (to LSTMGEN_GUILD_ID if set, else globally).")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File whose first line is the bot token (else DISCORD_TOKEN).")
@click.option("--shard-count", type=click.IntRange(1, 10_000),
              help="Total number of shards across all bot processes.")
@click.option("--shard-ids", metavar="IDS", help="This process's shards, e.g. 0,1 or 0-3.")
@click.option("--guild-concurrency", type=click.IntRange(1, 10_000), default=8, show_default=True,
              help="Generations in flight per guild.")
@click.option("--max-in-flight", type=click.IntRange(1, 100_000), default=256, show_default=True,
              help="Generations in flight for this process; more get a polite 'busy'.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True, help="Logging level (stderr).")
def bot(console: bool, sync: bool, token_file: Path | None, shard_count: int | None,
        shard_ids: str | None, guild_concurrency: int, max_in_flight: int, log_level: str) -> int:
    """Run the Discord bot (/poem /scene /music /compare /models /stats /history), or with
    --console the same commands offline, recorded with source 'console'.

    \b
    Examples:
      DISCORD_TOKEN=... lstmgen bot --sync
      lstmgen bot --token-file ~/.config/lstmgen/token --shard-count 4 --shard-ids 0,1
      echo '/poem tang form:7j acrostic:春夏秋冬' | lstmgen bot --console
    """
    from lstm_bot.__main__ import config_from, launch
    from shared_model.cli.output import settings

    config = config_from(sync=sync, shard_count=shard_count, shard_ids=shard_ids,
                         guild_concurrency=guild_concurrency, max_in_flight=max_in_flight)
    return launch(config, console=console, token_file=token_file, log_level=log_level,
                  settings=settings())
