"""The training value range in the model card: the 0.1 and 99.9 percentiles of each band's training pixels,
computed by the command's own data path, holding all but the tails of those pixels."""
from pathlib import Path

import numpy as np

from core.models.model_file import load_model
from core.models.preprocess import scale_and_clip
from core.resources import DEFAULT_JEM, DEFAULT_MODEL
from train.__main__ import build_parsers
from train.commands import classifier
from train.normalization import RANGE_BINS, RANGE_PERCENTILES


def test_card_range_holds_all_but_the_tails_of_the_training_pixels(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    parser, _ = build_parsers()
    args = parser.parse_args(["classifier", "--raster", str(raster_layout["raster"]), "--polygons",
                              str(raster_layout["polygons"]), "--label-field", "landscape", "--patch-size", "32",
                              "--stride", "32", "--bands", "B02,B03,B04,B08", "--out", str(tmp_path / "m")])
    run = classifier.prepare(args)
    card = run.card
    pixels = np.concatenate([scale_and_clip(raw, card.scale, card.clip)[:, valid]
                             for raw, valid, _ in (run.dataset[i] for i in run.split.train)], axis=1)
    low, high = np.array(card.value_range).T
    bin_width = (card.clip[1] - card.clip[0]) / RANGE_BINS
    assert np.allclose(low, np.percentile(pixels, RANGE_PERCENTILES[0], axis=1), atol=2 * bin_width)
    assert np.allclose(high, np.percentile(pixels, RANGE_PERCENTILES[1], axis=1), atol=2 * bin_width)
    outside = ((pixels < low[:, None]) | (pixels > high[:, None])).mean(axis=1)
    assert (outside <= 0.003).all() and (outside > 0).any()


def test_bundled_models_carry_the_same_range_of_their_shared_training_split() -> None:
    ranges = [load_model(path).card.value_range for path in (DEFAULT_MODEL, DEFAULT_JEM)]
    assert ranges[0] == ranges[1] and len(ranges[0]) == 10
    assert all(0 <= low < high <= 1 for low, high in ranges[0])
