"""Checkpoint -> one self-contained ``.onnx`` model file (the artifact in DESIGN.md).

Owns the torch -> ONNX conversion: the graph shape (inputs ``tokens``/``h0``/``c0``,
outputs ``logits``/``hn``/``cn``, dynamic B and T, one ONNX ``LSTM`` op per layer, the
output projection as ``MatMul`` + ``Add`` so int8 quantization reaches it), the
``lstmgen.*`` metadata (through ``shared_model.artifact`` only), the full checker pass
and the atomic write. Imports torch and onnx; never imported by the serving side.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared_model.artifact import INPUT_NAMES, OUTPUT_NAMES, ArtifactMeta, attach_metadata
from shared_model.errors import InvalidRequest

MIN_OPSET, MAX_OPSET = 14, 20


@dataclass(frozen=True)
class ExportConfig:
    """How to export.

    Attributes:
        opset: ONNX opset of the graph (14..20; 17 is what onnxruntime 1.18+ runs best).
        name: model name written in the metadata; default the checkpoint's name.
        check: run ``onnx.checker.check_model(full_check=True)`` before writing.
    """

    opset: int = 17
    name: str | None = None
    check: bool = True

    def __post_init__(self) -> None:
        if not MIN_OPSET <= int(self.opset) <= MAX_OPSET:
            raise InvalidRequest(f"opset must be between {MIN_OPSET} and {MAX_OPSET}, got {self.opset}")
        if self.name is not None and not self.name.strip():
            raise InvalidRequest("model name must not be empty")


def load_model(payload: dict[str, Any]) -> Any:
    """The LSTMLanguageModel of a checkpoint payload, in eval mode on CPU."""
    from shared_model.errors import CheckpointError
    from shared_model.training.model import LSTMLanguageModel, ModelConfig

    try:
        config = ModelConfig.from_dict(payload["model_config"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint model_config is incomplete ({exc})") from exc
    model = LSTMLanguageModel(config)
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"checkpoint weights do not fit its model_config ({first})") from exc
    return model.eval()


def _graph_module(model: Any) -> Any:
    """Wrap the model as (tokens, h0, c0) -> (logits, hn, cn) with an explicit MatMul + Add head.

    ``nn.Linear`` may export as ``Gemm``, which ``quantize_dynamic`` leaves in fp32;
    ``matmul`` with a pre-transposed weight exports as ``MatMul`` + ``Add``.
    """
    import torch
    from torch import nn

    class _Graph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = model.embed
            self.lstm = model.lstm
            # [H, V]: stored transposed so the exporter emits MatMul(y, W) directly
            self.head_w = nn.Parameter(model.head.weight.detach().t().contiguous(), requires_grad=False)
            self.head_b = nn.Parameter(model.head.bias.detach().clone(), requires_grad=False)

        def forward(self, tokens: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor):  # type: ignore[no-untyped-def]
            x = self.embed(tokens)                      # [B, T, E]
            y, (hn, cn) = self.lstm(x, (h0, c0))        # [B, T, H], [L, B, H]
            logits = torch.matmul(y, self.head_w) + self.head_b  # [B, T, V]
            return logits, hn, cn

    return _Graph().eval()


def to_onnx_proto(model: Any, opset: int = 17) -> Any:
    """Export a LSTMLanguageModel to an ``onnx.ModelProto`` (no metadata yet)."""
    import onnx
    import torch

    cfg = model.config
    graph = _graph_module(model)
    tokens = torch.zeros(2, 3, dtype=torch.long)
    h0 = torch.zeros(cfg.num_layers, 2, cfg.hidden_size)
    c0 = torch.zeros_like(h0)
    dynamic = {"tokens": {0: "B", 1: "T"}, "h0": {1: "B"}, "c0": {1: "B"},
               "logits": {0: "B", 1: "T"}, "hn": {1: "B"}, "cn": {1: "B"}}
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        # the TorchScript exporter warns that it is deprecated; it is the one that emits
        # one LSTM op per layer, which is what onnxruntime runs fastest (PERF_NOTES)
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (tokens, h0, c0), buf, dynamo=False, opset_version=opset,
                          input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
                          dynamic_axes=dynamic, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def meta_from_checkpoint(payload: dict[str, Any], name: str | None = None) -> ArtifactMeta:
    """The ArtifactMeta a checkpoint's model file carries."""
    trainer = dict(payload.get("trainer") or {})
    trainer.setdefault("steps", payload.get("step"))
    try:
        import torch

        trainer.setdefault("exported_with", {"torch": torch.__version__})
    except ImportError:  # pragma: no cover - export always has torch
        pass
    config = dict(payload["model_config"])
    return ArtifactMeta(
        domain=str(payload["domain"]),
        name=name or str(payload["name"]),
        vocab=list(payload["vocab"]),
        special_tokens=dict(payload["special_tokens"]),
        config=config,
        corpus=dict(payload.get("corpus") or {}),
        metrics=dict(payload.get("metrics") or {}),
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        trainer=trainer,
        extra=dict(payload.get("extra") or {}),
    )


def _public_mode() -> int:
    """0o666 less the process umask: what a plain ``open(path, "w")`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def save_model_atomic(model_proto: Any, out_path: str | Path) -> Path:
    """Serialize one ONNX file (no external data) to a temp file, fsync, rename."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = model_proto.SerializeToString()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _public_mode())  # mkstemp makes 0600; a model file is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def export_onnx(checkpoint_path: str | Path, out_path: str | Path,
                config: ExportConfig | None = None) -> Path:
    """Export a training checkpoint to one self-contained ``.onnx`` model file.

    Returns:
        The written path.
    Raises:
        CheckpointError: the checkpoint is missing, corrupt or inconsistent.
        InvalidRequest: the output path is not a ``.onnx`` file.
    """
    import onnx

    from shared_model.training.checkpoint import load_checkpoint

    config = config or ExportConfig()
    out = Path(out_path)
    if out.suffix != ".onnx":
        raise InvalidRequest(f"output must be a .onnx file, got {out.name!r}")
    payload = load_checkpoint(checkpoint_path)
    model = load_model(payload)
    proto = to_onnx_proto(model, config.opset)
    proto.producer_name = "lstmgen"
    attach_metadata(proto, meta_from_checkpoint(payload, config.name))
    if config.check:
        onnx.checker.check_model(proto, full_check=True)
    return save_model_atomic(proto, out)
