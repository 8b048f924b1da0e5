"""Device choice and torch.distributed set-up (torchrun: gloo on CPU, nccl on CUDA)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from style_plugin.errors import TrainingError


@dataclass(frozen=True)
class Placement:
    """Where this process trains and which part of the job it has."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints, logs and previews."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(requested: str, local_rank: int = 0) -> torch.device:
    """Turn 'auto' | 'cpu' | 'cuda' | 'cuda:N' into a device, checking CUDA really exists."""
    requested = requested.strip().lower()
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError(
                "--device cuda was asked for but PyTorch sees no usable CUDA GPU "
                f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'})"
            )
        return torch.device(requested if ":" in requested else f"cuda:{local_rank}")
    if requested == "cpu":
        return torch.device("cpu")
    raise TrainingError(f"unknown --device {requested!r}; use auto, cpu, cuda or cuda:N")


def setup(requested_device: str) -> Placement:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1), else train alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(requested_device, local_rank)
    if world_size <= 1:
        return Placement(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Placement(device, dist.get_rank(), dist.get_world_size())


def teardown(placement: Placement) -> None:
    """Leave the process group together (a rank leaving early can abort the others' gloo threads)."""
    if placement.distributed and dist.is_initialized():
        with contextlib.suppress(RuntimeError):
            dist.barrier()
        dist.destroy_process_group()


def any_rank(flag: bool, placement: Placement) -> bool:
    """True when `flag` is true on any process, so that all ranks stop at the same step."""
    if not placement.distributed:
        return flag
    backend_device = placement.device if dist.get_backend() == "nccl" else torch.device("cpu")
    value = torch.tensor([1.0 if flag else 0.0], device=backend_device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def mean_across_ranks(values: dict[str, float], placement: Placement) -> dict[str, float]:
    """Average logged figures over all processes (identity when training alone)."""
    if not placement.distributed or not values:
        return values
    backend_device = placement.device if dist.get_backend() == "nccl" else torch.device("cpu")
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], device=backend_device, dtype=torch.float64)
    dist.all_reduce(tensor)
    tensor /= placement.world_size
    return dict(zip(keys, tensor.tolist(), strict=True))
