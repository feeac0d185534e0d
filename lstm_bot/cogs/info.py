"""``/models``, ``/stats`` and ``/history``: what is installed, how it is rated, what you made.

Replies are ephemeral (they are for the asker). Each defers, then follows up.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from lstm_bot.cogs import respond


class Info(commands.Cog):
    """Models, rating statistics and your history."""

    @app_commands.command(name="models", description="The models this bot can use.")
    async def models(self, interaction: discord.Interaction) -> None:
        await respond(interaction, lambda: None, lambda h, _opts, _who: h.list_models(),
                      admit=False, ephemeral=True)

    @app_commands.command(name="stats", description="Ratings per model: mean and 95% interval.")
    @app_commands.describe(model="Only this model")
    async def stats(self, interaction: discord.Interaction, model: str | None = None) -> None:
        await respond(interaction, lambda: model, lambda h, m, _who: h.stats(m),
                      admit=False, ephemeral=True)

    @app_commands.command(name="history", description="Your last generations (only you see them).")
    @app_commands.describe(limit="How many")
    async def history(self, interaction: discord.Interaction,
                      limit: app_commands.Range[int, 1, 20] = 5) -> None:
        await respond(interaction, lambda: limit, lambda h, n, who: h.history(who, n),
                      admit=False, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Info())
