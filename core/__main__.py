"""The headless CLI: python -m core {explain,evaluate,vectorize,quicklook} ...

User mistakes print one line on stderr and exit 2; a cancel (Ctrl-C) exits 130 and leaves
no final-named output. Any other exception is a bug and keeps its traceback.
"""
import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import NaturalExplainError, RunCanceled
from core.explain.registry import METHODS

if TYPE_CHECKING:
    from core.aoi import AOI


def _aoi(args: argparse.Namespace) -> "AOI | None":
    """The AOI from --aoi or --aoi-vector (at most one), or None."""
    from core.aoi import AOI
    from core.raster.sources import open_input

    if args.aoi and args.aoi_vector:
        raise NaturalExplainError("give either --aoi or --aoi-vector, not both")
    if args.aoi:
        return AOI.parse(args.aoi, default_crs=open_input(args.input).grid.crs.to_wkt())
    return AOI.from_vector(args.aoi_vector) if args.aoi_vector else None


def _explain(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from core.explain.registry import parse_methods
    from core.pipeline import explain
    from core.raster.bands import parse_band_mapping

    aoi = _aoi(args)
    with tqdm(total=100, desc="naturalness", unit="%", disable=args.quiet, bar_format="{l_bar}{bar}| {elapsed}") as bar:
        result = explain(args.input, args.out, methods=parse_methods(args.methods), model=args.model, aoi=aoi, device=args.device,
                         bands=parse_band_mapping(args.bands) if args.bands else None, batch_size=args.batch_size,
                         tile_size=args.tile_size, overlap=args.overlap,
                         progress=lambda pct: bar.update(pct - bar.n))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for name, path in result.outputs.items():
        print(f"{name}: {path}")
    print(f"run record: {result.run_json}")


def _evaluate(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from core.evaluate import evaluate
    from core.explain.registry import parse_methods

    with tqdm(total=100, desc="evaluate", unit="%", disable=args.quiet, bar_format="{l_bar}{bar}| {elapsed}") as bar:
        result = evaluate(args.input, args.out, labels=args.labels, label_field=args.label_field,
                          reference_class=args.reference_class, methods=parse_methods(args.methods), model=args.model,
                          aoi=_aoi(args), q=args.q, tiles=args.tiles, tile_size=args.tile_size, device=args.device,
                          seed=args.seed, fill=args.fill, progress=lambda pct: bar.update(pct - bar.n))
    print(result.markdown_path.read_text())
    for path in (result.json_path, result.markdown_path, result.figure_path):
        print(f"written: {path}")


def _vectorize(args: argparse.Namespace) -> None:
    from core.raster.vectorize import vectorize

    count = vectorize(args.raster, args.threshold, args.out)
    print(f"{count} polygons with score >= {args.threshold} written to {args.out}")


def _quicklook(args: argparse.Namespace) -> None:
    from core.quicklook import quicklook

    print(f"quick-look: {quicklook(args.input, args.run_dir, args.out)}")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments; the contract is in DESIGN.md."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Natural Explain, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("explain", help="write naturalness.tif and run.json for a raster")
    p.add_argument("input", help="a raster file, or a folder of single-band files (e.g. Sentinel-2 B02.tif ...)")
    p.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    p.add_argument("--methods", default="", help=f"explanation methods, comma separated, from: {', '.join(METHODS)} "
                   "(naturalness is always written)")
    p.add_argument("--aoi", help="xmin,ymin,xmax,ymax[,EPSG] (the raster's CRS when no EPSG is given)")
    p.add_argument("--aoi-vector", help="a polygon file; the union of its polygons is the AOI")
    p.add_argument("--model", help="model .json/.safetensors (default: the bundled Sentinel-2 model)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--bands", help="map model bands to input band numbers, e.g. B02=1,B03=2,B04=3")
    p.add_argument("--batch-size", type=int, help="tiles per forward pass (default: 8 on CUDA, 1 on the CPU)")
    p.add_argument("--tile-size", type=int, help="tile edge in model pixels (default: the model's)")
    p.add_argument("--overlap", type=int, default=32, help="pixels shared and blended by neighbouring tiles")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_explain)
    e = sub.add_parser("evaluate", help="score the methods' attributions: deletion/insertion AUC, IoU with a "
                       "reference class, cost; writes evaluation.json, evaluation.md and comparison.png")
    e.add_argument("input", help="a raster file, or a folder of single-band files")
    e.add_argument("--labels", required=True, help="a polygon file holding the reference class")
    e.add_argument("--label-field", required=True, help="the attribute naming each polygon's class")
    e.add_argument("--reference-class", help="the class the top pixels are compared with "
                   "(default: the model's natural class, when the labels hold it)")
    e.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    e.add_argument("--methods", default=",".join(METHODS), help=f"methods to score, comma separated, from: "
                   f"{', '.join(METHODS)} (a random baseline is always added)")
    e.add_argument("--q", type=float, default=10.0, help="percent of top-attributed pixels compared with the class")
    e.add_argument("--tiles", type=int, default=16, help="how many tiles to sample")
    e.add_argument("--tile-size", type=int, default=128, help="tile edge in model pixels")
    e.add_argument("--fill", default="blur", choices=["mean", "blur"],
                   help="what deleted pixels become: the model's band means, or a Gaussian blur of the tile")
    e.add_argument("--aoi", help="xmin,ymin,xmax,ymax[,EPSG] (the raster's CRS when no EPSG is given)")
    e.add_argument("--aoi-vector", help="a polygon file; the union of its polygons is the AOI")
    e.add_argument("--model", help="model .json/.safetensors (default: the bundled Sentinel-2 model)")
    e.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    e.add_argument("--seed", type=int, default=0, help="fixes the tiles and the random baseline")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(run=_evaluate)
    v = sub.add_parser("vectorize", help="polygons of a map's pixels at or above a threshold")
    v.add_argument("raster")
    v.add_argument("--threshold", type=float, required=True)
    v.add_argument("--out", required=True, help="a .shp or .gpkg path")
    v.set_defaults(run=_vectorize)
    q = sub.add_parser("quicklook", help="a PNG of the input beside its naturalness map")
    q.add_argument("input")
    q.add_argument("run_dir", help="the folder `explain` wrote")
    q.add_argument("--out", required=True)
    q.set_defaults(run=_quicklook)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except NaturalExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (RunCanceled, KeyboardInterrupt):
        print("canceled: no outputs were written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
