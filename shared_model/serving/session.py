"""The onnxruntime session of one model file, and the choice of execution provider.

Owns: ``SessionConfig``, the pure provider choice (``select_providers``), and
``ModelSession`` (``run(tokens, h, c) -> (logits, h, c)`` over the artifact's graph, the
model's tokenizer, and the provider actually in use). numpy + onnxruntime only: never
imports torch, training or exporters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared_model.artifact import ArtifactMeta, read_metadata
from shared_model.domains import tokenizer_for
from shared_model.errors import BrokenModelFile, InvalidRequest

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
PROVIDER_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class SessionConfig:
    """How to run a model.

    Attributes:
        threads: intra-op threads; 0 lets onnxruntime use all physical cores.
        provider: ``auto`` (CUDA when onnxruntime offers it, else CPU), ``cpu`` or ``cuda``.
        spin: let idle worker threads spin (lower latency at B=1; costs CPU while idle).
    """

    threads: int = 0
    provider: str = "auto"
    spin: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.threads, int) or self.threads < 0:
            raise InvalidRequest(f"threads must be a non-negative integer, got {self.threads!r}")
        if self.provider not in PROVIDER_CHOICES:
            raise InvalidRequest(
                f"provider must be one of {', '.join(PROVIDER_CHOICES)}, got {self.provider!r}")


def select_providers(available: Sequence[str], preference: str = "auto") -> list[str]:
    """The provider list to hand onnxruntime, best first (pure).

    ``auto`` takes CUDA when offered (onnxruntime itself falls back to CPU when no GPU is
    usable; ``ModelSession.provider`` reports which one it really used); ``cpu`` never
    uses the GPU; ``cuda`` insists on it.

    Raises:
        InvalidRequest: ``cuda`` asked for but this onnxruntime has no CUDA provider.
    """
    if preference not in PROVIDER_CHOICES:
        raise InvalidRequest(f"provider must be one of {', '.join(PROVIDER_CHOICES)}, got {preference!r}")
    has_cuda = CUDA in available
    if preference == "cuda" and not has_cuda:
        raise InvalidRequest("the CUDA execution provider is not available "
                             "(install onnxruntime-gpu and a CUDA driver, or use --provider cpu)")
    if preference in ("auto", "cuda") and has_cuda:
        return [CUDA, CPU]
    return [CPU]


def available_providers() -> list[str]:
    """The execution providers this onnxruntime build offers."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


class ModelSession:
    """One model file served by onnxruntime.

    Attributes:
        path, meta, tokenizer: the file, its ``lstmgen.*`` metadata and its tokenizer.
        provider: the execution provider onnxruntime actually uses.
        num_layers, hidden_size, vocab_size: L, H and V of the graph.
    """

    def __init__(self, path: str | Path, config: SessionConfig | None = None,
                 meta: ArtifactMeta | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        self.config = config or SessionConfig()
        self.meta = meta if meta is not None else read_metadata(self.path)
        self.tokenizer = tokenizer_for(self.meta.domain, self.meta.vocab, self.meta.special_tokens)
        self.num_layers = int(self.meta.config["num_layers"])
        self.hidden_size = int(self.meta.config["hidden_size"])
        self.vocab_size = int(self.meta.config["vocab_size"])
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.config.threads:
            opts.intra_op_num_threads = self.config.threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning",
                                      "1" if self.config.spin else "0")
        opts.log_severity_level = 3  # errors only: the CUDA fallback warning is reported by us
        providers = select_providers(ort.get_available_providers(), self.config.provider)
        try:
            self._session = ort.InferenceSession(os.fspath(self.path), opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own types for bad graphs
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BrokenModelFile(f"{self.path.name}: onnxruntime cannot load it ({first[:200]})") from exc
        self.provider = self._session.get_providers()[0]
        names = [i.name for i in self._session.get_inputs()]
        outs = [o.name for o in self._session.get_outputs()]
        if names != ["tokens", "h0", "c0"] or outs != ["logits", "hn", "cn"]:
            raise BrokenModelFile(f"{self.path.name}: graph inputs/outputs {names}/{outs} "
                                  "are not tokens,h0,c0 -> logits,hn,cn")
        self._outputs = outs

    @property
    def name(self) -> str:
        return self.path.stem

    def initial_state(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero (h, c), each float32 [L, B, H]."""
        shape = (self.num_layers, batch, self.hidden_size)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def run(self, tokens: np.ndarray, h: np.ndarray, c: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One call of the graph: tokens [B, T] -> logits [B, T, V], (h, c) [L, B, H]."""
        feeds = {"tokens": np.ascontiguousarray(tokens, dtype=np.int64),
                 "h0": np.ascontiguousarray(h, dtype=np.float32),
                 "c0": np.ascontiguousarray(c, dtype=np.float32)}
        logits, hn, cn = self._session.run(self._outputs, feeds)
        return logits, hn, cn
