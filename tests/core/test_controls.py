"""The brightness control on a real tile: the mean reflectance over the model's bands."""
import numpy as np
import torch
from rasterio.windows import Window

from core.explain.controls import brightness_map, random_map
from core.models.model_file import load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input


def test_brightness_is_the_mean_reflectance_over_bands(sample_dir, default_model):
    loaded = load_model(default_model)
    raster = open_input(sample_dir)
    raw, valid = read_window(match_bands(raster, loaded.card.bands), raster.grid, Window(300, 200, 32, 32))
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))[None]
    reflectance = np.clip(raw * loaded.card.scale, *loaded.card.clip).mean(axis=0)
    np.testing.assert_allclose(brightness_map(x, loaded)[0].numpy(), reflectance, rtol=1e-4, atol=1e-5)
    assert 0.01 < reflectance.mean() < 0.5  # reflectance, not digital numbers or standardised units


def test_random_control_is_fixed_by_its_generator():
    draw = [random_map((2, 8, 8), torch.Generator().manual_seed(seed)) for seed in (3, 3, 4)]
    assert torch.equal(draw[0], draw[1]) and not torch.equal(draw[0], draw[2])
