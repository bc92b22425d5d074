"""SGLD on the bundled JEM: it climbs log p(x) from real patches and from noise, and a mask pins the other entries."""
import pytest
import torch
from rasterio.windows import Window

from core.jem.energy import log_px
from core.jem.sgld import SGLDSettings, sgld
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace, to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_JEM, SAMPLE

pytestmark = pytest.mark.slow  # SGLD chains on real patches

PATCH = 32
# Spread over the sample's farmland, marsh, forest and water.
ORIGINS = [(40, 40), (200, 520), (400, 120), (600, 640), (720, 300), (100, 700)]


@pytest.fixture(scope="module")
def jem() -> LoadedModel:
    return load_model(DEFAULT_JEM)


@pytest.fixture(scope="module")
def space(jem: LoadedModel) -> UnitSpace:
    return UnitSpace(jem.card)


@pytest.fixture(scope="module")
def real_patches(jem: LoadedModel, space: UnitSpace) -> torch.Tensor:
    """(6, 10, 32, 32) real patches of the bundled sample, in unit space."""
    raster = open_input(SAMPLE)
    refs = match_bands(raster, jem.card.bands)
    patches = []
    for row, col in ORIGINS:
        raw, valid = read_window(refs, raster.grid, Window(col, row, PATCH, PATCH))
        assert valid.all()
        patches.append(torch.from_numpy(to_model_input(raw, valid, jem.card)))
    return space.from_input(torch.stack(patches))


def _log_px(jem: LoadedModel, space: UnitSpace, u: torch.Tensor) -> torch.Tensor:
    return log_px(jem.network, space.to_input(u))


def _run(jem: LoadedModel, space: UnitSpace, start: torch.Tensor, mask: torch.Tensor | None = None,
         noise: float | None = None) -> torch.Tensor:
    """SGLD at the settings the JEM was trained with (its card's), which are scaled to its data; `noise` overrides its noise."""
    settings = SGLDSettings(**{**jem.card.jem["sgld"], **({} if noise is None else {"noise": noise})})
    return sgld(lambda u: _log_px(jem, space, u), start, settings, mask, torch.Generator().manual_seed(0))


def test_sgld_gradient_raises_log_px_of_real_patches(jem: LoadedModel, space: UnitSpace, real_patches: torch.Tensor) -> None:
    """Without noise: real patches sit near a mode, where the chain's noise alone can lower log p(x) by a hair."""
    samples = _run(jem, space, real_patches, noise=0.0)
    with torch.no_grad():
        before, after = _log_px(jem, space, real_patches), _log_px(jem, space, samples)
    assert (after > before).all(), (before, after)


def test_sgld_raises_log_px_of_uniform_noise(jem: LoadedModel, space: UnitSpace, real_patches: torch.Tensor) -> None:
    noise = torch.rand(real_patches.shape, generator=torch.Generator().manual_seed(1))
    samples = _run(jem, space, noise)
    with torch.no_grad():
        before, after = _log_px(jem, space, noise), _log_px(jem, space, samples)
    assert (after > before).all(), (before, after)
    assert samples.min() >= 0 and samples.max() <= 1


def test_masked_sgld_leaves_unmasked_entries_bit_for_bit(jem: LoadedModel, space: UnitSpace,
                                                         real_patches: torch.Tensor) -> None:
    mask = torch.zeros(real_patches.shape[0], 1, PATCH, PATCH, dtype=torch.bool)
    mask[:, :, 8:20, 10:24] = True
    out = _run(jem, space, real_patches, mask)
    keep = ~mask.expand_as(real_patches)
    assert torch.equal(out[keep], real_patches[keep])
    assert not torch.equal(out[~keep], real_patches[~keep])
