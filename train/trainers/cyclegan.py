"""Train the pattern maximizer and minimizer against a frozen classifier (SpacEX, defects fixed).

Per step, on a batch a of real anthropogenic patches and a batch b of real natural ones
(unit space; CycleGAN's two unaligned domains, see train/unpaired.py):
- the maximizer G_max turns a towards natural and the minimizer G_min turns b towards
  anthropogenic; LSGAN losses make G_max(a) look like real natural patches to D_max and
  G_min(b) like real anthropogenic ones to D_min (SpacEX's script crossed the two);
- cycle losses L1(G_min(G_max(a)), a) and L1(G_max(G_min(b)), b), and identity losses
  L1(G_max(b), b) and L1(G_min(a), a) (a generator leaves its own target class alone),
  keep the enhanced images close to the input;
- the activation-maximization term runs the frozen classifier ON THE GENERATED IMAGES with
  gradients flowing into the generators (SpacEX ran it on the real image, under no_grad, so
  it never trained anything): softplus(-logit) for the maximizer and softplus(logit) for the
  minimizer, on the natural log-odds. That is cross-entropy on the natural probability: it
  pushes hard while the score is on the wrong side and fades once it is not, so it cannot
  explode the way a raw logit would.
Adam 2e-4 with betas (0.5, 0.999), constant and then linearly decayed to zero, and a
50-image history buffer per discriminator, as in SpacEX and CycleGAN.
"""
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from core.atomic import write_json
from core.explain.base import NaturalLogit
from core.models.card import ModelCard
from core.models.generator import PatternGenerators
from core.models.preprocess import UnitSpace
from core.value_range import ValueRangeCheck
from train.augment import augment
from train.checkpoint import clear_checkpoints, resume_state, save_checkpoint
from train.image_pool import ImagePool
from train.normalization import ModelInputs
from train.sample_grid import write_sample_grid
from train.trainers.options import TrainerOptions
from train.unpaired import UnpairedBatches

BETAS = (0.5, 0.999)
LOG_NAME = "log.json"


@dataclasses.dataclass(frozen=True)
class CycleGANSettings:
    """SpacEX's loss weights and schedule, plus what the sample grids show.

    Attributes:
        lambda_cycle: weight of each L1 cycle loss.
        lambda_identity: weight of each L1 identity loss.
        lambda_am: weight of each activation-maximization term.
        pool_size: generated images kept per discriminator.
        decay_start: the fraction of the epochs after which the learning rate decays linearly to 0.
        n_samples: validation patches in each epoch's sample grid.
    """

    lambda_cycle: float = 5.0
    lambda_identity: float = 13.0
    lambda_am: float = 5.0
    pool_size: int = 50
    decay_start: float = 0.5
    n_samples: int = 6


def frozen_score(network: nn.Module, natural_indices: list[int], num_classes: int) -> NaturalLogit:
    """The classifier as natural log-odds, in eval mode with every parameter frozen.

    Gradients still flow through it to its input (the generated image), never into it.
    """
    score = NaturalLogit(network, natural_indices, num_classes).eval()
    for parameter in score.parameters():
        parameter.requires_grad_(False)
    return score


def am_loss(score: nn.Module, space: UnitSpace, generated: torch.Tensor, maximize: bool) -> torch.Tensor:
    """Activation maximization on the generated image: cross-entropy towards natural (maximize) or not.

    Args:
        score: the frozen classifier as natural log-odds (B, 1).
        space: converts the generated unit-space image into the classifier's input.
        generated: (B, C, H, W) generator output, still attached to the generator's graph.
        maximize: True for the maximizer, False for the minimizer.

    Returns:
        A scalar loss whose gradient reaches the generator.
    """
    logit = score(space.to_input(generated))
    return F.softplus(-logit if maximize else logit).mean()


def lsgan(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss towards 1 (real) or 0 (generated)."""
    return F.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


def lr_factor(epoch: int, epochs: int, decay_start: float) -> float:
    """CycleGAN's schedule: 1 until `decay_start` of the epochs, then linearly towards 0 (0-based epoch)."""
    start = round(decay_start * epochs)
    return 1.0 - max(0, epoch + 1 - start) / (epochs - start + 1)


class CycleGANTrainer:
    """Fits the generator pair and two PatchGAN discriminators against a frozen classifier.

    Args:
        generators: maximizer and minimizer (a resume overwrites their weights).
        discriminators: {"max": D_max, "min": D_min}.
        score: the frozen classifier as natural log-odds (see frozen_score).
        space: the classifier card's unit space.
        card: the classifier's card: band names for the sample grids' true colour, and the training
            value range the enhanced images are held against.
        options: epochs, batch size, learning rate, seed, device, checkpoint folder, resume.
        settings: loss weights, buffer, schedule, grid size.
        fingerprint: plain data that must match for a checkpoint to be resumed.
    """

    def __init__(self, generators: PatternGenerators, discriminators: nn.ModuleDict, score: NaturalLogit,
                 space: UnitSpace, card: ModelCard, options: TrainerOptions, settings: CycleGANSettings,
                 fingerprint: dict[str, Any]) -> None:
        device = options.device
        self.generators, self.discriminators = generators.to(device), discriminators.to(device)
        self.score, self.space, self.card = score.to(device), space, card
        self.options, self.settings, self.fingerprint = options, settings, fingerprint
        self.g_optimizer = torch.optim.Adam(self.generators.parameters(), lr=options.lr, betas=BETAS)
        self.d_optimizer = torch.optim.Adam(self.discriminators.parameters(), lr=options.lr, betas=BETAS)
        self.pools = {name: ImagePool(settings.pool_size) for name in ("max", "min")}
        self.rng = torch.Generator().manual_seed(options.seed)
        self.history: list[dict[str, Any]] = []
        self.epoch = 0

    def _restore(self) -> None:
        state = resume_state(self.options.workdir, self.fingerprint)
        self.generators.load_state_dict(state["generators"])
        self.discriminators.load_state_dict(state["discriminators"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        for name, pool in self.pools.items():
            pool.restore(state["pools"][name])
        self.rng.set_state(state["rng"])
        self.history, self.epoch = state["history"], state["epoch"]

    def _checkpoint(self) -> None:
        save_checkpoint(self.options.workdir, self.epoch, {
            "epoch": self.epoch, "generators": self.generators.state_dict(),
            "discriminators": self.discriminators.state_dict(), "g_optimizer": self.g_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(), "rng": self.rng.get_state(),
            "pools": {name: pool.state() for name, pool in self.pools.items()},
            "history": self.history, "fingerprint": self.fingerprint})

    def generator_losses(self, a: torch.Tensor, b: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Every generator loss term on real batches of both domains, and the two enhanced batches.

        Args:
            a: (B, C, H, W) real anthropogenic patches in unit space.
            b: (B, C, H, W) real natural patches in unit space.

        Returns:
            (named loss terms, G_max(a), G_min(b)).
        """
        s, g, d = self.settings, self.generators, self.discriminators
        high, low = g.maximizer(a), g.minimizer(b)
        terms = {
            "adversarial": lsgan(d["max"](high), True) + lsgan(d["min"](low), True),
            "cycle": s.lambda_cycle * (F.l1_loss(g.minimizer(high), a) + F.l1_loss(g.maximizer(low), b)),
            "identity": s.lambda_identity * (F.l1_loss(g.maximizer(b), b) + F.l1_loss(g.minimizer(a), a)),
            "am": s.lambda_am * (am_loss(self.score, self.space, high, True) + am_loss(self.score, self.space, low, False)),
        }
        return terms, high, low

    def _discriminator_loss(self, a: torch.Tensor, b: torch.Tensor, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        """D_max tells real natural patches from G_max's; D_min real anthropogenic ones from G_min's."""
        loss = a.new_zeros(())
        for name, real, fake in (("max", b, high), ("min", a, low)):
            judge = self.discriminators[name]
            pooled = self.pools[name].query(fake, self.rng)
            loss = loss + 0.5 * (lsgan(judge(real), True) + lsgan(judge(pooled), False))
        return loss

    def train_step(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        """One generator update, then one discriminator update, on real batches of both domains.

        Args:
            a: (B, C, H, W) real anthropogenic patches in unit space.
            b: (B, C, H, W) real natural patches in unit space.

        Returns:
            Every loss term, the generator total and the discriminator loss.
        """
        self.discriminators.requires_grad_(False)
        terms, high, low = self.generator_losses(a, b)
        g_loss = sum(terms.values())
        self.g_optimizer.zero_grad()
        g_loss.backward()
        self.g_optimizer.step()
        self.discriminators.requires_grad_(True)
        d_loss = self._discriminator_loss(a, b, high.detach(), low.detach())
        self.d_optimizer.zero_grad()
        d_loss.backward()
        self.d_optimizer.step()
        return {**{k: v.item() for k, v in terms.items()}, "generator": g_loss.item(), "discriminator": d_loss.item()}

    def _train_epoch(self, data: ModelInputs) -> dict[str, float]:
        factor = lr_factor(self.epoch, self.options.epochs, self.settings.decay_start)
        for optimizer in (self.g_optimizer, self.d_optimizer):
            for group in optimizer.param_groups:
                group["lr"] = self.options.lr * factor
        self.generators.train()
        self.discriminators.train()
        loader = UnpairedBatches(data, self.score.natural_indices, self.options.batch_size, self.rng)
        sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.options.epochs}", unit="step", leave=False, mininterval=1.0)
        for steps, batches in enumerate(bar, start=1):
            a, b = (self.space.from_input(augment(x, self.rng).to(self.options.device)) for x in batches)
            for name, value in self.train_step(a, b).items():
                sums[name] = sums.get(name, 0.0) + value
            bar.set_postfix(g=f"{sums['generator'] / steps:.3f}", d=f"{sums['discriminator'] / steps:.3f}")
        return {f"loss_{name}": round(total / max(len(loader), 1), 5) for name, total in sums.items()} | {
            "lr": self.options.lr * factor}

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict[str, float]:
        """The classifier's mean natural probability on real, maximized and minimized patches of `data`.

        A generator can reach any score by leaving real imagery behind, so when the classifier's
        card has a training value range, the mean share of pixels outside it is reported too.

        Args:
            data: prepared validation samples (standardised tensor, label).

        Returns:
            score_real, score_max, score_min, the mean attribution (physical units) and, with a
            value range, outside_range_real, outside_range_max and outside_range_min.
        """
        self.generators.eval()
        kinds = ("real", "max", "min")
        sums = {**{f"score_{kind}": 0.0 for kind in kinds}, "mean_attribution": 0.0}
        checks = {kind: ValueRangeCheck(self.card, self.options.device) for kind in kinds} if self.card.value_range else {}
        for x, _ in DataLoader(data, batch_size=self.options.batch_size):
            u = self.space.from_input(x.to(self.options.device))
            high, low = self.generators.maximizer(u), self.generators.minimizer(u)
            for kind, image in zip(kinds, (u, high, low)):
                seen = self.space.to_input(image)
                sums[f"score_{kind}"] += torch.sigmoid(self.score(seen)).sum().item()
                if checks:
                    checks[kind].add(seen)
            difference = self.space.to_physical(high) - self.space.to_physical(low)
            sums["mean_attribution"] += difference.abs().mean(dim=(1, 2, 3)).sum().item()
        return {key: round(total / max(len(data), 1), 5) for key, total in sums.items()} | {
            f"outside_range_{kind}": round(float(check.shares().mean()), 5) for kind, check in checks.items()}

    @torch.no_grad()
    def _sample_grid(self, data: Dataset) -> Path:
        self.generators.eval()
        step = max(len(data) // self.settings.n_samples, 1)
        x = torch.stack([data[i][0] for i in range(0, len(data), step)][: self.settings.n_samples])
        u = self.space.from_input(x.to(self.options.device))
        high, low = self.generators.maximizer(u), self.generators.minimizer(u)
        path = self.options.workdir / "samples" / f"epoch_{self.epoch:04d}.png"
        return write_sample_grid(path, *(t.cpu().numpy() for t in (u, high, low)), self.card.bands)

    def fit(self, train: ModelInputs, val: Dataset) -> list[dict[str, Any]]:
        """Train until `options.epochs` epochs are done; after each, validate, log, draw a grid and checkpoint.

        Args:
            train: prepared training samples (standardised tensor, label); both classes, drawn as unpaired anthropogenic and natural batches.
            val: prepared held-out samples.

        Returns:
            The per-epoch history (losses, validation scores, seconds), also written to WORKDIR/log.json.

        Raises:
            NaturalExplainError: for a missing or mismatching checkpoint under `resume`.
        """
        if self.options.resume:
            self._restore()
        else:
            clear_checkpoints(self.options.workdir)
        while self.epoch < self.options.epochs:
            started = time.perf_counter()
            losses = self._train_epoch(train)
            scores = self.evaluate(val)
            self.epoch += 1
            self._sample_grid(val)
            self.history.append({"epoch": self.epoch, **losses, **scores, "seconds": round(time.perf_counter() - started, 2)})
            write_json(self.options.workdir / LOG_NAME, self.history)
            self._checkpoint()
            outside = (f"; pixels outside the training range: real {scores['outside_range_real']:.1%}, maximized "
                       f"{scores['outside_range_max']:.1%}, minimized {scores['outside_range_min']:.1%}"
                       if "outside_range_real" in scores else "")
            tqdm.write(f"epoch {self.epoch}/{self.options.epochs}: natural score on held-out patches "
                       f"real {scores['score_real']:.3f}, maximized {scores['score_max']:.3f}, "
                       f"minimized {scores['score_min']:.3f}{outside}")
        return self.history
