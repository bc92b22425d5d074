"""The metric functions on cases small enough to check by hand."""
import numpy as np
import pytest
import torch

from core.explain.metrics import curve_auc, gaussian_blur, iou, pixel_order, reveal_curve, top_fraction_mask


def _share_of_bright_pixels(batch: torch.Tensor) -> torch.Tensor:
    """A toy classifier whose score is the share of the tile's 'evidence' (value 1) still present."""
    return batch.mean(dim=(1, 2, 3))


@pytest.fixture
def toy_tile() -> tuple[torch.Tensor, torch.Tensor]:
    """A 4x4 tile whose evidence is its left half; the fill carries none."""
    tile = torch.zeros(1, 4, 4)
    tile[:, :, :2] = 1.0
    return tile, torch.zeros_like(tile)


def test_iou_of_identical_masks_is_one_and_of_disjoint_masks_zero():
    a = np.zeros((4, 4), bool)
    a[:2] = True
    assert iou(a, a) == 1.0 and iou(a, ~a) == 0.0
    b = np.zeros((4, 4), bool)
    b[:1] = True
    assert iou(a, b) == pytest.approx(0.5)


def test_top_fraction_mask_keeps_exactly_q_percent_breaking_ties_by_the_key():
    attribution = torch.zeros(10, 10)
    attribution[0, :5] = 1.0
    key = torch.arange(100, dtype=torch.float32).flip(0).view(10, 10)
    mask = top_fraction_mask(attribution, key, q=10)
    assert mask.sum() == 10 and mask[0, :5].all()
    assert mask.view(-1)[-5:].all()  # the tied zeros the key ranks first


def test_perfect_attribution_deletes_fastest_and_inserts_fastest(toy_tile):
    tile, fill = toy_tile
    perfect = tile[0]
    inverse = 1 - tile[0]
    key = torch.rand(4, 4, generator=torch.Generator().manual_seed(0))
    aucs = {}
    for name, attribution in {"perfect": perfect, "inverse": inverse}.items():
        order = pixel_order(attribution, key)
        aucs[name] = (curve_auc(reveal_curve(_share_of_bright_pixels, tile, fill, order, 4)),
                      curve_auc(reveal_curve(_share_of_bright_pixels, fill, tile, order, 4)))
    # deletion, perfect: 0.5, 0.25, 0, 0, 0; insertion, perfect: 0, 0.25, 0.5, 0.5, 0.5 (steps of 1/4)
    assert aucs["perfect"] == pytest.approx((0.25 * (0.5 / 2 + 0.25), 0.25 * (0.25 + 0.5 + 0.5 + 0.5 / 2)))
    assert aucs["inverse"] == pytest.approx((0.25 * (0.5 / 2 + 0.5 + 0.5 + 0.25), 0.25 * (0.25 + 0.5 / 2)))
    assert aucs["perfect"][0] < aucs["inverse"][0] and aucs["perfect"][1] > aucs["inverse"][1]


def test_reveal_curve_starts_at_start_and_ends_at_fill(toy_tile):
    tile, fill = toy_tile
    order = pixel_order(torch.rand(4, 4), torch.rand(4, 4))
    curve = reveal_curve(_share_of_bright_pixels, tile, fill, order, steps=8)
    assert curve[0] == pytest.approx(0.5) and curve[-1] == 0.0 and len(curve) == 9


def test_curve_auc_is_the_trapezoid_rule():
    assert curve_auc(np.array([1.0, 0.0])) == pytest.approx(0.5)
    assert curve_auc(np.array([1.0, 1.0, 0.0])) == pytest.approx(0.75)


def test_gaussian_blur_keeps_a_constant_tile_and_smooths_an_edge():
    constant = torch.full((1, 2, 16, 16), 3.0)
    assert torch.allclose(gaussian_blur(constant, 2.0), constant)
    edge = torch.zeros(1, 1, 16, 16)
    edge[..., 8:] = 1.0
    blurred = gaussian_blur(edge, 2.0)
    assert 0 < blurred[0, 0, 0, 7] < 0.5 < blurred[0, 0, 0, 8] < 1
