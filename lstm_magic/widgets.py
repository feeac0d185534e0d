"""ipywidgets rating controls shown under a generation in a notebook.

Owns ``RatingHook`` (how a control stores a rating or comparison: the magic binds it to
its Studio and rater) and the controls: buttons 1-5 with a dimension dropdown under each
generation, and A / tie / B buttons under a pair. ipywidgets is optional: it is imported
inside the functions, which only the magic calls, and only when it is importable and a
kernel front end is there to show widgets. Never imports torch, SQL or the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lstm_magic.args import DIMENSIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RatingHook:
    """Where the controls send ratings: ``rate(id, score, dimension)``, ``compare(a, b, w)``."""

    rate: Callable[[int, int, str], Any]
    compare: Callable[[int, int, str], Any]


def has_widgets() -> bool:
    """True when ipywidgets can be imported (the optional dependency is installed)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _report(status: Any, action: Callable[[], str]) -> None:
    """Run a control's action and show its outcome (or the error) in ``status``."""
    try:
        status.value = action()
    except Exception as exc:  # the outer edge of a widget callback: show it, log it
        log.warning("rating control failed: %s", exc)
        status.value = f"<span style='color:#a00'>{exc}</span>"


def rating_controls(generation_id: int, hook: RatingHook) -> Any:
    """Buttons 1-5 and a dimension dropdown that rate generation ``generation_id``."""
    import ipywidgets as w

    dimension = w.Dropdown(options=list(DIMENSIONS), value="overall",
                           layout=w.Layout(width="9em"), description="",
                           tooltip="what the score is about")
    status = w.HTML(value="")
    buttons = [w.Button(description=str(s), tooltip=f"rate #{generation_id}: {s} of 5",
                        layout=w.Layout(width="2.6em")) for s in range(1, 6)]

    def rate(score: int) -> str:
        saved = hook.rate(generation_id, score, dimension.value)
        was = "" if saved.previous_score is None else f" (was {saved.previous_score})"
        return f"<span style='color:#2a2'>rated {saved.score}/5 for {saved.dimension}{was}</span>"

    for score, button in zip(range(1, 6), buttons, strict=True):
        button.on_click(lambda _b, s=score: _report(status, lambda: rate(s)))
    label = w.HTML(value=f"<span style='color:#888'>#{generation_id}</span>")
    return w.HBox([label, dimension, *buttons, status])


def comparison_controls(gen_a: int, gen_b: int, hook: RatingHook) -> Any:
    """``#A better`` / ``tie`` / ``#B better`` buttons recording one comparison."""
    import ipywidgets as w

    status = w.HTML(value="")
    choices = (("a", f"#{gen_a} better"), ("tie", "tie"), ("b", f"#{gen_b} better"))
    buttons = []
    for winner, text in choices:
        button = w.Button(description=text, layout=w.Layout(width="auto"))

        def record(_b: Any, winner: str = winner) -> None:
            _report(status, lambda: (hook.compare(gen_a, gen_b, winner),
                                     f"<span style='color:#2a2'>recorded: {winner}</span>")[1])

        button.on_click(record)
        buttons.append(button)
    return w.HBox([*buttons, status])
