"""Scenes: ``SceneRequest`` in, ``SceneResult`` out; the API the CLI, bot and magic share.

Owns the request (every check that needs no vocabulary), ``prepare_scene`` (the
vocabulary checks, the prompt to prefill and a fresh ``SceneConstraint`` per sample),
``parse_scene`` (scene text -> speaker turns) and ``scene_problems`` (an independent
check of a scene against its request, used by tests and the benchmark)::

    plan = prepare_scene(meta.vocab, request, special_tokens=meta.special_tokens,
                         known_speakers=corpus_speakers(meta.corpus))
    out = decoder.generate(plan.prompt, SamplingConfig(max_new_tokens=plan.max_new_tokens),
                           constraint=plan.new_constraint)[0]
    result = plan.result(out.text, out.constraint_report)  # .turns, .to_dict()

Names are upper-cased (Tiny Shakespeare writes speakers ``ROMEO``, ``KING RICHARD
III``), except that a name the model's corpus spells otherwise (``Nurse``, ``First
Citizen``) takes the corpus spelling when ``known_speakers`` is given. numpy only
(through ``constraints``); never torch, onnxruntime or training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from shared_model.domains.shakespeare.constraints import (
    SceneConstraint,
    SceneRules,
    SceneVocab,
    scene_vocab,
)
from shared_model.domains.shakespeare.corpus import MAX_NAME_CHARS, is_speaker_header
from shared_model.errors import InvalidRequest
from shared_model.serving.sampling import MAX_NEW_TOKENS

MAX_CHARACTERS = 12
MAX_TURNS = 200
MAX_FIRST_LINE_CHARS = 300
TURN_CHARS_RANGE = (20, 4000)


def _normalise_name(raw: str) -> str:
    name = " ".join(raw.split()).upper()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"character name {name!r} is too long: at most "
                             f"{MAX_NAME_CHARS} characters")
    if is_speaker_header(name + ":") != name or any(ch in name for ch in "[]"):
        raise InvalidRequest(f"character name {raw.strip()!r} cannot be a speaker: it must start "
                             "with a letter or digit, contain a letter and no ':', '[' or ']'")
    return name


def parse_characters(value: str | Iterable[str]) -> tuple[str, ...]:
    """Names from ``"ROMEO, Juliet"`` or a list: trimmed, upper-cased, duplicates dropped.

    Raises:
        InvalidRequest: no name, too many names, or a name that cannot be a speaker.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: dict[str, None] = {}
    for raw in parts:
        if not isinstance(raw, str):
            raise InvalidRequest(f"character names must be text, got {raw!r}")
        if raw.strip():
            names[_normalise_name(raw)] = None
    if not names:
        raise InvalidRequest("give at least one character name, e.g. \"ROMEO,JULIET\"")
    if len(names) > MAX_CHARACTERS:
        raise InvalidRequest(f"at most {MAX_CHARACTERS} characters in a scene, got {len(names)}")
    return tuple(names)


@dataclass(frozen=True)
class SceneRequest:
    """A scene request (defaults: 6 turns shared by the given characters).

    Attributes:
        characters: the speakers, as ``"ROMEO,JULIET"`` or a sequence; upper-cased,
            duplicates collapsed, order kept (the first opens a ``first_line`` scene).
        first_line: the opening line of the first character's turn (one line), or "".
        turns: complete speaker turns in the scene, 1 to ``MAX_TURNS``.
        stage_directions: allow one direction line (``[Enter ROMEO]``, ``Exit``)
            between turns; otherwise ``[`` and ``]`` never appear.
        max_turn_chars: a turn ends at the first line end after this many characters.
        alternate: no speaker has two turns in a row (with two or more characters).
        everyone_speaks: every character gets a turn when ``turns`` allows it.
    """

    domain: ClassVar[str] = "shakespeare"

    characters: tuple[str, ...] | str = ()
    first_line: str = ""
    turns: int = 6
    stage_directions: bool = False
    max_turn_chars: int = 600
    alternate: bool = True
    everyone_speaks: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "characters", parse_characters(self.characters))
        t = self.turns
        if not isinstance(t, int) or isinstance(t, bool) or not 1 <= t <= MAX_TURNS:
            raise InvalidRequest(f"turns must be a whole number from 1 to {MAX_TURNS}, got {t!r}")
        if not isinstance(self.first_line, str):
            raise InvalidRequest(f"the first line must be text, got {self.first_line!r}")
        line = self.first_line.strip()
        if "\n" in line or "\r" in line:
            raise InvalidRequest("the first line must be a single line of speech")
        if len(line) > MAX_FIRST_LINE_CHARS:
            raise InvalidRequest(f"the first line is too long: {len(line)} characters, at most "
                                 f"{MAX_FIRST_LINE_CHARS}")
        object.__setattr__(self, "first_line", line)
        lo, hi = TURN_CHARS_RANGE
        m = self.max_turn_chars
        if not isinstance(m, int) or isinstance(m, bool) or not lo <= m <= hi:
            raise InvalidRequest(f"max_turn_chars must be a whole number from {lo} to {hi}, got {m!r}")

    def to_dict(self) -> dict[str, Any]:
        """The request as ``params`` for storage and ``--json``."""
        return {"characters": list(self.characters), "first_line": self.first_line,
                "turns": self.turns, "stage_directions": self.stage_directions,
                "max_turn_chars": self.max_turn_chars, "alternate": self.alternate,
                "everyone_speaks": self.everyone_speaks}


@dataclass(frozen=True)
class SceneTurn:
    """One block of a scene: a speaker's turn, or (``speaker`` None) a stage direction."""

    speaker: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "text": self.text}


def parse_scene(text: str) -> list[SceneTurn]:
    """Split scene text into turns at blank lines (the corpus rule: only a header after a
    blank line starts a turn, so a speech line ending in ``:`` stays speech).

    A block whose first line is a ``NAME:`` header is that speaker's turn (speech = the
    block's other lines); any other block (a stage direction) has ``speaker`` None.
    """
    turns: list[SceneTurn] = []
    block: list[str] = []
    for line in [*text.replace("\r\n", "\n").split("\n"), ""]:
        if line.strip():
            block.append(line.rstrip())
            continue
        if block:
            name = is_speaker_header(block[0])
            if name is not None:
                turns.append(SceneTurn(name, "\n".join(block[1:])))
            else:
                turns.append(SceneTurn(None, "\n".join(block)))
            block = []
    return turns


def scene_problems(turns: Sequence[SceneTurn], request: SceneRequest,
                   names: Sequence[str] | None = None) -> list[str]:
    """What is wrong with a scene for its request ([] when it is well-formed).

    Checks, from the text alone: only the given speakers, each turn with speech, the
    requested number of turns, the first line, directions only when asked for.
    ``names`` are the spellings used (``ScenePlan.names``); default the request's.
    """
    allowed = set(names if names is not None else request.characters)
    spoken = [t for t in turns if t.speaker is not None]
    problems = [f"unknown speaker {t.speaker!r}" for t in spoken if t.speaker not in allowed]
    problems += [f"{t.speaker} has an empty turn" for t in spoken if not t.text.strip()]
    if len(spoken) != request.turns:
        problems.append(f"{len(spoken)} turns instead of {request.turns}")
    directions = [t for t in turns if t.speaker is None]
    if directions and not request.stage_directions:
        problems.append(f"{len(directions)} text block(s) outside any turn")
    if request.first_line and (not spoken or spoken[0].text.split("\n")[0] != request.first_line):
        problems.append("the scene does not open with the first line")
    return problems


@dataclass(frozen=True)
class SceneResult:
    """A finished scene: the full text (prompt included) and its turns."""

    text: str
    turns: list[SceneTurn]
    request: SceneRequest
    names: tuple[str, ...]
    report: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def well_formed(self) -> bool:
        return not self.problems

    def formatted(self) -> str:
        """The scene as a script: speaker lines, speeches, blank lines between turns."""
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` fields the scene domain contributes."""
        return {"text": self.text, "turns": [t.to_dict() for t in self.turns],
                "characters": list(self.names), "turns_requested": self.request.turns,
                "well_formed": self.well_formed, "problems": list(self.problems),
                "constraints": dict(self.report)}


@dataclass
class ScenePlan:
    """What to prefill and how to constrain one scene request.

    Attributes:
        names: the speakers as headers spell them.
        prompt: the text to prefill after ``<bos>`` (``"ROMEO:\\n<first line>\\n"`` or "").
        max_new_tokens: the constraint's budget; the scene always completes within it.
    """

    request: SceneRequest
    sv: SceneVocab
    rules: SceneRules
    names: tuple[str, ...]
    prompt: str
    max_new_tokens: int
    _mask_cache: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def new_constraint(self) -> SceneConstraint:
        """A fresh constraint for one sample (pass the method itself as a factory)."""
        return SceneConstraint(self.sv, self.rules, self._mask_cache)

    def result(self, generated: str, report: Mapping[str, Any] | None = None) -> SceneResult:
        """The scene from the generated text (special tokens already dropped)."""
        text = (self.prompt + generated).strip("\n")
        turns = parse_scene(text)
        return SceneResult(text, turns, self.request, self.names, dict(report or {}),
                           scene_problems(turns, self.request, self.names))


def corpus_speakers(corpus: Mapping[str, Any] | None) -> list[str]:
    """Speaker names recorded in a model's ``corpus`` metadata (``stats.top_speakers``)."""
    stats = (corpus or {}).get("stats") or {}
    out = []
    for entry in stats.get("top_speakers") or []:
        name = entry[0] if isinstance(entry, (list, tuple)) and entry else entry
        if isinstance(name, str):
            out.append(name)
    return out


def _spell(names: Sequence[str], known_speakers: Iterable[str]) -> tuple[str, ...]:
    """Each name in the corpus spelling when the corpus has it in another case."""
    known: dict[str, str] = {}
    for k in known_speakers:
        known.setdefault(k.upper(), k)
    return tuple(dict.fromkeys(known.get(n, n) for n in names))


def prepare_scene(vocab: Sequence[str], request: SceneRequest, *,
                  special_tokens: Mapping[str, str] | None = None,
                  known_speakers: Iterable[str] = (),
                  max_new_tokens: int = MAX_NEW_TOKENS) -> ScenePlan:
    """Resolve ``request`` against a model's vocabulary.

    Raises:
        InvalidRequest: a character of a name or of the first line that the model does
            not know (named), a vocabulary without ``\\n``/``:``/``<eos>``, stage
            directions the vocabulary cannot spell, or more turns than fit in
            ``max_new_tokens``.
    """
    sv = scene_vocab(vocab, special_tokens)
    names = _spell(request.characters, known_speakers)
    for name in names:
        for ch in name:
            sv.id_of(ch, f"character name {name!r}")
    for ch in request.first_line:
        sv.id_of(ch, "first line")
    if request.first_line:
        prompt = f"{names[0]}:\n{request.first_line}\n"
        opened: int | None = len(request.first_line) + 1
    else:
        prompt, opened = "", None
    rules = SceneRules(names=names, turns=request.turns, max_turn_chars=request.max_turn_chars,
                       stage_directions=request.stage_directions, alternate=request.alternate,
                       everyone_speaks=request.everyone_speaks, opened_chars=opened,
                       budget=max_new_tokens)
    need = request.turns * rules.min_turn_tokens + 1
    if need > max_new_tokens:
        raise InvalidRequest(f"{request.turns} turns for names up to "
                             f"{rules.min_turn_tokens - 5} characters long need at least {need} "
                             f"tokens, more than the {max_new_tokens} allowed; ask for fewer turns")
    plan = ScenePlan(request, sv, rules, names, prompt, max_new_tokens)
    plan.new_constraint()  # fails now, not mid-decode, if directions cannot be spelled
    return plan


__all__ = ["MAX_CHARACTERS", "MAX_TURNS", "ScenePlan", "SceneRequest", "SceneResult", "SceneTurn",
           "corpus_speakers", "parse_characters", "parse_scene", "prepare_scene", "scene_problems"]
