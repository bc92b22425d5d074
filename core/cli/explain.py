"""`python -m core explain`: the naturalness map and the chosen explanations for a raster."""
import argparse
from pathlib import Path

from core.cli.options import (
    add_aoi_arguments,
    add_bands_argument,
    add_method_option_arguments,
    add_model_arguments,
    add_scale_out_arguments,
    add_tiling_arguments,
    aoi,
    band_mapping,
    method_options,
    methods_text,
    path_value,
    progress_bar,
)
from core.explain.registry import METHODS

HELP = "write naturalness.tif and run.json for a raster (or for many: one folder each and a summary)"
# What --model's help says happens without it (core.models.choice.choose_model).
AUTOMATIC_MODEL = ("the richest bundled classifier whose bands the input has: 10 Sentinel-2 bands, else blue, green, "
                   "red and near infrared (B02, B03, B04, B08), else blue, green and red; the choice is printed and "
                   "recorded in run.json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the explain command's options."""
    p.add_argument("input", nargs="+", help="a raster file, or a folder of single-band files (e.g. Sentinel-2 B02.tif "
                   "...); several, or a .txt file listing one per line, make one job: OUT/<scene>/ each and "
                   "OUT/summary.json")
    p.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    p.add_argument("--methods", default="", type=methods_text,
                   help=f"explanation methods, comma separated, from: {', '.join(METHODS)} (naturalness is always written)")
    add_aoi_arguments(p)
    add_model_arguments(p, default=AUTOMATIC_MODEL)
    add_bands_argument(p)
    add_method_option_arguments(p)
    add_tiling_arguments(p)
    add_scale_out_arguments(p)


def run(args: argparse.Namespace) -> None:
    """Run explain (on each scene of a job) and print what it wrote."""
    import sys

    from tqdm import tqdm

    from core.explain.registry import parse_methods
    from core.scenes import scene_list

    scenes = scene_list(args.input)
    options = dict(methods=parse_methods(args.methods), model=args.model, aoi=aoi(args, scenes[0]), device=args.device,
                   bands=band_mapping(args), batch_size=args.batch_size, tile_size=args.tile_size,
                   overlap=args.overlap, method_options=method_options(args), cog=args.cog,
                   report=lambda line: tqdm.write(line, file=sys.stderr))
    if len(args.input) > 1 or scenes != [Path(args.input[0])]:  # several scenes, or a list file
        _run_scenes(args, scenes, options)
        return
    from core.pipeline import explain

    with progress_bar("naturalness", args.quiet) as progress:
        result = explain(scenes[0], args.out, progress=progress, dask=args.dask, **options)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for name, path in result.outputs.items():
        print(f"{name}: {path}")
    print(f"run record: {result.run_json}")


def _run_scenes(args: argparse.Namespace, scenes: list, options: dict) -> None:
    """Run a job of several scenes; one line per scene, then the summary, and an error if any scene failed."""
    from core.errors import NaturalExplainError
    from core.scenes import SUMMARY, explain_scenes

    with progress_bar(f"{len(scenes)} scenes", args.quiet) as progress:
        outcomes = explain_scenes(scenes, args.out, dask=args.dask, progress=progress, **options)
    for outcome in outcomes:
        print(f"{outcome.input}: {outcome.out}" if outcome.error is None else f"{outcome.input}: failed: {outcome.error}")
    print(f"summary: {args.out / SUMMARY}")
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise NaturalExplainError(f"{len(failed)} of {len(outcomes)} scenes failed ({failed[0].input}: "
                                  f"{failed[0].error}): see {args.out / SUMMARY}")
