"""int8 model files: dynamic quantization with its agreement gate.

Owns ``QuantizeConfig`` and ``quantize_int8``: onnxruntime's ``quantize_dynamic`` (the
LSTM ops and the MatMul output projection), the ``lstmgen.*`` metadata carried over, and
the gate: top-1 agreement with fp32 and the change in perplexity on validation text. A
model that fails the gate is not written unless forced. Also finds validation text for a
checkpoint (``validation_sequences``). Imports onnx and onnxruntime's quantization tools.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shared_model.artifact import read_metadata
from shared_model.errors import InvalidRequest


@dataclass(frozen=True)
class QuantizeConfig:
    """The int8 gate: refuse unless agreement >= min_agreement and Δppl <= max_ppl_increase."""

    min_agreement: float = 0.99
    max_ppl_increase: float = 0.02  # relative: 0.02 = 2 %
    force: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_agreement <= 1.0:
            raise InvalidRequest("min_agreement must be in [0, 1]")
        if not self.max_ppl_increase >= 0.0:
            raise InvalidRequest("max_ppl_increase must be >= 0")


class QuantizationRefused(InvalidRequest):
    """The int8 model fails the agreement gate; ``report`` holds the measured figures."""

    def __init__(self, message: str, report: dict[str, Any]):
        super().__init__(message)
        self.report = report


def validation_sequences(payload: dict[str, Any], tokenizer: Any,
                         text: str | None = None) -> tuple[list[list[int]], str]:
    """Id sequences to judge int8 on, and where they came from.

    ``text`` wins when given; else the validation split of the checkpoint's corpus, read
    again with its domain when the corpus file is still where training found it.

    Raises:
        InvalidRequest: neither is available.
    """
    from shared_model.serving.scoring import document_sequences, text_sequences

    if text:
        return text_sequences(tokenizer, text), "given text"
    corpus = payload.get("corpus") or {}
    split = payload.get("split") or {}
    path = corpus.get("path") or split.get("path")
    if path and Path(path).is_file():
        from shared_model.domains import get_domain

        options = split.get("options") or {}
        loaded = get_domain(str(payload["domain"])).load_corpus(Path(path), **options)
        if loaded.val:
            return document_sequences(tokenizer, loaded.val), f"validation split of {Path(path).name}"
    raise InvalidRequest("int8 needs validation text: the checkpoint's corpus is not available "
                         "here, so pass --val-text FILE")


def compare_models(fp32_path: str | Path, int8_path: str | Path,
                   sequences: list[list[int]]) -> dict[str, Any]:
    """Top-1 agreement and perplexities of two model files on the same sequences."""
    from shared_model.serving.scoring import iter_batches, token_nll
    from shared_model.serving.session import ModelSession, SessionConfig

    a = ModelSession(fp32_path, SessionConfig(provider="cpu"))
    b = ModelSession(int8_path, SessionConfig(provider="cpu"))
    agree = total = 0
    nll_a = nll_b = 0.0
    for (la, targets, valid), (lb, _, _) in zip(iter_batches(a, sequences), iter_batches(b, sequences),
                                                   strict=True):
        agree += int(((la.argmax(-1) == lb.argmax(-1)) & valid).sum())
        total += int(valid.sum())
        nll_a += float(token_nll(la, targets)[valid].sum())
        nll_b += float(token_nll(lb, targets)[valid].sum())
    if not total:
        raise InvalidRequest("the validation text has no tokens to compare on")
    ppl_a, ppl_b = float(np.exp(nll_a / total)), float(np.exp(nll_b / total))
    return {"tokens": total, "top1_agreement": agree / total, "ppl_fp32": ppl_a,
            "ppl_int8": ppl_b, "ppl_increase": ppl_b / ppl_a - 1.0}


def quantize_int8(fp32_path: str | Path, out_path: str | Path, sequences: list[list[int]],
                  config: QuantizeConfig | None = None) -> dict[str, Any]:
    """Write an int8 copy of ``fp32_path`` if it passes the gate (or ``config.force``).

    Returns:
        The report: agreement, perplexities, sizes, ``written``.
    Raises:
        QuantizationRefused: the gate failed and force is off (nothing written).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from exporters.export import save_model_atomic
    from shared_model.artifact import attach_metadata

    config = config or QuantizeConfig()
    out = Path(out_path)
    if out.suffix != ".onnx":
        raise InvalidRequest(f"output must be a .onnx file, got {out.name!r}")
    meta = read_metadata(fp32_path)
    with tempfile.TemporaryDirectory(prefix="lstmgen-int8-") as tmp:
        raw = Path(tmp) / "int8.onnx"
        logging.disable(logging.WARNING)  # its "consider pre-processing" advice is noise here
        try:
            quantize_dynamic(str(fp32_path), str(raw), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["LSTM", "MatMul"])
        finally:
            logging.disable(logging.NOTSET)
        report = compare_models(fp32_path, raw, sequences)
        report.update(min_agreement=config.min_agreement, max_ppl_increase=config.max_ppl_increase)
        passed = (report["top1_agreement"] >= config.min_agreement
                  and report["ppl_increase"] <= config.max_ppl_increase)
        report["passed"] = passed
        if not passed and not config.force:
            raise QuantizationRefused(
                f"int8 model refused: top-1 agreement {report['top1_agreement']:.2%} "
                f"(need >= {config.min_agreement:.0%}), perplexity change "
                f"{report['ppl_increase']:+.2%} (need <= {config.max_ppl_increase:.0%}); "
                "use --force to write it anyway", report)
        proto = onnx.load(str(raw))
        metrics = dict(meta.metrics)
        metrics["int8"] = {k: report[k] for k in ("top1_agreement", "ppl_fp32", "ppl_int8",
                                                  "ppl_increase", "tokens")}
        trainer = dict(meta.trainer)
        trainer["quantization"] = "int8 dynamic, per-channel weights (onnxruntime quantize_dynamic, QInt8)"
        attach_metadata(proto, replace(meta, metrics=metrics, trainer=trainer))
        onnx.checker.check_model(proto, full_check=True)
        save_model_atomic(proto, out)
    report.update(written=str(out), size_fp32=Path(fp32_path).stat().st_size,
                  size_int8=out.stat().st_size)
    return report
