"""Options and helpers several sub-commands share, so each is spelled once."""
import argparse
import contextlib
from typing import TYPE_CHECKING, Callable, Iterator

from core.errors import NaturalExplainError

if TYPE_CHECKING:
    from core.aoi import AOI

DEVICES = ["auto", "cpu", "cuda"]


def add_aoi_arguments(parser: argparse.ArgumentParser) -> None:
    """--aoi and --aoi-vector."""
    parser.add_argument("--aoi", help="xmin,ymin,xmax,ymax[,EPSG] (the raster's CRS when no EPSG is given)")
    parser.add_argument("--aoi-vector", help="a polygon file; the union of its polygons is the AOI")


def add_bands_argument(parser: argparse.ArgumentParser) -> None:
    """--bands, for when the input's band names do not say which band is which."""
    parser.add_argument("--bands", help="map model bands to input band numbers, e.g. B02=1,B03=2,B04=3")


def band_mapping(args: argparse.Namespace) -> dict[str, int] | None:
    """The --bands mapping, or None to match bands by name."""
    from core.raster.bands import parse_band_mapping

    return parse_band_mapping(args.bands) if args.bands else None


def add_model_arguments(parser: argparse.ArgumentParser, default: str = "the bundled Sentinel-2 model") -> None:
    """--model (whose default `default` names), --device and --quiet."""
    parser.add_argument("--model", help=f"model .json/.safetensors (default: {default})")
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def aoi(args: argparse.Namespace) -> "AOI | None":
    """The AOI from --aoi or --aoi-vector (at most one), or None."""
    from core.aoi import AOI
    from core.raster.sources import open_input

    if args.aoi and args.aoi_vector:
        raise NaturalExplainError("give either --aoi or --aoi-vector, not both")
    if args.aoi:
        return AOI.parse(args.aoi, default_crs=open_input(args.input).grid.crs.to_wkt())
    return AOI.from_vector(args.aoi_vector) if args.aoi_vector else None


@contextlib.contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[float], None]]:
    """A percent progress bar on stderr; yields the callback the engine calls with percent done."""
    from tqdm import tqdm

    with tqdm(total=100, desc=description, unit="%", disable=quiet, bar_format="{l_bar}{bar}| {elapsed}") as bar:
        yield lambda pct: bar.update(pct - bar.n)
