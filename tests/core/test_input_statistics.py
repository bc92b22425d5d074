"""The one out-of-distribution verdict on real imagery: `core ood` flags a red/blue swap, a +1000 offset
and a 60 m product read at 10 m of a real sample tile, does not flag the tile itself, and names each
check's statistic and limit in ood.json."""
import json

import numpy as np
import pytest
import rasterio
import torch
from osgeo import gdal
from rasterio.windows import Window

from core.input_statistics import InputStatistics, ordered_pairs
from core.models.model_file import load_model
from core.ood import ood_report
from core.resources import DEFAULT_JEM
from tests.helpers.rasters import MODEL_BANDS, write_stack

CHECKS = ["moments", "band_order", "fine_detail", "value_range", "log_px_kl_divergence"]


@pytest.fixture(scope="module")
def tile(tmp_path_factory):
    """400 x 400 px (4 x 4 km) of the real sample, as one named 10-band GeoTIFF."""
    return write_stack(tmp_path_factory.mktemp("tile") / "tile.tif", Window(200, 200, 400, 400))


def report(tile, out, **kwargs) -> dict:
    result = ood_report(tile, out, model=DEFAULT_JEM, **kwargs)
    recorded = json.loads(result.json_path.read_text())
    assert recorded["out_of_distribution"] == result.out_of_distribution
    return recorded


def fired(recorded: dict) -> set[str]:
    return {r["check"] for r in recorded["reasons"] if r["fired"]}


def test_the_real_tile_is_not_flagged_and_every_check_gives_its_reason(tile, tmp_path):
    recorded = report(tile, tmp_path / "ood")
    assert recorded["out_of_distribution"] is False and recorded["warning"] is None
    assert [r["check"] for r in recorded["reasons"]] == CHECKS
    for reason in recorded["reasons"]:
        assert reason["fired"] is False and reason["what"]
        assert (reason["statistic"] < reason["limit"]) == (reason["fires_when"] == "above")


@pytest.mark.slow
def test_a_red_blue_swap_is_flagged_by_the_band_order(tile, tmp_path):
    numbers = {name: i for i, name in enumerate(MODEL_BANDS, start=1)}
    numbers["B02"], numbers["B04"] = numbers["B04"], numbers["B02"]
    recorded = report(tile, tmp_path / "ood", bands=numbers)
    assert recorded["out_of_distribution"] is True and "band_order" in fired(recorded)
    order = next(r for r in recorded["reasons"] if r["check"] == "band_order")
    assert order["statistic"] < 0.2 and order["what"] in recorded["warning"]
    assert "B02 is brighter than B04, as in the training imagery, in only" in recorded["warning"]


@pytest.mark.slow
def test_a_1000_offset_left_in_is_flagged_by_the_band_means(tile, tmp_path):
    shifted = tmp_path / "offset.tif"
    with rasterio.open(tile) as src:
        profile = src.profile
        data = src.read().astype(np.int32) + 1000
        descriptions = src.descriptions
    with rasterio.open(shifted, "w", **profile) as dst:
        dst.write(data.astype("uint16"))
        for i, name in enumerate(descriptions, start=1):
            dst.set_band_description(i, name)
    recorded = report(shifted, tmp_path / "ood")
    assert recorded["out_of_distribution"] is True and "moments" in fired(recorded)
    assert "B02's mean lies" in recorded["warning"] and "training std above the training mean" in recorded["warning"]


@pytest.mark.slow
def test_a_60m_product_read_at_10m_is_flagged_by_the_fine_detail(tile, tmp_path):
    coarse = tmp_path / "coarse.vrt"
    gdal.Translate(str(coarse), str(tile), format="VRT", xRes=60, yRes=60, resampleAlg="average")
    recorded = report(coarse, tmp_path / "ood")
    assert recorded["out_of_distribution"] is True and fired(recorded) == {"fine_detail"}


def test_the_band_order_pairs_come_from_the_card_and_overlapping_tiles_add_up():
    card = load_model(DEFAULT_JEM).card
    assert [(card.bands[i], card.bands[j]) for i, j in ordered_pairs(card)] == [("B02", "B03"), ("B02", "B04")]
    x = torch.randn(2, len(card.bands), 16, 16)
    valid = np.ones((2, 16, 16), dtype=bool)
    valid[1, :, 8:] = False
    whole, parts = InputStatistics(card, torch.device("cpu")), InputStatistics(card, torch.device("cpu"))
    whole.add(x, valid)
    parts.add(x[:1], valid[:1])
    parts.add(x[1:], valid[1:])
    assert whole.pixels == parts.pixels == 256 + 128
    np.testing.assert_allclose(whole.band_means(), x.permute(1, 0, 2, 3)[:, torch.from_numpy(valid)].mean(1).numpy(),
                               atol=1e-6)
    assert [r.check for r in whole.reasons()] == [r.check for r in parts.reasons()] == ["moments", "band_order",
                                                                                        "fine_detail"]
    assert [r.statistic for r in whole.reasons()] == pytest.approx([r.statistic for r in parts.reasons()], rel=1e-5)


def test_a_tile_with_nodata_counts_what_its_valid_part_alone_counts(tile):
    """The nodata path (mask arithmetic) and the all-valid path (none) measure the same pixels the same way."""
    loaded = load_model(DEFAULT_JEM)
    with rasterio.open(tile) as src:
        raw = src.read(window=Window(0, 0, 64, 64)).astype(np.float32)
    x = torch.from_numpy((raw - np.asarray(loaded.card.mean, np.float32)[:, None, None])
                         / np.asarray(loaded.card.std, np.float32)[:, None, None])[None]
    valid = np.zeros((1, 64, 64), dtype=bool)
    valid[:, :40] = True
    masked, cropped = InputStatistics(loaded.card, torch.device("cpu")), InputStatistics(loaded.card, torch.device("cpu"))
    masked.add(x, valid)
    cropped.add(x[:, :, :40], None)
    assert masked.pixels == cropped.pixels == 40 * 64
    assert (masked.near_pairs, masked.far_pairs) == (cropped.near_pairs, cropped.far_pairs)
    assert [r.statistic for r in masked.reasons()] == pytest.approx([r.statistic for r in cropped.reasons()], rel=1e-5)
    np.testing.assert_allclose(masked.band_stds(), cropped.band_stds(), rtol=1e-5)
