"""The ``lstmgen`` command line: one entry point over training, export, serving and storage.

The composition root: the only place that may reach ``training``, ``exporters`` or
``lstm_bot``, and only inside the command that needs them. Command modules are imported
lazily (only the one invoked), so ``lstmgen poem`` starts fast and never imports torch.
User mistakes (``LstmgenError``, bad options) print one line on stderr and exit 2.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import click

from shared_model.errors import LstmgenError

# name -> (module, attribute, one-line help); the module defines a click command/group.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "poem": ("shared_model.cli.poem", "poem", "Write a poem (tang: 绝句/律诗, acrostic, rhyme)."),
    "scene": ("shared_model.cli.scene", "scene", "Write a Shakespeare-style scene."),
    "music": ("shared_model.cli.music", "music", "Write a Bach-style chorale (MIDI, MusicXML, WAV)."),
    "generate": ("shared_model.cli.generate", "generate", "Generate from any model, no domain rules."),
    "models": ("shared_model.cli.models", "models", "List shipped and user models with metrics."),
    "eval": ("shared_model.cli.evaluate", "evaluate", "Perplexity of a model on a text or corpus."),
    "train": ("shared_model.cli.train", "train", "Train an LSTM language model (needs the train extra)."),
    "export": ("shared_model.cli.export", "export", "Export a checkpoint to one self-contained .onnx file."),
    "rate": ("shared_model.cli.ratings", "rate", "Rate a stored generation 1-5."),
    "compare": ("shared_model.cli.ratings", "compare", "Record which of two generations is better."),
    "ratings": ("shared_model.cli.ratings", "ratings", "Export ratings as an evaluation dataset."),
    "history": ("shared_model.cli.ratings", "history", "List recent generations."),
    "stats": ("shared_model.cli.stats", "stats", "Rating statistics per model and dimension."),
    "data": ("shared_model.cli.data", "data", "Fetch public corpora (sha256-checked)."),
    "bot": ("shared_model.cli.bot", "bot", "Run the Discord bot (or its offline console)."),
    "info": ("shared_model.cli.info", "info", "Versions, execution providers, paths, database."),
    "db": ("shared_model.cli.db", "db", "Database maintenance (migrations)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked (fast start-up)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attr, _ = entry
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("shared_model.cli"):
                return None
            raise
        cmd = getattr(mod, attr)
        if not isinstance(cmd, click.Command):
            raise TypeError(f"{module}.{attr} is not a click command")
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="lstmgen")
def app(verbose: int) -> None:
    """lstmgen: LSTM language models that write Tang poems, Shakespeare scenes and Bach
    chorales, with human ratings stored for evaluation.

    Environment: LSTMGEN_HOME (data dir), LSTMGEN_MODELS (user models),
    LSTMGEN_DB_URL (SQLAlchemy URL), LSTMGEN_SECRET, DISCORD_TOKEN.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(message: str) -> int:
    click.echo(f"lstmgen: {message}", err=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns (and exits with) the process status."""
    try:
        rv = app.main(args=list(argv) if argv is not None else None,
                      prog_name="lstmgen", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except LstmgenError as exc:
        code = _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except click.UsageError as exc:
        if type(exc).__name__.startswith("NoArgsIsHelp"):  # bare group: show its help
            click.echo(exc.format_message(), err=True)
            return _exit(2, argv)
        # one line: the reason, plus where to look for help
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        code = _fail(exc.format_message().splitlines()[0] + hint)
    except click.ClickException as exc:
        code = _fail(exc.format_message().splitlines()[0])
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except BrokenPipeError:
        code = 0
    return _exit(code, argv)


def _exit(code: int, argv: Sequence[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code
