"""The evaluation report behind ``lstmgen stats`` and the bot's ``/stats``: rows -> dict.

Owns how stored rows become statistics: per model (name + weights) and dimension the count,
mean and t interval over individual ratings, Krippendorff's alpha (ordinal) over the
[rater, generation] matrix; Bradley-Terry strengths and Elo between models from pairwise
comparisons (ties count half a win to each side); and the Spearman correlation between each
automatic metric and a generation's mean ``overall`` score once enough generations have
both. Pure: takes rows (any objects with the attributes of ``storage.view.RatingRow`` /
``ComparisonRow``), returns a JSON-ready dict. Imports numpy and ``evaluation.stats``; never
storage, torch, training or exporters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from shared_model.evaluation.stats import bradley_terry, krippendorff_alpha, mean_ci, spearman

_DIMENSION_ORDER = ("overall", "fluency", "coherence", "creativity", "form")


def model_key(name: str, sha256: str) -> str:
    """How a model is labelled in reports: its name and the first 8 hex of its weights."""
    return f"{name}@{sha256[:8]}"


def matches_model(name: str, sha256: str, model: str | None) -> bool:
    """The store's model filter: exact name, or a sha256 prefix of 8+ hex digits."""
    if model is None:
        return True
    m = model.strip().lower()
    return name == model.strip() or (len(m) >= 8 and sha256.startswith(m))


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _dimension_stats(rows: list[Any], confidence: float) -> dict[str, Any]:
    scores = np.array([r.score for r in rows], dtype=np.float64)
    ci = mean_ci(scores, confidence)
    raters = sorted({r.rater for r in rows})
    gens = sorted({r.generation_id for r in rows})
    matrix = np.full((len(raters), len(gens)), np.nan)  # [raters, units]
    ri = {r: i for i, r in enumerate(raters)}
    gi = {g: i for i, g in enumerate(gens)}
    for r in rows:
        matrix[ri[r.rater], gi[r.generation_id]] = r.score
    alpha = krippendorff_alpha(matrix, "ordinal") if len(raters) >= 2 else math.nan
    return {"n": ci.n, "mean": _num(ci.mean), "ci_low": _num(ci.low), "ci_high": _num(ci.high),
            "sd": _num(ci.sd), "raters": len(raters), "generations": len(gens),
            "alpha_ordinal": _num(alpha)}


def _models_section(ratings: list[Any], confidence: float) -> list[dict[str, Any]]:
    by_model: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        by_model[(r.model_name, r.model_sha256)][r.dimension].append(r)
    order = {d: i for i, d in enumerate(_DIMENSION_ORDER)}
    out = []
    for (name, sha), dims in sorted(by_model.items()):
        out.append({
            "model": model_key(name, sha), "name": name, "sha256": sha,
            "dimensions": {d: _dimension_stats(rows, confidence)
                           for d, rows in sorted(dims.items(), key=lambda kv: order.get(kv[0], 99))},
        })
    return out


def _bradley_terry_section(comparisons: Iterable[Any], model: str | None,
                           prior: float) -> dict[str, Any]:
    pairs = []
    for c in comparisons:
        a, b = model_key(c.model_a, c.sha256_a), model_key(c.model_b, c.sha256_b)
        if a == b:  # two outputs of the same weights say nothing about models
            continue
        if model is not None and not (matches_model(c.model_a, c.sha256_a, model)
                                      or matches_model(c.model_b, c.sha256_b, model)):
            continue
        pairs.append((a, b, c.winner))
    names = sorted({k for a, b, _ in pairs for k in (a, b)})
    section: dict[str, Any] = {"comparisons": len(pairs), "prior": prior, "models": []}
    if len(names) < 2:
        return section
    idx = {k: i for i, k in enumerate(names)}
    wins = np.zeros((len(names), len(names)))  # wins[i, j]: i beat j (ties: 0.5 each)
    tally = {k: {"wins": 0, "losses": 0, "ties": 0} for k in names}
    for a, b, winner in pairs:
        i, j = idx[a], idx[b]
        if winner == "a":
            wins[i, j] += 1.0
            tally[a]["wins"] += 1
            tally[b]["losses"] += 1
        elif winner == "b":
            wins[j, i] += 1.0
            tally[b]["wins"] += 1
            tally[a]["losses"] += 1
        else:
            wins[i, j] += 0.5
            wins[j, i] += 0.5
            tally[a]["ties"] += 1
            tally[b]["ties"] += 1
    fit = bradley_terry(wins, prior=prior)
    section["converged"] = fit.converged
    section["models"] = sorted(
        ({"model": k, "strength": float(fit.strengths[idx[k]]), "elo": float(fit.elo[idx[k]]),
          **tally[k]} for k in names), key=lambda row: -row["strength"])
    return section


def _correlations(ratings: list[Any], metrics: Iterable[tuple[int, str, str, Mapping[str, float]]],
                  min_n: int) -> list[dict[str, Any]]:
    overall: dict[int, list[float]] = defaultdict(list)
    for r in ratings:
        if r.dimension == "overall":
            overall[r.generation_id].append(float(r.score))
    human = {g: float(np.mean(v)) for g, v in overall.items()}
    per_metric: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for gid, _name, _sha, values in metrics:
        if gid in human:
            for key, value in values.items():
                per_metric[key].append((float(value), human[gid]))
    out = []
    for key in sorted(per_metric):
        pairs = np.array(per_metric[key])
        row: dict[str, Any] = {"metric": key, "n": int(len(pairs)), "rho": None, "p_value": None}
        if len(pairs) >= min_n:
            corr = spearman(pairs[:, 0], pairs[:, 1])
            row.update(rho=corr.rho, p_value=corr.p_value)
        out.append(row)
    return out


def build_report(ratings: Iterable[Any], comparisons: Iterable[Any],
                 metrics: Iterable[tuple[int, str, str, Mapping[str, float]]] = (), *,
                 model: str | None = None, confidence: float = 0.95, bt_prior: float = 1.0,
                 min_correlation_n: int = 10) -> dict[str, Any]:
    """Statistics per model and dimension, Bradley-Terry/Elo, metric-human correlations.

    Args:
        ratings: rows with generation_id, model_name, model_sha256, rater, dimension, score
            (already filtered to ``model`` by the caller).
        comparisons: rows with model_a, sha256_a, model_b, sha256_b, winner; those touching
            ``model`` are kept when it is given.
        metrics: (generation id, model name, sha256, {metric: value}) per generation.
        min_correlation_n: generations with both a metric and an overall rating needed
            before a Spearman correlation is reported.
    """
    rating_list = list(ratings)
    return {
        "confidence": confidence,
        "model_filter": model,
        "ratings": len(rating_list),
        "models": _models_section(rating_list, confidence),
        "bradley_terry": _bradley_terry_section(comparisons, model, bt_prior),
        "min_correlation_n": min_correlation_n,
        "correlations": _correlations(rating_list, metrics, min_correlation_n),
    }
