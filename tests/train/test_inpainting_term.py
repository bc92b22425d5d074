"""The inpainting term of JEM training: its holes are the gaps core inpaint meets, and it scores 1 for a gradient
that does nothing and 0 for one whose step lands exactly on the truth."""
import torch
from torch import nn

from core.models.model_file import load_model
from core.models.preprocess import UnitSpace
from core.resources import DEFAULT_JEM
from train.inpainting_term import (
    MAX_REACH_PX,
    SIDES,
    STEP,
    STRIPE_WIDTHS,
    fitted_reach,
    inpainting_residual,
    random_holes,
    ring_gains,
)


def test_holes_are_rectangles_or_stripes_and_never_the_whole_patch() -> None:
    holes = random_holes(600, 32, 32, torch.Generator().manual_seed(0))
    rows, cols = holes.any(dim=2), holes.any(dim=1)
    assert (holes == (rows[:, :, None] & cols[:, None, :])).all()  # each hole is one box
    heights, widths = rows.sum(1), cols.sum(1)
    assert heights.min() >= STRIPE_WIDTHS[0] and widths.min() >= STRIPE_WIDTHS[0]
    assert not holes.flatten(1).all(dim=1).any()
    stripes = (heights == 32) | (widths == 32)
    assert 0.25 < stripes.float().mean() < 0.42
    thickness = torch.where(heights == 32, widths, heights)[stripes]
    assert thickness.max() <= STRIPE_WIDTHS[1]
    boxes = ~stripes
    assert heights[boxes].max() <= SIDES[1] and widths[boxes].min() >= SIDES[0]


class _Quadratic(nn.Module):
    """log p(x) = -||x - truth||^2 / (2 STEP) in unit space: one step of STEP along its gradient lands on the truth."""

    def __init__(self, space: UnitSpace, truth: torch.Tensor, scale: float) -> None:
        super().__init__()
        self.space, self.truth, self.scale = space, truth, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (-(self.space.from_input(x) - self.truth).pow(2).sum(dim=(1, 2, 3)) * self.scale / (2 * STEP))[:, None]


def test_residual_is_zero_for_the_exact_gradient_one_for_none_and_differentiable() -> None:
    space = UnitSpace(load_model(DEFAULT_JEM).card, "cpu")
    generator = torch.Generator().manual_seed(1)
    truth = torch.rand((8, 10, 32, 32), generator=generator) * 0.2
    assert inpainting_residual(_Quadratic(space, truth, 1.0), space, truth, generator).item() < 1e-10
    assert abs(inpainting_residual(_Quadratic(space, truth, 0.0), space, truth, generator).item() - 1.0) < 1e-6
    half = inpainting_residual(_Quadratic(space, truth, 0.5), space, truth, generator)
    assert abs(half.item() - 0.25) < 1e-5  # half the step leaves half the error, a quarter of its square
    network = load_model(DEFAULT_JEM).network
    inpainting_residual(network, space, truth, generator).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.parameters() if p.requires_grad)


def test_ring_gains_are_the_share_of_the_error_the_step_removes_and_the_reach_ends_at_the_first_loss() -> None:
    space = UnitSpace(load_model(DEFAULT_JEM).card, "cpu")
    truth = torch.rand((64, 10, 32, 32), generator=torch.Generator().manual_seed(2)) * 0.2
    exact, half, none = (ring_gains(_Quadratic(space, truth, scale), space, [truth], seed=0) for scale in (1.0, 0.5, 0.0))
    assert len(exact) == MAX_REACH_PX and all(abs(g - 1) < 1e-4 for g in exact[:6])  # rings 1-6 exist in every draw
    assert all(abs(g - 0.75) < 1e-4 for g in half[:6]) and none[:6] == [0.0] * 6
    assert ring_gains(_Quadratic(space, truth, 0.5), space, [truth], seed=0) == half  # the seed fixes the holes
    assert (fitted_reach([0.09, 0.03, -0.01, 0.2]), fitted_reach(none), fitted_reach([0.1] * 3)) == (2, 0, 3)
