"""The bach domain's ``plan``: a ``ChoraleRequest`` against a model, as a Studio Task.

Feeds the mode control token, constrains decoding to exactly ``bars`` bars of SATB
frames, and renders the finished tokens (MIDI, MusicXML, WAV, piano roll) in the
requested key and tempo. numpy (+ music21/matplotlib when rendering); never torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared_model.artifact import ArtifactMeta
from shared_model.domains.bach.constraints import ChoraleConstraint
from shared_model.domains.bach.render import FORMATS, ChoraleResult, render_chorale
from shared_model.domains.bach.request import ChoraleRequest
from shared_model.domains.bach.tokenizer import MusicTokenizer
from shared_model.errors import InvalidRequest


class ChoraleTask:
    """One chorale request resolved against one model's vocabulary."""

    def __init__(self, request: ChoraleRequest, tokenizer: MusicTokenizer,
                 formats: Sequence[str] = FORMATS):
        self.request = request
        self.tokenizer = tokenizer
        self.formats = tuple(formats)
        self.controls = request.controls()
        self.prompt_text = ""
        self.max_new_tokens = request.max_new_tokens()

    def new_constraint(self) -> ChoraleConstraint:
        return self.request.constraint(self.tokenizer)

    def finish(self, generated: Sequence[int], report: dict[str, Any]) -> ChoraleResult:
        tokens = [self.tokenizer.vocab[i] for i in generated if not self.tokenizer.is_special(i)]
        return render_chorale(tokens, self.request.key, self.request.tempo, formats=self.formats)

    def checks(self, output: ChoraleResult) -> dict[str, float | bool]:
        m = output.measures
        return {k: float(v) for k, v in m.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}


def plan_chorale(meta: ArtifactMeta, request: Any) -> ChoraleTask:
    if not isinstance(request, ChoraleRequest):
        raise InvalidRequest(f"a bach model takes a chorale request, not {type(request).__name__}")
    return ChoraleTask(request, MusicTokenizer(meta.vocab, meta.special_tokens),
                       formats=request.formats)
