"""``%%lstmgen`` / ``%lstmgen``: the IPython magic, a thin adapter over ``shared_model.Studio``.

Owns ``LstmGenMagics``: its traitlets configuration (``%config LstmGenMagics.default_model``,
``temperature``, ``rater``, ``widgets``), the Studio it builds on first use and closes on
unload, the dispatch from the line to a generation or a subcommand, and the translation
of every ``LstmgenError`` into IPython's one-line ``UsageError``. Parsing is in
``args.py``, rendering in ``display.py`` / ``tables.py`` / ``widgets.py``. Never imports
torch, training, exporters, onnxruntime, SQL or the bot.
"""

from __future__ import annotations

import argparse
import getpass
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import magic_arguments
from traitlets import Bool, Float, Unicode, default

from lstm_magic.args import (
    SUBCOMMANDS,
    MagicDefaults,
    build_request,
    expand_prompt,
    generation_arguments,
    parse_line,
    parse_subcommand,
    subcommand_help,
)
from lstm_magic.display import StreamView, make_result
from lstm_magic.tables import HistoryTable, ModelTable, StatsReport
from lstm_magic.widgets import RatingHook, has_widgets

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


@contextmanager
def usage_errors() -> Iterator[None]:
    """A user's mistake (any LstmgenError) becomes one line: IPython's UsageError."""
    from shared_model.errors import LstmgenError

    try:
        yield
    except LstmgenError as err:
        raise UsageError(str(err)) from None


def _with_subcommands(func: F) -> F:
    func.__doc__ = inspect.cleandoc(func.__doc__ or "") + "\n\nLine-magic subcommands:\n\n" + subcommand_help() + "\n"
    return func


@magics_class
class LstmGenMagics(Magics):
    """Generate, display and rate poems, scenes and chorales from a notebook."""

    default_model = Unicode("tang", help="model used when --model is not given").tag(config=True)
    temperature = Float(0.8, help="sampling temperature when --temp is not given").tag(config=True)
    rater = Unicode(help="your rater id for ratings and comparisons (stored hashed)").tag(config=True)
    widgets = Bool(True, help="show ipywidgets rating buttons when ipywidgets is installed"
                   ).tag(config=True)
    warm_up = Bool(True, help="on load, import the serving stack and open the default model "
                   "and the store in a background thread").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self._studio: Any = None
        self._studio_lock = threading.Lock()
        self._warm: threading.Thread | None = None
        if self.warm_up:
            self._warm = threading.Thread(target=self._warm_up, name="lstmgen-warm-up",
                                          daemon=True)
            self._warm.start()

    @default("rater")
    def _default_rater(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            return "anonymous"

    @property
    def studio(self) -> Any:
        """The Studio (registry, sessions, store), built on first use."""
        with self._studio_lock:
            if self._studio is None:
                from shared_model import Studio

                self._studio = Studio()
            return self._studio

    def _warm_up(self) -> None:
        """What the first generation would otherwise wait for: imports (onnxruntime,
        SQLAlchemy, ipywidgets), the default model's session and the migrated store."""
        try:
            studio = self.studio
            studio.model(self.default_model)
            studio.store  # noqa: B018 - opening (and migrating) the store is the point
            if self._rating_hook() is not None:
                import ipywidgets  # noqa: F401
        except Exception as exc:  # the real call reports it; here it only costs the head start
            log.debug("lstmgen warm-up stopped: %s", exc)

    def close(self) -> None:
        """Wait for the warm-up, then close the Studio (sessions and store)."""
        if self._warm is not None:
            self._warm.join()
            self._warm = None
        with self._studio_lock:
            if self._studio is not None:
                self._studio.close()
                self._studio = None

    @property
    def _who(self) -> str:
        return f"notebook:{self.rater}"

    @property
    def _in_kernel(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    @magic_arguments()
    @generation_arguments
    @_with_subcommands
    @line_cell_magic
    def lstmgen(self, line: str, cell: str | None = None) -> Any:
        """Generate with an lstmgen model; the cell body is the prompt.

        For tang the prompt is the poem's opening characters, for a scene its first line;
        {name} in the body is replaced by that variable; for no prompt at all use the line
        magic (IPython refuses an empty cell body). Returns the result (.text, .id,
        .params, .metrics), also stored in _ and in --out VAR. Examples::

            %%lstmgen --acrostic 春夏秋冬 --seed 1
            %%lstmgen -m shakespeare --characters "ROMEO,JULIET" --turns 4
            %lstmgen -m bach --bars 4
            %lstmgen rate 12 4 --dimension form
        """
        head, _, rest = line.strip().partition(" ")
        if cell is None and head in SUBCOMMANDS:
            opts = parse_subcommand(head, rest)
            with usage_errors():
                return getattr(self, f"_{head}")(opts)
        opts = parse_line(self.lstmgen, line)
        with usage_errors():
            result = self._generate(opts, cell or "")
        if opts.out:
            self.shell.user_ns[opts.out] = result
        return result

    def _generate(self, opts: argparse.Namespace, body: str) -> Any:
        defaults = MagicDefaults(model=self.default_model, temperature=self.temperature)
        prompt = expand_prompt(body, self.shell.user_ns)
        info = self.studio.registry.resolve(opts.model or defaults.model)
        request = build_request(opts, prompt, info, defaults)
        run = {"source": "notebook", "requester": self._who, "record": not opts.no_save}
        if opts.stream:
            view = StreamView(request.n, live=self._in_kernel)
            generations = self.studio.stream(request, view.add, **run)
            view.finish(generations)
        else:
            generations = self.studio.generate(request, **run)
        return make_result(generations, self._rating_hook())

    def _rating_hook(self) -> RatingHook | None:
        if not (self.widgets and self._in_kernel and has_widgets()):
            return None
        return RatingHook(
            rate=lambda gid, score, dim: self.studio.rate(gid, self._who, score, dim),
            compare=lambda a, b, winner: self.studio.compare(a, b, self._who, winner))

    # -- subcommands ------------------------------------------------------------------

    def _rate(self, opts: argparse.Namespace) -> None:
        saved = self.studio.rate(opts.id, self._who, opts.score, opts.dimension, opts.comment)
        was = "" if saved.previous_score is None else f" (was {saved.previous_score})"
        print(f"rated #{saved.generation_id} {saved.score}/5 for {saved.dimension}{was}")

    def _compare(self, opts: argparse.Namespace) -> None:
        cid = self.studio.compare(opts.a, opts.b, self._who, opts.winner)
        print(f"comparison {cid}: #{opts.a} vs #{opts.b} -> {opts.winner}")

    def _models(self, opts: argparse.Namespace) -> ModelTable:
        return ModelTable.from_infos(self.studio.models())

    def _history(self, opts: argparse.Namespace) -> HistoryTable:
        views = self.studio.history(limit=opts.limit, model=opts.model,
                                    source=None if opts.all else "notebook")
        return HistoryTable.from_views(views)

    def _stats(self, opts: argparse.Namespace) -> StatsReport:
        return StatsReport(self.studio.stats(model=opts.model))

    def _export(self, opts: argparse.Namespace) -> None:
        from shared_model import ExportConfig

        path = Path(opts.file).expanduser()
        fmt = opts.format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        done = self.studio.store.export_ratings(
            path, ExportConfig(format=fmt, model=opts.model, min_ratings=opts.min_ratings))
        print(f"wrote {done.rows} rows ({done.generations} generations) to {done.path}")
