"""Train a classifier as a joint energy-based model (JEM, Grathwohl et al.; Castillo-Navarro et al. for EO).

The classifier's logits f(x) define p(x, y) ~ exp(f(x)[y]), so log p(x) = logsumexp f(x) up to a
constant. Each step maximises log p(y|x) + log p(x): cross-entropy on the tile logits, plus the
contrastive estimate of the log p(x) gradient, mean logsumexp f(x_sampled) - mean logsumexp f(x_data),
where x_sampled comes from 20 SGLD steps (size 1, noise 0.01) started from a replay buffer of
10,000 chains (5% restart from uniform noise). As in JEM, the data batch gets Gaussian noise
(sigma 0.03, unit space) and Adam's learning rate warms up linearly. Everything else (class
weights, augmentation, validation, checkpoints, resume) is the plain classifier's.

One term is added: Du & Mordatch's energy magnitude penalty, alpha * (mean log p(x_data)^2 +
mean log p(x_sampled)^2), from the SGLD training JEM builds on. Sentinel-2 reflectance fills a
small corner of the unit cube, so uniform-noise chains start far from the data and the network
can push their log p(x) down without bound by growing its weights. Without the penalty, runs
on the sample scene ran away before they classified (Adam 1e-4: log p(x) of the data below -1e5
after 200 steps; 1e-3: |loss| > 1e8 at step 92). With alpha = 1 the data settle near
log p(x) = +1/(2 alpha) and the samples near -1/(2 alpha), and the held-out accuracy passed 0.95
within 100 steps.

Under torchrun (train/distributed.py) every rank keeps a replay buffer of its own, --buffer-size
chains, and its own random stream (seed + rank), so the ranks sample different chains: with one
stream the N buffers would be N copies of one, since the weights are the same everywhere. SGLD
takes its input gradients through the plain network, so no DDP all-reduce fires on a sampling
pass; the loss's two forward passes and its backward go through DDP, once per step on every
rank. The checkpoint, written by rank 0, holds rank 0's buffer and stream. A resume, in any
number of processes, gives that buffer to every rank (the chains carry on mixing instead of
restarting from noise; the ranks' own streams pull them apart again within steps) and the
stream to rank 0 alone, so a one-process resume of a one-process run stays exact.
"""
import dataclasses
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from core.atomic import write_json
from core.errors import NaturalExplainError
from core.jem.energy import log_px
from core.jem.init import CoarseGaussian
from core.jem.sgld import SGLDSettings, sgld
from core.models.preprocess import UnitSpace
from train.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from train.distributed import max_over_ranks, rank_generator, resumed_rng_state
from train.inpainting_term import inpainting_residual
from train.replay_buffer import Init, ReplayBuffer
from train.score_term import SIGMA_MAX, SIGMA_MIN, score_residual
from train.trainers.classifier import ClassifierTrainer
from train.trainers.options import TrainerOptions

# JEM stops when the loss leaves this range: the energy has run away and training cannot recover.
DIVERGED = 1e8
LOG_NAME = "log.json"


@dataclasses.dataclass(frozen=True)
class JEMSettings:
    """JEM's sampler and regularisation settings (Grathwohl et al.'s defaults).

    Attributes:
        sgld: steps, step size and noise of each SGLD run.
        buffer_size: chains in the replay buffer.
        reinit_freq: the share of each draw that restarts from uniform noise.
        data_noise: std of the Gaussian noise added to data batches, in unit space.
        warmup_steps: optimizer steps over which the learning rate climbs linearly to --lr.
        energy_reg: weight alpha of the energy magnitude penalty (0 gives Grathwohl et al.'s loss).
        init: where chains start, "uniform" noise (JEM's), "data", per-class Gaussians of the coarse
            training patches (JEM++'s informative start, core.jem.init), or "mixed", half of each:
            chains from "data" alone never leave the data's neighbourhood, so nothing keeps log p(x)
            down far from it (a cloudy Landsat scene scored above the training data).
        inpaint_weight: weight of the inpainting term (train.inpainting_term); 0 leaves JEM's loss as it is.
        score_weight: weight of the score term (train.score_term), which fits core sample's annealed chain; 0 for none.
        score_form: what the score term fits, one of train.score_term.SCORE_FORMS.
    """

    sgld: SGLDSettings = SGLDSettings()
    buffer_size: int = 10_000
    reinit_freq: float = 0.05
    data_noise: float = 0.03
    warmup_steps: int = 1000
    energy_reg: float = 1.0
    init: str = "uniform"
    inpaint_weight: float = 0.0
    score_weight: float = 0.0
    score_form: str = "energy"

    @property
    def contrastive(self) -> bool:
        """Whether JEM's SGLD term is in the loss: not with 0 SGLD steps, where the score term fits log p(x) instead."""
        return self.sgld.steps > 0

    def card_entry(self) -> dict[str, Any]:
        """How the model was sampled and regularised, for the sidecar's `jem` block."""
        return {"sgld": dataclasses.asdict(self.sgld), "buffer_size": self.buffer_size,
                "reinit_freq": self.reinit_freq, "data_noise": self.data_noise, "energy_reg": self.energy_reg,
                **({"inpaint_weight": self.inpaint_weight} if self.inpaint_weight else {}),
                **({"score": {"weight": self.score_weight, "sigma_max": SIGMA_MAX, "sigma_min": SIGMA_MIN,
                              "form": self.score_form}} if self.score_weight else {})}


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The share of the learning rate at a 1-based optimizer step: step / warmup_steps, then 1."""
    return min(1.0, step / warmup_steps)


def jem_loss(network: nn.Module, space: UnitSpace, data: torch.Tensor, labels: torch.Tensor,
             sampled: torch.Tensor | None, cross_entropy: nn.Module, energy_reg: float) -> tuple[torch.Tensor, dict[str, float]]:
    """JEM's loss: cross-entropy on the data, mean log p(x_sampled) - mean log p(x_data), and the magnitude penalty.

    Lowering it raises log p(x) where the data lie and lowers it where the sampler wandered,
    while the penalty keeps both near 0 so that neither can run away. Without samples (no SGLD
    steps) it is the cross-entropy and the data's penalty.

    Args:
        network: the classifier, returning (B, K) tile logits of a standardised input.
        space: the card's unit space.
        data: (B, C, H, W) noisy data batch in unit space.
        labels: (B,) class indices.
        sampled: (B', C, H, W) SGLD samples in unit space, or None.
        cross_entropy: the (class-weighted) classification loss.
        energy_reg: weight of the magnitude penalty.

    Returns:
        (scalar loss, the mean log p(x) of the data and of the samples).
    """
    logits = network(space.to_input(data))
    logpx_data = torch.logsumexp(logits, dim=1)
    if sampled is None:
        loss = cross_entropy(logits, labels) + energy_reg * logpx_data.pow(2).mean()
        return loss, {"logpx_data": logpx_data.mean().item()}
    logpx_sampled = log_px(network, space.to_input(sampled))
    magnitude = logpx_data.pow(2).mean() + logpx_sampled.pow(2).mean()
    loss = cross_entropy(logits, labels) + logpx_sampled.mean() - logpx_data.mean() + energy_reg * magnitude
    return loss, {"logpx_data": logpx_data.mean().item(), "logpx_sampled": logpx_sampled.mean().item()}


@torch.no_grad()
def tile_log_px(network: nn.Module, data: Dataset, batch_size: int, device: torch.device) -> np.ndarray:
    """Tile log p(x) of every sample of `data` (standardised tensors), as the sidecar's histogram needs.

    Args:
        network: the trained classifier.
        data: (standardised tensor, label) samples.
        batch_size: samples per forward pass.
        device: where the network lives.

    Returns:
        (N,) float64 values.
    """
    network.eval()
    values = [log_px(network, x.to(device)).cpu() for x, _ in DataLoader(data, batch_size=batch_size)]
    return torch.cat(values).double().numpy()


class JEMTrainer(ClassifierTrainer):
    """Fits a classifier as a JEM; checkpoints also carry the replay buffer, so --resume continues exactly.

    Args:
        network: the classifier (no BatchNorm), freshly initialised.
        class_names: K names in logit order.
        space: the card's unit space, where SGLD runs and the buffer lives.
        sample_shape: (C, H, W) of a training patch, the shape of every chain.
        options: see TrainerOptions.
        settings: see JEMSettings.
        fingerprint: plain data that must match for a checkpoint to be resumed.
        starts: the informative start the chains begin from; uniform noise when None.
    """

    def __init__(self, network: nn.Module, class_names: list[str], space: UnitSpace, sample_shape: tuple[int, int, int],
                 options: TrainerOptions, settings: JEMSettings, fingerprint: dict[str, Any],
                 starts: CoarseGaussian | None = None) -> None:
        super().__init__(network, class_names, options, fingerprint)
        self.generator = rank_generator(options.seed, self.world)  # the ranks' chains must differ
        self.space, self.settings = space, settings
        self.buffer = ReplayBuffer(settings.buffer_size, sample_shape, settings.reinit_freq, self.generator,
                                   self._restarts(starts, sample_shape)) if settings.contrastive else None

    def _restarts(self, starts: CoarseGaussian | None, shape: tuple[int, int, int]) -> Init | None:
        """New chains' starts: uniform noise (None), the Gaussians, or under "mixed" each chain one or the other."""
        if starts is None or self.settings.init == "data":
            return starts.draw if starts else None

        def mixed(n: int, generator: torch.Generator) -> torch.Tensor:
            coarse, noise = starts.draw(n, generator), torch.rand((n, *shape), generator=generator)
            return torch.where((torch.rand(n, generator=generator) < 0.5)[:, None, None, None], noise, coarse)

        return mixed

    def state(self) -> dict[str, Any]:
        """The classifier's checkpoint plus the replay buffer, when there is one."""
        return {**super().state(), **({"buffer": self.buffer.samples} if self.buffer is not None else {})}

    def load_state(self, state: dict[str, Any]) -> None:
        """Put back a checkpoint (rank 0's stream on rank 0 only, its buffer on every rank, see the module);
        one without a buffer (an earlier epoch's) restarts the chains from noise."""
        super().load_state(state)
        self.generator.set_state(resumed_rng_state(state["rng"], self.options.seed, self.world, self.epoch))
        if "buffer" in state and self.buffer is not None:
            self.buffer.restore(state["buffer"])

    def _checkpoint(self) -> None:
        """Checkpoint, keep the buffer in the latest checkpoint only (--resume reads no other), and log the epoch (rank 0)."""
        super()._checkpoint()
        if not self.world.main:
            return
        previous = checkpoint_path(self.options.workdir, self.epoch - 1)
        if previous.is_file():
            state = load_checkpoint(previous)
            if state.pop("buffer", None) is not None:
                save_checkpoint(self.options.workdir, self.epoch - 1, state)
        write_json(self.options.workdir / LOG_NAME, self.history)

    def evaluate(self, data: Dataset, loss_fn: nn.Module) -> dict[str, Any]:
        """The classifier's validation metrics plus the median tile log p(x) of the validation patches."""
        logpx = tile_log_px(self.network, data, self.options.batch_size, self.options.device)
        return {**super().evaluate(data, loss_fn), "val_logpx_p50": round(float(np.median(logpx)), 4)}

    def _log_density(self, u: torch.Tensor) -> torch.Tensor:
        """SGLD's log p(x), through the plain network: its gradient is w.r.t. the input only, with nothing for DDP to
        reduce, and every DDP forward must be followed by the backward that reduces the weights' gradients."""
        return log_px(self.network, self.space.to_input(u))

    def train_step(self, x: torch.Tensor, y: torch.Tensor, cross_entropy: nn.Module,
                   where: str) -> tuple[float, dict[str, float]]:
        """One JEM update on a batch of standardised patches.

        Args:
            x: (B, C, H, W) standardised data.
            y: (B,) labels.
            cross_entropy: the classification loss.
            where: "epoch E step S", for the divergence message.

        Returns:
            (the loss, the mean log p(x) of the data and of the samples).

        Raises:
            NaturalExplainError: when |loss| > 1e8 (or is not a number) on any rank: the run diverged.
        """
        device, s = self.options.device, self.settings
        clean = self.space.from_input(self.augmented(x, y))
        data = clean + s.data_noise * torch.randn(clean.shape, generator=self.generator).to(device)
        sampled = None
        if s.contrastive:
            starts, slots = self.buffer.draw(len(x), self.generator)
            sampled = sgld(self._log_density, starts.to(device), s.sgld, generator=self.generator)
            self.buffer.store(slots, sampled)
        loss, logpx = jem_loss(self.trained, self.space, data, y.to(device), sampled, cross_entropy, s.energy_reg)
        if s.inpaint_weight:
            residual = inpainting_residual(self.network, self.space, clean, self.generator)
            loss, logpx = loss + s.inpaint_weight * residual, {**logpx, "inpaint_residual": residual.item()}
        if s.score_weight:
            residual = score_residual(self.network, self.space.to_input(clean), y.to(device), self.generator,
                                      form=s.score_form)
            loss, logpx = loss + s.score_weight * residual, {**logpx, "score_residual": residual.item()}
        size = abs(loss.item())
        worst = max_over_ranks(math.inf if math.isnan(size) else size, self.world, device)  # all ranks stop together
        if worst > DIVERGED:
            raise NaturalExplainError(f"training diverged: |loss| > 1e8 at {where} (|loss| {worst:.3g}); "
                                      "start again (without --resume) with a lower --lr or more --warmup-steps")
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item(), logpx

    def learning_rate(self, step: int) -> float:
        """Adam's rate, warmed up linearly over the first `warmup_steps` steps, as JEM does."""
        return self.options.lr * warmup_factor(step, self.settings.warmup_steps)
