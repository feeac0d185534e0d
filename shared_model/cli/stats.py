"""``lstmgen stats``: rating statistics per model and dimension, Bradley-Terry, correlations.

Thin: asks the store for its report (``Store.stats``), prints tables or one ``--json`` line,
and hands the report to ``evaluation.plot`` for ``--plot``. No SQL or numpy here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from shared_model.cli.output import emit_json, json_option
from shared_model.cli.ratings import open_store


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _print_report(report: dict[str, Any]) -> None:
    conf = int(report["confidence"] * 100)
    click.echo(f"{'model':<24} {'dimension':<11} {'n':>5} {'mean':>5} {f'{conf}% CI':>13} "
               f"{'raters':>6} {'alpha':>6}")
    for m in report["models"]:
        for dim, s in m["dimensions"].items():
            ci = f"{_fmt(s['ci_low'])}-{_fmt(s['ci_high'])}" if s["ci_low"] is not None else "-"
            click.echo(f"{m['model']:<24} {dim:<11} {s['n']:>5} {_fmt(s['mean']):>5} {ci:>13} "
                       f"{s['raters']:>6} {_fmt(s['alpha_ordinal'], '.3f'):>6}")
    if not report["models"]:
        click.echo("(no ratings yet)")
    bt = report["bradley_terry"]
    if bt["models"]:
        click.echo(f"\nBradley-Terry from {bt['comparisons']} comparisons (prior {bt['prior']}):")
        click.echo(f"{'model':<24} {'strength':>8} {'elo':>6} {'W-L-T':>10}")
        for row in bt["models"]:
            wlt = f"{row['wins']}-{row['losses']}-{row['ties']}"
            click.echo(f"{row['model']:<24} {row['strength']:>8.3f} {row['elo']:>6.0f} {wlt:>10}")
    if report["correlations"]:
        click.echo(f"\nSpearman correlation with the mean overall score "
                   f"(needs {report['min_correlation_n']} generations):")
        for c in report["correlations"]:
            rho = _fmt(c["rho"], "+.3f")
            p = f" p={c['p_value']:.3g}" if c["p_value"] is not None else ""
            click.echo(f"  {c['metric']:<20} n={c['n']:<5} rho={rho}{p}")


@click.command("stats")
@click.option("--model", default=None, help="Only this model (name or sha256 prefix).")
@click.option("--plot", "plot_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw means with intervals per model to this image (e.g. stats.png).")
@click.option("--min-correlation-n", default=10, show_default=True, type=click.IntRange(min=3),
              help="Rated generations needed before a metric correlation is reported.")
@json_option
def stats(model: str | None, plot_path: Path | None, min_correlation_n: int,
          as_json: bool) -> None:
    """Per model and dimension: count, mean, 95% CI, Krippendorff's alpha (ordinal);
    Bradley-Terry strengths and Elo from comparisons; Spearman correlation of each
    automatic metric with the mean human score."""
    with open_store() as store:
        report = store.stats(model=model, min_correlation_n=min_correlation_n)
    if plot_path is not None:
        from shared_model.evaluation.plot import plot_report

        report["plot"] = str(plot_report(report, plot_path))
    if as_json:
        emit_json(report)
    else:
        _print_report(report)
        if plot_path is not None:
            click.echo(f"\nplot written to {report['plot']}")
