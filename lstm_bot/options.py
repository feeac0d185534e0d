"""What a user asks the bot, parsed and checked: one typed ``*Options`` per command.

Owns the option dataclasses shared by the slash commands and the offline console
(``PoemOptions``, ``SceneOptions``, ``MusicOptions``, ``CompareOptions``), their ranges and
choices (the cogs declare the same bounds with ``app_commands.Range`` / ``Literal``), the
table of generation commands (``GENERATORS``: a new domain is one options class and one
entry), and the console's line parser (``/poem tang form:7j acrostic:春夏秋冬``).
Each options class builds the serving API's ``GenerateRequest``, and rebuilds itself from
a stored generation's parameters (``options_from_params``: the "another one" button). Imports only the public
``shared_model`` API; never discord, numpy, onnxruntime, torch or SQL.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import shared_model
from shared_model import InvalidRequest

TEMPERATURE_MIN, TEMPERATURE_MAX = 0.1, 2.0
SEED_MAX = 2**31 - 1
FORMS = {"5j": "五言绝句", "7j": "七言绝句", "5l": "五言律诗", "7l": "七言律诗"}
LAYOUTS = ("horizontal", "vertical")
TURNS_MIN, TURNS_MAX = 1, 20
BARS_MIN, BARS_MAX = 1, 32
TEMPO_MIN, TEMPO_MAX = 40, 200
COMPARE_KINDS = ("poem", "scene")
KEYS = ("C", "G", "D", "A", "E", "B", "F#", "F", "Bb", "Eb", "Ab", "Db", "Am", "Em", "Bm",
        "F#m", "C#m", "G#m", "Dm", "Gm", "Cm", "Fm", "Bbm", "Ebm")  # suggestions, not a limit
DIMENSIONS = ("overall", "fluency", "coherence", "creativity", "form")
MAX_TEXT = 300  # characters in any free-text option


def _temperature(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:
        raise InvalidRequest(f"temperature must be between {TEMPERATURE_MIN} and "
                             f"{TEMPERATURE_MAX}, got {value!r}")
    return float(value)


def _seed(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise InvalidRequest(f"seed must be a whole number from 0 to {SEED_MAX}, got {value!r}")
    return value


def _whole(value: int, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidRequest(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    return value


def _text(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{what} must be text")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"{what} is too long ({len(value)} characters, at most {MAX_TEXT})")
    return value


def _choice(value: str, allowed: Any, what: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")
    return value


def _sampling(temperature: float, seed: int | None) -> Any:
    return shared_model.SamplingConfig(temperature=temperature, seed=seed)


@dataclass(frozen=True)
class PoemOptions:
    """``/poem``: a Tang poem (form, 藏头 acrostic, keyword, opening, layout)."""

    style: str = "tang"
    form: str | None = None
    acrostic: str = ""
    keyword: str = ""
    prompt: str = ""
    layout: str = "horizontal"
    temperature: float = 0.8
    seed: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        _choice(self.style, ("tang",), "style")
        if self.form is not None:
            _choice(self.form, FORMS, "form")
        _choice(self.layout, LAYOUTS, "layout")
        for name in ("acrostic", "keyword", "prompt"):
            object.__setattr__(self, name, _text(getattr(self, name), name))
        _temperature(self.temperature)
        _seed(self.seed)
        self.domain_request()  # the domain's own checks (acrostic length...), before any work

    def domain_request(self) -> Any:
        return shared_model.PoemRequest(form=self.form, acrostic=self.acrostic, prompt=self.prompt,
                                        keywords=(self.keyword,) if self.keyword else ())

    def to_request(self, model: str, n: int = 1) -> Any:
        return shared_model.GenerateRequest(model=model, sampling=_sampling(self.temperature, self.seed),
                                            n=n, domain_request=self.domain_request())

    @classmethod
    def from_stored(cls, request: Mapping[str, Any], temperature: float, model: str) -> PoemOptions:
        keywords = request.get("keywords") or ()
        return cls(form=request.get("form"), acrostic=request.get("acrostic") or "",
                   keyword=keywords[0] if keywords else "", prompt=request.get("prompt") or "",
                   temperature=temperature, model=model)


@dataclass(frozen=True)
class SceneOptions:
    """``/scene``: a Shakespeare-style scene for the given characters."""

    characters: str = "ROMEO, JULIET"
    first_line: str = ""
    turns: int = 4
    temperature: float = 0.8
    seed: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "characters", _text(self.characters, "characters"))
        object.__setattr__(self, "first_line", _text(self.first_line, "first line"))
        if not [c for c in self.characters.split(",") if c.strip()]:
            raise InvalidRequest("give at least one character name, e.g. \"ROMEO, JULIET\"")
        _whole(self.turns, TURNS_MIN, TURNS_MAX, "turns")
        _temperature(self.temperature)
        _seed(self.seed)
        self.domain_request()

    def domain_request(self) -> Any:
        return shared_model.SceneRequest(characters=self.characters, first_line=self.first_line,
                                         turns=self.turns)

    def to_request(self, model: str, n: int = 1) -> Any:
        return shared_model.GenerateRequest(model=model, sampling=_sampling(self.temperature, self.seed),
                                            n=n, domain_request=self.domain_request())

    @classmethod
    def from_stored(cls, request: Mapping[str, Any], temperature: float, model: str) -> SceneOptions:
        characters = request.get("characters") or ()
        if not isinstance(characters, str):
            characters = ", ".join(str(c) for c in characters)
        return cls(characters=characters, first_line=request.get("first_line") or "",
                   turns=request.get("turns", 4), temperature=temperature, model=model)


@dataclass(frozen=True)
class MusicOptions:
    """``/music``: a four-part chorale (MIDI + piano roll)."""

    style: str = "bach"
    bars: int = 8
    key: str = "C"
    tempo: int = 80
    temperature: float = 0.8
    seed: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        _choice(self.style, ("bach",), "style")
        _whole(self.bars, BARS_MIN, BARS_MAX, "bars")
        _whole(self.tempo, TEMPO_MIN, TEMPO_MAX, "tempo")
        object.__setattr__(self, "key", _text(self.key, "key") or "C")
        _temperature(self.temperature)
        _seed(self.seed)
        self.domain_request()

    def domain_request(self) -> Any:
        return shared_model.ChoraleRequest(bars=self.bars, key=self.key, tempo=float(self.tempo),
                                           formats=("midi", "png"))  # what a reply shows

    def to_request(self, model: str, n: int = 1) -> Any:
        return shared_model.GenerateRequest(model=model, sampling=_sampling(self.temperature, self.seed),
                                            n=n, domain_request=self.domain_request())

    @classmethod
    def from_stored(cls, request: Mapping[str, Any], temperature: float, model: str) -> MusicOptions:
        tempo = request.get("tempo", 80)
        return cls(bars=request.get("bars", 8), key=request.get("key") or "C",
                   tempo=round(tempo) if isinstance(tempo, float) else tempo,
                   temperature=temperature, model=model)


@dataclass(frozen=True)
class CompareOptions:
    """``/compare``: two samples of the same poem or scene request, side by side."""

    kind: str = "poem"
    temperature: float = 0.8
    model: str | None = None

    def __post_init__(self) -> None:
        _choice(self.kind, COMPARE_KINDS, "kind")
        _temperature(self.temperature)

    def inner(self) -> PoemOptions | SceneOptions:
        """The generation options both samples share."""
        cls = GENERATORS[self.kind].options
        return cls(temperature=self.temperature, model=self.model)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Generator:
    """A generation command: its options class, the domain whose models it can use, and
    the domain request type its generations are stored with (``params["request"]["type"]``).
    """

    options: type
    domain: str
    request_type: str
    positional: str | None = None  # the option a bare console word fills (``/poem tang``)


GENERATORS: dict[str, Generator] = {
    "poem": Generator(PoemOptions, "tang", "PoemRequest", positional="style"),
    "scene": Generator(SceneOptions, "shakespeare", "SceneRequest", positional="characters"),
    "music": Generator(MusicOptions, "bach", "ChoraleRequest", positional="style"),
}


def options_from_params(generation_id: int, params: Mapping[str, Any], model: str
                        ) -> tuple[str, Any]:
    """(command, options) that ask again what a stored generation asked.

    The seed is left out, so the new sample differs; the temperature is kept.

    Raises:
        InvalidRequest: the generation was not made by a generation command (free text).
    """
    request = params.get("request") or {}
    kind = request.get("type") if isinstance(request, Mapping) else None
    command = next((name for name, g in GENERATORS.items() if g.request_type == kind), None)
    if command is None:
        raise InvalidRequest(f"#{generation_id} was not written by /poem, /scene or /music, "
                             "so there is no request to ask again")
    sampling = params.get("sampling") or {}
    temperature = sampling.get("temperature", 0.8) if isinstance(sampling, Mapping) else 0.8
    return command, GENERATORS[command].options.from_stored(  # type: ignore[attr-defined]
        request, temperature, model)

# console-only commands and the options they take (name -> (positional names, converters))
_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "temperature": float, "seed": int, "turns": int, "bars": int, "tempo": int, "limit": int,
}


@dataclass(frozen=True)
class ConsoleCommand:
    """A parsed console line: ``name`` and its options by name (values converted)."""

    name: str
    options: Mapping[str, Any]


def parse_line(line: str) -> ConsoleCommand | None:
    """``/poem tang form:7j acrostic:春夏秋冬`` -> ConsoleCommand; None for a blank line.

    Words are split like a shell (quote values with spaces: ``characters:"ROMEO, JULIET"``);
    ``name:value`` sets an option; a bare word fills the command's first option.

    Raises:
        InvalidRequest: unbalanced quotes, an option given twice, a number that is not one.
    """
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise InvalidRequest(f"cannot read that line: {exc}") from None
    if not words:
        return None
    name = words[0].lstrip("/").lower()
    options: dict[str, Any] = {}
    bare: list[str] = []
    for word in words[1:]:
        key, sep, value = word.partition(":")
        if sep and key and key.replace("_", "").isalnum() and key.isascii():
            key = key.lower()
            if key in options:
                raise InvalidRequest(f"option {key!r} is given twice")
            options[key] = _convert(key, value)
        else:
            bare.append(word)
    if bare:
        gen = GENERATORS.get(name)
        if gen is None or gen.positional is None or gen.positional in options:
            raise InvalidRequest(f"unexpected {' '.join(bare)!r}; write options as name:value")
        options[gen.positional] = " ".join(bare)
    return ConsoleCommand(name, options)


def _convert(key: str, value: str) -> Any:
    conv = _CONVERTERS.get(key)
    if conv is None:
        return value
    try:
        return conv(value)
    except ValueError:
        kind = "a number" if conv is float else "a whole number"
        raise InvalidRequest(f"{key} must be {kind}, got {value!r}") from None


def build_options(cls: type, options: Mapping[str, Any]) -> Any:
    """``cls(**options)`` with a user-readable error for unknown option names."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidRequest(f"unknown option {unknown[0]!r}; this command takes: "
                             f"{', '.join(sorted(known))}")
    return cls(**options)


def model_for(options: Any, defaults: Mapping[str, str], command: str) -> str:
    """The model to use: the ``model`` option if given, else the command's default."""
    chosen = getattr(options, "model", None)
    return chosen or defaults[command]
