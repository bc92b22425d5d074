"""Training on several processes: `torchrun --nproc_per_node=N -m train ...` with DistributedDataParallel.

torchrun starts N copies of the command and tells each its rank (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR/PORT). Each copy joins one process group (gloo on the CPU, NCCL on CUDA, one GPU
per local rank), trains on its share of every epoch's shuffled training patches (the split into
spatial blocks is made the same way by every copy, so no validation patch is trained on), and
DDP averages the gradients, so the copies keep identical weights. Only rank 0 writes checkpoints,
logs and the model. A checkpoint holds the plain network's weights, so `--resume` carries on in
any number of processes. Without torchrun there is one process and nothing here changes the run.
"""
import contextlib
import dataclasses
import os
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, DistributedSampler, RandomSampler, Sampler


@dataclasses.dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes checkpoints, logs and the model."""
        return self.rank == 0


def current_world() -> World:
    """The world torchrun describes in the environment, or one process."""
    return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                 int(os.environ.get("LOCAL_RANK", 0)))


def world_device(world: World, device: torch.device) -> torch.device:
    """The device of this rank: its own GPU (cuda:LOCAL_RANK) when training on CUDA, else `device`."""
    return torch.device("cuda", world.local_rank) if device.type == "cuda" and world.size > 1 else device


@contextlib.contextmanager
def process_group(world: World, device: torch.device) -> Iterator[World]:
    """Join the training processes' group for the run (nothing to join for one process)."""
    if world.size == 1 or dist.is_initialized():
        yield world
        return
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield world
    finally:
        dist.destroy_process_group()


def parallel(network: nn.Module, world: World, device: torch.device) -> nn.Module:
    """The module that trains: DDP around `network` in a group, `network` itself alone."""
    if world.size == 1:
        return network
    return nn.parallel.DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None)


def epoch_sampler(data: Dataset, world: World, generator: torch.Generator, seed: int, epoch: int) -> Sampler:
    """This rank's share of the epoch's shuffled samples; alone, the seeded shuffle of every sample."""
    if world.size == 1:
        return RandomSampler(data, generator=generator)
    sampler = DistributedSampler(data, num_replicas=world.size, rank=world.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return sampler


def rank_batch(batch_size: int, world: World) -> int:
    """Each rank's batch, so that the batch DDP averages over is the one asked for."""
    return max(1, batch_size // world.size)


def barrier(world: World) -> None:
    """Wait for every rank (so none reads a checkpoint rank 0 is still writing)."""
    if world.size > 1:
        dist.barrier()


def mean_over_ranks(value: float, world: World, device: torch.device) -> float:
    """A per-rank number (a training loss) averaged over the ranks, for the one line rank 0 logs."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)  # NCCL reduces only GPU tensors
    dist.all_reduce(tensor)
    return float(tensor) / world.size
