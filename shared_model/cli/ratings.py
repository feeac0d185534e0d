"""``lstmgen rate``, ``compare``, ``history`` and ``ratings export``: thin commands over Store.

Parses options, calls ``shared_model.storage.Store``, prints prose or ``--json`` lines. No
SQL, numpy or onnxruntime here; user mistakes surface as LstmgenError / click errors, which
the root turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from shared_model.cli.output import emit_json, json_option, settings
from shared_model.storage import ExportConfig, Store
from shared_model.storage.models import DIMENSIONS, SOURCES, WINNERS


def default_rater() -> str:
    """The local user name (the CLI's rater id unless --rater is given)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


@contextmanager
def open_store() -> Iterator[Store]:
    store = Store.from_settings(settings())
    try:
        yield store
    finally:
        store.close()


_rater_option = click.option("--rater", default=None, metavar="R",
                             help="Who is rating (stored only as a keyed hash); "
                                  "default: the local user name.")


@click.command("rate")
@click.argument("generation_id", type=int)
@click.argument("score", type=int)
@click.option("-d", "--dimension", default="overall", show_default=True,
              type=click.Choice(DIMENSIONS), help="What the score judges.")
@_rater_option
@click.option("--comment", default=None, help="A free-text note kept with the rating.")
@json_option
def rate(generation_id: int, score: int, dimension: str, rater: str | None,
         comment: str | None, as_json: bool) -> None:
    """Rate stored generation GENERATION_ID with SCORE from 1 (poor) to 5 (excellent).

    Rating the same generation and dimension again replaces your earlier score.
    """
    with open_store() as store:
        result = store.rate(generation_id, rater or default_rater(), score, dimension, comment)
    if as_json:
        emit_json(result.to_dict())
    else:
        verb = f"updated ({result.previous_score} -> {score})" if result.updated else "rated"
        click.echo(f"generation {generation_id}: {dimension} {verb} {score}/5")


@click.command("compare")
@click.argument("gen_a", type=int)
@click.argument("gen_b", type=int)
@click.option("--winner", required=True, type=click.Choice(WINNERS),
              help="Which generation is better: a, b, or tie.")
@_rater_option
@json_option
def compare(gen_a: int, gen_b: int, winner: str, rater: str | None, as_json: bool) -> None:
    """Record which of generations GEN_A and GEN_B (shown side by side) is better."""
    with open_store() as store:
        cid = store.compare(gen_a, gen_b, rater or default_rater(), winner)
    if as_json:
        emit_json({"id": cid, "generation_a": gen_a, "generation_b": gen_b, "winner": winner})
    else:
        click.echo(f"comparison {cid}: {gen_a} vs {gen_b} -> {winner}")


@click.command("history")
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000),
              help="How many generations to list.")
@click.option("--model", default=None, help="Only this model (name or sha256 prefix).")
@click.option("--source", default=None,
              type=click.Choice(SOURCES),
              help="Only generations made through this front end.")
@json_option
def history(limit: int, model: str | None, source: str | None, as_json: bool) -> None:
    """List recent generations, newest first, with their mean overall rating."""
    with open_store() as store:
        views = store.history(limit=limit, model=model, source=source)
    for v in views:
        if as_json:
            emit_json(v.to_dict())
            continue
        overall = v.rating("overall")
        score = f"{overall.mean:.1f} ({overall.count})" if overall else "unrated"
        text = " ".join(v.output_text.split())
        text = text if len(text) <= 40 else text[:39] + "…"
        click.echo(f"#{v.id:<6} {v.created:%Y-%m-%d %H:%M}  {v.model_name}@{v.model_sha256[:8]}"
                   f"  {v.source:<8} {score:<10} {text}")
    if not views and not as_json:
        click.echo("no generations yet", err=True)


@click.group("ratings")
def ratings() -> None:
    """Ratings as evaluation datasets."""


@ratings.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False,
              path_type=Path), help="File to write (replaced atomically).")
@click.option("--format", "fmt", default=None, type=click.Choice(["jsonl", "csv"]),
              help="Default: from the file suffix (.csv), else jsonl.")
@click.option("--model", default=None, help="Only this model (name or sha256 prefix).")
@click.option("--domain", default=None, help="Only this domain (tang, shakespeare, bach...).")
@click.option("--since", default=None, metavar="DATE",
              help="Only generations created on/after DATE (ISO date or datetime, UTC).")
@click.option("--min-ratings", default=1, show_default=True, type=click.IntRange(min=0),
              help="Only generations rated by at least K distinct raters (0: all).")
@click.option("--per-rater", is_flag=True,
              help="One row per rating instead of one per generation.")
@json_option
def export(output: Path, fmt: str | None, model: str | None, domain: str | None,
           since: str | None, min_ratings: int, per_rater: bool, as_json: bool) -> None:
    """Write one record per generation with its ratings aggregated (JSONL or CSV).

    The JSONL loads unchanged with pandas.read_json(lines=True) and
    datasets.load_dataset("json", data_files=FILE).
    """
    from shared_model.storage.export import parse_since

    fmt = fmt or ("csv" if output.suffix.lower() == ".csv" else "jsonl")
    config = ExportConfig(format=fmt, model=model, domain=domain,  # type: ignore[arg-type]
                          since=parse_since(since) if since else None,
                          min_ratings=min_ratings, per_rater=per_rater)
    with open_store() as store:
        result = store.export_ratings(output, config)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(f"wrote {result.rows} rows ({result.generations} generations) to {result.path}")
