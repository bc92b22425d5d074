"""The realism measures of enhanced images, on a real tile of the sample: a colour cast and a checkerboard are each
caught by their own measure and not by the other; KID separates the two real classes in the JEM's features."""
import pytest
import torch
from rasterio.windows import Window

from core.explain.realism import checkerboard_share, colour_cast, enhancement_kid
from core.models.model_file import load_model
from core.models.preprocess import UnitSpace, to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_JEM, DEFAULT_MODEL, SAMPLE


@pytest.fixture(scope="module")
def tile() -> torch.Tensor:
    """A real 64 x 64 px tile of the sample, standardised as the classifier sees it."""
    card = load_model(DEFAULT_MODEL).card
    source = open_input(SAMPLE)
    raw, valid = read_window(match_bands(source, card.bands), source.grid.window(Window(40, 40, 64, 64)))
    return torch.from_numpy(to_model_input(raw, valid, card))[None]


def _checkerboard(tile: torch.Tensor, amplitude: float) -> torch.Tensor:
    rows, cols = torch.meshgrid(torch.arange(tile.shape[-2]), torch.arange(tile.shape[-1]), indexing="ij")
    return tile + amplitude * ((rows + cols) % 2 * 2 - 1)


def test_colour_cast_is_the_mean_band_shift_and_ignores_local_changes(tile: torch.Tensor) -> None:
    shifted = tile.clone()
    shifted[:, 2] += 0.5
    assert colour_cast(tile, shifted).item() == pytest.approx(0.05, abs=1e-6)
    assert colour_cast(tile, _checkerboard(tile, 0.5)).item() == pytest.approx(0.0, abs=1e-6)


def test_checkerboard_share_flags_a_two_pixel_pattern_and_not_a_colour_shift(tile: torch.Tensor) -> None:
    real = checkerboard_share(tile)
    assert real < 0.01
    assert checkerboard_share(tile + 0.5) == pytest.approx(real)
    assert checkerboard_share(_checkerboard(tile, 0.2)) > 10 * real


def test_checkerboard_share_needs_an_even_tile(tile: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="even tile size"):
        checkerboard_share(tile[..., :63, :])


@pytest.mark.slow
def test_kid_puts_the_class_gap_above_both_floors_on_real_tiles() -> None:
    """The sample's 32 px tiles split by the classifier's verdict, in the bundled JEM's features."""
    classifier, jem = load_model(DEFAULT_MODEL), load_model(DEFAULT_JEM)
    card = classifier.card
    source = open_input(SAMPLE)
    raw, valid = read_window(match_bands(source, card.bands), source.grid)
    x = torch.from_numpy(to_model_input(raw, valid, card))
    tiles = torch.stack([x[:, r:r + 32, c:c + 32] for r in range(0, x.shape[1] - 31, 32) for c in range(0, x.shape[2] - 31, 32)])
    with torch.no_grad():
        natural = torch.softmax(classifier.network(tiles), dim=1)[:, card.natural_indices].sum(dim=1) >= 0.5
    space = UnitSpace(card)
    physical = space.to_physical(space.from_input(tiles))
    anthropogenic, natural_tiles = physical[~natural], physical[natural]
    found = enhancement_kid(jem, card.bands, anthropogenic, natural_tiles, anthropogenic, natural_tiles)
    assert found["class_gap"] > 5 * max(found["floor_natural"], found["floor_anthropogenic"], 1e-3)
    # a generator that changes nothing is scored on the same halves as the class gap, so it scores the gap itself
    assert found["maximized_to_natural"] == found["class_gap"]
    assert found["minimized_to_anthropogenic"] > 5 * max(found["floor_natural"], found["floor_anthropogenic"], 1e-3)
