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
import torch

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
# How deep into a hole the gradient was ever asked to reach: half the widest hole it was fitted on.
# `core inpaint` moves only pixels this close to a known one (jem.inpaint_reach_px) and keeps the
# smooth start deeper in. Measured with ten epochs of the term (one step) on held-out gaps, RMSE in
# reflectance with every pixel moving / with the reach: 64 px holes 0.0218 / 0.0217, the edge
# wedge 0.0404 / 0.0400; the small holes and the stripe lie within it.
REACH_PX = SIDES[1] // 2


def inpainting_card_entry() -> dict[str, float]:
    """The chain `core inpaint` should run with a JEM trained with this term, for the card's `jem` block."""
    return {"inpaint_step": STEP, "inpaint_steps": STEPS, "inpaint_reach_px": REACH_PX}


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
    n, _, height, width = clean.shape
    holes = random_holes(n, height, width, generator).to(clean.device)[:, None]
    start = initial_fill(clean, ~holes[:, 0], "blur", clean.mean(dim=(0, 2, 3), keepdim=True))
    share = torch.rand((n, 1, 1, 1), generator=generator).to(clean.device)
    x = torch.where(holes, clean + share * (start - clean), clean).detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_px(network, space.to_input(x)).sum(), x, create_graph=True)
    before = ((x - clean) * holes).pow(2).sum()
    after = ((x + step * grad - clean) * holes).pow(2).sum()
    return after / before.detach().clamp_min(1e-12)
