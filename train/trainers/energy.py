"""The long fit of a generative JEM's energy: its U-Net as an EDM denoiser on unlabelled crops.

The generative JEM (core.models.hybrid_jem) can fit its energy by the score term inside `train jem`,
on the labelled patches a classifier trains on: 25 epochs there are ~2,400 steps of 32 patches, and
from pure noise its chains all ended on open water. This trainer fits the energy (fresh, or carried
on from there) for thousands of steps of larger batches of crops of the whole training window,
balanced by class (train/datasets/crops.py), with Karras et al.'s loss (train/score_term.py) and an
exponential moving average of the weights, which is what is written out: sampled images follow the
average far better than the last step's weights (Karras et al.; Song & Ermon 2020). A U-Net told the
class is told each crop's, but for a share of crops it is told none, so that the same network is the
class-free energy too (classifier-free guidance, Ho & Salimans 2022). The classifier is not touched,
so the model's probabilities and maps stay its own, bit for bit.

Steps, not epochs, count the work, and a checkpoint every `checkpoint_every` steps carries the
weights, their average, Adam's state, the step and both random streams (the noise's and the crops'),
so a resumed run goes on exactly as one that never stopped.
"""
import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from train.checkpoint import checkpoint_path, save_checkpoint
from train.datasets.crops import BalancedCrops
from train.score_term import edm_denoising_loss


@dataclasses.dataclass(frozen=True)
class EnergySettings:
    """How long and how the energy is fitted.

    Attributes:
        steps: optimizer steps in all, resumed ones included.
        batch_size: crops per step.
        lr: Adam's learning rate.
        ema: the decay of the weights' moving average.
        p_mean: the mean of log sigma (standardised units).
        p_std: its std.
        seed: seeds the random streams.
        checkpoint_every: steps between checkpoints.
        class_dropout: the share of crops whose class a class-told U-Net is not told, so that it also learns the
            energy of all classes together (Ho & Salimans 2022).
    """

    steps: int
    batch_size: int = 64
    lr: float = 5e-4
    ema: float = 0.999
    p_mean: float = -0.5
    p_std: float = 1.4
    seed: int = 1000
    checkpoint_every: int = 500
    class_dropout: float = 0.2


class EnergyTrainer:
    """Fits `network.energy` (a HybridJEM's U-Net) as a denoiser; `average` holds its moving average.

    Args:
        network: the generative JEM, its energy fresh or fitted by `train jem`.
        crops: the training window's crops.
        settings: see EnergySettings.
        workdir: the checkpoint folder.
        fingerprint: plain data that must match for a checkpoint to be resumed.
        device: where to train.
    """

    def __init__(self, network: nn.Module, crops: BalancedCrops, settings: EnergySettings, workdir: Path,
                 fingerprint: dict[str, Any], device: torch.device) -> None:
        self.network, self.crops, self.settings = network.to(device), crops, settings
        self.workdir, self.fingerprint, self.device = workdir, fingerprint, device
        self.average = copy.deepcopy(network.energy)
        self.optimizer = torch.optim.Adam(network.energy.parameters(), lr=settings.lr)
        self.step = 0
        self.loss = 0.0
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.rng = np.random.default_rng(settings.seed)

    def state(self) -> dict[str, Any]:
        """What a checkpoint holds."""
        return {"model": self.network.state_dict(), "average": self.average.state_dict(),
                "optimizer": self.optimizer.state_dict(), "step": self.step, "loss": self.loss,
                "generator": self.generator.get_state(), "rng": json.dumps(self.rng.bit_generator.state),
                "fingerprint": self.fingerprint}

    def load_state(self, state: dict[str, Any]) -> None:
        """Carry on from a checkpoint's state."""
        self.network.load_state_dict(state["model"])
        self.average.load_state_dict(state["average"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.loss = int(state["step"]), float(state["loss"])
        self.generator.set_state(state["generator"])
        self.rng.bit_generator.state = json.loads(state["rng"])

    def fit(self) -> None:
        """Train up to `settings.steps`, checkpointing as it goes; the progress bar shows the smoothed loss."""
        s = self.settings
        self.network.energy.train()
        with tqdm(total=s.steps, initial=self.step, desc="energy", unit="step", mininterval=1.0) as bar:
            while self.step < s.steps:
                clean, label = self.crops.batch(s.batch_size, self.rng)
                loss = edm_denoising_loss(self.network, clean.to(self.device), self.generator, s.p_mean, s.p_std,
                                          self._told(label))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                with torch.no_grad():
                    for mean, weight in zip(self.average.parameters(), self.network.energy.parameters()):
                        mean.lerp_(weight, 1 - s.ema)
                self.step += 1
                self.loss = loss.item() if self.step == 1 else 0.98 * self.loss + 0.02 * loss.item()
                bar.update()
                bar.set_postfix(loss=f"{self.loss:.4f}", refresh=False)
                if self.step % s.checkpoint_every == 0 or self.step == s.steps:
                    self._checkpoint()

    def _told(self, label: torch.Tensor) -> torch.Tensor | None:
        """The classes the U-Net is told: none for one that takes no class, else `label` with a share dropped (-1)."""
        if not self.network.energy_classes:
            return None
        dropped = torch.rand(len(label), generator=self.generator) < self.settings.class_dropout
        return label.masked_fill(dropped, -1)

    def _checkpoint(self) -> None:
        """Save checkpoint k after k * checkpoint_every steps (the last may hold fewer) and drop the one before:
        --resume reads the latest only."""
        index = -(-self.step // self.settings.checkpoint_every)
        save_checkpoint(self.workdir, index, self.state())
        checkpoint_path(self.workdir, index - 1).unlink(missing_ok=True)

    def averaged_network(self) -> nn.Module:
        """The network with its energy's moving average in place of the last weights: the model to write."""
        network = copy.deepcopy(self.network).cpu()
        network.energy.load_state_dict(self.average.state_dict())
        return network.eval()
