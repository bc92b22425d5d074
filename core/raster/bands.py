"""Match a model's bands to an input's bands, by name or by the user's explicit mapping."""
from core.errors import NaturalExplainError
from core.raster.sources import BandRef, RasterInput, normalize_band_name


def parse_band_mapping(text: str) -> dict[str, int]:
    """Parse 'B02=1,B03=2' (model band = 1-based input band) into a dict.

    Raises:
        NaturalExplainError: when the text is not of that form.
    """
    mapping = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, number = item.partition("=")
        if not number.strip().isdigit() or int(number) < 1:
            raise NaturalExplainError(f"band mapping item '{item}' must look like B02=1 (model band = input band number)")
        mapping[normalize_band_name(name)] = int(number)
    return mapping


def _positional_hint(wanted: list[str]) -> str:
    return ",".join(f"{name}={i}" for i, name in enumerate(wanted, start=1))


def match_bands(raster: RasterInput, wanted: list[str], mapping: dict[str, int] | None = None) -> list[BandRef]:
    """Pick the input bands that feed the model, in the model's order.

    Args:
        raster: the opened input.
        wanted: the model's band names, in its input order.
        mapping: optional model band name -> 1-based input band number; it wins over names.

    Returns:
        One BandRef per wanted band.

    Raises:
        NaturalExplainError: naming the bands that could not be matched and how to map them.
    """
    by_name = {}
    for band in raster.bands:
        by_name.setdefault(band.name, band)
    mapping = {normalize_band_name(k): v for k, v in (mapping or {}).items()}
    picked, missing = [], []
    for name in wanted:
        key = normalize_band_name(name)
        if key in mapping:
            number = mapping[key]
            if number > len(raster.bands):
                raise NaturalExplainError(f"band mapping {name}={number} but {raster.path} has only {len(raster.bands)} bands")
            picked.append(raster.bands[number - 1])
        elif key in by_name:
            picked.append(by_name[key])
        else:
            missing.append(name)
    if missing:
        have = ", ".join(str(b.name) for b in raster.bands)
        few = f"it has only {len(raster.bands)} band(s) but the model needs {len(wanted)}; " if len(raster.bands) < len(wanted) else ""
        raise NaturalExplainError(
            f"cannot find band(s) {', '.join(missing)} in {raster.path} ({few}its bands are named: {have}); "
            f"name the bands, or map model bands to input band numbers (command line: --bands {_positional_hint(wanted)})")
    return picked
