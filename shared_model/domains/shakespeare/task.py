"""The shakespeare domain's ``plan``: a ``SceneRequest`` against a model, as a Studio Task.

Adapts ``ScenePlan`` to the ``Task`` protocol of ``shared_model.api``. numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared_model.artifact import ArtifactMeta
from shared_model.domains.shakespeare.constraints import SceneConstraint
from shared_model.domains.shakespeare.scene import (
    ScenePlan,
    SceneRequest,
    SceneResult,
    corpus_speakers,
    prepare_scene,
)
from shared_model.errors import InvalidRequest
from shared_model.tokenizer import CharTokenizer


class SceneTask:
    """One scene request resolved against one model's vocabulary."""

    def __init__(self, plan: ScenePlan, tokenizer: CharTokenizer):
        self.plan = plan
        self.tokenizer = tokenizer
        self.controls: tuple[str, ...] = ()
        self.prompt_text = plan.prompt
        self.max_new_tokens = plan.max_new_tokens

    def new_constraint(self) -> SceneConstraint:
        return self.plan.new_constraint()

    def finish(self, generated: Sequence[int], report: dict[str, Any]) -> SceneResult:
        return self.plan.result(self.tokenizer.decode(generated), report)

    def checks(self, output: SceneResult) -> dict[str, float | bool]:
        return {"well_formed": output.well_formed}


def plan_scene(meta: ArtifactMeta, request: Any) -> SceneTask:
    if not isinstance(request, SceneRequest):
        raise InvalidRequest(f"a shakespeare model takes a scene request, not {type(request).__name__}")
    plan = prepare_scene(meta.vocab, request, special_tokens=meta.special_tokens,
                         known_speakers=corpus_speakers(meta.corpus))
    return SceneTask(plan, CharTokenizer(meta.vocab, meta.special_tokens))
