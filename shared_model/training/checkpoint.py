"""Checkpoints: one torch file with everything needed to resume or export.

Written atomically (temp file in the same directory, fsync, rename), so a crash or
``kill -9`` mid-save leaves the previous checkpoint intact. Read with validation, so a
corrupt, truncated or foreign file is a ``CheckpointError`` with a one-line reason.

Payload keys (``FORMAT``):
    format, step, domain, name, model_config (dict), model_state (state_dict),
    vocab (list[str]), special_tokens (dict), corpus (Corpus.info()), split (dict),
    metrics (dict: val_loss, val_ppl, val_bpc, split name), train_config (dict),
    trainer (dict: versions, steps, wall time), optimizer_state, scheduler_state,
    rng_state (dict), extra (dict, domain data such as PMI tables).
    The trainer adds data_state (epoch, window), loop_state (carried LSTM state, best val
    loss, patience count, tokens, wall time) and scaler_state (fp16 GradScaler or None).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from shared_model.errors import CheckpointError

FORMAT = "lstmgen-checkpoint-1"
REQUIRED = ("format", "step", "domain", "name", "model_config", "model_state", "vocab",
            "special_tokens")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, **payload}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and validate a checkpoint.

    Raises:
        CheckpointError: missing, unreadable, truncated, or not an lstmgen checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        # weights_only=False: the payload holds plain dicts/lists/tensors and RNG states
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path.name} is corrupt or truncated ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not an lstmgen checkpoint")
    missing = [k for k in REQUIRED if k not in payload]
    if missing:
        raise CheckpointError(f"{path.name} lacks {', '.join(missing)}")
    return payload


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Finished checkpoints (``*.pt``) in ``directory``, newest first.

    The temp files of a save in progress, or of one killed mid-write
    (``.NAME.XXXX.tmp``), are never listed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.glob("*.pt") if p.is_file() and not p.name.startswith(".")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
