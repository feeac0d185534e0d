"""Transport-neutral command handlers: options -> Studio call -> ``Reply``.

Owns ``Caller`` (who asks, from where: ``discord:<user id>`` or ``console:<name>``, the
guild, the storage ``source``) and ``Handlers``: admission (cooldowns, caps), generation
through ``Studio.agenerate`` (the continuous-batching engine; nothing heavy runs on the
event loop's thread: the domain renders its result, piano roll included, in a worker
thread), "another one" (a second sample of a stored generation's request, shown beside
it for a comparison vote), ratings, comparisons, history, stats and model lists. The cogs and the console call the SAME
methods; ``run`` is the console's dispatcher. Imports the public ``shared_model`` API,
``options``, ``limits`` and ``render``; never discord, torch or SQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lstm_bot import render
from lstm_bot.limits import Admission, Ticket
from lstm_bot.options import (
    DIMENSIONS,
    GENERATORS,
    CompareOptions,
    MusicOptions,
    PoemOptions,
    build_options,
    model_for,
    options_from_params,
)
from lstm_bot.render import Reply
from shared_model import InvalidRequest, LstmgenError

DEFAULT_MODELS = {"poem": "tang", "scene": "shakespeare", "music": "bach"}
HELP = """commands (options as name:value, quote values with spaces):
  /poem tang [form:5j|7j|5l|7l] [acrostic:春夏秋冬] [keyword:月] [prompt:..] [layout:vertical]
             [temperature:0.8] [seed:N] [model:NAME]
  /scene characters:"ROMEO, JULIET" [first_line:..] [turns:4] [temperature:..] [seed:..]
  /music bach [bars:8] [key:C|Am|F#m..] [tempo:80] [temperature:..] [seed:..]
  /compare [kind:poem|scene] [temperature:..]
  /models   /stats [model:NAME]   /history [limit:5]
  rate ID SCORE [dimension]       prefer ID_A ID_B a|b|tie
  again ID                        another sample of ID's request, then prefer
  help   quit"""


@dataclass(frozen=True)
class Caller:
    """Who is asking: a namespaced raw user id (hashed by the store), guild, source."""

    user: str
    guild: str | None = None
    source: str = "discord"


class Handlers:
    """The bot's behaviour, independent of Discord.

    Args:
        studio: the process's ``Studio`` (made once at start-up).
        models: default model per generation command (``poem`` -> ``tang`` ...).
        admission: cooldowns and concurrency caps.
        timeout_s: per-generation time limit handed to the engine.
    """

    def __init__(self, studio: Any, *, models: Mapping[str, str] | None = None,
                 admission: Admission | None = None, timeout_s: float | None = 60.0):
        self.studio = studio
        self.models = {**DEFAULT_MODELS, **(models or {})}
        self.admission = admission or Admission()
        self.timeout_s = timeout_s

    # -- generation ---------------------------------------------------------------------

    def admit(self, caller: Caller) -> Ticket:
        """A slot for one generation (raises Busy / Cooldown when there is none)."""
        return self.admission.admit(caller.user, caller.guild)

    async def generate(self, command: str, opts: Any, caller: Caller) -> Reply:
        """Write a poem / scene / chorale and render it with its rating controls."""
        request = opts.to_request(model_for(opts, self.models, command))
        gens = await self.studio.agenerate(request, source=caller.source,
                                           requester=caller.user, timeout=self.timeout_s)
        gen = gens[0]
        if isinstance(opts, PoemOptions):
            return render.poem_reply(gen, opts.layout)
        if isinstance(opts, MusicOptions):
            return render.music_reply(gen)
        return render.scene_reply(gen)

    async def another(self, generation_id: int, caller: Caller) -> Reply:
        """A second sample of a stored generation's request (fresh seed), beside the first.

        Raises:
            NotFound: no such generation. InvalidRequest: it has no bot request to repeat.
        """
        first = await asyncio.to_thread(self.studio.get, generation_id)
        command, opts = options_from_params(generation_id, first.params, first.model_name)
        gens = await self.studio.agenerate(opts.to_request(first.model_name),
                                           source=caller.source, requester=caller.user,
                                           timeout=self.timeout_s)
        return render.compare_reply(first, gens[0], command)

    async def compare(self, opts: CompareOptions, caller: Caller) -> Reply:
        """Two samples of one request (one batched call), shown side by side."""
        inner = opts.inner()
        request = inner.to_request(model_for(opts, self.models, opts.kind), n=2)
        gens = await self.studio.agenerate(request, source=caller.source,
                                           requester=caller.user, timeout=self.timeout_s)
        return render.compare_reply(gens[0], gens[1], opts.kind)

    # -- ratings ------------------------------------------------------------------------

    async def rate(self, generation_id: int, score: int, dimension: str, caller: Caller) -> Reply:
        result = await self.studio.arate(generation_id, caller.user, score, dimension)
        return render.rated_reply(result)

    async def prefer(self, gen_a: int, gen_b: int, winner: str, caller: Caller) -> Reply:
        await self.studio.acompare(gen_a, gen_b, caller.user, winner)
        return render.preferred_reply(gen_a, gen_b, winner)

    # -- information --------------------------------------------------------------------

    async def list_models(self) -> Reply:
        return render.models_reply(await asyncio.to_thread(self.studio.models))

    async def stats(self, model: str | None = None) -> Reply:
        return render.stats_reply(await self.studio.astats(model=model or None))

    async def history(self, caller: Caller, limit: int = 5) -> Reply:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
            raise InvalidRequest(f"limit must be a whole number from 1 to 20, got {limit!r}")
        views = await self.studio.ahistory(requester=caller.user, limit=limit)
        return render.history_reply(views)

    async def model_names(self, command: str) -> list[str]:
        """Usable models for a generation command's domain (autocomplete)."""
        domain = GENERATORS[command].domain
        infos = await asyncio.to_thread(self.studio.models)
        return [i.name for i in infos if i.domain == domain and not i.broken]

    # -- the console's dispatcher -----------------------------------------------------------

    async def run(self, name: str, options: Mapping[str, Any], caller: Caller) -> Reply:
        """Run one console command; user mistakes come back as an error Reply."""
        try:
            return await self._dispatch(name, dict(options), caller)
        except LstmgenError as exc:
            return render.error_reply(exc)

    async def _dispatch(self, name: str, options: dict[str, Any], caller: Caller) -> Reply:
        if name in GENERATORS or name == "compare":
            cls = GENERATORS[name].options if name in GENERATORS else CompareOptions
            opts = build_options(cls, options)
            with self.admit(caller):
                if name == "compare":
                    return await self.compare(opts, caller)
                return await self.generate(name, opts, caller)
        if name == "models":
            return await self.list_models()
        if name == "stats":
            return await self.stats(options.get("model"))
        if name == "history":
            return await self.history(caller, int(options.get("limit", 5)))
        if name == "help":
            return Reply(text=HELP)
        raise InvalidRequest(f"unknown command {name!r}; type 'help' for the list")

    async def run_words(self, words: list[str], caller: Caller) -> Reply:
        """``rate ID SCORE [dimension]``, ``prefer A B a|b|tie``, ``again ID`` (console)."""
        try:
            if words[0] == "rate" and len(words) in (3, 4):
                dimension = words[3] if len(words) == 4 else "overall"
                if dimension not in DIMENSIONS:
                    raise InvalidRequest(f"unknown dimension {dimension!r}; choose one of "
                                         f"{', '.join(DIMENSIONS)}")
                return await self.rate(_int(words[1], "ID"), _int(words[2], "SCORE"),
                                       dimension, caller)
            if words[0] == "prefer" and len(words) == 4:
                return await self.prefer(_int(words[1], "ID_A"), _int(words[2], "ID_B"),
                                         words[3].lower(), caller)
            if words[0] == "again" and len(words) == 2:
                generation_id = _int(words[1], "ID")
                with self.admit(caller):
                    return await self.another(generation_id, caller)
            raise InvalidRequest("usage: rate ID SCORE [dimension]  |  prefer ID_A ID_B a|b|tie"
                                 "  |  again ID")
        except LstmgenError as exc:
            return render.error_reply(exc)


def _int(word: str, what: str) -> int:
    try:
        return int(word.lstrip("#"))
    except ValueError:
        raise InvalidRequest(f"{what} must be a whole number, got {word!r}") from None

