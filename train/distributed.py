"""Training on several processes: `torchrun --nproc_per_node=N -m train ...` with DistributedDataParallel.

torchrun starts N copies of the command and tells each its rank (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR/PORT). Each copy joins one process group (gloo on the CPU, NCCL on CUDA, one GPU
per local rank), trains on its share of every epoch's shuffled training patches (the split into
spatial blocks is made the same way by every copy, so no validation patch is trained on), and
DDP averages the gradients, so the copies keep identical weights. Only rank 0 writes checkpoints,
logs and the model. A checkpoint holds the plain network's weights, so `--resume` carries on in
any number of processes. Without torchrun there is one process and nothing here changes the run.

Trainers that draw more than a shuffle (JEM's SGLD chains, CycleGAN's unpaired batches and
image pools) give each rank a random stream of its own, seeded seed + rank, so rank 0 draws
exactly as one process would and no two ranks draw alike. What orders an epoch's samples is, in
a group, one generator seeded from seed and epoch that every rank shares, so the ranks deal one
order between them (DistributedSampler's rule). The checkpoint keeps rank 0's stream: a resume
gives it back to rank 0 and starts every other rank a stream of its own.
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
    return _reduced(value, world, device, dist.ReduceOp.SUM) / world.size


def max_over_ranks(value: float, world: World, device: torch.device) -> float:
    """The largest of a per-rank number, so that a decision taken on it (stop: the loss diverged) is every rank's."""
    return _reduced(value, world, device, dist.ReduceOp.MAX)


def _reduced(value: float, world: World, device: torch.device, op: "dist.ReduceOp") -> float:
    """`value` all-reduced with `op` over the ranks (itself in one process)."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)  # NCCL reduces only GPU tensors
    dist.all_reduce(tensor, op=op)
    return float(tensor)


def rank_generator(seed: int, world: World, epoch: int = 0) -> torch.Generator:
    """This rank's own random stream, seeded seed + rank + size * epoch.

    A fresh run (epoch 0) seeds rank r with seed + r, so rank 0 draws what one process draws; a
    rank that resumes after `epoch` epochs without a stream of its own in the checkpoint gets one
    no other rank running beside it has.
    """
    return torch.Generator().manual_seed(seed + world.rank + world.size * epoch)


def resumed_rng_state(saved: torch.Tensor, seed: int, world: World, epoch: int) -> torch.Tensor:
    """The random state a rank resumes with after `epoch` epochs: the checkpointed one on rank 0, whose stream it
    is (so a one-process resume repeats an uninterrupted run), a fresh stream of its own on every other rank
    (given rank 0's too, all ranks would draw alike: JEM's chains would be N copies of one)."""
    return saved if world.main else rank_generator(seed, world, epoch).get_state()


def order_generator(world: World, generator: torch.Generator, seed: int, epoch: int) -> torch.Generator:
    """What orders the epoch's samples: alone, the trainer's own (checkpointed) generator; in a group, one seeded
    from seed + epoch, alike in every rank, so that their shares (rank_rows) of one order never overlap."""
    return generator if world.size == 1 else torch.Generator().manual_seed(seed + epoch)


def rank_rows(batch: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's rows (rank, rank + N, ...) of a batch every rank drew alike from order_generator's order."""
    return batch if world.size == 1 else batch[world.rank::world.size]
