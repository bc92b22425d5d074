"""`python -m core vectorize`: polygons where a map reaches a threshold."""
import argparse

from core.cli.options import finite_float, path_value, text_value

HELP = "polygons of a map's pixels at or above a threshold"


def add_arguments(v: argparse.ArgumentParser) -> None:
    """Declare the vectorize command's options."""
    v.add_argument("raster", type=path_value)
    v.add_argument("--threshold", type=finite_float, required=True)
    v.add_argument("--out", type=path_value, required=True, help="a .shp or .gpkg path")
    v.add_argument("--layer", type=text_value("a layer name"), help="the GeoPackage layer to write (default: the raster's name); "
                   "the file's other layers are kept")
    v.add_argument("--overwrite", action="store_true",
                   help="replace an existing Shapefile, or the GeoPackage's layer of the same name")


def run(args: argparse.Namespace) -> None:
    """Vectorize and say how many polygons were written."""
    from core.raster.vectorize import vectorize

    count = vectorize(args.raster, args.threshold, args.out, layer=args.layer, overwrite=args.overwrite)
    print(f"{count} polygons with score >= {args.threshold} written to {args.out}")
