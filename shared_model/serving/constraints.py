"""The constraint hook: what a domain gives the decoder to shape each step.

A constraint is a per-request object. Before sampling each token the decoder calls
``adjust(state)`` and adds the returned vector to that row's logits: ``-inf`` bans a
token (a mask), finite values steer (a bias, e.g. keyword PMI). ``finished(state)``
ends the request (e.g. the poem's last line is complete). ``report()`` says which rules
held and which were relaxed, for ``--json`` output. numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass
class StepState:
    """What a constraint may look at before one token is chosen.

    Attributes:
        prompt: token ids fed before generation (after ``<bos>`` and control tokens).
        generated: ids generated so far in this request.
        logits: this row's raw logits [V] for the next token (read-only by convention).
    """

    prompt: Sequence[int]
    generated: Sequence[int]
    logits: np.ndarray


class Constraint(Protocol):
    def adjust(self, state: StepState) -> np.ndarray | None:
        """Additive logit adjustment [V] (float32; -inf bans), or None for no change."""
        ...

    def finished(self, state: StepState) -> bool:
        """True when the request is complete and decoding should stop."""
        ...

    def report(self) -> dict[str, Any]:
        """Which rules held or were relaxed (JSON-serialisable)."""
        ...


class NoConstraint:
    """The neutral constraint: free generation."""

    def adjust(self, state: StepState) -> np.ndarray | None:
        return None

    def finished(self, state: StepState) -> bool:
        return False

    def report(self) -> dict[str, Any]:
        return {}
