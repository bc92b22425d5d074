"""natural_explain:naturalness_map from Processing and from qgis_process, on the real sample."""
import json
from pathlib import Path

import pytest
import rasterio
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProcessingException,
    QgsProject,
    QgsRectangle,
)

from tests.helpers.plugin_runs import centre_aoi, feedback_that_cancels_mid_run

ALGORITHM_ID = "natural_explain:naturalness_map"


def grid(path: Path) -> tuple:
    with rasterio.open(path) as src:
        return src.crs, src.transform, src.width, src.height


def assert_delivered_whole(output: Path) -> None:
    """OUTPUT, its run record naming it and its style are there, and no hidden run folder is left."""
    assert output.is_file()
    record = json.loads(output.with_name(f"{output.stem}.run.json").read_text())
    assert record["outputs"] == {"naturalness": str(output.resolve())}
    assert output.with_suffix(".qml").is_file()
    assert [p.name for p in output.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_algorithm_writes_output_on_the_input_grid(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    output = tmp_path / "maps" / "natural.tif"
    result = processing.run(ALGORITHM_ID, {"INPUT": str(sample_stack), "DEVICE": 1, "OUTPUT": str(output)})
    assert Path(result["OUTPUT"]) == output
    assert grid(output) == grid(sample_stack)
    assert_delivered_whole(output)


def test_aoi_in_another_crs_is_reprojected_onto_the_input_grid(plugin, qgis_processing, sample_stack,
                                                               tmp_path) -> None:
    import processing

    crs, transform, width, height = grid(sample_stack)
    centre_x, centre_y = transform * (width / 2, height / 2)
    box = QgsRectangle(centre_x - 1000, centre_y - 1000, centre_x + 1000, centre_y + 1000)
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem(crs.to_string()),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    lonlat = to_wgs84.transformBoundingBox(box)
    aoi = f"{lonlat.xMinimum()},{lonlat.xMaximum()},{lonlat.yMinimum()},{lonlat.yMaximum()} [EPSG:4326]"
    output = tmp_path / "aoi.tif"
    processing.run(ALGORITHM_ID, {"INPUT": str(sample_stack), "AOI": aoi, "OUTPUT": str(output)})

    out_crs, out_transform, out_width, out_height = grid(output)
    assert out_crs == crs and (out_transform.a, out_transform.e) == (transform.a, transform.e)
    col, row = ~transform * (out_transform.c, out_transform.f)
    assert col == pytest.approx(round(col)) and row == pytest.approx(round(row))
    # about 2 km wide, a little more because the box grew when it went to degrees and back
    assert 200 <= out_width <= 230 and 200 <= out_height <= 230
    assert_delivered_whole(output)


def test_user_error_is_one_line_processing_error_and_leaves_nothing(plugin, qgis_processing, make_stack,
                                                                     tmp_path) -> None:
    import processing

    red_green = make_stack(tmp_path / "rg.vrt", ["B04", "B03"])  # no bundled model fits two bands
    output = tmp_path / "out" / "natural.tif"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(ALGORITHM_ID, {"INPUT": str(red_green), "OUTPUT": str(output)})
    assert "B02" in str(raised.value) and "\n" not in str(raised.value).strip()
    assert list(output.parent.iterdir()) == []


def test_cancel_mid_run_raises_and_leaves_no_output(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    feedback, canceled_at = feedback_that_cancels_mid_run()
    output = tmp_path / "out" / "natural.tif"
    with pytest.raises(QgsProcessingException, match="canceled"):
        processing.run(ALGORITHM_ID, {"INPUT": str(sample_stack), "OUTPUT": str(output)}, feedback=feedback)
    assert canceled_at
    assert list(output.parent.iterdir()) == []


@pytest.mark.slow
def test_qgis_process_writes_output_on_the_input_grid(qgis_process, sample_stack, tmp_path) -> None:
    output = tmp_path / "natural.tif"
    run = qgis_process(["run", ALGORITHM_ID, "--", f"INPUT={sample_stack}", f"OUTPUT={output}"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert grid(output) == grid(sample_stack)
    assert_delivered_whole(output)


def test_band_mapping_parameter_feeds_bands_whose_names_say_nothing(plugin, qgis_processing, small_stack, model_bands,
                                                                     tmp_path) -> None:
    """BANDS does in Processing what the dock's band table does: the same map as from well-named bands."""
    import processing
    from osgeo import gdal

    unnamed = tmp_path / "unnamed.vrt"
    copy = gdal.Translate(str(unnamed), str(small_stack), format="VRT")
    for number in range(1, copy.RasterCount + 1):
        copy.GetRasterBand(number).SetDescription(f"layer {number}")
    copy = None
    mapping = ",".join(f"{name}={number}" for number, name in enumerate(model_bands, start=1))
    named, mapped = tmp_path / "named.tif", tmp_path / "mapped.tif"
    processing.run(ALGORITHM_ID, {"INPUT": str(small_stack), "OUTPUT": str(named)})
    processing.run(ALGORITHM_ID, {"INPUT": str(unnamed), "BANDS": mapping, "OUTPUT": str(mapped)})
    with rasterio.open(named) as a, rasterio.open(mapped) as b:
        assert (a.read() == b.read()).all() and a.transform == b.transform
    with pytest.raises(QgsProcessingException, match="B02=1"):
        processing.run(ALGORITHM_ID, {"INPUT": str(unnamed), "OUTPUT": str(tmp_path / "refused.tif")})


def triangle_around_centre(raster: Path, half_width_m: float, path: Path) -> Path:
    """A GeoJSON triangle (EPSG:4326) with its base under the raster's centre: no box, so the AOI must mask."""
    crs, transform, width, height = grid(raster)
    cx, cy = transform * (width / 2, height / 2)
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem(crs.to_string()),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    corners = [(cx - half_width_m, cy - half_width_m), (cx + half_width_m, cy - half_width_m), (cx, cy + half_width_m)]
    ring = [list(to_wgs84.transform(x, y)) for x, y in corners]
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


@pytest.mark.slow
def test_polygon_aoi_and_tiling_parameters_reach_the_engine(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    """AOI_LAYER (a triangle in another CRS) masks the map; TILE_SIZE, OVERLAP and BATCH_SIZE are the run's."""
    import numpy as np
    import processing

    triangle = triangle_around_centre(sample_stack, 640, tmp_path / "triangle.geojson")
    output = tmp_path / "triangle.tif"
    processing.run(ALGORITHM_ID, {"INPUT": str(sample_stack), "AOI_LAYER": str(triangle), "TILE_SIZE": 64,
                                  "OVERLAP": 8, "BATCH_SIZE": 2, "DEVICE": 1, "OUTPUT": str(output)})
    record = json.loads(output.with_name("triangle.run.json").read_text())
    parameters = record["parameters"]
    assert (parameters["tile_size"], parameters["overlap"], parameters["batch_size"]) == (64, 8, 2)
    assert parameters["aoi"]["is_box"] is False and parameters["aoi"]["crs"] == "EPSG:4326"
    with rasterio.open(output) as src:
        valid = src.read_masks(1) > 0
    assert 120 <= valid.shape[0] <= 140 and 120 <= valid.shape[1] <= 140  # the triangle's 1.28 km box
    assert not valid[2, 2] and not valid[2, -3]  # the top corners lie outside the triangle
    assert valid[-3, valid.shape[1] // 2] and 0.4 < np.mean(valid) < 0.6  # the base is inside; half the box


def test_extent_and_polygon_aoi_together_are_refused(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    triangle = triangle_around_centre(sample_stack, 640, tmp_path / "triangle.geojson")
    with pytest.raises(QgsProcessingException, match="either as AOI .* or as AOI_LAYER"):
        processing.run(ALGORITHM_ID, {"INPUT": str(sample_stack), "AOI_LAYER": str(triangle),
                                      "AOI": centre_aoi(sample_stack, 640), "OUTPUT": str(tmp_path / "n.tif")})
