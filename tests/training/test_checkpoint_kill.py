"""kill -9 in the middle of a checkpoint save leaves the previous checkpoint intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shared_model.errors import CheckpointError
from shared_model.training.checkpoint import list_checkpoints, load_checkpoint

# saves ~48 MB checkpoints in a loop; every tensor holds its own step number
_SAVER = textwrap.dedent("""
    import sys, torch
    from shared_model.training.checkpoint import save_checkpoint
    out = sys.argv[1]
    for step in range(1, 1000):
        big = torch.full((12_000_000,), float(step))
        save_checkpoint(out, {"step": step, "domain": "text", "name": "kill",
                              "model_config": {}, "model_state": {"w": big},
                              "vocab": [], "special_tokens": {}})
""")


def _temp_files(d: Path) -> list[Path]:
    return [p for p in d.iterdir() if p.name.endswith(".tmp")]


def test_sigkill_during_save_leaves_previous_checkpoint(tmp_path):
    ckpt = tmp_path / "last.pt"
    for _attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(ckpt)])
        try:
            deadline = time.monotonic() + 60
            # wait for one finished checkpoint, then for the next save to be mid-write
            while time.monotonic() < deadline and not (ckpt.exists() and _temp_files(tmp_path)):
                time.sleep(0.002)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
        if _temp_files(tmp_path):
            break
    else:
        pytest.fail("never caught the saver in the middle of a write")

    payload = load_checkpoint(ckpt)  # the previous checkpoint, whole
    step = payload["step"]
    assert step >= 1 and bool((payload["model_state"]["w"] == float(step)).all())
    assert list_checkpoints(tmp_path) == [ckpt]  # the torn temp file is not a checkpoint
    for tmp in _temp_files(tmp_path):
        try:  # killed mid-write: torn; killed between fsync and rename: whole and newer
            newer = load_checkpoint(tmp)
        except CheckpointError:
            continue
        assert newer["step"] == step + 1
