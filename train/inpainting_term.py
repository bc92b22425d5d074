"""JEM training's inpainting term: teach the gradient of log p(x) to carry a hole's smooth start to the truth.

Denoising score matching (Vincent, 2011; Saremi et al.'s DEEN for energy networks) fits an
energy whose gradient points from a corrupted input back to the clean one. Here the corruption
is the one `core inpaint` starts from: holes filled by spreading their known pixels inward
(core.inpaint.initial_fill, "blur"), moved a random share t of the way from the truth, so every
point of a chain's path has a target. One gradient step of size STEP should land on the truth:
the term is the squared residual ||x_t + STEP * grad log p(x_t) - x||^2 over the holes' pixels, divided by ||x_t - x||^2, so 1 means the gradient does nothing and 0 that it fills the
holes exactly. Without it the JEM's gradient did not lower the error of the start on held-out
pixels (README, `core inpaint`): nothing in JEM's loss asks it to.

The holes are rectangles (4-24 px sides) or stripes across the patch (2-12 px wide), the
shapes of `bench/measure_inpaint.py`'s gaps at the scale of one training patch.
"""
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from core.inpaint import initial_fill
from core.jem.energy import log_px
from core.models.preprocess import UnitSpace

# The step the gradient is trained for, recorded in the model card (jem.inpaint_step) as the step
# `core inpaint` takes with this JEM. Only step * gradient is fitted, so the step sets how large
# the gradient must be: at 0.1 log p(x) climbed to ~30 on the data in a probe fitting this term
# alone (against ~0.5 under JEM's energy penalty), at 1 it stayed near 3 for the same residual.
STEP = 1.0
# The chain `core inpaint` runs with such a JEM (jem.inpaint_steps): the term fits one step, and on
# held-out gaps a second step added error on four of five masks (measured with ten epochs of it).
STEPS = 1
SIDES = (4, 24)
STRIPE_WIDTHS = (2, 12)
STRIPE_SHARE = 1 / 3
# The deepest ring of a hole (its pixels' distance to the nearest known one, in px) whose gain is
# measured: half the widest hole the term is fitted on, so no deeper pixel exists in training.
MAX_REACH_PX = SIDES[1] // 2
# The fitted step is where the chain stops, so no noise goes on top: the step's landing point is
# fitted to the truth (a best guess, the posterior mean for this squared error), and noise only adds
# error to it (measured on held-out gaps with the bundled JEM: 0.001 cost 0.5 % on the small holes).
NOISE = 0.0


def ring_gains(network: torch.nn.Module, space: UnitSpace, batches: Iterable[torch.Tensor], seed: int,
               step: float = STEP) -> list[float]:
    """Per ring of a hole, the share of the smooth start's squared error that one gradient step removes.

    Ring k holds the hole pixels k - 1 < d <= k px from the nearest known pixel. Measured after
    training, on the training patches with the term's own holes, from the start (t = 1) that `core
    inpaint` runs from. A JEM's step lowered the error on the first two rings and raised it from the
    third on (the 64 px holes, the cloud and the edge wedge of bench/measure_inpaint.py lost to the
    start when every pixel up to 12 px deep moved), so the card's reach is where the gain ends.

    Args:
        network: the trained classifier.
        space: the card's unit space.
        batches: (B, C, H, W) unit-space patches, the truth.
        seed: draws the holes.
        step: the step the gradient is scaled by.

    Returns:
        MAX_REACH_PX gains, 1 for a step that lands on the truth, 0 for none, negative where it adds error.
    """
    generator = torch.Generator().manual_seed(seed)
    before, after = (torch.zeros(MAX_REACH_PX + 1, dtype=torch.float64) for _ in range(2))
    for clean in batches:
        holes, start = holes_and_start(clean, generator)
        ring = np.ceil(np.stack([ndimage.distance_transform_edt(h) for h in holes[:, 0].cpu().numpy()]))  # 0: known
        ring = torch.from_numpy(ring).long().clamp_max(MAX_REACH_PX).flatten()
        x = torch.where(holes, start, clean).requires_grad_(True)
        grad, = torch.autograd.grad(log_px(network, space.to_input(x)).sum(), x)
        for total, filled in ((before, x.detach()), (after, x.detach() + step * grad)):
            total.index_add_(0, ring, (filled - clean).pow(2).sum(dim=1).flatten().cpu().double())
    return [round(1.0 - float(a / b), 4) if b > 0 else 0.0 for a, b in zip(after[1:], before[1:])]


def fitted_reach(gains: list[float]) -> int:
    """How many rings from a hole's edge the step moves: those up to the first whose error it does not lower."""
    return next((k for k, gain in enumerate(gains) if gain <= 0), len(gains))


def inpainting_card_entry(gains: list[float]) -> dict[str, Any]:
    """The chain `core inpaint` runs with a JEM trained with this term (card `jem` block), from its measured ring gains."""
    return {"inpaint_step": STEP, "inpaint_steps": STEPS, "inpaint_noise": NOISE,
            "inpaint_reach_px": fitted_reach(gains), "inpaint_ring_gains": gains}


def _spans(n: int, length: int, sizes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(n, length) bool: per row, one run of `sizes[i]` cells at a random place inside [0, length)."""
    starts = (torch.rand(n, generator=generator) * (length - sizes + 1)).long()
    cells = torch.arange(length)
    return (cells >= starts[:, None]) & (cells < (starts + sizes)[:, None])


def random_holes(n: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """(n, height, width) bool holes: a rectangle per patch, or a stripe across it (rows or columns) for a third."""
    def sizes(low: int, high: int, limit: int) -> torch.Tensor:
        return torch.randint(low, min(high, limit - 1) + 1, (n,), generator=generator)

    rows = _spans(n, height, sizes(*SIDES, height), generator)
    cols = _spans(n, width, sizes(*SIDES, width), generator)
    stripe = torch.rand(n, generator=generator) < STRIPE_SHARE
    across = torch.rand(n, generator=generator) < 0.5  # a stripe of rows or of columns
    band_rows = _spans(n, height, sizes(*STRIPE_WIDTHS, height), generator)
    band_cols = _spans(n, width, sizes(*STRIPE_WIDTHS, width), generator)
    rows = torch.where((stripe & across)[:, None], band_rows, torch.where(stripe[:, None], True, rows))
    cols = torch.where((stripe & ~across)[:, None], band_cols, torch.where(stripe[:, None], True, cols))
    return rows[:, :, None] & cols[:, None, :]


def holes_and_start(clean: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, H, W) random holes in the (B, C, H, W) unit-space patches `clean`, and (B, C, H, W) their smooth start
    (core inpaint's blur of the known pixels)."""
    holes = random_holes(len(clean), clean.shape[-2], clean.shape[-1], generator).to(clean.device)[:, None]
    return holes, initial_fill(clean, ~holes[:, 0], "blur", clean.mean(dim=(0, 2, 3), keepdim=True))


def inpainting_residual(network: torch.nn.Module, space: UnitSpace, clean: torch.Tensor,
                        generator: torch.Generator, step: float = STEP) -> torch.Tensor:
    """The term: the holes' squared error after one gradient step of size `step`, over their error before it.

    Args:
        network: the classifier (not wrapped by DDP: the term differentiates its input gradient).
        space: the card's unit space.
        clean: (B, C, H, W) unit-space patches, the truth.
        generator: draws the holes and the shares t.
        step: the step size the gradient is scaled by.

    Returns:
        A differentiable scalar, 1 when the gradient does not help.
    """
    holes, start = holes_and_start(clean, generator)
    share = torch.rand((len(clean), 1, 1, 1), generator=generator).to(clean.device)
    x = torch.where(holes, clean + share * (start - clean), clean).detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_px(network, space.to_input(x)).sum(), x, create_graph=True)
    before = ((x - clean) * holes).pow(2).sum()
    after = ((x + step * grad - clean) * holes).pow(2).sum()
    return after / before.detach().clamp_min(1e-12)
