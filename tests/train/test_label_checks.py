"""train/label_checks.py: labels a classifier cannot be trained on are refused in one sentence, before any patch.

Every polygon lies in the north half of the sample (the scene's rows above 980); the south half is never labelled.
"""
import json
from pathlib import Path

import pytest

from core.errors import NaturalExplainError
from core.resources import SAMPLE
from train.__main__ import main
from train.label_checks import check_labels

NORTH_Y = (4173360.0, 4174960.0)
SQUARES = {"anthropogenic": (442730.0, 444330.0), "natural": (449130.0, 450730.0)}


def labels(path: Path, squares: dict[str, tuple[float, float]], y: tuple[float, float] = NORTH_Y) -> Path:
    features = [{"type": "Feature", "properties": {"label": name}, "geometry": {"type": "Polygon", "coordinates": [[
        [x0, y[0]], [x1, y[0]], [x1, y[1]], [x0, y[1]], [x0, y[0]]]]}} for name, (x0, x1) in squares.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32618"}}}))
    return path


def test_good_labels_are_counted_per_class(tmp_path: Path) -> None:
    summary = check_labels(SAMPLE, labels(tmp_path / "l.geojson", SQUARES), "label", 10.0)
    assert summary.pixels == {"anthropogenic": 160 * 160, "natural": 160 * 160} and summary.outside == 0


def test_one_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NaturalExplainError, match=r"holds only one value \(natural\): a classifier needs polygons"):
        check_labels(SAMPLE, labels(tmp_path / "l.geojson", {"natural": SQUARES["natural"]}), "label", 10.0)


def test_polygons_outside_the_raster_are_refused(tmp_path: Path) -> None:
    far = {"anthropogenic": (500000.0, 501000.0), "natural": (502000.0, 503000.0)}
    with pytest.raises(NaturalExplainError, match="every polygon of .* lies outside the raster"):
        check_labels(SAMPLE, labels(tmp_path / "l.geojson", far), "label", 10.0)


def test_a_class_under_50_pixels_is_refused_in_one_line_by_the_command(tmp_path: Path, capsys) -> None:
    tiny = {"anthropogenic": SQUARES["anthropogenic"], "natural": (449130.0, 449190.0)}
    path = labels(tmp_path / "l.geojson", tiny, (4174900.0, 4174960.0))
    status = main(["classifier", "--raster", str(SAMPLE), "--polygons", str(path), "--natural-classes", "natural",
                   "--out", str(tmp_path / "m"), "--epochs", "1", "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: class(es) natural (36) of field 'label' cover fewer than 50 labelled pixels")
