"""Persistent rating, "another one" and comparison controls; ``Reply`` -> discord.py.

Owns the custom-id contract (prefix ``lstmgen:``; the generation id travels in the id, so a
button works after a restart without any stored view state):

- ``lstmgen:rate:<gen>:<dimension>:<score>``: a 1-5 button (``RateButton``);
- ``lstmgen:dim:<gen>``: a select offering the other dimensions (``DimensionSelect``),
  answered with an ephemeral row of ``RateButton`` for the chosen one;
- ``lstmgen:again:<gen>``: "another one" (``AgainButton``): a second sample of the stored
  request of ``<gen>``, sent as a new public message showing both with prefer buttons;
- ``lstmgen:prefer:<a>:<b>:<a|b|tie>``: a comparison vote (``PreferButton``).

Each is a ``discord.ui.DynamicItem`` with a template; ``bot.setup_hook`` registers
``DYNAMIC_ITEMS``. Quick callbacks (ratings, votes) call the shared ``Handlers``
(``interaction.client.handlers``) and answer ephemerally; a generating one goes through
``respond``, the flow every slash command shares (parse, admit, defer, work, follow up).
User mistakes (a deleted generation...) become friendly replies.
Imports discord, ``handlers``, ``render`` and ``options``; never SQL, numpy or torch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord

from lstm_bot.handlers import Caller, Handlers
from lstm_bot.options import DIMENSIONS
from lstm_bot.render import Reply, error_reply
from shared_model import LstmgenError

log = logging.getLogger(__name__)

RATE_TEMPLATE = r"lstmgen:rate:(?P<gen>[0-9]{1,20}):(?P<dim>[a-z]{1,20}):(?P<score>[1-5])"
DIMENSION_TEMPLATE = r"lstmgen:dim:(?P<gen>[0-9]{1,20})"
PREFER_TEMPLATE = r"lstmgen:prefer:(?P<a>[0-9]{1,20}):(?P<b>[0-9]{1,20}):(?P<winner>a|b|tie)"
AGAIN_TEMPLATE = r"lstmgen:again:(?P<gen>[0-9]{1,20})"


def rate_id(gen_id: int, dimension: str, score: int) -> str:
    return f"lstmgen:rate:{gen_id}:{dimension}:{score}"


def parse_rate_id(custom_id: str) -> tuple[int, str, int] | None:
    """(generation id, dimension, score) from a rating button's custom id, else None."""
    m = re.fullmatch(RATE_TEMPLATE, custom_id)
    return (int(m["gen"]), m["dim"], int(m["score"])) if m else None


def caller_of(interaction: discord.Interaction) -> Caller:
    """The Caller for an interaction: ``discord:<user id>`` in its guild (or DM)."""
    guild = str(interaction.guild_id) if interaction.guild_id is not None else None
    return Caller(user=f"discord:{interaction.user.id}", guild=guild, source="discord")


def handlers_of(interaction: discord.Interaction) -> Handlers:
    return interaction.client.handlers  # type: ignore[attr-defined,no-any-return]


async def respond(interaction: discord.Interaction, build: Callable[[], Any],
                  work: Callable[[Handlers, Any, Caller], Awaitable[Reply]], *,
                  admit: bool = True, ephemeral: bool = False) -> None:
    """Parse -> admit -> defer -> work -> follow up.

    Mistakes in ``build`` and refusals by admission (cooldown, busy) are answered at once,
    privately, without deferring; after the deferral (within Discord's 3 s) ``work`` runs
    and its Reply is the follow-up; a ``LstmgenError`` from it replaces the "thinking…"
    placeholder with a private message. The admission ticket is held until then.
    """
    handlers = handlers_of(interaction)
    caller = caller_of(interaction)
    ticket = None
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


async def _answer(interaction: discord.Interaction,
                  work: Callable[[Handlers, Caller], Awaitable[Reply]]) -> None:
    """Run a quick handler and answer ephemerally; LstmgenError -> a friendly reply."""
    try:
        reply = await work(handlers_of(interaction), caller_of(interaction))
    except LstmgenError as exc:
        reply = error_reply(exc)
    await interaction.response.send_message(**message_kwargs(reply))


class RateButton(discord.ui.DynamicItem[discord.ui.Button], template=RATE_TEMPLATE):
    """A score button; the generation, dimension and score live in its custom id."""

    def __init__(self, gen_id: int, dimension: str, score: int):
        super().__init__(discord.ui.Button(label=str(score), emoji="⭐" if score == 5 else None,
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=rate_id(gen_id, dimension, score)))
        self.gen_id, self.dimension, self.score = gen_id, dimension, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RateButton:
        return cls(int(match["gen"]), match["dim"], int(match["score"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, lambda h, who: h.rate(self.gen_id, self.score,
                                                           self.dimension, who))


class DimensionSelect(discord.ui.DynamicItem[discord.ui.Select], template=DIMENSION_TEMPLATE):
    """"Rate another aspect": pick a dimension, get a private row of 1-5 buttons for it."""

    def __init__(self, gen_id: int):
        options = [discord.SelectOption(label=d.capitalize(), value=d) for d in DIMENSIONS
                   if d != "overall"]
        super().__init__(discord.ui.Select(placeholder="Rate another aspect…", options=options,
                                           custom_id=f"lstmgen:dim:{gen_id}"))
        self.gen_id = gen_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> DimensionSelect:
        return cls(int(match["gen"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        data = cast(dict[str, Any], interaction.data or {})  # a select's component data
        values = data.get("values") or []
        dimension = str(values[0]) if values else "overall"
        view = discord.ui.View(timeout=None)
        for score in range(1, 6):
            view.add_item(RateButton(self.gen_id, dimension, score))
        await interaction.response.send_message(f"Your {dimension} score for #{self.gen_id}:",
                                                view=view, ephemeral=True)


class PreferButton(discord.ui.DynamicItem[discord.ui.Button], template=PREFER_TEMPLATE):
    """A comparison vote: A is better, tie, or B is better."""

    LABELS = {"a": "A is better", "tie": "Tie", "b": "B is better"}

    def __init__(self, gen_a: int, gen_b: int, winner: str):
        super().__init__(discord.ui.Button(label=self.LABELS[winner],
                                           style=discord.ButtonStyle.primary if winner != "tie"
                                           else discord.ButtonStyle.secondary,
                                           custom_id=f"lstmgen:prefer:{gen_a}:{gen_b}:{winner}"))
        self.gen_a, self.gen_b, self.winner = gen_a, gen_b, winner

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PreferButton:
        return cls(int(match["a"]), int(match["b"]), match["winner"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, lambda h, who: h.prefer(self.gen_a, self.gen_b,
                                                             self.winner, who))


class AgainButton(discord.ui.DynamicItem[discord.ui.Button], template=AGAIN_TEMPLATE):
    """"Another one": sample the same request again, then show both for a vote."""

    def __init__(self, gen_id: int):
        super().__init__(discord.ui.Button(label="Another one", emoji="🎲",
                                           style=discord.ButtonStyle.success,
                                           custom_id=f"lstmgen:again:{gen_id}"))
        self.gen_id = gen_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AgainButton:
        return cls(int(match["gen"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await respond(interaction, lambda: self.gen_id,
                      lambda h, gen_id, who: h.another(gen_id, who))


DYNAMIC_ITEMS = (RateButton, DimensionSelect, PreferButton, AgainButton)


def rating_view(gen_id: int, *, again: int | None = None) -> discord.ui.View:
    """Buttons 1-5 (overall) on the first row, the dimension select on the second, and
    "another one" (of generation ``again``) on the third."""
    view = discord.ui.View(timeout=None)
    for score in range(1, 6):
        view.add_item(RateButton(gen_id, "overall", score))
    view.add_item(DimensionSelect(gen_id))
    if again is not None:
        view.add_item(AgainButton(again))
    return view


def compare_view(gen_a: int, gen_b: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for winner in ("a", "tie", "b"):
        view.add_item(PreferButton(gen_a, gen_b, winner))
    return view


def message_kwargs(reply: Reply) -> dict[str, Any]:
    """discord.py keyword arguments (send_message / followup.send) for a Reply."""
    kwargs: dict[str, Any] = {"ephemeral": reply.ephemeral}
    if reply.text:
        kwargs["content"] = reply.text
    if reply.card is not None:
        c = reply.card
        embed = discord.Embed(title=c.title or None, description=c.body or None, colour=c.colour)
        for name, value in c.fields:
            embed.add_field(name=name, value=value, inline=len(c.fields) == 2)
        if c.footer:
            embed.set_footer(text=c.footer)
        if c.image:
            embed.set_image(url=f"attachment://{c.image}")
        kwargs["embed"] = embed
    if reply.files:
        kwargs["files"] = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in reply.files]
    if reply.rate is not None:
        kwargs["view"] = rating_view(reply.rate, again=reply.again)
    elif reply.compare is not None:
        kwargs["view"] = compare_view(*reply.compare)
    return kwargs


async def send_error(interaction: discord.Interaction, reply: Reply) -> None:
    """Show an error privately whatever state the interaction is in; never raises.

    Before any response: an ephemeral response. After a public "thinking…" deferral:
    delete that placeholder, then an ephemeral follow-up (Discord would make the first
    follow-up public otherwise).
    """
    kwargs = message_kwargs(reply)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(**kwargs)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        await interaction.followup.send(**kwargs)
    except discord.HTTPException as exc:
        log.warning("could not deliver an error reply for interaction %s: %s", interaction.id, exc)
