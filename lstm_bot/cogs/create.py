"""``/poem``, ``/scene``, ``/music`` and ``/compare``: the generation commands.

Thin: declare options with their choices and ranges (the same bounds ``options`` checks
for the console), build the ``*Options``, hand over to ``cogs.respond``. Autocomplete
lists the installed models of the command's domain and the musical keys.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from lstm_bot.cogs import respond
from lstm_bot.options import (
    BARS_MAX,
    BARS_MIN,
    FORMS,
    KEYS,
    SEED_MAX,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    TEMPO_MAX,
    TEMPO_MIN,
    TURNS_MAX,
    TURNS_MIN,
    CompareOptions,
    MusicOptions,
    PoemOptions,
    SceneOptions,
)
from lstm_bot.views import handlers_of

Temperature = app_commands.Range[float, TEMPERATURE_MIN, TEMPERATURE_MAX]
Seed = app_commands.Range[int, 0, SEED_MAX]
FORM_CHOICES = [app_commands.Choice(name=f"{name} ({code})", value=code) for code, name in FORMS.items()]


async def _models(interaction: discord.Interaction, current: str, command: str
                  ) -> list[app_commands.Choice[str]]:
    names = await handlers_of(interaction).model_names(command)
    return [app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()][:25]


class Create(commands.Cog):
    """Poems, scenes and chorales, each with rating buttons."""

    @app_commands.command(name="poem", description="Write a Tang poem (绝句/律诗, acrostic 藏头诗).")
    @app_commands.describe(style="Poetry tradition", form="Form: 5 or 7 characters, 4 or 8 lines",
                           acrostic="藏头: first character of each line (4 or 8)",
                           keyword="A character to steer the theme", prompt="Opening characters",
                           layout="Horizontal, or vertical 竖排", temperature="Higher = wilder",
                           seed="Same seed, same poem", model="Another tang model")
    @app_commands.choices(form=FORM_CHOICES)
    async def poem(self, interaction: discord.Interaction, style: Literal["tang"] = "tang",
                   form: str | None = None, acrostic: str = "", keyword: str = "",
                   prompt: str = "", layout: Literal["horizontal", "vertical"] = "horizontal",
                   temperature: Temperature = 0.8, seed: Seed | None = None,
                   model: str | None = None) -> None:
        await respond(interaction, lambda: PoemOptions(
            style=style, form=form, acrostic=acrostic, keyword=keyword, prompt=prompt,
            layout=layout, temperature=temperature, seed=seed, model=model),
            lambda h, opts, who: h.generate("poem", opts, who))

    @app_commands.command(name="scene", description="Write a Shakespeare-style scene.")
    @app_commands.describe(characters="Speakers, comma-separated (ROMEO, JULIET)",
                           first_line="The first speaker's opening line",
                           turns="Speaker turns", temperature="Higher = wilder",
                           seed="Same seed, same scene", model="Another shakespeare model")
    async def scene(self, interaction: discord.Interaction, characters: str,
                    first_line: str = "",
                    turns: app_commands.Range[int, TURNS_MIN, TURNS_MAX] = 4,
                    temperature: Temperature = 0.8, seed: Seed | None = None,
                    model: str | None = None) -> None:
        await respond(interaction, lambda: SceneOptions(
            characters=characters, first_line=first_line, turns=turns, temperature=temperature,
            seed=seed, model=model), lambda h, opts, who: h.generate("scene", opts, who))

    @app_commands.command(name="music", description="Write a Bach-style chorale (MIDI + piano roll).")
    @app_commands.describe(style="Composer", bars="Length in 4/4 bars", key="Key (C, G, F#m, Bb...)",
                           tempo="Quarter notes per minute", temperature="Higher = wilder",
                           seed="Same seed, same chorale", model="Another bach model")
    async def music(self, interaction: discord.Interaction, style: Literal["bach"] = "bach",
                    bars: app_commands.Range[int, BARS_MIN, BARS_MAX] = 8, key: str = "C",
                    tempo: app_commands.Range[int, TEMPO_MIN, TEMPO_MAX] = 80,
                    temperature: Temperature = 0.8, seed: Seed | None = None,
                    model: str | None = None) -> None:
        await respond(interaction, lambda: MusicOptions(
            style=style, bars=bars, key=key, tempo=tempo, temperature=temperature, seed=seed,
            model=model), lambda h, opts, who: h.generate("music", opts, who))

    @app_commands.command(name="compare", description="Two samples side by side: vote for the better one.")
    @app_commands.describe(kind="Poem or scene", temperature="Higher = wilder", model="Model to sample")
    async def compare(self, interaction: discord.Interaction,
                      kind: Literal["poem", "scene"] = "poem", temperature: Temperature = 0.8,
                      model: str | None = None) -> None:
        await respond(interaction, lambda: CompareOptions(kind=kind, temperature=temperature,
                                                          model=model),
                      lambda h, opts, who: h.compare(opts, who))

    @poem.autocomplete("model")
    async def _poem_models(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        return await _models(interaction, current, "poem")

    @scene.autocomplete("model")
    async def _scene_models(self, interaction: discord.Interaction, current: str
                            ) -> list[app_commands.Choice[str]]:
        return await _models(interaction, current, "scene")

    @music.autocomplete("model")
    async def _music_models(self, interaction: discord.Interaction, current: str
                            ) -> list[app_commands.Choice[str]]:
        return await _models(interaction, current, "music")

    @music.autocomplete("key")
    async def _keys(self, interaction: discord.Interaction, current: str
                    ) -> list[app_commands.Choice[str]]:
        cur = current.strip().lower()
        return [app_commands.Choice(name=k, value=k) for k in KEYS if k.lower().startswith(cur)][:25]


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Create())
