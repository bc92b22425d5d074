"""Unaligned batches for CycleGAN: each step pairs a batch of anthropogenic patches with one of natural patches.

SpacEX trains CycleGAN's two domains: the maximizer maps anthropogenic patches (A) towards
natural ones (B) and the minimizer the reverse, and each discriminator compares a generator's
output with real patches of the class it aims at. Judged against both classes at once, a
generator may flip the classifier by any change that still looks like *some* real patch (a
global brightening, say); judged against its target class, it has to produce that class's
patterns. An epoch visits every patch of the larger domain once and cycles the smaller one.
"""
import math
from typing import Iterator, Sequence

import torch

from core.errors import NaturalExplainError
from train.normalization import ModelInputs


def domain_positions(labels: Sequence[int], natural_indices: Sequence[int]) -> tuple[list[int], list[int]]:
    """Positions of the anthropogenic (A) and natural (B) samples.

    Raises:
        NaturalExplainError: when either domain is empty.
    """
    natural = set(natural_indices)
    a = [i for i, label in enumerate(labels) if label not in natural]
    b = [i for i, label in enumerate(labels) if label in natural]
    if not a or not b:
        missing = "anthropogenic" if not a else "natural"
        raise NaturalExplainError(f"the training patches hold no {missing} patch: the pattern generators learn from "
                                  "both classes, so label polygons of each")
    return a, b


def _cycled(positions: list[int], length: int, rng: torch.Generator) -> list[int]:
    """`length` positions: fresh random permutations of `positions`, one after another."""
    order: list[int] = []
    while len(order) < length:
        order.extend(positions[i] for i in torch.randperm(len(positions), generator=rng).tolist())
    return order[:length]


class UnpairedBatches:
    """Iterates (anthropogenic batch, natural batch) pairs of prepared patches.

    Args:
        data: prepared samples (tensor, label).
        natural_indices: the class indices that count as natural.
        batch_size: patches per domain per step.
        rng: the trainer's seeded generator, so a resumed run draws the same batches.
    """

    def __init__(self, data: ModelInputs, natural_indices: Sequence[int], batch_size: int, rng: torch.Generator) -> None:
        self.data, self.batch_size, self.rng = data, batch_size, rng
        self.a, self.b = domain_positions(data.labels, natural_indices)
        self.steps = math.ceil(max(len(self.a), len(self.b)) / batch_size)

    def __len__(self) -> int:
        return self.steps

    def _stack(self, positions: list[int]) -> torch.Tensor:
        return torch.stack([self.data[i][0] for i in positions])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.steps * self.batch_size
        a, b = _cycled(self.a, n, self.rng), _cycled(self.b, n, self.rng)
        for start in range(0, n, self.batch_size):
            stop = start + self.batch_size
            yield self._stack(a[start:stop]), self._stack(b[start:stop])
