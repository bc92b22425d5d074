"""`python -m core segment`: a U-Net segmenter's map of natural land for a raster (segmentation.tif)."""
import argparse

from core.cli.options import (
    add_aoi_arguments,
    add_bands_argument,
    add_model_arguments,
    add_scale_out_arguments,
    add_tiling_arguments,
    aoi,
    band_mapping,
    path_value,
    progress_bar,
)

HELP = ("write segmentation.tif (band 1: probability of natural, on the input's grid) and run.json with a "
        "U-Net segmenter")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the segment command's options."""
    p.add_argument("input", help="a raster file, or a folder of single-band files (e.g. Sentinel-2 B02.tif ...)")
    p.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    add_aoi_arguments(p)
    add_model_arguments(p, default="the bundled Sentinel-2 segmenter, segmenter_s2")
    add_bands_argument(p)
    add_tiling_arguments(p)
    add_scale_out_arguments(p)


def run(args: argparse.Namespace) -> None:
    """Run the segmenter and print what it wrote."""
    import sys

    from tqdm import tqdm

    from core.segment import segment

    with progress_bar("segmentation", args.quiet) as progress:
        result = segment(args.input, args.out, model=args.model, aoi=aoi(args), device=args.device,
                         bands=band_mapping(args), batch_size=args.batch_size, tile_size=args.tile_size,
                         overlap=args.overlap, progress=progress, dask=args.dask, cog=args.cog, report=lambda line: tqdm.write(line, file=sys.stderr))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"segmentation: {result.segmentation}")
    print(f"run record: {result.run_json}")
