"""Small training fixtures cut at test time from the real Virginia Sentinel-2 scene, in each layout.

The scene comes from the pinned PyPI distribution (train/fetch.py, cached in .cache/data);
the labels are the project's region labels of its north half. Every fixture is written
in the exact layout a user would bring: a GeoTIFF + GeoPackage, EuroSAT class folders
(13-band GeoTIFFs and RGB JPEGs), and an AnthroProtect tiles folder + infos.csv.
tests/conftest.py registers the fixtures for every test (the train and fault tests use them);
the functions are what the train tests share.
"""
import csv
import json
import shlex
import subprocess
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import rasterio
from osgeo import ogr, osr
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from core.models.card import read_card
from core.raster.bands import match_bands
from core.raster.grid import Grid
from core.raster.read import read_window
from core.raster.sources import open_input
from tests.helpers.cli import REPO, run_cli
from train.__main__ import build_parsers
from train.datasets.anthroprotect import ANTHROPROTECT_BANDS
from train.datasets.eurosat import EUROSAT_MS_BANDS
from train.datasets.raster_polygons import label_raster, read_labelled_polygons
from train.fetch import sentinel2_band_files

LABELS = REPO / "resources" / "labels" / "virginia_s2_train.geojson"
CLASSES = ["anthropogenic", "natural"]
RASTER_BANDS = ["B02", "B03", "B04", "B08"]
# 10 x 3 km across the farmland / marsh boundary of the north half (x 439-449 km, y 4171-4174 km).
RASTER_WINDOW = Window(327, 546, 1000, 300)
TILE = 64
TILES_PER_CLASS = 8


def assert_records_make_models_command(model: Path, command: str, arguments: Callable[[Path], list[str]],
                                       locations: tuple[str, ...] = ()) -> None:
    """The bundled `model`'s sidecar holds the `python -m train COMMAND` that `make models` runs (train/reproduce.py).

    Run from the repository root (the recorded paths are relative to it); `arguments` builds
    the training CLI's arguments for a models folder. `locations` names options that only say
    where files were (e.g. "out", "workdir"), which may differ from make models' own.
    """
    assert_same_command(read_card(model)[0].training["command"], command, arguments(model.parent.relative_to(REPO)),
                        locations)


def assert_same_command(recorded: str, command: str, made: list[str], locations: tuple[str, ...] = ()) -> None:
    """The recorded `python -m train COMMAND ...` sets every option `made` sets, to the same value, but `locations`."""
    words = shlex.split(recorded)
    assert words[:4] == ["python", "-m", "train", command]
    parser, _ = build_parsers()
    ours, was = vars(parser.parse_args(made)), vars(parser.parse_args(words[3:]))
    kept = [k for k, v in ours.items() if v is not None and k not in locations]
    assert {k: ours[k] for k in kept} == {k: was[k] for k in kept}


def run_train(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m train ...` from the repo root, as a user would."""
    return run_cli(*map(str, args), module="train")


@pytest.fixture(scope="session")
def scene() -> Path:
    """The real scene's band folder (s2_B02.jp2 ...), fetched once and cached."""
    return sentinel2_band_files(["B02"])["B02"].parent


@pytest.fixture(scope="session")
def scene_grid(scene: Path) -> Grid:
    return open_input(scene).grid


def write_geotiff(path: Path, raw: np.ndarray, grid: Grid | None, names: list[str] | None) -> Path:
    profile = dict(driver="GTiff", width=raw.shape[2], height=raw.shape[1], count=raw.shape[0], dtype="uint16", nodata=0)
    if grid is not None:
        profile.update(crs=grid.crs, transform=grid.transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.nan_to_num(raw).round().astype("uint16"))
        for i, name in enumerate(names or [], start=1):
            dst.set_band_description(i, name)
    return path


def _write_polygons_wgs84(path: Path, window_grid: Grid) -> Path:
    """The region labels clipped to the window and reprojected to EPSG:4326, as a GeoPackage."""
    xmin, ymin, xmax, ymax = window_grid.bounds
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)]:
        ring.AddPoint_2D(x, y)
    box = ogr.Geometry(ogr.wkbPolygon)
    box.AddGeometry(ring)
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32618)
    wgs84.ImportFromEPSG(4326)
    for srs in (utm, wgs84):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    source = ogr.Open(str(LABELS))
    out = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = out.CreateLayer("labels", wgs84, ogr.wkbMultiPolygon)
    layer.CreateField(ogr.FieldDefn("landscape", ogr.OFTString))
    for feature in source.GetLayer(0):
        clipped = feature.GetGeometryRef().Intersection(box)
        if clipped.IsEmpty():
            continue
        clipped.Transform(to_wgs84)
        target = ogr.Feature(layer.GetLayerDefn())
        target.SetField("landscape", feature.GetField("label"))
        target.SetGeometry(ogr.ForceToMultiPolygon(clipped))
        layer.CreateFeature(target)
    out = None
    return path


@pytest.fixture(scope="session")
def raster_layout(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid) -> dict[str, Path]:
    """A 4-band GeoTIFF (bands named by description) and a GeoPackage of labels in another CRS."""
    root = tmp_path_factory.mktemp("raster_layout")
    grid = scene_grid.window(RASTER_WINDOW)
    raw, _ = read_window(match_bands(open_input(scene), RASTER_BANDS), grid)
    return {"raster": write_geotiff(root / "scene.tif", raw, grid, RASTER_BANDS),
            "polygons": _write_polygons_wgs84(root / "labels.gpkg", grid)}


@pytest.fixture(scope="session")
def tile_windows(scene_grid: Grid) -> dict[str, list[Window]]:
    """64 px windows of the north half that one class's region labels cover wholly, spread out."""
    north = scene_grid.window(Window(0, 0, scene_grid.width, 980))
    labels = label_raster(read_labelled_polygons(LABELS, "label", north), CLASSES, north)
    found: dict[str, list[Window]] = {name: [] for name in CLASSES}
    for r in range(0, labels.shape[0] - TILE + 1, TILE):
        for c in range(0, labels.shape[1] - TILE + 1, TILE):
            patch = labels[r:r + TILE, c:c + TILE]
            if patch[0, 0] >= 0 and (patch == patch[0, 0]).all():
                found[CLASSES[patch[0, 0]]].append(Window(c, r, TILE, TILE))
    return {name: windows[:: max(len(windows) // TILES_PER_CLASS, 1)][:TILES_PER_CLASS]
            for name, windows in found.items()}


def _read_tiles(scene: Path, scene_grid: Grid, windows: list[Window], bands: list[str]) -> list[tuple[np.ndarray, Grid]]:
    refs = match_bands(open_input(scene), bands)
    return [(read_window(refs, scene_grid, window)[0], scene_grid.window(window)) for window in windows]


def _class_folders(root: Path, scene: Path, scene_grid: Grid, tile_windows: dict[str, list[Window]],
                   bands: list[str], write: Callable[[Path, np.ndarray, Grid], None], suffix: str) -> Path:
    """EuroSAT's layout: one folder per class holding <Class>_<n><suffix> tiles."""
    for name, windows in tile_windows.items():
        folder = root / name.capitalize()
        folder.mkdir()
        for i, (raw, grid) in enumerate(_read_tiles(scene, scene_grid, windows, bands), start=1):
            write(folder / f"{folder.name}_{i}{suffix}", raw, grid)
    return root


def _write_jpeg(path: Path, raw: np.ndarray, _: Grid) -> None:
    rgb = np.clip(np.nan_to_num(raw) / 2000 * 255, 0, 255).astype("uint8")
    with warnings.catch_warnings():  # a JPEG tile has no georeference, as in EuroSAT RGB
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="JPEG", width=TILE, height=TILE, count=3, dtype="uint8") as dst:
            dst.write(rgb)


@pytest.fixture(scope="session")
def eurosat_ms(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid,
               tile_windows: dict[str, list[Window]]) -> Path:
    """EuroSAT MS layout: Anthropogenic/ and Natural/ folders of 13-band 64x64 GeoTIFFs, bands unnamed."""
    return _class_folders(tmp_path_factory.mktemp("eurosat_ms"), scene, scene_grid, tile_windows, EUROSAT_MS_BANDS,
                          lambda path, raw, grid: write_geotiff(path, raw, grid, None), ".tif")


@pytest.fixture(scope="session")
def eurosat_rgb(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid,
                tile_windows: dict[str, list[Window]]) -> Path:
    """EuroSAT RGB layout: 8-bit JPEGs (R, G, B = B04, B03, B02), no georeference."""
    return _class_folders(tmp_path_factory.mktemp("eurosat_rgb"), scene, scene_grid, tile_windows,
                          ["B04", "B03", "B02"], _write_jpeg, ".jpg")


@pytest.fixture(scope="session")
def anthroprotect_layout(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid,
                         tile_windows: dict[str, list[Window]]) -> dict[str, Path]:
    """AnthroProtect layout: tiles/s2/<file>.tif (10 bands in its order, unnamed) and infos.csv (file, label, datasplit)."""
    root = tmp_path_factory.mktemp("anthroprotect")
    tiles = root / "tiles" / "s2"
    tiles.mkdir(parents=True)
    rows = []
    for label, name in enumerate(CLASSES):
        for i, (raw, grid) in enumerate(_read_tiles(scene, scene_grid, tile_windows[name], ANTHROPROTECT_BANDS)):
            file = f"{name}_{i:02d}.tif"
            write_geotiff(tiles / file, raw, grid, None)
            rows.append({"file": file, "label": label, "datasplit": ("train", "train", "train", "train", "val", "val", "test")[i % 7]})
    with open(root / "infos.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "label", "datasplit"])
        writer.writeheader()
        writer.writerows(rows)
    return {"tiles": tiles, "csv": root / "infos.csv", "rows": rows}


def sidecar(path: Path) -> dict:
    """The JSON sidecar of a model path given without suffix."""
    return json.loads(path.with_suffix(".json").read_text())
