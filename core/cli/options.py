"""Options, option types and helpers the CLIs share (`python -m core` and `python -m train`), so each is spelled once.

Every number and name is checked where argparse reads it: a bad one ends the run before any
work with one line, `error: argument --OPTION: must be ..., got VALUE`, and exit status 2.
"""
import argparse
import contextlib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from core.errors import NaturalExplainError

if TYPE_CHECKING:
    from core.aoi import AOI

DEVICES = ["auto", "cpu", "cuda"]
EXIT_USER_ERROR = 2
# The largest seed every generator takes (NumPy's legacy seeding stops at 2**32 - 1).
MAX_SEED = 2 ** 32 - 1
# Bounds of the tiling options: beyond them a run is a mistake, not a choice.
MAX_BATCH_SIZE = 1024
MIN_TILE_SIZE, MAX_TILE_SIZE = 8, 4096
MAX_OVERLAP = MAX_TILE_SIZE // 2
_WHOLE = re.compile(r"[+-]?[0-9]+")
_REAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other user error, with exit status 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USER_ERROR, f"error: {message} (see {self.prog} --help)\n")


def _shown(text: str) -> str:
    """The value as the user typed it, quoted when it would otherwise be invisible or ambiguous."""
    return text if text.strip() and text == text.strip() and "'" not in text else repr(text)


def _range_words(kind: str, low: float | None, high: float | None, low_open: bool = False, high_open: bool = False) -> str:
    def show(v: float) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    if low is not None and high is not None:
        if not low_open and not high_open:
            return f"{kind} from {show(low)} to {show(high)}"
        return f"{kind} in {'(' if low_open else '['}{show(low)}, {show(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'above' if low_open else 'of at least'} {show(low)}"
    if high is not None:
        return f"{kind} {'below' if high_open else 'of at most'} {show(high)}"
    return kind


def whole_number(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type for a whole number (ASCII digits only) in [low, high]; None leaves a side open."""
    wanted = _range_words("a whole number", low, high)

    def parse(text: str) -> int:
        if not _WHOLE.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {_shown(text)}")
        value = int(text)
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {_shown(text)}")
        return value

    parse.__name__ = "whole_number"
    return parse


def real_number(low: float | None = None, high: float | None = None, low_open: bool = False,
                high_open: bool = False) -> Callable[[str], float]:
    """An argparse type for a finite number (ASCII digits only) between low and high; `*_open` excludes that end."""
    wanted = _range_words("a number", low, high, low_open, high_open)
    if low is None and high is None:
        wanted = "a finite number"

    def parse(text: str) -> float:
        value = float(text) if _REAL.fullmatch(text.strip()) else math.nan
        if not math.isfinite(value) or (low is not None and (value <= low if low_open else value < low)) \
                or (high is not None and (value >= high if high_open else value > high)):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {_shown(text)}")
        return value

    parse.__name__ = "real_number"
    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)
seed = whole_number(0, MAX_SEED)
finite_float = real_number()
positive_float = real_number(0, low_open=True)
non_negative_float = real_number(0)
fraction = real_number(0, 1, high_open=True)
open_fraction = real_number(0, 1, low_open=True, high_open=True)
percentage = real_number(0, 100, low_open=True)


def text_value(what: str) -> Callable[[str], str]:
    """An argparse type for non-blank text (a class name, a field name), stripped."""
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"must be {what}, got {_shown(text)}")
        return text.strip()

    parse.__name__ = "text"
    return parse


def path_value(text: str) -> Path:
    """An argparse type for a path, which must not be empty (an empty one would silently mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must be a path, got {_shown(text)}")
    return Path(text)


def _as_argument_error(parse: Callable[[str], object], text: str) -> object:
    """`parse(text)`, with the engine's one-line error turned into argparse's, which names the option."""
    try:
        return parse(text)
    except NaturalExplainError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def aoi_text(text: str) -> str:
    """--aoi's 'xmin,ymin,xmax,ymax[,EPSG]', checked (finite numbers, a non-empty box, a known EPSG); returned as given."""
    from core.aoi import parse_bounds

    _as_argument_error(parse_bounds, text)
    return text


def band_mapping_text(text: str) -> dict[str, int]:
    """--bands 'B02=1,B03=2' as {model band: 1-based input band number}; the model's band names are checked later."""
    from core.raster.bands import parse_band_mapping

    mapping = _as_argument_error(parse_band_mapping, text)
    if not mapping:
        raise argparse.ArgumentTypeError(f"must map model bands to input band numbers, e.g. B02=1,B03=2, got {_shown(text)}")
    return mapping


def methods_text(text: str) -> str:
    """--methods, checked against the registry; returned as given."""
    from core.explain.registry import parse_methods

    _as_argument_error(parse_methods, text)
    return text


def add_tiling_arguments(parser: argparse.ArgumentParser) -> None:
    """--batch-size, --tile-size and --overlap, for the commands that run a network tile by tile."""
    parser.add_argument("--batch-size", type=whole_number(1, MAX_BATCH_SIZE),
                        help="tiles per forward pass (default: 8 on CUDA, 1 on the CPU)")
    parser.add_argument("--tile-size", type=whole_number(MIN_TILE_SIZE, MAX_TILE_SIZE),
                        help="tile edge in model pixels (default: the model's)")
    parser.add_argument("--overlap", type=whole_number(0, MAX_OVERLAP), default=32,
                        help="pixels shared and blended by neighbouring tiles (at most half the tile size is used)")


def add_aoi_arguments(parser: argparse.ArgumentParser) -> None:
    """--aoi and --aoi-vector."""
    parser.add_argument("--aoi", type=aoi_text,
                        help="xmin,ymin,xmax,ymax[,EPSG] (the raster's CRS when no EPSG is given)")
    parser.add_argument("--aoi-vector", type=path_value, help="a polygon file; the union of its polygons is the AOI")


def add_bands_argument(parser: argparse.ArgumentParser) -> None:
    """--bands, for when the input's band names do not say which band is which."""
    parser.add_argument("--bands", type=band_mapping_text,
                        help="map model bands to input band numbers, e.g. B02=1,B03=2,B04=3")


def band_mapping(args: argparse.Namespace) -> dict[str, int] | None:
    """The --bands mapping, or None to match bands by name."""
    return args.bands or None


def add_model_arguments(parser: argparse.ArgumentParser, default: str = "the bundled Sentinel-2 model") -> None:
    """--model (whose default `default` names), --device and --quiet."""
    parser.add_argument("--model", type=path_value, help=f"model .json/.safetensors (default: {default})")
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def dask_address(text: str) -> str:
    """--dask's value: local:N or tcp://HOST:PORT (checked where the cluster code lives)."""
    from core.dask_tiles import check_address

    try:
        return check_address(text)
    except NaturalExplainError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--dask takes ")) from exc


def add_dask_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """--dask, for the commands whose tiles a Dask cluster can compute."""
    parser.add_argument("--dask", type=dask_address, metavar="local:N|tcp://HOST:PORT", help=help_text)


def add_scale_out_arguments(parser: argparse.ArgumentParser) -> None:
    """--dask and --cog, for the commands that write tiled maps."""
    add_dask_argument(parser, "compute the tiles on a Dask cluster: N worker processes on this machine, or the "
                      "workers of a running `dask scheduler` (each loads the model once; the maps equal a plain run's)")
    parser.add_argument("--cog", action="store_true", help="write the maps as Cloud-Optimized GeoTIFFs (with overviews)")


def method_setting(text: str) -> str:
    """One --method-option item, checked at once (core.explain.method_options)."""
    from core.explain.registry import parse_method_settings

    try:
        parse_method_settings([text])
    except NaturalExplainError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def add_method_option_arguments(parser: argparse.ArgumentParser) -> None:
    """--method-option (repeatable) and --generators, its short form for both generator methods."""
    from core.explain.method_options import describe
    from core.explain.registry import OPTIONS_OF

    parser.add_argument("--method-option", action="append", default=[], type=method_setting,
                        metavar="METHOD.NAME=VALUE", help=f"a method's setting, repeatable: {describe(OPTIONS_OF)}")
    parser.add_argument("--generators", type=path_value,
                        help="pattern generators for cyclegan and counterfactual (default: MODEL_generators.json beside "
                        "--model when it exists, else the bundled ones)")


def method_options(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The methods' settings from --method-option, with --generators set for cyclegan and counterfactual."""
    from core.explain.registry import parse_method_settings

    settings = parse_method_settings(args.method_option)
    if args.generators is not None:
        for name in ("cyclegan", "counterfactual"):
            settings.setdefault(name, {})["generators"] = args.generators
    return settings


def aoi(args: argparse.Namespace, reference: "str | Path | None" = None) -> "AOI | None":
    """The AOI from --aoi or --aoi-vector (at most one), or None; --aoi without EPSG is in `reference`'s CRS
    (the input's by default)."""
    from core.aoi import AOI
    from core.raster.sources import open_input

    if args.aoi is not None and args.aoi_vector is not None:
        raise NaturalExplainError("give either --aoi or --aoi-vector, not both")
    if args.aoi is not None:
        return AOI.parse(args.aoi, default_crs=open_input(reference or args.input).grid.crs.to_wkt())
    return AOI.from_vector(args.aoi_vector) if args.aoi_vector is not None else None


@contextlib.contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[float], None]]:
    """A percent progress bar on stderr; yields the callback the engine calls with percent done."""
    from tqdm import tqdm

    with tqdm(total=100, desc=description, unit="%", disable=quiet, bar_format="{l_bar}{bar}| {elapsed}") as bar:
        yield lambda pct: bar.update(pct - bar.n)
