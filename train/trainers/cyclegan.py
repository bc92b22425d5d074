"""Train the pattern maximizer and minimizer against a frozen classifier (SpacEX, made to stay real imagery).

Per step, on a batch a of real anthropogenic patches and a batch b of real natural ones
(unit space; CycleGAN's two unaligned domains, see train/unpaired.py):
- the maximizer G_max turns a towards natural and the minimizer G_min turns b towards
  anthropogenic; the generators are residual and bounded (core.models.generator), so neither can
  repaint a tile;
- the score term runs the frozen classifier ON THE GENERATED IMAGES with gradients flowing into
  the generators (SpacEX ran it on the real image, under no_grad, so it never trained
  anything). It is bounded, as SpacEX's L1 to a target logit was: a hinge relu(margin - logit)
  for the maximizer and relu(margin + logit) for the minimizer on the natural log-odds, so it
  stops pushing once the classifier is convinced and realism is not traded for more score;
- proximity, L1(G(x), x) in the classifier's standardised units on the explained input,
  makes the change sparse: the generator changes only where the verdict needs it (nothing in
  SpacEX tied G(x) to x, which let a global colour shift through);
- the colour term penalises each band's mean shift over the tile, the colour cast an analyst
  sees first;
- identity, the proximity term on the other class, L1(G_max(b), b) and L1(G_min(a), a): a
  generator leaves a tile alone that already has the verdict it aims at. Trained only on its
  own domain, the maximizer brightened water that was natural already, which the enhanced
  image shows wherever a scene is natural;
- optional, as in SpacEX and CycleGAN: LSGAN losses that make G_max(a) look like real natural
  patches to D_max and G_min(b) like real anthropogenic ones to D_min (a 50-image history
  buffer per discriminator), and cycle losses L1(G_min(G_max(a)), a) and L1(G_max(G_min(b)), b).
  A weight of 0 skips a term's computation (and the discriminators' training with the
  adversarial term).
Adam 2e-4 with betas (0.5, 0.999), constant and then linearly decayed to zero.

Under torchrun (train/distributed.py) each generator and each discriminator trains in its own
DDP wrapper, since the steps call them one by one; the frozen classifier is not wrapped, and the
discriminators are called plain in the generator step, where they are frozen too. Every rank
deals the same unpaired batches, drawn from seed + epoch, and keeps its rows of them (rank,
rank + N, ...), so each class is shared out without overlap; augmentation and the image pools
draw from the rank's own stream (seed + rank). Rank 0 alone draws the sample grids, logs and
checkpoints, with its own pools and stream; a resume gives those pools to every rank and the
stream to rank 0 alone, in any number of processes.
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
from core.explain.realism import colour_cast, enhancement_kid, enhancement_measures
from core.models.card import ModelCard
from core.models.generator import PatternGenerators
from core.models.model_file import LoadedModel
from core.models.preprocess import UnitSpace
from train.augment import augment
from train.checkpoint import clear_checkpoints, resume_state, save_checkpoint
from train.distributed import (
    World,
    barrier,
    current_world,
    mean_over_ranks,
    order_generator,
    parallel,
    process_group,
    rank_batch,
    rank_generator,
    rank_rows,
    resumed_rng_state,
)
from train.image_pool import ImagePool
from train.normalization import ModelInputs
from train.sample_grid import write_sample_grid
from train.trainers.options import TrainerOptions
from train.unpaired import UnpairedBatches

BETAS = (0.5, 0.999)
# The score term sees the generated tile reflect-padded by this much, so its edges lie inside the classifier's view:
# scored at the classifier's own border, the minimizer learned to paint stripes along the top edge, where the
# classifier's zero padding makes it most sensitive.
SCORE_CONTEXT_PX = 16
LOG_NAME = "log.json"


@dataclasses.dataclass(frozen=True)
class CycleGANSettings:
    """Loss weights and schedule, plus what the sample grids show (see the module for each term).

    Attributes:
        lambda_cycle: weight of each L1 cycle loss (0 skips it).
        lambda_identity: weight of each L1 identity loss (0 skips it).
        lambda_am: weight of each bounded score term.
        lambda_proximity: weight of each L1(G(x), x) term, standardised units.
        lambda_colour: weight of each per-band mean-shift term, standardised units.
        lambda_adversarial: weight of the LSGAN generator terms (0 trains no discriminator).
        am_margin: the natural log-odds the maximizer aims above and the minimizer below.
        warmup_steps: steps over which the proximity, colour and identity weights ramp up from 0.
        pool_size: generated images kept per discriminator.
        decay_start: the fraction of the epochs after which the learning rate decays linearly to 0.
        n_samples: validation patches in each epoch's sample grid.
    """

    lambda_cycle: float = 0.0
    lambda_identity: float = 5.0
    lambda_am: float = 1.0
    lambda_proximity: float = 5.0
    lambda_colour: float = 1.0
    lambda_adversarial: float = 0.0
    am_margin: float = 4.0
    warmup_steps: int = 130
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


def am_loss(score: nn.Module, space: UnitSpace, generated: torch.Tensor, maximize: bool, margin: float) -> torch.Tensor:
    """The bounded score term on the generated image: how far its natural log-odds fall short of the margin.

    Args:
        score: the frozen classifier as natural log-odds (B, 1).
        space: converts the generated unit-space image into the classifier's input.
        generated: (B, C, H, W) generator output, still attached to the generator's graph.
        maximize: True for the maximizer (log-odds above `margin`), False for the minimizer (below -`margin`).
        margin: the log-odds beyond which the term is 0.

    Returns:
        A scalar loss whose gradient reaches the generator, 0 once every tile is past the margin.
    """
    seen = space.to_input(generated)
    pad = min(SCORE_CONTEXT_PX, seen.shape[-2] - 1, seen.shape[-1] - 1)
    logit = score(F.pad(seen, (pad,) * 4, mode="reflect"))
    return F.relu(margin - logit if maximize else margin + logit).mean()


def proximity_loss(space: UnitSpace, generated: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """L1(G(x), x) in the classifier's standardised units, so a change in a dark band counts as the classifier sees it."""
    return (space.to_input(generated) - space.to_input(source)).abs().mean()


def colour_loss(space: UnitSpace, generated: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """The mean colour cast of a batch (core.explain.realism.colour_cast), differentiable."""
    return colour_cast(space.to_input(source), space.to_input(generated)).mean()


def lsgan(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss towards 1 (real) or 0 (generated)."""
    return F.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


def parallel_parts(parts: dict[str, nn.Module], world: World, device: torch.device) -> nn.ModuleDict:
    """Each part in a DDP wrapper of its own (alone: the parts themselves), under the same names.

    The trainer calls the maximizer, minimizer and discriminators one at a time, and DDP reduces
    the gradients of what ran through its own forward only.
    """
    return nn.ModuleDict({name: parallel(part, world, device) for name, part in parts.items()})


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
        options: epochs, batch size, learning rate, seed, device (under torchrun on CUDA, this rank's GPU),
            checkpoint folder, resume.
        settings: loss weights, buffer, schedule, grid size.
        fingerprint: plain data that must match for a checkpoint to be resumed.
        kid_model: a network the generators are not trained against, whose features score the
            enhanced images' KID each epoch (core.explain.realism.enhancement_kid); None skips KID.
    """

    def __init__(self, generators: PatternGenerators, discriminators: nn.ModuleDict, score: NaturalLogit,
                 space: UnitSpace, card: ModelCard, options: TrainerOptions, settings: CycleGANSettings,
                 fingerprint: dict[str, Any], kid_model: LoadedModel | None = None) -> None:
        device = options.device
        self.generators, self.discriminators = generators.to(device), discriminators.to(device)
        self.score, self.space, self.card = score.to(device), space, card
        self.options, self.settings, self.fingerprint, self.kid_model = options, settings, fingerprint, kid_model
        self.g_optimizer = torch.optim.Adam(self.generators.parameters(), lr=options.lr, betas=BETAS)
        self.d_optimizer = torch.optim.Adam(self.discriminators.parameters(), lr=options.lr, betas=BETAS)
        self.pools = {name: ImagePool(settings.pool_size) for name in ("max", "min")}
        self.world = current_world()
        self.rng = rank_generator(options.seed, self.world)
        # What train_step runs: under torchrun, DDP around each part inside fit.
        self.trained_generators: nn.Module = self.generators
        self.trained_discriminators: nn.ModuleDict = self.discriminators
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
        self.history, self.epoch = state["history"], state["epoch"]
        self.rng.set_state(resumed_rng_state(state["rng"], self.options.seed, self.world, self.epoch))

    def _checkpoint(self) -> None:
        """Rank 0 logs the epoch and checkpoints it; every rank waits for it."""
        if self.world.main:
            write_json(self.options.workdir / LOG_NAME, self.history)
            save_checkpoint(self.options.workdir, self.epoch, {
                "epoch": self.epoch, "generators": self.generators.state_dict(),
                "discriminators": self.discriminators.state_dict(), "g_optimizer": self.g_optimizer.state_dict(),
                "d_optimizer": self.d_optimizer.state_dict(), "rng": self.rng.get_state(),
                "pools": {name: pool.state() for name, pool in self.pools.items()},
                "history": self.history, "fingerprint": self.fingerprint})
        barrier(self.world)

    def generator_losses(self, a: torch.Tensor, b: torch.Tensor,
                         restraint: float = 1.0) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Every generator loss term on real batches of both domains, and the two enhanced batches.

        Args:
            a: (B, C, H, W) real anthropogenic patches in unit space.
            b: (B, C, H, W) real natural patches in unit space.
            restraint: the share of their weight the proximity, colour and identity terms get (see restraint).

        Returns:
            (named loss terms, G_max(a), G_min(b)).
        """
        s, g, d, space = self.settings, self.trained_generators, self.discriminators, self.space  # d frozen: plain
        high, low = g.maximizer(a), g.minimizer(b)
        terms = {
            "am": s.lambda_am * (am_loss(self.score, space, high, True, s.am_margin)
                                 + am_loss(self.score, space, low, False, s.am_margin)),
            "proximity": restraint * s.lambda_proximity * (proximity_loss(space, high, a) + proximity_loss(space, low, b)),
            "colour": restraint * s.lambda_colour * (colour_loss(space, high, a) + colour_loss(space, low, b)),
        }
        if s.lambda_adversarial:
            terms["adversarial"] = s.lambda_adversarial * (lsgan(d["max"](high), True) + lsgan(d["min"](low), True))
        if s.lambda_cycle:
            terms["cycle"] = s.lambda_cycle * (F.l1_loss(g.minimizer(high), a) + F.l1_loss(g.maximizer(low), b))
        if s.lambda_identity:
            terms["identity"] = restraint * s.lambda_identity * (proximity_loss(space, g.maximizer(b), b)
                                                                 + proximity_loss(space, g.minimizer(a), a))
        return terms, high, low

    def _discriminator_loss(self, a: torch.Tensor, b: torch.Tensor, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        """D_max tells real natural patches from G_max's; D_min real anthropogenic ones from G_min's."""
        loss = a.new_zeros(())
        for name, real, fake in (("max", b, high), ("min", a, low)):
            judge = self.trained_discriminators[name]
            pooled = self.pools[name].query(fake, self.rng)
            loss = loss + 0.5 * (lsgan(judge(real), True) + lsgan(judge(pooled), False))
        return loss

    def restraint(self, step: int) -> float:
        """The weight share of the terms that hold the generators back, at 0-based global step `step`.

        They ramp up linearly over `warmup_steps`: a fresh generator repaints almost nothing, and
        at full weight from the start they shut its mask before the score term can open it (the
        maximizer stayed the identity for good with proximity and identity at weight 5 each).
        """
        return min(1.0, step / self.settings.warmup_steps) if self.settings.warmup_steps else 1.0

    def train_step(self, a: torch.Tensor, b: torch.Tensor, restraint: float = 1.0) -> dict[str, float]:
        """One generator update, then one discriminator update, on real batches of both domains.

        Args:
            a: (B, C, H, W) real anthropogenic patches in unit space.
            b: (B, C, H, W) real natural patches in unit space.
            restraint: see generator_losses.

        Returns:
            Every loss term, the generator total and the discriminator loss.
        """
        self.discriminators.requires_grad_(False)
        terms, high, low = self.generator_losses(a, b, restraint)
        g_loss = sum(terms.values())
        self.g_optimizer.zero_grad()
        g_loss.backward()
        self.g_optimizer.step()
        losses = {**{k: v.item() for k, v in terms.items()}, "generator": g_loss.item()}
        if not self.settings.lambda_adversarial:
            return losses
        self.discriminators.requires_grad_(True)
        d_loss = self._discriminator_loss(a, b, high.detach(), low.detach())
        self.d_optimizer.zero_grad()
        d_loss.backward()
        self.d_optimizer.step()
        return {**losses, "discriminator": d_loss.item()}

    def _train_epoch(self, data: ModelInputs) -> dict[str, float]:
        """One epoch on this rank's rows of the unpaired batches; each loss's mean over the steps and the ranks."""
        factor = lr_factor(self.epoch, self.options.epochs, self.settings.decay_start)
        for optimizer in (self.g_optimizer, self.d_optimizer):
            for group in optimizer.param_groups:
                group["lr"] = self.options.lr * factor
        self.generators.train()
        self.discriminators.train()
        world, device = self.world, self.options.device
        order = order_generator(world, self.rng, self.options.seed, self.epoch)
        loader = UnpairedBatches(data, self.score.natural_indices, rank_batch(self.options.batch_size, world) * world.size,
                                 order)
        sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.options.epochs}", unit="step", leave=False, mininterval=1.0,
                   disable=not world.main)
        for steps, batches in enumerate(bar, start=1):
            a, b = (self.space.from_input(augment(rank_rows(x, world), self.rng).to(device)) for x in batches)
            restraint = self.restraint(self.epoch * len(loader) + steps - 1)
            for name, value in self.train_step(a, b, restraint).items():
                sums[name] = sums.get(name, 0.0) + value
            bar.set_postfix({name: f"{total / steps:.3f}" for name, total in sums.items()})
        return {f"loss_{name}": round(mean_over_ranks(total / max(len(loader), 1), world, device), 5)
                for name, total in sums.items()} | {"lr": self.options.lr * factor}

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict[str, float]:
        """The classifier's mean natural probability on real, maximized and minimized patches of `data`, and their realism.

        A generator can reach any score by leaving real imagery behind, so the realism measures
        of core.explain.realism.enhancement_measures come with the scores.

        Args:
            data: prepared validation samples (standardised tensor, label).

        Returns:
            For each kind in real/max/min, score_, colour_cast_, checkerboard_ and, with a value
            range, outside_range_ and outside_range_worst_band_ KIND; the mean attribution
            (physical units); with a KID model kid_* (see enhancement_kid).
        """
        self.generators.eval()
        units: dict[str, list[torch.Tensor]] = {"real": [], "max": [], "min": []}
        labels = []
        for x, y in DataLoader(data, batch_size=self.options.batch_size):
            u = self.space.from_input(x.to(self.options.device))
            for kind, image in zip(units, (u, self.generators.maximizer(u), self.generators.minimizer(u))):
                units[kind].append(image)
            labels.append(y)
        images = {kind: torch.cat(parts) for kind, parts in units.items()}
        seen = {kind: self.space.to_input(u) for kind, u in images.items()}
        found = {f"{name}_{kind}": value for kind in seen
                 for name, value in enhancement_measures(seen["real"], seen[kind], self.score, self.card).items()}
        difference = self.space.to_physical(images["max"]) - self.space.to_physical(images["min"])
        found["mean_attribution"] = round(difference.abs().mean().item(), 5)
        return found | (self._kid(images, torch.cat(labels)) if self.kid_model else {})

    def _kid(self, images: dict[str, torch.Tensor], labels: torch.Tensor) -> dict[str, float]:
        """KID of the enhanced held-out patches (unit space) against each real class, in the KID model's features."""
        natural = torch.isin(labels, torch.tensor(self.score.natural_indices)).to(self.options.device)
        physical = {kind: self.space.to_physical(u) for kind, u in images.items()}
        found = enhancement_kid(self.kid_model, self.card.bands, physical["real"][~natural], physical["real"][natural],
                                physical["max"][~natural], physical["min"][natural], self.options.seed)
        return {f"kid_{name}": value for name, value in found.items()}

    @torch.no_grad()
    def _sample_grid(self, data: Dataset) -> Path:
        self.generators.eval()
        step = max(len(data) // self.settings.n_samples, 1)
        x = torch.stack([data[i][0] for i in range(0, len(data), step)][: self.settings.n_samples])
        u = self.space.from_input(x.to(self.options.device))
        high, low = self.generators.maximizer(u), self.generators.minimizer(u)
        path = self.options.workdir / "samples" / f"epoch_{self.epoch:04d}.png"
        return write_sample_grid(path, *(t.cpu().numpy() for t in (u, high, low)), self.card.bands)

    @staticmethod
    def _kid_text(scores: dict[str, float]) -> str:
        if "kid_class_gap" not in scores:
            return ""
        return (f"; KID maximized {scores['kid_maximized_to_natural']:.3f}, minimized "
                f"{scores['kid_minimized_to_anthropogenic']:.3f} (class gap {scores['kid_class_gap']:.3f})")

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
        with process_group(self.world, self.options.device):
            g, device = self.generators, self.options.device
            self.trained_generators = parallel_parts({"maximizer": g.maximizer, "minimizer": g.minimizer}, self.world,
                                                     device)
            self.trained_discriminators = parallel_parts(dict(self.discriminators.items()), self.world, device)
            return self._fit(train, val)

    def _fit(self, train: ModelInputs, val: Dataset) -> list[dict[str, Any]]:
        """fit's loop, inside the process group; every rank validates (alike), rank 0 alone writes."""
        if self.options.resume:
            self._restore()
        elif self.world.main:
            clear_checkpoints(self.options.workdir)
        barrier(self.world)
        while self.epoch < self.options.epochs:
            started = time.perf_counter()
            losses = self._train_epoch(train)
            scores = self.evaluate(val)
            self.epoch += 1
            if self.world.main:
                self._sample_grid(val)
            self.history.append({"epoch": self.epoch, **losses, **scores, "seconds": round(time.perf_counter() - started, 2)})
            self._checkpoint()
            if self.world.main:
                tqdm.write(self._epoch_line(scores))
        return self.history

    def _epoch_line(self, scores: dict[str, float]) -> str:
        """The line logged after each epoch: the held-out scores and the enhanced images' realism."""
        outside = (f"; pixels outside the training range: real {scores['outside_range_real']:.1%}, maximized "
                   f"{scores['outside_range_max']:.1%}, minimized {scores['outside_range_min']:.1%}"
                   if "outside_range_real" in scores else "")
        return (f"epoch {self.epoch}/{self.options.epochs}: natural score on held-out patches "
                f"real {scores['score_real']:.3f}, maximized {scores['score_max']:.3f}, "
                f"minimized {scores['score_min']:.3f}; colour cast {scores['colour_cast_max']:.3f} / "
                f"{scores['colour_cast_min']:.3f} sd{outside}{self._kid_text(scores)}")
