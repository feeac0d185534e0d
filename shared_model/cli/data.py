"""``lstmgen data``: public corpora. ``fetch`` downloads one from its pinned upstream.

Thin: parses options, calls ``shared_model.domains.fetch``, prints the result. No
network or checksum logic here; no torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shared_model.cli.output import emit_json, json_option, settings
from shared_model.domains.fetch import (
    DEFAULT_BASE_URL,
    SOURCES,
    FetchConfig,
    default_dest,
    fetch,
)


@click.group(name="data")
def data() -> None:
    """Public corpora: download them, sha256-checked, into the data dir."""


@data.command(name="fetch")
# required=False: click's own "missing argument" text for a Choice spans several lines
@click.argument("name", type=click.Choice(sorted(SOURCES)), required=False, metavar="NAME")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the files [default: <LSTMGEN_HOME>/data/NAME].")
@click.option("--force", is_flag=True, help="Download again even if a checked copy is there.")
@click.option("--base-url", metavar="URL",
              help="Mirror serving /<repo>/<commit>/<path> instead of raw.githubusercontent.com "
                   "[env LSTMGEN_FETCH_BASE_URL].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@json_option
def fetch_command(name: str | None, dest: Path | None, force: bool, base_url: str | None,
                  quiet: bool, as_json: bool) -> None:
    """Download corpus NAME from its canonical upstream at a pinned commit.

    shakespeare: Tiny Shakespeare (karpathy/char-rnn); jsb: JSB Chorales JSON files
    (czhuang/JSB-Chorales-dataset); tang: the 58 全唐诗 poet.tang.*.json files
    (chinese-poetry). Each file is sha256-checked (Tang: checked to be a JSON list of
    poems, its sha256 recorded in SHA256SUMS). Present and checked files are skipped;
    a broken transfer resumes on the next run.
    """
    if name is None:
        raise click.UsageError(f"missing corpus NAME: one of {', '.join(sorted(SOURCES))}")
    cfg = settings()
    base = base_url or cfg.fetch_base_url
    config = FetchConfig(base_url=base or DEFAULT_BASE_URL, force=force)
    target = dest if dest is not None else default_dest(cfg.home, name)
    progress = not (quiet or as_json) and sys.stderr.isatty()
    result = fetch(name, target, config, progress=progress)
    if as_json:
        emit_json(result.to_dict())
    elif not quiet:
        counts = {s: sum(f.status == s for f in result.files)
                  for s in ("downloaded", "resumed", "cached")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        click.echo(f"{name}: {len(result.files)} file(s) in {result.dest} ({summary})")
