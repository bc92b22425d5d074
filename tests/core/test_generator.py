"""The generators and discriminators: output bounded by the input and real spectra for any weights, band count and
tile size; a fresh generator is the identity; sane discriminator init."""
import pytest
import torch
from rasterio.windows import Window

from core.models.generator import RepaintGenerator
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


def _generator(bands: int, endmembers: torch.Tensor) -> RepaintGenerator:
    """A small generator over `bands` bands with the given (K, bands) real spectra, unit statistics from them."""
    return RepaintGenerator(bands, endmembers.mean(0).tolist(), (endmembers.std(0) + 0.01).tolist(), endmembers.tolist(),
                            ngf=8, n_blocks=2)


def _real_spectra(u: torch.Tensor, k: int = 6) -> torch.Tensor:
    """(k, C) pixels of the sample itself, spread over the tile: real spectra to paint with."""
    flat = u[0].flatten(1)
    return flat[:, torch.linspace(0, flat.shape[1] - 1, k).long()].T.contiguous()


@pytest.mark.parametrize("bands", [1, 3, 10])
@pytest.mark.parametrize("size", [(70, 45), (7, 5), (64, 64)])
def test_any_weights_give_each_pixel_a_mix_of_itself_and_real_spectra(sample_unit: torch.Tensor, bands: int,
                                                                       size: tuple[int, int]) -> None:
    u = sample_unit[:, :bands, : size[0], : size[1]]
    spectra = _real_spectra(sample_unit[:, :bands])
    torch.manual_seed(0)
    generator = _generator(bands, spectra)
    for parameter in generator.parameters():  # any weights, not just a fresh generator's
        torch.nn.init.normal_(parameter, 0.0, 1.0)
    out = generator(u)
    assert out.shape == u.shape and torch.isfinite(out).all()
    low = torch.minimum(u, spectra.min(0).values[None, :, None, None])
    high = torch.maximum(u, spectra.max(0).values[None, :, None, None])
    assert (out >= low - 1e-6).all() and (out <= high + 1e-6).all()
    assert (out - u).abs().max() > 0.01  # and the random weights did change the image


def test_a_fresh_generator_is_close_to_the_identity(sample_unit: torch.Tensor) -> None:
    torch.manual_seed(0)
    generator = _generator(10, _real_spectra(sample_unit))
    mask, _ = generator.mask_and_paint(sample_unit)
    torch.testing.assert_close(mask, torch.full_like(mask, torch.sigmoid(torch.tensor(-4.0)).item()))
    assert (generator(sample_unit) - sample_unit).abs().max() < 0.018 * sample_unit.max()


def test_discriminator_starts_from_small_random_weights_not_zeros() -> None:
    torch.manual_seed(0)
    d = PatchGANDiscriminator(10, ndf=8)
    convs = [m.weight for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(0.015 < w.std().item() < 0.025 for w in convs)


def test_patchgan_scores_one_value_per_patch() -> None:
    scores = PatchGANDiscriminator(10, ndf=8)(torch.zeros(2, 10, 64, 64))
    assert scores.shape == (2, 1, 6, 6)
