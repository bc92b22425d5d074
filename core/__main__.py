"""The headless CLI: python -m core {explain,vectorize,quicklook} ...

User mistakes print one line on stderr and exit 2; a cancel (Ctrl-C) exits 130 and leaves
no final-named output. Any other exception is a bug and keeps its traceback.
"""
import argparse
import sys
from pathlib import Path

from core.errors import NaturalExplainError, RunCanceled
from core.explain.registry import METHODS


def _explain(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from core.aoi import AOI
    from core.explain.registry import parse_methods
    from core.pipeline import explain
    from core.raster.bands import parse_band_mapping
    from core.raster.sources import open_input

    if args.aoi and args.aoi_vector:
        raise NaturalExplainError("give either --aoi or --aoi-vector, not both")
    aoi = None
    if args.aoi:
        aoi = AOI.parse(args.aoi, default_crs=open_input(args.input).grid.crs.to_wkt())
    elif args.aoi_vector:
        aoi = AOI.from_vector(args.aoi_vector)
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
