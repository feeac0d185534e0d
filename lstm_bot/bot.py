"""The Discord client: ``BotConfig`` and ``LstmBot`` (an ``AutoShardedBot``).

Owns start-up and shutdown. ``setup_hook`` builds the Studio (registry, one batching
engine per model, the store, opened and migrated off the event loop), the shared
``Handlers``, loads the cogs, re-registers the persistent rating controls
(``views.DYNAMIC_ITEMS``) so old buttons keep working after a restart, and syncs the
command tree only when asked (``--sync``: to ``LSTMGEN_GUILD_ID`` for fast iteration,
else globally). ``close`` refuses new work, waits for in-flight replies, drains the
engines and closes the store. ``LstmTree.on_error`` turns every command error into a
private, friendly message (unexpected ones are logged once, with their traceback).
Imports discord and the public ``shared_model`` API; never torch or SQL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

import shared_model
from lstm_bot.cogs import EXTENSIONS
from lstm_bot.handlers import DEFAULT_MODELS, Handlers
from lstm_bot.limits import Admission, LimitsConfig
from lstm_bot.render import Reply, error_reply
from lstm_bot.views import DYNAMIC_ITEMS, send_error
from shared_model import InvalidRequest, LstmgenError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotConfig:
    """How the bot runs (the token is never part of it).

    Attributes:
        poem_model, scene_model, music_model: default model per command.
        limits: cooldowns and concurrency caps.
        timeout_s: per-generation time limit.
        max_batch, max_queue: each model engine's batch size and queue bound.
        sync: sync the command tree at start-up (to ``guild_id`` if set, else globally).
        guild_id: the guild for fast command sync (``LSTMGEN_GUILD_ID``).
        shard_count, shard_ids: this process's shards (None: Discord's recommendation).
        drain_s: how long shutdown waits for in-flight replies.
    """

    poem_model: str = DEFAULT_MODELS["poem"]
    scene_model: str = DEFAULT_MODELS["scene"]
    music_model: str = DEFAULT_MODELS["music"]
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    timeout_s: float = 60.0
    max_batch: int = 32
    max_queue: int = 256
    sync: bool = False
    guild_id: int | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    drain_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.timeout_s <= 3600:
            raise InvalidRequest(f"timeout must be in (0, 3600] seconds, got {self.timeout_s}")
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise InvalidRequest("--shard-ids needs --shard-count (the total number of shards)")
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad or not self.shard_ids:
                raise InvalidRequest(f"shard ids must be in 0..{self.shard_count - 1}, got "
                                     f"{list(self.shard_ids)}")
            if len(set(self.shard_ids)) != len(self.shard_ids):
                raise InvalidRequest("shard ids must not repeat")
        if self.shard_count is not None and not 1 <= self.shard_count <= 10_000:
            raise InvalidRequest(f"shard count must be from 1 to 10000, got {self.shard_count}")
        if not 0 <= self.drain_s <= 600:
            raise InvalidRequest(f"drain time must be 0 to 600 seconds, got {self.drain_s}")

    @property
    def models(self) -> dict[str, str]:
        return {"poem": self.poem_model, "scene": self.scene_model, "music": self.music_model}

    def engine_config(self) -> Any:
        return shared_model.EngineConfig(max_batch=self.max_batch, max_queue=self.max_queue,
                                         timeout_s=self.timeout_s)


class LstmTree(app_commands.CommandTree):
    """The command tree; its error handler answers privately and logs only real bugs."""

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, LstmgenError):
            reply = error_reply(original)
        elif isinstance(error, app_commands.MissingPermissions):
            reply = Reply(text="🔒 Only server administrators can use that command.", ephemeral=True)
        elif isinstance(error, app_commands.CheckFailure):
            reply = Reply(text="🔒 You cannot use that command here.", ephemeral=True)
        elif isinstance(error, app_commands.TransformerError):
            reply = Reply(text=f"⚠️ I could not read {error.value!r} for that option.", ephemeral=True)
        elif isinstance(error, app_commands.CommandNotFound):
            reply = Reply(text="That command is not available any more; try again in a minute.",
                          ephemeral=True)
        else:
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error("unexpected error in /%s", name, exc_info=original)
            reply = error_reply(original)
        await send_error(interaction, reply)


class LstmBot(commands.AutoShardedBot):
    """The lstmgen Discord bot. ``studio`` may be given (tests, benchmarks); else built."""

    def __init__(self, config: BotConfig | None = None, settings: Any = None, *,
                 studio: Any = None):
        self.config = config or BotConfig()
        intents = discord.Intents.none()
        intents.guilds = True
        shards: dict[str, Any] = {"shard_count": self.config.shard_count}
        if self.config.shard_ids:  # else discord.py picks (all shards in this process)
            shards["shard_ids"] = list(self.config.shard_ids)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         help_command=None, tree_cls=LstmTree, **shards)
        self.settings = settings
        self.studio = studio
        self.handlers: Handlers | None = None
        self.admission = Admission(self.config.limits)

    async def setup_hook(self) -> None:
        if self.studio is None:
            settings = self.settings or shared_model.Settings.from_env()
            self.studio = shared_model.Studio(settings, engine_config=self.config.engine_config())
        studio = self.studio
        await asyncio.to_thread(lambda: studio.store)  # open + migrate now, off the loop
        self.handlers = Handlers(studio, models=self.config.models, admission=self.admission,
                                 timeout_s=self.config.timeout_s)
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        log.info("ready to serve: %d slash commands, rating views registered",
                 len(self.tree.get_commands()))
        if self.config.sync:
            await self.sync_commands()

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Push the command tree to Discord (guild: instant; global: up to an hour)."""
        if self.config.guild_id is not None:
            guild = discord.Object(id=self.config.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), self.config.guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally (may take up to an hour to appear)", len(synced))
        return synced

    async def drain(self) -> None:
        """Refuse new work and wait (up to ``drain_s``) for in-flight replies."""
        self.admission.closed = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.drain_s
        while self.admission.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.admission.in_flight:
            log.warning("shutting down with %d replies still in flight", self.admission.in_flight)

    async def close(self) -> None:
        await self.drain()
        if self.studio is not None:
            await self.studio.aclose(drain=True)
            log.info("engines drained, store closed")
        await super().close()
