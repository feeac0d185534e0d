"""The tang domain's ``plan``: a ``PoemRequest`` against a model, as the Studio's Task.

Adapts ``PoemPlan`` to the ``Task`` protocol of ``shared_model.api`` (controls, prompt
text, fresh constraint per sample, finishing a sample into a ``PoemResult``, the domain
checks stored as automatic metrics). numpy only; never torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared_model.artifact import ArtifactMeta
from shared_model.domains.tang.constraints import TangConstraint
from shared_model.domains.tang.poem import PoemPlan, PoemResult, prepare_poem
from shared_model.domains.tang.request import PoemRequest
from shared_model.errors import InvalidRequest


class PoemTask:
    """One poem request resolved against one model's vocabulary."""

    def __init__(self, plan: PoemPlan):
        self.plan = plan
        self.controls = plan.controls
        self.prompt_text = plan.prompt_text
        self.max_new_tokens = plan.max_new_tokens

    def new_constraint(self) -> TangConstraint:
        return self.plan.new_constraint()

    def finish(self, generated: Sequence[int], report: dict[str, Any]) -> PoemResult:
        return self.plan.result(generated, report=report)

    def checks(self, output: PoemResult) -> dict[str, float | bool]:
        """Rules the finished poem satisfies, as ``check_*`` metrics (rules not asked: left out)."""
        held = output.report.get("held", {})
        return {k: bool(v) for k, v in held.items() if isinstance(v, bool)}


def plan_poem(meta: ArtifactMeta, request: Any) -> PoemTask:
    if not isinstance(request, PoemRequest):
        raise InvalidRequest(f"a tang model takes a poem request, not {type(request).__name__}")
    return PoemTask(prepare_poem(meta.vocab, request, special_tokens=meta.special_tokens,
                                 extra=meta.extra))
