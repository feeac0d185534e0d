"""Rich notebook output of generations: the result objects the magic returns.

Owns ``Result`` (one generation: text, id, params, metrics; a rich HTML repr with a
plain-text fallback, then rating widgets under it when a ``RatingHook`` is given),
``ResultSet`` (``--n`` samples side by side), ``StreamView`` (``--stream``: one display
updated in place as pieces arrive, or plain text on a terminal) and the per-domain HTML
bodies (a poem set as a poem, a scene as a script, music as a piano roll with an audio
player and a MIDI download link, all as data URIs so a saved notebook keeps them).
Imports IPython's display machinery; the bach renderer (numpy, music21, matplotlib) and
ipywidgets only inside the functions that need them. Never torch, onnxruntime or SQL.
"""

from __future__ import annotations

import base64
import html
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import Any

from IPython.display import display

from lstm_magic.widgets import RatingHook, comparison_controls, rating_controls

_CARD = ("border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.2em 0;"
         "flex:1 1 0;min-width:14em;max-width:48em")
_META = "color:#888;font-size:.8em;margin-top:.5em;font-family:sans-serif"
_STREAM_INTERVAL_S = 0.05  # at most ~20 display updates a second


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


# -- per-domain bodies ------------------------------------------------------------------

def _text_body(g: Any) -> str:
    prompt = _esc(g.prompt)
    return (f'<div style="white-space:pre-wrap;font-family:Georgia,serif;line-height:1.5">'
            f'<span style="color:#888">{prompt}</span>{_esc(g.text)}</div>')


def _poem_body(g: Any) -> str:
    lines = [line for line in (g.formatted or g.text).splitlines() if line.strip()]
    rows = "".join(f"<div>{_esc(line)}</div>" for line in lines)
    return ('<div lang="zh" style="font-family:\'Noto Serif CJK SC\',\'Songti SC\',\'SimSun\','
            'serif;font-size:1.35em;line-height:1.9;letter-spacing:.12em;text-align:center">'
            f"{rows}</div>")


def _scene_body(g: Any) -> str:
    from shared_model.domains.shakespeare import parse_scene

    blocks = []
    for turn in parse_scene(g.text):
        speech = _esc(turn.text)
        if turn.speaker is None:  # a stage direction
            blocks.append(f'<div style="font-style:italic;color:#666;margin:.4em 2em">{speech}</div>')
            continue
        blocks.append(
            '<div style="margin:.5em 0">'
            f'<div style="font-variant:small-caps;font-weight:bold;letter-spacing:.05em">'
            f"{_esc(turn.speaker.title())}</div>"
            f'<div style="white-space:pre-wrap;margin-left:2em">{speech}</div></div>')
    return ('<div style="font-family:Georgia,serif;line-height:1.45">'
            + ("".join(blocks) or _text_body(g)) + "</div>")


def music_media(g: Any) -> dict[str, bytes]:
    """MIDI, WAV and piano-roll PNG of a chorale generation: the domain's rendered result
    when the generation carries it, else rendered again from the token text."""
    out = getattr(g, "result", None)
    if out is None or not (getattr(out, "png_bytes", None) and getattr(out, "wav_bytes", None)):
        from shared_model.domains.bach.render import render_chorale

        req = (g.params or {}).get("request") or {}
        formats = ["wav", "png"] + ([] if g.data else ["midi"])
        out = render_chorale(g.text, key=str(req.get("key", "C")),
                             tempo=float(req.get("tempo", 80.0)), formats=formats)
    media = {"wav": out.wav_bytes, "png": out.png_bytes, "midi": g.data or out.midi_bytes}
    return {k: v for k, v in media.items() if v}


def _music_body(g: Any) -> str:
    try:
        media = music_media(g)
    except Exception as exc:  # noqa: BLE001 - the outer edge of a display: show, don't raise
        return (f'<div style="color:#a00">cannot render this chorale ({_esc(str(exc))})</div>'
                + _text_body(g))
    parts = []
    if "png" in media:
        parts.append(f'<img alt="piano roll" style="max-width:100%" '
                     f'src="{_data_uri("image/png", media["png"])}"/>')
    if "wav" in media:
        parts.append(f'<div><audio controls preload="none" '
                     f'src="{_data_uri("audio/wav", media["wav"])}"></audio></div>')
    if "midi" in media:
        name = f"lstmgen-{g.id if g.id is not None else 'chorale'}.mid"
        parts.append(f'<div><a download="{name}" href="{_data_uri("audio/midi", media["midi"])}">'
                     f"download MIDI ({len(media['midi']):,} bytes)</a></div>")
    return "".join(parts)


BODIES: dict[str, Callable[[Any], str]] = {
    "tang": _poem_body, "shakespeare": _scene_body, "bach": _music_body,
}


def meta_line(g: Any) -> str:
    """``#12 · tang · T 0.8 · seed 7 · 31 ms · 24 tokens`` (``unsaved`` without an id)."""
    sampling = (g.params or {}).get("sampling", {})
    parts = [f"#{g.id}" if g.id is not None else "unsaved", g.model,
             f"T {sampling.get('temperature', '?')}", f"seed {g.seed}",
             f"{g.latency_ms:.0f} ms", f"{g.tokens} tokens"]
    return " · ".join(str(p) for p in parts)


def card_html(g: Any) -> str:
    """One generation as an HTML card: its domain's body and a meta line."""
    body = BODIES.get(g.domain, _text_body)(g)
    return f'<div style="{_CARD}">{body}<div style="{_META}">{_esc(meta_line(g))}</div></div>'


def card_text(g: Any) -> str:
    """One generation as plain text (terminals, saved notebooks without HTML)."""
    text = g.formatted or g.text
    if g.domain not in BODIES:
        text = g.prompt + text
    return f"{text}\n[{meta_line(g)}]"


def _row_html(cards: Sequence[str]) -> str:
    return ('<div class="lstmgen" style="display:flex;flex-wrap:wrap;gap:.8em;align-items:stretch">'
            + "".join(cards) + "</div>")


# -- result objects ---------------------------------------------------------------------

class Result:
    """One generation as the magic returns it: ``.text``, ``.id``, ``.params``, ``.metrics``.

    ``.generation`` is the full ``shared_model.Generation`` (``.output``, ``.data`` ...).
    """

    def __init__(self, generation: Any, rating: RatingHook | None = None):
        self.generation = generation
        self.rating = rating

    id = property(lambda self: self.generation.id)
    text = property(lambda self: self.generation.text)
    formatted = property(lambda self: self.generation.formatted)
    params = property(lambda self: self.generation.params)
    metrics = property(lambda self: self.generation.metrics)
    model = property(lambda self: self.generation.model)
    domain = property(lambda self: self.generation.domain)
    output = property(lambda self: self.generation.output)
    data = property(lambda self: self.generation.data)
    latency_ms = property(lambda self: self.generation.latency_ms)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.generation.to_dict())

    @cached_property
    def html(self) -> str:
        return _row_html([card_html(self.generation)])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": card_text(self.generation), "text/html": self.html}

    def _ipython_display_(self) -> None:
        display(self._repr_mimebundle_(), raw=True)
        if self.rating is not None and self.id is not None:
            display(rating_controls(self.id, self.rating))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(card_text(self.generation))

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:39] + "…"
        return f"<Result id={self.id} model={self.model!r} text={text!r}>"


class ResultSet:
    """Several samples of one request (``--n``), displayed side by side; indexable."""

    def __init__(self, results: Sequence[Result], rating: RatingHook | None = None):
        self.results = list(results)
        self.rating = rating

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results)

    def __getitem__(self, i: int) -> Result:
        return self.results[i]

    @property
    def ids(self) -> list[int | None]:
        return [r.id for r in self.results]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.results]

    @cached_property
    def html(self) -> str:
        return _row_html([card_html(r.generation) for r in self.results])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        text = "\n\n".join(card_text(r.generation) for r in self.results)
        return {"text/plain": text, "text/html": self.html}

    def _ipython_display_(self) -> None:
        display(self._repr_mimebundle_(), raw=True)
        ids = [i for i in self.ids if i is not None]
        if self.rating is None or not ids:
            return
        for gid in ids:
            display(rating_controls(gid, self.rating))
        if len(ids) == 2:
            display(comparison_controls(ids[0], ids[1], self.rating))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self._repr_mimebundle_()["text/plain"])

    def __repr__(self) -> str:
        return f"<ResultSet ids={self.ids}>"


def make_result(generations: Sequence[Any], rating: RatingHook | None = None
                ) -> Result | ResultSet:
    """A ``Result`` for one generation, a ``ResultSet`` for several."""
    hook = rating if all(g.id is not None for g in generations) else None
    results = [Result(g, hook) for g in generations]
    return results[0] if len(results) == 1 else ResultSet(results, hook)


# -- streaming --------------------------------------------------------------------------

class StreamView:
    """``--stream``: pieces of ``n`` samples shown as they arrive.

    ``live`` (a notebook): one display, updated in place at most every 50 ms and at the
    end replaced by a one-line summary (the result itself is displayed next). Not live
    (a terminal): the pieces of a single sample are written to stdout as they come.
    """

    def __init__(self, n: int, live: bool):
        self.texts = [""] * n
        self.live = live
        self.updates = 0
        self._last = 0.0
        self._handle = display(self._bundle(), raw=True, display_id=True) if live else None

    def add(self, index: int, piece: str) -> None:
        self.texts[index] += piece
        if not self.live:
            if len(self.texts) == 1:
                sys.stdout.write(piece)
                sys.stdout.flush()
            return
        now = time.monotonic()
        if now - self._last >= _STREAM_INTERVAL_S:
            self._last = now
            self._update(self._bundle())

    def finish(self, generations: Sequence[Any]) -> None:
        """Show what was streamed, as a summary line (the full result follows)."""
        tokens = sum(g.tokens for g in generations)
        ms = max((g.latency_ms for g in generations), default=0.0)
        summary = f"streamed {len(generations)} sample(s), {tokens} tokens in {ms:.0f} ms"
        if self.live:
            self._update({"text/plain": summary,
                          "text/html": f'<div style="{_META}">{_esc(summary)}</div>'})
        elif len(self.texts) == 1:
            sys.stdout.write("\n")

    def _bundle(self) -> dict[str, str]:
        cards = [f'<div style="{_CARD};white-space:pre-wrap">{_esc(t) or "…"}</div>'
                 for t in self.texts]
        return {"text/plain": "\n\n".join(self.texts), "text/html": _row_html(cards)}

    def _update(self, bundle: dict[str, str]) -> None:
        if self._handle is not None:
            self._handle.update(bundle, raw=True)
            self.updates += 1
