"""Data-parallel training under ``torchrun``: process group, DDP wrapper, reductions.

When ``RANK`` and ``WORLD_SIZE`` are set (torchrun sets them) ``init_distributed`` joins
the process group (gloo on CPU, NCCL on CUDA); otherwise everything here is a no-op for
a single process. Only rank 0 writes checkpoints and logs (``DistContext.is_main``);
data sharding by rank lives in data.py. Imports torch; nothing from serving or storage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from shared_model.errors import InvalidRequest


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job; ``owns_group``: we created the process group."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def is_torchrun(environ: dict[str, str] | None = None) -> bool:
    """True when launched by torchrun (or any launcher setting RANK and WORLD_SIZE)."""
    env = os.environ if environ is None else environ
    return "RANK" in env and "WORLD_SIZE" in env


def init_distributed(device: str) -> DistContext:
    """Join the torchrun job if there is one; return this process' context."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(),
                           int(os.environ.get("LOCAL_RANK", 0)))
    if not is_torchrun():
        return DistContext()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if world == 1:
        return DistContext(rank, world, local)
    if device == "cuda":
        if torch.cuda.device_count() <= local:
            raise InvalidRequest(f"rank {rank} needs GPU {local} but only "
                                 f"{torch.cuda.device_count()} are visible")
        torch.cuda.set_device(local)
    dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    return DistContext(rank, world, local, owns_group=True)


def device_for(ctx: DistContext, device: str) -> torch.device:
    """The torch device of this rank (``cuda:LOCAL_RANK`` under DDP on GPUs)."""
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InvalidRequest("--device cuda was asked for but CUDA is not available")
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")


def wrap_model(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` under DDP (rank 0's weights win), else it."""
    if not ctx.is_distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Element-wise sum over ranks (float64); identity for one process."""
    if not ctx.is_distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device(ctx))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_reduce_max(value: float, ctx: DistContext) -> float:
    """The largest ``value`` over ranks: one decision (time budget, stop) for all."""
    if not ctx.is_distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=_comm_device(ctx))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def _comm_device(ctx: DistContext) -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")


def shutdown(ctx: DistContext) -> None:
    """Leave the process group if ``init_distributed`` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
