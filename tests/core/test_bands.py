import pytest
import rasterio
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.raster.bands import match_bands, parse_band_mapping
from core.raster.sources import normalize_band_name, open_input
from tests.helpers.rasters import MODEL_BANDS, write_stack


@pytest.mark.parametrize("text,name", [("B2", "B02"), ("b02", "B02"), ("s2_B02.jp2", "B02"), ("B8A", "B8A"),
                                       ("B02 (490 nm)", "B02"), ("B12", "B12"), ("Band 1", "BAND 1")])
def test_band_names_are_normalized(text, name):
    assert normalize_band_name(text) == name


def test_folder_of_band_files_matches_by_file_name_in_model_order(sample_dir):
    raster = open_input(sample_dir)
    picked = match_bands(raster, MODEL_BANDS)
    assert [b.name for b in picked] == MODEL_BANDS
    assert {b.grid.res[0] for b in picked} == {10.0, 20.0}
    assert raster.grid.res == (10.0, 10.0)


def test_unmatched_bands_error_says_how_to_map(sample_dir, tmp_path):
    stack = write_stack(tmp_path / "stack.tif", Window(0, 0, 32, 32))
    with rasterio.open(stack, "r+") as ds:  # names lost, as a careless export loses them
        for i in range(1, ds.count + 1):
            ds.set_band_description(i, "")
    with pytest.raises(NaturalExplainError, match=r"--bands B02=1,B03=2,B04=3,B08=4,B05=5,.*B12=10\)"):
        match_bands(open_input(stack), MODEL_BANDS)


def test_too_few_bands_error_suggests_no_band_number_the_input_lacks(sample_dir):
    """One named band for a 10-band model: one sentence saying what to change, no --bands B03=2 for a 1-band file."""
    with pytest.raises(NaturalExplainError) as caught:
        match_bands(open_input(sample_dir / "B02.tif"), MODEL_BANDS)
    message = str(caught.value)
    assert "it has only 1 band (B02) and the model needs 10" in message and "give a raster that holds them" in message
    assert "=" not in message


def test_misnamed_band_is_suggested_by_its_own_number(sample_dir, tmp_path):
    stack = write_stack(tmp_path / "stack.tif", Window(0, 0, 32, 32))
    with rasterio.open(stack, "r+") as ds:
        ds.set_band_description(5, "red edge 1")
    with pytest.raises(NaturalExplainError, match=r"cannot find band\(s\) B05 .*--bands B05=5\)"):
        match_bands(open_input(stack), MODEL_BANDS)


def test_explicit_mapping_wins_over_names(sample_dir):
    raster = open_input(sample_dir / "B04.tif")
    (band,) = match_bands(raster, ["B02"], parse_band_mapping("B02=1"))
    assert band.path.name == "B04.tif"


def test_bad_mapping_text_is_rejected():
    with pytest.raises(NaturalExplainError, match="B02=1"):
        parse_band_mapping("B02:1")


def test_stacked_vrt_without_descriptions_matches_by_source_file_name(sample_dir, tmp_path):
    """QGIS's Build Virtual Raster (separate) leaves descriptions empty; the band files' names still match."""
    from osgeo import gdal

    shuffled = list(reversed(MODEL_BANDS))
    vrt = gdal.BuildVRT(str(tmp_path / "stack.vrt"), [str(sample_dir / f"{name}.tif") for name in shuffled],
                        separate=True, resolution="highest")
    vrt.GetRasterBand(1).SetDescription("B04")  # a description, where there is one, wins
    vrt = None
    raster = open_input(tmp_path / "stack.vrt")
    assert [b.name for b in raster.bands] == ["B04", *shuffled[1:]]
