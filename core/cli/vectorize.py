"""`python -m core vectorize`: polygons where a map reaches a threshold."""
import argparse

HELP = "polygons of a map's pixels at or above a threshold"


def add_arguments(v: argparse.ArgumentParser) -> None:
    """Declare the vectorize command's options."""
    v.add_argument("raster")
    v.add_argument("--threshold", type=float, required=True)
    v.add_argument("--out", required=True, help="a .shp or .gpkg path")


def run(args: argparse.Namespace) -> None:
    """Vectorize and say how many polygons were written."""
    from core.raster.vectorize import vectorize

    count = vectorize(args.raster, args.threshold, args.out)
    print(f"{count} polygons with score >= {args.threshold} written to {args.out}")
