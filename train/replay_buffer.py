"""JEM's replay buffer: SGLD chains that persist across training steps (Grathwohl et al., after Du & Mordatch).

Twenty SGLD steps from noise give poor samples; continuing from where earlier steps stopped
lets the chains mix over the whole run at the cost of twenty steps each time. A small share
of every batch restarts from uniform noise, so the buffer never collapses onto a few modes.
The samples live in unit space ([0, 1] per band) and are kept as float16: SGLD's own noise
(0.01) dwarfs the rounding (under 5e-4), memory halves (10,000 patches of 10 x 32 x 32 take
about 200 MB), and a checkpoint stores exactly what the run holds, so a resume is exact.
"""
from typing import Callable

import torch

STORAGE = torch.float16
# n, generator -> (n, C, H, W) unit-space starting points for new chains.
Init = Callable[[int, torch.Generator], torch.Tensor]


class ReplayBuffer:
    """`size` unit-space samples of one shape, drawn from and written back to by the JEM trainer.

    Args:
        size: how many samples to keep (JEM: 10,000).
        shape: (C, H, W) of a sample.
        reinit_freq: the share of each draw that restarts from `init` (JEM: 0.05).
        generator: the seeded CPU generator for the initial noise.
        init: where new chains start; uniform noise (JEM's) when None, or e.g. core.jem.init.CoarseGaussian.draw.
    """

    def __init__(self, size: int, shape: tuple[int, int, int], reinit_freq: float, generator: torch.Generator,
                 init: Init | None = None) -> None:
        self.reinit_freq = reinit_freq
        self.init = init or (lambda n, g: torch.rand((n, *shape), generator=g))
        self.samples = (init(size, generator) if init else torch.rand((size, *shape), generator=generator,
                                                                       dtype=STORAGE)).to(STORAGE)

    def __len__(self) -> int:
        return len(self.samples)

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """SGLD starting points: `n` distinct buffer entries, each replaced by a new start with probability reinit_freq.

        The slots are distinct (JEM draws with replacement), so that writing the chains back
        never has two chains race for one slot, which would make runs irreproducible.

        Args:
            n: the batch size, at most the buffer's size.
            generator: the trainer's seeded CPU generator.

        Returns:
            (float32 starts (n, C, H, W), the buffer slots they came from, for `store`).
        """
        slots = torch.randperm(len(self.samples), generator=generator)[:n]
        starts = self.samples[slots].float()
        noise = self.init(n, generator)
        restart = torch.rand(n, generator=generator) < self.reinit_freq
        return torch.where(restart[:, None, None, None], noise, starts), slots

    def store(self, slots: torch.Tensor, samples: torch.Tensor) -> None:
        """Write the chains' new states back into the slots they were drawn from."""
        self.samples[slots] = samples.detach().to("cpu", STORAGE)

    def restore(self, samples: torch.Tensor) -> None:
        """Put back the samples a checkpoint held."""
        self.samples = samples.to(STORAGE)
