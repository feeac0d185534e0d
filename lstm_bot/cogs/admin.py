"""``/reload``: administrators only (Discord's default permission and a runtime check).

Rescans the models directory (new or replaced .onnx files are served from the next
request on) and reloads the command cogs, then lists the models.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from lstm_bot.cogs import respond


class Admin(commands.Cog):
    """Maintenance commands for server administrators."""

    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="reload", description="Rescan models and reload commands (admins).")
    @app_commands.guild_only()
    @app_commands.default_permissions(administrator=True)
    @app_commands.checks.has_permissions(administrator=True)
    async def reload(self, interaction: discord.Interaction) -> None:
        async def work(handlers, _opts, _who):  # type: ignore[no-untyped-def]
            for ext in ("lstm_bot.cogs.create", "lstm_bot.cogs.info"):
                await self.bot.reload_extension(ext)
            return await handlers.list_models()

        await respond(interaction, lambda: None, work, admit=False, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(bot))
