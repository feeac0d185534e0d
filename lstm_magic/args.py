"""Magic arguments -> typed requests: the parsing half of ``%%lstmgen``.

Owns the ``magic_arguments`` declarations of the generation magic and of each ``%lstmgen``
subcommand (so ``%%lstmgen?`` shows real help), ``expand_prompt`` (``{name}`` in the cell
body from the user namespace) and ``build_request`` (options + prompt + the model's domain
-> ``GenerateRequest``, with the domain's own request: ``PoemRequest``, ``SceneRequest`` or
``ChoraleRequest``). Options that belong to another domain than the model's are refused
here, before any model is loaded. Imports IPython's argument machinery and the public
``shared_model`` API (domain request classes lazily); never torch, training, exporters,
onnxruntime or the bot.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split

from shared_model.errors import InvalidRequest

F = TypeVar("F", bound=Callable[..., Any])

DIMENSIONS = ("overall", "fluency", "coherence", "creativity", "form")
WINNERS = ("a", "b", "tie")

# option (argparse dest) -> the domain it belongs to
DOMAIN_OPTIONS = {"form": "tang", "acrostic": "tang", "keyword": "tang",
                  "characters": "shakespeare", "turns": "shakespeare", "bars": "bach"}
_FLAGS = {"form": "--form", "acrostic": "--acrostic", "keyword": "--keyword",
          "characters": "--characters", "turns": "--turns", "bars": "--bars"}

_GENERATION_ARGUMENTS = (
    argument("--model", "-m", metavar="NAME", default=None,
             help="model name (user models first, then shipped) or path to an .onnx file; "
                  "default: LstmGenMagics.default_model (tang)"),
    argument("--temp", type=float, metavar="T", default=None,
             help="sampling temperature, 0 (greedy) to 5; default: LstmGenMagics.temperature"),
    argument("--top-k", type=int, metavar="K", default=None,
             help="keep only the K most likely tokens (0 = no limit)"),
    argument("--top-p", type=float, metavar="P", default=None,
             help="nucleus sampling: smallest token set reaching probability P (1 = no limit)"),
    argument("--max-len", type=int, metavar="N", default=None,
             help="at most N new tokens (free text; poems, scenes and chorales size themselves)"),
    argument("--n", type=int, metavar="N", default=1,
             help="number of samples, shown side by side"),
    argument("--seed", type=int, metavar="S", default=None,
             help="random seed: same seed, same output"),
    argument("--form", metavar="F", default=None,
             help="tang: 5j, 7j, 5l or 7l (五绝 七绝 五律 七律)"),
    argument("--acrostic", metavar="TEXT", default=None,
             help="tang: 藏头诗, the first character of every line (4 or 8 characters)"),
    argument("--keyword", metavar="W", default=None,
             help="tang: theme characters to steer by, comma-separated"),
    argument("--characters", metavar='"A,B"', default=None,
             help='shakespeare: the speakers, e.g. "ROMEO,JULIET"'),
    argument("--turns", type=int, metavar="N", default=None,
             help="shakespeare: number of speaker turns in the scene"),
    argument("--bars", type=int, metavar="N", default=None,
             help="bach: length of the chorale in 4/4 bars"),
    argument("--stream", action="store_true",
             help="show the text as it is generated"),
    argument("--no-save", action="store_true",
             help="do not record the generation (it cannot be rated then)"),
    argument("--out", metavar="VAR", default=None,
             help="also store the result in this variable"),
)


def generation_arguments(func: F) -> F:
    """Decorate the generation magic with its options (apply under ``magic_arguments()``)."""
    for deco in reversed(_GENERATION_ARGUMENTS):
        func = deco(func)
    return func


# -- subcommands: each a parser holder; the docstring is the description ---------------

@magic_arguments("lstmgen rate")
@argument("id", type=int, help="generation id (shown under each generation)")
@argument("score", type=int, help="1 (poor) to 5 (excellent)")
@argument("--dimension", "-d", default="overall", choices=DIMENSIONS,
          help="what the score is about (default: overall)")
@argument("--comment", "-c", default=None, help="an optional note")
def rate_args(line: str) -> None:
    """Rate a generation 1-5; rating it again updates your rating."""


@magic_arguments("lstmgen history")
@argument("limit", type=int, nargs="?", default=10, help="how many (default 10)")
@argument("--model", "-m", default=None, help="only this model")
@argument("--all", action="store_true", help="every source, not only the notebook")
def history_args(line: str) -> None:
    """The latest generations, newest first, with their ratings."""


@magic_arguments("lstmgen stats")
@argument("--model", "-m", default=None, help="only this model (name or sha256 prefix)")
def stats_args(line: str) -> None:
    """Mean ratings with 95% intervals per model and dimension, and model strengths."""


@magic_arguments("lstmgen compare")
@argument("a", type=int, help="id of generation A")
@argument("b", type=int, help="id of generation B")
@argument("winner", choices=WINNERS, help="which is better: a, b or tie")
def compare_args(line: str) -> None:
    """Record which of two generations you prefer."""


@magic_arguments("lstmgen export")
@argument("file", help="output file (.jsonl or .csv)")
@argument("--format", "-f", choices=("jsonl", "csv"), default=None,
          help="default: from the file's suffix, else jsonl")
@argument("--model", "-m", default=None, help="only this model")
@argument("--min-ratings", type=int, default=1,
          help="only generations rated by at least this many people (0: all)")
def export_args(line: str) -> None:
    """Write the ratings dataset (Hugging Face ``datasets``-loadable JSONL, or CSV)."""


@magic_arguments("lstmgen models")
def models_args(line: str) -> None:
    """The models available: user models, then shipped ones."""


SUBCOMMANDS: dict[str, Callable[[str], None]] = {
    "rate": rate_args, "history": history_args, "stats": stats_args,
    "compare": compare_args, "export": export_args, "models": models_args,
}


def parse_line(magic: Callable[..., Any], line: str) -> argparse.Namespace:
    """Parse a magic's line as a POSIX shell would, so quotes group words and are removed
    (``--characters "ROMEO, JULIET"``); a bad argument raises IPython's UsageError."""
    try:
        argv = arg_split(line, posix=True)
    except ValueError as err:  # e.g. an unclosed quote
        raise UsageError(f"cannot read the options: {err}") from None
    return magic.parser.parse_args(argv)  # type: ignore[attr-defined, no-any-return]


def parse_subcommand(name: str, line: str) -> argparse.Namespace:
    """Parse ``%lstmgen NAME line``; a bad argument raises IPython's UsageError."""
    return parse_line(SUBCOMMANDS[name], line)


def subcommand_help() -> str:
    """One usage line per subcommand, for the magic's docstring."""
    lines = []
    for holder in SUBCOMMANDS.values():
        usage = " ".join(holder.parser.format_usage().replace("::", "").split())
        lines.append(f"  {usage}\n      {(holder.parser.description or '').strip()}")
    return "\n".join(lines)


# -- the cell body ----------------------------------------------------------------------

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}")


def expand_prompt(text: str, namespace: Mapping[str, Any]) -> str:
    """``{name}`` (or ``{name.attr}``) replaced by its value; ``{{``/``}}`` are braces.

    Raises:
        InvalidRequest: a name that is not defined in the namespace.
    """
    def replace(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        head, *attrs = m.group(1).split(".")
        if head not in namespace:
            raise InvalidRequest(f"{{{m.group(1)}}} in the cell: no variable named {head!r}")
        value = namespace[head]
        for attr in attrs:
            try:
                value = getattr(value, attr)
            except AttributeError:
                raise InvalidRequest(f"{{{m.group(1)}}} in the cell: {type(value).__name__} "
                                     f"has no attribute {attr!r}") from None
        return str(value)

    return _FIELD.sub(replace, text)


# -- options -> GenerateRequest ---------------------------------------------------------

@dataclass(frozen=True)
class MagicDefaults:
    """The traitlets-configured defaults the options fall back on."""

    model: str = "tang"
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidRequest("LstmGenMagics.default_model must name a model")


def check_out_name(name: str | None) -> None:
    """``--out VAR`` must be a plain Python identifier."""
    if name is not None and (not name.isidentifier() or name.startswith("__")):
        raise InvalidRequest(f"--out needs a variable name, got {name!r}")


def build_request(opts: argparse.Namespace, prompt: str, info: Any,
                  defaults: MagicDefaults) -> Any:
    """The ``GenerateRequest`` for parsed options, a prompt and the resolved model.

    Args:
        opts: the parsed generation options.
        prompt: the cell body, already expanded.
        info: the model's ``ModelInfo`` (its ``domain`` picks the request type).

    Raises:
        InvalidRequest: an option of another domain, or any value the request refuses.
    """
    from shared_model import GenerateRequest, SamplingConfig

    check_out_name(opts.out)
    domain = info.domain or "text"
    for dest, owner in DOMAIN_OPTIONS.items():
        if getattr(opts, dest) is not None and owner != domain:
            raise InvalidRequest(f"{_FLAGS[dest]} is a {owner} option, but model "
                                 f"{info.name!r} writes {domain}; choose a {owner} model")
    sampling: dict[str, Any] = {
        "temperature": defaults.temperature if opts.temp is None else opts.temp,
        "seed": opts.seed}
    if opts.top_k is not None:
        sampling["top_k"] = opts.top_k
    if opts.top_p is not None:
        sampling["top_p"] = opts.top_p
    if opts.max_len is not None:
        sampling["max_new_tokens"] = opts.max_len
    builder = _DOMAIN_REQUESTS.get(domain)
    domain_request = builder(opts, prompt, info) if builder else None
    return GenerateRequest(model=opts.model or defaults.model,
                           prompt=prompt if domain_request is None else "",
                           sampling=SamplingConfig(**sampling), n=opts.n,
                           domain_request=domain_request)


def _poem_request(opts: argparse.Namespace, prompt: str, info: Any) -> Any:
    from shared_model import PoemRequest

    keywords = tuple(k for k in re.split(r"[,，\s]+", opts.keyword or "") if k)
    return PoemRequest(form=opts.form, acrostic=opts.acrostic or "", prompt=prompt.strip(),
                       keywords=keywords)


def _scene_request(opts: argparse.Namespace, prompt: str, info: Any) -> Any:
    from shared_model.domains.shakespeare import SceneRequest, corpus_speakers

    characters = opts.characters
    if characters is None:  # the model's two most frequent speakers
        known = corpus_speakers(info.meta.corpus if info.meta is not None else None)[:2]
        if not known:
            raise InvalidRequest('a scene needs its speakers: --characters "ROMEO,JULIET"')
        characters = ",".join(known)
    kwargs: dict[str, Any] = {"characters": characters, "first_line": prompt.strip()}
    if opts.turns is not None:
        kwargs["turns"] = opts.turns
    return SceneRequest(**kwargs)


def _chorale_request(opts: argparse.Namespace, prompt: str, info: Any) -> Any:
    from shared_model import ChoraleRequest

    if prompt.strip():
        raise InvalidRequest("a chorale takes no text prompt: leave the cell empty "
                             "and set its length with --bars")
    return ChoraleRequest() if opts.bars is None else ChoraleRequest(bars=opts.bars)


_DOMAIN_REQUESTS: dict[str, Callable[[argparse.Namespace, str, Any], Any]] = {
    "tang": _poem_request, "shakespeare": _scene_request, "bach": _chorale_request,
}
