"""ROAD's noisy linear imputation and curve on cases small enough to check by hand."""
import numpy as np
import pytest
import torch

from core.explain.metrics import pixel_order
from core.explain.road import noisy_linear_imputation, road_auc, road_curve


def _ramp(h: int = 16, w: int = 16) -> np.ndarray:
    """Two bands: a linear ramp, which a symmetric neighbour mean reproduces exactly, and a constant."""
    rows, cols = np.mgrid[0:h, 0:w]
    return np.stack([2.0 * cols + 3.0 * rows + 1.0, np.full((h, w), 5.0)])


def _hole() -> np.ndarray:
    """A 4x4 block and a lone pixel removed, both away from the tile's edge."""
    removed = np.zeros((16, 16), bool)
    removed[5:9, 6:10] = True
    removed[12, 3] = True
    return removed


def test_imputation_fills_a_hole_in_a_ramp_from_its_rim_and_keeps_the_rest():
    tile, removed = _ramp(), _hole()
    filled = noisy_linear_imputation(tile, removed, np.zeros_like(tile))
    np.testing.assert_allclose(filled, tile, atol=1e-9)
    ruined = tile.copy()
    ruined[:, removed] = -100.0  # what was there before must not matter
    np.testing.assert_allclose(noisy_linear_imputation(ruined, removed, np.zeros_like(tile)), tile, atol=1e-9)


def test_imputation_noise_lands_on_the_removed_pixels_only():
    tile, removed = _ramp(), _hole()
    noise = np.random.default_rng(0).normal(0.0, 0.01, tile.shape)
    filled = noisy_linear_imputation(tile, removed, noise)
    assert np.array_equal(filled[:, ~removed], tile[:, ~removed])
    np.testing.assert_allclose(filled[:, removed], tile[:, removed] + noise[:, removed], atol=1e-9)
    assert np.abs(filled[:, removed] - tile[:, removed]).max() < 0.05  # within five sigma of the noise


def test_imputation_needs_a_kept_pixel():
    with pytest.raises(ValueError, match="at least one kept pixel"):
        noisy_linear_imputation(_ramp(), np.ones((16, 16), bool), np.zeros((2, 16, 16)))


def _evidence(batch: torch.Tensor) -> torch.Tensor:
    """A toy classifier: the tile's mean value, all of it in one bright square."""
    return batch.mean(dim=(1, 2, 3))


def test_removing_the_evidence_first_gives_the_lower_road_auc():
    tile = torch.zeros(1, 16, 16, dtype=torch.float64)
    tile[:, 6:10, 6:10] = 1.0
    key = torch.rand(16, 16, generator=torch.Generator().manual_seed(0))
    noise = np.zeros((1, 16, 16))
    curves = {name: road_curve(_evidence, tile, pixel_order(attribution, key), noise)
              for name, attribution in {"evidence first": tile[0], "evidence last": 1 - tile[0]}.items()}
    assert curves["evidence first"] == pytest.approx(np.zeros(9), abs=1e-9)  # the square filled from its dark rim
    assert (curves["evidence last"] >= 16 / 256 - 1e-9).all()  # the square is kept to the end, and spreads
    assert road_auc(curves["evidence first"]) < road_auc(curves["evidence last"])


def test_road_auc_is_the_curves_mean_height_over_its_span():
    assert road_auc(np.ones(9)) == pytest.approx(1.0)
    assert road_auc(np.array([1.0, 0.0]), percentages=(10, 90)) == pytest.approx(0.5)
