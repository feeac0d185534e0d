"""What every generating command shares: sampling flags, the Studio call, the output.

``sampling_options`` adds --temp/--top-k/--top-p/--repetition-penalty/--seed/--n/--model
/--no-save/--json; ``run_and_print`` sends a GenerateRequest through the Studio (recorded
with source ``cli``) and prints the formatted results, or one JSON object per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from shared_model.cli.output import emit_json, settings

F = TypeVar("F", bound=Callable[..., Any])


def sampling_options(default_model: str, *, default_temp: float = 0.8) -> Callable[[F], F]:
    """The flags shared by poem / scene / music / generate."""
    def deco(func: F) -> F:
        opts = [
            click.option("--model", "-m", default=default_model, show_default=True,
                         help="Model name (user models first, then shipped) or .onnx path."),
            click.option("--temp", "temperature", type=float, default=default_temp,
                         show_default=True, help="Temperature in [0, 5]; 0 = greedy."),
            click.option("--top-k", type=int, default=0, show_default=True,
                         help="Keep the k most likely tokens (0 = all)."),
            click.option("--top-p", type=float, default=1.0, show_default=True,
                         help="Nucleus sampling mass in (0, 1]."),
            click.option("--repetition-penalty", type=float, default=1.0, show_default=True,
                         help=">1 discourages repeating tokens."),
            click.option("--seed", type=int, default=None,
                         help="Same seed, same output (default: random, reported)."),
            click.option("--n", "n", type=int, default=1, show_default=True,
                         help="How many samples (decoded as one batch)."),
            click.option("--no-save", is_flag=True, help="Do not record in the store."),
            click.option("--json", "as_json", is_flag=True,
                         help="One JSON object per sample on stdout (id, model, text, params, ...)."),
        ]
        for opt in reversed(opts):
            func = opt(func)
        return func
    return deco


def sampling_config(temperature: float, top_k: int, top_p: float, repetition_penalty: float,
                    seed: int | None, **extra: Any) -> Any:
    from shared_model.serving.sampling import SamplingConfig

    return SamplingConfig(temperature=temperature, top_k=top_k, top_p=top_p,
                          repetition_penalty=repetition_penalty, seed=seed, **extra)


def run_and_print(request: Any, *, as_json: bool, no_save: bool,
                  show: Callable[[Any], str] | None = None,
                  session_config: Any = None) -> list[Any]:
    """Generate through the Studio, print, and return the Generations."""
    from shared_model.api import Studio

    with Studio(settings(), session_config=session_config) as studio:
        gens = studio.generate(request, source="cli", record=not no_save)
    for i, g in enumerate(gens):
        if as_json:
            emit_json(g.to_dict())
            continue
        if i:
            click.echo()
        click.echo(show(g) if show else g.formatted)
        if g.unknown_chars:
            click.echo(f"note: not in the vocabulary, read as <unk>: {''.join(g.unknown_chars)}",
                       err=True)
        relaxed = g.constraints.get("relaxed") if isinstance(g.constraints, dict) else None
        if relaxed:
            click.echo(f"note: relaxed to finish: {relaxed}", err=True)
        saved = f"saved as #{g.id}; rate it: lstmgen rate {g.id} 1-5" if g.id else "not saved"
        click.echo(f"[{g.model} · seed {g.seed} · {g.latency_ms:.0f} ms · {saved}]", err=True)
    return gens
