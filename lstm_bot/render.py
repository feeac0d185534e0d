"""Results -> ``Reply``: what the bot says, in a shape both Discord and the console show.

Owns ``Reply`` (text, an optional ``Card`` for an embed, attachments, whether it is
ephemeral, which generation it offers rating / "another one" / comparison controls for),
Discord's size limits (2,000 characters a message, embed limits) and how each result
reads: poems as cards (horizontal or vertical 竖排), scenes as code blocks (with the full
text attached when it does not fit), music as a MIDI attachment with its piano roll (both
from the domain's result, ``Generation.result``), two samples side by side (a fresh
``Generation`` or a stored ``GenerationView``), lists for models, stats and history, and
a friendly sentence for every ``LstmgenError``. Pure: no discord import
(``views.message_kwargs`` turns a Reply into discord.py arguments), no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared_model import Busy, GenerationTimeout, LstmgenError, ModelNotFound, NotFound

MESSAGE_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024
FORM_NAMES = {"5j": "五言绝句", "7j": "七言绝句", "5l": "五言律诗", "7l": "七言律诗"}
COLOURS = {"poem": 0xB22222, "scene": 0x4B0082, "music": 0x2E8B57, "info": 0x5865F2,
           "error": 0xED4245}
_FULLWIDTH_SPACE = "\u3000"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Card:
    """An embed: title, body, optional fields, footer and an attached image's filename."""

    title: str
    body: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    image: str | None = None
    colour: int = COLOURS["info"]


@dataclass(frozen=True)
class Reply:
    """One message to send.

    Attributes:
        rate: a generation id: the message carries rating controls for it.
        again: a generation id: the message offers "another one" (a second sample of the
            same request, then both side by side with "A / tie / B").
        compare: two generation ids: the message carries "A / tie / B" buttons.
    """

    text: str = ""
    card: Card | None = None
    files: tuple[Attachment, ...] = ()
    ephemeral: bool = False
    rate: int | None = None
    again: int | None = None
    compare: tuple[int, int] | None = None

    def plain(self) -> str:
        """The reply as plain text (the console)."""
        parts = [self.text] if self.text else []
        if self.card is not None:
            c = self.card
            parts.append(f"== {c.title} ==" if c.title else "")
            if c.body:
                parts.append(c.body)
            parts += [f"[{name}]\n{value}" for name, value in c.fields]
            if c.footer:
                parts.append(c.footer)
        parts += [f"(attachment: {a.filename}, {len(a.data)} bytes)" for a in self.files]
        if self.rate is not None:
            parts.append(f"rate it: rate {self.rate} SCORE [dimension]")
        if self.again is not None:
            parts.append(f"another one: again {self.again}")
        if self.compare is not None:
            a, b = self.compare
            parts.append(f"which is better? prefer {a} {b} a|b|tie")
        return "\n".join(p for p in parts if p)


def clip(text: str, limit: int, marker: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``marker`` when cut."""
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


def vertical(lines: Sequence[str]) -> str:
    """竖排: each poem line a column, read top to bottom, columns right to left."""
    if not lines:
        return ""
    height = max(len(line) for line in lines)
    cols = [line.ljust(height, _FULLWIDTH_SPACE) for line in reversed(lines)]
    return "\n".join(_FULLWIDTH_SPACE.join(col[r] for col in cols) for r in range(height))


def _footer(gen: Any) -> str:
    bits = [f"#{gen.id}" if gen.id is not None else "unsaved", gen.model]
    if gen.seed is not None:
        bits.append(f"seed {gen.seed}")
    bits.append(f"{gen.latency_ms:.0f} ms")
    return " · ".join(bits)


def poem_reply(gen: Any, layout: str = "horizontal") -> Reply:
    """A poem card: form name (and acrostic) as title, the poem in the chosen layout."""
    out = gen.output or {}
    request = (gen.params.get("request") or {})
    title = FORM_NAMES.get(out.get("form", ""), "诗")
    if request.get("acrostic"):
        title += f" · 藏头 {request['acrostic']}"
    lines = out.get("lines") or [gen.text]
    body = vertical(lines) if layout == "vertical" else (gen.formatted or gen.text)
    return Reply(card=Card(clip(title, EMBED_TITLE_LIMIT), clip(body, EMBED_DESCRIPTION_LIMIT),
                           footer=_footer(gen), colour=COLOURS["poem"]), rate=gen.id, again=gen.id)


def _code_block(text: str, limit: int) -> tuple[str, bool]:
    """Text in a code block of at most ``limit`` characters, cut at a line end if needed."""
    safe = text.replace("```", "`\u200b``")
    fence = 8  # "```\n" + "\n```"
    if len(safe) + fence <= limit:
        return f"```\n{safe}\n```", False
    cut = safe[: limit - fence - 2]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return f"```\n{cut}\n…\n```", True


def scene_reply(gen: Any) -> Reply:
    """A scene as a code block under 2,000 characters; the full text attached if cut."""
    head = f"**Scene** · {_footer(gen)}\n"
    block, cut = _code_block(gen.formatted or gen.text, MESSAGE_LIMIT - len(head))
    files = (Attachment(f"scene-{gen.id}.txt", (gen.text + "\n").encode("utf-8")),) if cut else ()
    return Reply(text=head + block, files=files, rate=gen.id, again=gen.id)


def _music_facts(facts: dict[str, Any]) -> str:
    """``key G, bars 2, tempo 80`` (whole numbers without a trailing ``.0``)."""
    def show(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k} {show(facts[k])}" for k in ("key", "bars", "tempo") if k in facts)


def _piano_roll(gen: Any) -> bytes | None:
    """The piano-roll PNG the domain rendered with the chorale (``Generation.result``)."""
    png = getattr(gen.result, "png_bytes", None)
    return png if isinstance(png, bytes) and png else None


def music_reply(gen: Any) -> Reply:
    """A chorale: the MIDI file attached, the piano roll as the card's image."""
    out = gen.output or {}
    request = gen.params.get("request") or {}
    files: list[Attachment] = []
    if gen.data:
        files.append(Attachment(f"chorale-{gen.id}.mid", gen.data))
    image = None
    png = _piano_roll(gen)
    if png:
        image = f"pianoroll-{gen.id}.png"
        files.append(Attachment(image, png))
    body = _music_facts(out) or _music_facts(request)
    if not gen.data:
        body += "\n(no MIDI file was produced)"
    return Reply(card=Card("Chorale", body, footer=_footer(gen), image=image,
                           colour=COLOURS["music"]), files=tuple(files), rate=gen.id,
                 again=gen.id)


def _sample_text(gen: Any, kind: str) -> str:
    """A sample's display text: a fresh ``Generation``'s formatted text, or a stored
    ``GenerationView``'s text (poems: one couplet per line, as the domain formats them)."""
    formatted = getattr(gen, "formatted", None)
    if isinstance(formatted, str) and formatted:
        return formatted
    text = str(getattr(gen, "text", None) or getattr(gen, "output_text", None) or "")
    if kind == "poem":
        return "\n".join(p for p in "".join(text.split()).replace("。", "。\n").split("\n") if p)
    return text


def _pair_footer(a: Any, b: Any) -> str:
    model = getattr(a, "model", None) or getattr(a, "model_name", "?")
    ms = " / ".join(f"{x.latency_ms:.0f}" if x.latency_ms is not None else "?" for x in (a, b))
    return f"{model} · {ms} ms"


def compare_reply(a: Any, b: Any, kind: str, layout: str = "horizontal") -> Reply:
    """Two samples side by side; the buttons record which the user prefers.

    ``a`` and ``b`` are fresh ``Generation`` objects or stored ``GenerationView`` rows
    (the "another one" flow shows the stored first sample beside the new one).
    """
    if kind == "music":
        return _compare_music(a, b)

    def show(gen: Any) -> str:
        if kind == "poem":
            lines = (getattr(gen, "output", None) or {}).get("lines")
            text = vertical(lines) if layout == "vertical" and lines else _sample_text(gen, kind)
        else:
            text = _code_block(_sample_text(gen, kind), EMBED_FIELD_LIMIT)[0]
        return clip(text, EMBED_FIELD_LIMIT)

    card = Card(f"Which {kind} is better?", "Vote below; both are saved and can be rated.",
                fields=((f"A · #{a.id}", show(a)), (f"B · #{b.id}", show(b))),
                footer=_pair_footer(a, b), colour=COLOURS[kind])
    return Reply(card=card, compare=(a.id, b.id))


def _compare_music(a: Any, b: Any) -> Reply:
    """Two chorales: both MIDI files attached, the newer one's piano roll shown."""
    files: list[Attachment] = []
    fields_: list[tuple[str, str]] = []
    for label, gen in (("A", a), ("B", b)):
        midi = getattr(gen, "data", None) or getattr(gen, "output_data", None)
        if midi:
            files.append(Attachment(f"chorale-{label.lower()}-{gen.id}.mid", midi))
        facts = _music_facts(getattr(gen, "output", None) or {}) or \
            _music_facts(gen.params.get("request") or {})
        fields_.append((f"{label} · #{gen.id}", (facts or "–") + ("" if midi else " (no MIDI)")))
    image = None
    png = _piano_roll(b) if hasattr(b, "result") else None
    if png:
        image = f"pianoroll-b-{b.id}.png"
        files.append(Attachment(image, png))
    card = Card("Which chorale is better?", "Listen to both files, then vote below.",
                fields=tuple(fields_), footer=_pair_footer(a, b), image=image,
                colour=COLOURS["music"])
    return Reply(card=card, files=tuple(files), compare=(a.id, b.id))


def models_reply(infos: Iterable[Any]) -> Reply:
    rows = []
    for info in infos:
        metrics = info.metrics or {}
        ppl = metrics.get("val_perplexity") or metrics.get("perplexity")
        extra = f", perplexity {ppl:.2f}" if isinstance(ppl, (int, float)) else ""
        state = f" — unusable: {info.broken}" if info.broken else ""
        rows.append(f"**{info.name}** ({info.domain or '?'}, {info.source}, "
                    f"{info.size / 1e6:.1f} MB{extra}){state}")
    body = "\n".join(rows) or "No models installed. Train one with `lstmgen train`."
    return Reply(card=Card("Models", clip(body, EMBED_DESCRIPTION_LIMIT)), ephemeral=True)


def _interval(d: dict[str, Any]) -> str:
    mean, lo, hi = d.get("mean"), d.get("ci_low"), d.get("ci_high")
    if mean is None:
        return "–"
    if lo is None or hi is None or not all(math.isfinite(x) for x in (lo, hi)):
        return f"{mean:.2f}"
    return f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"


def stats_reply(report: dict[str, Any]) -> Reply:
    """Per model: n ratings and mean with its 95% interval per dimension."""
    fields_: list[tuple[str, str]] = []
    for m in report.get("models", []):
        rows = [f"{dim}: {_interval(d)} (n={d.get('n', 0)})"
                for dim, d in (m.get("dimensions") or {}).items()]
        fields_.append((clip(m.get("model", "?"), 256), clip("\n".join(rows) or "–", EMBED_FIELD_LIMIT)))
    bt = (report.get("bradley_terry") or {}).get("models") or []
    if bt:
        lines = [f"{r.get('model')}: elo {r.get('elo', 0):.0f}" for r in bt if isinstance(r, dict)]
        if lines:
            fields_.append(("Comparisons", clip("\n".join(lines), EMBED_FIELD_LIMIT)))
    body = f"{report.get('ratings', 0)} ratings" if fields_ else "No ratings yet: rate a generation!"
    return Reply(card=Card("Ratings", body, fields=tuple(fields_[:25])), ephemeral=True)


def history_reply(views: Sequence[Any]) -> Reply:
    if not views:
        return Reply(text="You have no generations yet. Try /poem!", ephemeral=True)
    lines = []
    for v in views:
        first = v.output_text.strip().splitlines()[0] if v.output_text.strip() else ""
        rating = v.rating("overall") if hasattr(v, "rating") else None
        stars = f" · ★{rating.mean:.1f}" if rating is not None and getattr(rating, "mean", None) else ""
        lines.append(f"#{v.id} {v.model_name} {v.created:%Y-%m-%d %H:%M}{stars}: {clip(first, 60)}")
    return Reply(card=Card("Your last generations", clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT)),
                 ephemeral=True)


def rated_reply(result: Any) -> Reply:
    verb = f"updated from {result.previous_score} to" if result.updated else "recorded:"
    return Reply(text=f"Thanks! Your {result.dimension} rating of #{result.generation_id} is "
                      f"{verb} {result.score}/5.", ephemeral=True)


def preferred_reply(gen_a: int, gen_b: int, winner: str) -> Reply:
    what = "a tie" if winner == "tie" else f"#{gen_a if winner == 'a' else gen_b}"
    return Reply(text=f"Thanks! Recorded your preference: {what}.", ephemeral=True)


def error_reply(exc: BaseException) -> Reply:
    """A friendly, ephemeral sentence for a user's mistake or a busy bot."""
    if isinstance(exc, Busy):  # includes Cooldown
        return Reply(text=f"⏳ Sorry, {exc}.", ephemeral=True)
    if isinstance(exc, GenerationTimeout):
        return Reply(text="⌛ That took too long and was stopped; please try again in a moment.",
                     ephemeral=True)
    if isinstance(exc, NotFound):
        return Reply(text=f"🔎 That no longer exists: {exc}.", ephemeral=True)
    if isinstance(exc, ModelNotFound):
        return Reply(text=f"📦 That model is not installed here: {exc}", ephemeral=True)
    if isinstance(exc, LstmgenError):
        return Reply(text=f"⚠️ I can't do that: {exc}", ephemeral=True)
    return Reply(text="💥 Something went wrong on my side; it has been logged.", ephemeral=True)
