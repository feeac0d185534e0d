"""Notebook tables for ``%lstmgen models``, ``history`` and ``stats``.

Owns the objects those subcommands return: each keeps its rows (lists of dicts, easy to
turn into a DataFrame) and shows them as an HTML table with a plain-text fallback;
``StatsReport`` adds an inline chart of mean ratings with their 95% intervals (a PNG
drawn with matplotlib's object API, imported only when the chart is drawn). Never
imports torch, onnxruntime, SQL or the bot.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator, Sequence
from typing import Any

_TABLE = "border-collapse:collapse;font-size:.9em"
_CELL = "padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top"


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f'<th style="{_CELL}">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{html.escape(_fmt(r.get(c)))}</td>'
                         for c in columns) + "</tr>" for r in rows)
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def text_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


class Table:
    """Rows shown as a table; iterable, indexable, ``len``-able."""

    columns: Sequence[str] = ()
    empty = "nothing to show"

    def __init__(self, rows: Sequence[dict[str, Any]]):
        self.rows = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<i>{html.escape(self.empty)}</i>"
        return html_table(self.rows, self.columns)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(text_table(self.rows, self.columns) if self.rows else self.empty)


class ModelTable(Table):
    """``%lstmgen models``: name, domain, where it comes from, size, validation perplexity."""

    columns = ("name", "domain", "source", "size_mb", "vocab_size", "perplexity", "broken")
    empty = ("no models found: train one (lstmgen train ...) or set LSTMGEN_MODELS "
             "to a folder of .onnx files")

    @classmethod
    def from_infos(cls, infos: Sequence[Any]) -> ModelTable:
        rows = []
        for m in infos:
            metrics = m.metrics or {}
            rows.append({"name": m.name, "domain": m.domain, "source": m.source,
                         "size_mb": round(m.size / 2**20, 2), "vocab_size": m.vocab_size,
                         "perplexity": next((metrics[k] for k in ("val_ppl", "perplexity", "ppl")
                                             if isinstance(metrics.get(k), (int, float))), None),
                         "broken": m.broken, "path": str(m.path)})
        return cls(rows)

    def by_domain(self) -> dict[str, str]:
        """domain -> the first usable model of it (user models shadow shipped ones)."""
        out: dict[str, str] = {}
        for r in self.rows:
            if not r["broken"] and r["domain"]:
                out.setdefault(r["domain"], r["name"])
        return out


class HistoryTable(Table):
    """``%lstmgen history``: the latest generations with their mean ratings."""

    columns = ("id", "created", "model", "source", "prompt", "text", "rating")
    empty = "no generations yet"

    @classmethod
    def from_views(cls, views: Sequence[Any]) -> HistoryTable:
        rows = []
        for v in views:
            text = " ".join(v.output_text.split())
            ratings = ", ".join(f"{r.dimension} {r.mean:.1f} ({r.count})" for r in v.ratings)
            rows.append({"id": v.id, "created": v.created.strftime("%Y-%m-%d %H:%M"),
                         "model": v.model_name, "source": v.source, "prompt": v.prompt,
                         "text": text if len(text) <= 60 else text[:59] + "…",
                         "rating": ratings})
        return cls(rows)


class StatsReport(Table):
    """``%lstmgen stats``: per model and dimension n, mean, 95% CI, raters, alpha; chart."""

    columns = ("model", "dimension", "n", "mean", "ci_low", "ci_high", "raters", "alpha")
    empty = "no ratings yet: rate a generation with the buttons or %lstmgen rate ID SCORE"

    def __init__(self, report: dict[str, Any]):
        self.report = report
        rows = []
        for m in report.get("models", []):
            for dim, s in m["dimensions"].items():
                rows.append({"model": m["model"], "dimension": dim, "n": s["n"],
                             "mean": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                             "raters": s["raters"], "alpha": s["alpha_ordinal"]})
        super().__init__(rows)
        self.strengths = list(report.get("bradley_terry", {}).get("models", []))

    def chart_png(self) -> bytes | None:
        """Bar chart of mean ratings with their intervals (None without ratings)."""
        if not self.rows:
            return None
        from matplotlib.figure import Figure

        labels = [f"{r['model']}\n{r['dimension']}" for r in self.rows]
        means = [r["mean"] or 0.0 for r in self.rows]
        low = [m - (r["ci_low"] if r["ci_low"] is not None else m) for m, r in zip(means, self.rows, strict=True)]
        high = [(r["ci_high"] if r["ci_high"] is not None else m) - m for m, r in zip(means, self.rows, strict=True)]
        fig = Figure(figsize=(max(3.0, 1.1 * len(labels)), 2.6), dpi=90)
        ax = fig.add_subplot()
        ax.bar(range(len(labels)), means, yerr=[low, high], capsize=4, color="#6b8fd6")
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_ylim(0, 5.5)
        ax.set_ylabel("mean score (95% CI)", fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def _repr_html_(self) -> str:
        if not self.rows:
            return super()._repr_html_()
        parts = [html_table(self.rows, self.columns)]
        if self.strengths:
            parts.append("<p><b>Bradley-Terry strengths from comparisons</b></p>")
            parts.append(html_table(self.strengths, ("model", "elo", "wins", "losses", "ties")))
        png = self.chart_png()
        if png:
            uri = base64.b64encode(png).decode("ascii")
            parts.append(f'<img alt="mean ratings" src="data:image/png;base64,{uri}"/>')
        return "".join(parts)
