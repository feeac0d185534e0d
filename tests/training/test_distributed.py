"""DDP under torchrun: two CPU processes with gloo stay in sync and learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shared_model.training.distributed import DistContext, init_distributed, is_torchrun

HERE = Path(__file__).parent


def test_two_gloo_ranks_keep_identical_parameters_and_learn(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(HERE / "ddp_worker.py"), str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    assert ranks[0]["steps"] == ranks[1]["steps"] == 30
    assert ranks[0]["val_loss"] == ranks[1]["val_loss"]  # evaluated over both shards
    losses = ranks[0]["train_losses"]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3
    # only rank 0 wrote: checkpoints exist once, every step logged once
    assert ranks[0]["checkpoint"] and ranks[1]["checkpoint"] is None
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in records if r["kind"] == "train"]
    assert steps == list(range(1, 31))


def test_single_process_is_not_distributed(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not is_torchrun()
    assert init_distributed("cpu") == DistContext()
