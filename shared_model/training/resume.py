"""What goes into a training checkpoint and how a run picks it up again exactly.

Builds the payload documented in checkpoint.py (model, optimizer, schedule, RNG states
of python/numpy/torch, data position, split, configs, tokenizer, corpus, metrics,
trainer info) plus ``loop_state`` (the carried LSTM state, best val loss, patience count,
tokens and wall time so far), and restores it. ``check_resumable`` turns a checkpoint that
does not fit the request into a one-line CheckpointError. Imports torch and numpy.
"""

from __future__ import annotations

import platform
import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from shared_model.domains.base import Corpus
from shared_model.errors import CheckpointError
from shared_model.tokenizer import CharTokenizer
from shared_model.training.model import ModelConfig, State


@dataclass
class LoopState:
    """The trainer's mutable position; everything a resume needs besides the modules."""

    step: int = 0
    epoch: int = 0
    window: int = 0  # next batch index inside ``epoch``
    tokens: int = 0
    wall_s: float = 0.0  # training wall time of all sessions so far
    best_val: float = float("inf")
    bad_evals: int = 0
    hidden: State | None = None  # carried LSTM state (continuous text), on CPU when saved
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = None if self.hidden is None else tuple(t.detach().cpu() for t in self.hidden)
        return d

    @classmethod
    def from_payload(cls, d: dict[str, Any]) -> LoopState:
        return cls(**d)


def capture_rng() -> dict[str, Any]:
    """RNG states of python, numpy and torch (CPU and, when present, CUDA)."""
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def trainer_info(loop: LoopState, *, device: str, world_size: int) -> dict[str, Any]:
    """Versions and effort: goes into the checkpoint and later the model's metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("lstmgen")
    except PackageNotFoundError:
        ours = "unknown"
    return {"lstmgen": ours, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "device": device, "world_size": world_size,
            "threads": torch.get_num_threads(), "steps": loop.step, "tokens": loop.tokens,
            "wall_s": round(loop.wall_s, 3)}


def make_payload(*, name: str, corpus: Corpus, model: torch.nn.Module, config: ModelConfig,
                 tok: CharTokenizer, train_config: dict[str, Any],
                 optimizer: torch.optim.Optimizer, scheduler: dict[str, Any],
                 loop: LoopState, device: str, world_size: int,
                 scaler: Any = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The checkpoint payload (all keys of checkpoint.py's FORMAT, plus ``loop_state``)."""
    return {
        "step": loop.step, "domain": corpus.domain, "name": name,
        "model_config": config.to_dict(),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "vocab": list(tok.vocab), "special_tokens": dict(tok.special_tokens),
        "corpus": corpus.info(), "split": dict(corpus.split), "metrics": dict(loop.metrics),
        "train_config": train_config,
        "trainer": trainer_info(loop, device=device, world_size=world_size),
        "optimizer_state": optimizer.state_dict(), "scheduler_state": scheduler,
        "rng_state": capture_rng(),
        "data_state": {"epoch": loop.epoch, "window": loop.window},
        "loop_state": loop.to_payload(),
        "scaler_state": None if scaler is None else scaler.state_dict(),
        "extra": dict(extra or {}),
    }


def check_resumable(payload: dict[str, Any], config: ModelConfig, tok: CharTokenizer,
                    corpus: Corpus) -> None:
    """Raise CheckpointError when ``payload`` cannot continue this run."""
    for key in ("optimizer_state", "loop_state", "rng_state"):
        if key not in payload:
            raise CheckpointError(f"checkpoint lacks {key}; it can be exported but not resumed")
    saved = payload["model_config"]
    if saved != config.to_dict():
        diff = ", ".join(f"{k} {saved.get(k)} != {v}" for k, v in config.to_dict().items()
                         if saved.get(k) != v)
        raise CheckpointError(f"checkpoint was trained with a different model config ({diff})")
    if list(payload["vocab"]) != list(tok.vocab):
        raise CheckpointError("checkpoint vocabulary differs from this corpus' vocabulary")
    if payload.get("domain") != corpus.domain:
        raise CheckpointError(f"checkpoint is for domain {payload.get('domain')!r}, "
                              f"not {corpus.domain!r}")
