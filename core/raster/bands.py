"""Match a model's bands to an input's bands, by name or by the user's explicit mapping."""
from core.errors import NaturalExplainError
from core.raster.sources import BandRef, RasterInput, normalize_band_name


class BandMapping(dict):
    """A user's model band -> 1-based input band number mapping: every name in it must be a band of the model."""


def parse_band_mapping(text: str) -> BandMapping:
    """Parse 'B02=1,B03=2' (model band = 1-based input band) into a dict; empty text gives an empty one.

    One input band may feed several model bands; one model band may not be mapped twice.

    Raises:
        NaturalExplainError: when an item is not NAME=NUMBER with a number of at least 1 in ASCII digits,
            or a name comes twice.
    """
    mapping = BandMapping()
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, number = (part.strip() for part in item.partition("="))
        if not equals or not name or not (number.isascii() and number.isdigit()) or int(number) < 1:
            raise NaturalExplainError(f"band mapping item '{item}' must look like B02=1 "
                                      "(model band = input band number, a whole number of at least 1)")
        key = normalize_band_name(name)
        if key in mapping:
            raise NaturalExplainError(f"band mapping names {key} twice ('{text}'): map each model band once")
        mapping[key] = int(number)
    return mapping


def _mapping_hint(raster: RasterInput, wanted: list[str], missing: list[str]) -> str | None:
    """A --bands example for the missing bands that uses only band numbers the input has, or None.

    Every band unnamed and enough of them: the model's bands in its order. Otherwise the missing
    bands go to the input's bands that are unnamed or named for no band of the model, when there
    are enough of those.
    """
    keys = {normalize_band_name(name) for name in wanted}
    if all(b.name is None for b in raster.bands) and len(raster.bands) >= len(wanted):
        return ",".join(f"{name}={i}" for i, name in enumerate(wanted, start=1))
    free = [i for i, b in enumerate(raster.bands, start=1) if b.name not in keys]
    if len(free) < len(missing):
        return None
    return ",".join(f"{name}={i}" for name, i in zip(missing, free))


def match_bands(raster: RasterInput, wanted: list[str], mapping: dict[str, int] | None = None) -> list[BandRef]:
    """Pick the input bands that feed the model, in the model's order.

    Args:
        raster: the opened input.
        wanted: the model's band names, in its input order.
        mapping: optional model band name -> 1-based input band number; it wins over names. A user's
            mapping (a BandMapping, from parse_band_mapping) may name only the model's bands.

    Returns:
        One BandRef per wanted band.

    Raises:
        NaturalExplainError: naming the bands that could not be matched and how to map them.
    """
    by_name = {}
    for band in raster.bands:
        by_name.setdefault(band.name, band)
    if isinstance(mapping, BandMapping):
        model_bands = {normalize_band_name(name) for name in wanted}
        unknown = [f"{name}={number}" for name, number in mapping.items() if normalize_band_name(name) not in model_bands]
        if unknown:
            raise NaturalExplainError(f"--bands maps {', '.join(unknown)} but the model has no such band: "
                                      f"its bands are {', '.join(wanted)}")
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
        count = len(raster.bands)
        have = ", ".join(str(b.name) for b in raster.bands)
        hint = _mapping_hint(raster, wanted, missing)
        if count < len(wanted):
            raise NaturalExplainError(
                f"cannot find band(s) {', '.join(missing)} in {raster.path}: it has only {count} band"
                f"{'s' if count != 1 else ''} ({have}) and the model needs {len(wanted)} ({', '.join(wanted)}); "
                "give a raster that holds them, or a model trained on the bands it has"
                + (f" (or, if its bands are misnamed, map them: --bands {hint})" if hint else ""))
        raise NaturalExplainError(
            f"cannot find band(s) {', '.join(missing)} in {raster.path} (its bands are named: {have}); "
            "name the bands, or map model bands to input band numbers (command line: --bands "
            f"{hint or f'NAME=NUMBER with NUMBER from 1 to {count}'})")
    return picked
