"""``lstmgen models``: shipped and user models with domain, size, metrics and sha256.

Thin: reads the registry (metadata only, no session) and prints a table or JSON lines.
"""

from __future__ import annotations

import click

from shared_model.cli.output import emit_json, json_option, settings


def _ppl(metrics: dict) -> str:
    for key in ("val_ppl", "perplexity", "ppl"):
        if isinstance(metrics.get(key), (int, float)):
            return f"{metrics[key]:.2f}"
    return "-"


@click.command()
@json_option
def models(as_json: bool) -> None:
    """List shipped models and user models (LSTMGEN_MODELS); broken files show why."""
    from shared_model.serving.registry import Registry

    infos = Registry(settings()).list()
    if as_json:
        for info in infos:
            emit_json(info.to_dict())
        return
    if not infos:
        click.echo("no models: export one with 'lstmgen export' into "
                   f"{settings().models_dir}")
        return
    click.echo(f"{'name':<24} {'source':<8} {'domain':<12} {'size':>9} {'vocab':>6} "
               f"{'val ppl':>8}  sha256")
    for i in infos:
        size = f"{i.size / 2**20:.1f}M"
        if i.broken:
            click.echo(f"{i.name:<24} {i.source:<8} BROKEN: {i.broken}")
            continue
        click.echo(f"{i.name:<24} {i.source:<8} {i.domain or '-':<12} {size:>9} "
                   f"{i.vocab_size or 0:>6} {_ppl(i.metrics):>8}  {i.sha256[:12]}")
