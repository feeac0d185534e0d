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
    fmt = str((meta.corpus.get("stats") or {}).get("format", ""))
    if fmt.startswith("piano roll"):
        raise InvalidRequest(
            f"model {meta.name!r} was trained on a JSB piano-roll file ({fmt}): one frame per "
            "step of that file's grid, not per sixteenth note, so it scores chorales (the JSB "
            "benchmark) but does not write them; use a model trained on music21 or "
            "Jsb16thSeparated.json, such as the shipped 'bach'")
    return ChoraleTask(request, MusicTokenizer(meta.vocab, meta.special_tokens),
                       formats=request.formats)
