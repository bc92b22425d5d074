"""`python -m core explain`: the naturalness map and the chosen explanations for a raster."""
import argparse

from core.cli.options import (add_aoi_arguments, add_bands_argument, add_scale_out_arguments, add_generators_argument,
                              add_model_arguments,
                              add_tiling_arguments, aoi, band_mapping, method_options, methods_text, path_value,
                              progress_bar)
from core.explain.registry import METHODS

HELP = "write naturalness.tif and run.json for a raster"
# What --model's help says happens without it (core.models.choice.choose_model).
AUTOMATIC_MODEL = ("the richest bundled classifier whose bands the input has: 10 Sentinel-2 bands, else blue, green, "
                   "red and near infrared (B02, B03, B04, B08), else blue, green and red; the choice is printed and "
                   "recorded in run.json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the explain command's options."""
    p.add_argument("input", help="a raster file, or a folder of single-band files (e.g. Sentinel-2 B02.tif ...)")
    p.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    p.add_argument("--methods", default="", type=methods_text,
                   help=f"explanation methods, comma separated, from: {', '.join(METHODS)} (naturalness is always written)")
    add_aoi_arguments(p)
    add_model_arguments(p, default=AUTOMATIC_MODEL)
    add_bands_argument(p)
    add_generators_argument(p)
    add_tiling_arguments(p)
    add_scale_out_arguments(p)


def run(args: argparse.Namespace) -> None:
    """Run explain and print what it wrote."""
    import sys

    from tqdm import tqdm

    from core.explain.registry import parse_methods
    from core.pipeline import explain

    area = aoi(args)
    with progress_bar("naturalness", args.quiet) as progress:
        result = explain(args.input, args.out, methods=parse_methods(args.methods), model=args.model, aoi=area,
                         device=args.device, bands=band_mapping(args),
                         batch_size=args.batch_size, tile_size=args.tile_size, overlap=args.overlap, progress=progress,
                         method_options=method_options(args), dask=args.dask, cog=args.cog, report=lambda line: tqdm.write(line, file=sys.stderr))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for name, path in result.outputs.items():
        print(f"{name}: {path}")
    print(f"run record: {result.run_json}")
