"""The generators and discriminators: valid output range for any band count and tile size, sane init."""
import pytest
import torch
from rasterio.windows import Window

from core.models.generator import ResnetGenerator
from core.models.model_file import load_model
from core.models.patchgan import PatchGANDiscriminator
from core.models.preprocess import UnitSpace, to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, SAMPLE


@pytest.fixture(scope="module")
def sample_unit() -> torch.Tensor:
    """The real sample's ten model bands, 80 x 80 px, in unit space (reflectance)."""
    card = load_model(DEFAULT_MODEL).card
    source = open_input(SAMPLE)
    raw, valid = read_window(match_bands(source, card.bands), source.grid.window(Window(0, 0, 80, 80)))
    return UnitSpace(card).from_input(torch.from_numpy(to_model_input(raw, valid, card))[None])


@pytest.mark.parametrize("bands", [1, 3, 10])
@pytest.mark.parametrize("size", [(70, 45), (7, 5), (64, 64)])
def test_generator_output_stays_in_unit_range_for_any_bands_and_tile(sample_unit: torch.Tensor, bands: int,
                                                                     size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    u = sample_unit[:, :bands, : size[0], : size[1]]
    out = ResnetGenerator(bands, ngf=8, n_blocks=2)(u)
    assert out.shape == u.shape
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_discriminator_starts_from_small_random_weights_not_zeros() -> None:
    torch.manual_seed(0)
    d = PatchGANDiscriminator(10, ndf=8)
    convs = [m.weight for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(0.015 < w.std().item() < 0.025 for w in convs)


def test_patchgan_scores_one_value_per_patch() -> None:
    scores = PatchGANDiscriminator(10, ndf=8)(torch.zeros(2, 10, 64, 64))
    assert scores.shape == (2, 1, 6, 6)
