"""The model card: the JSON sidecar that says how to feed a raster to a model's weights.

Reading a card needs no torch, so the plugin can show a model's bands, classes and kind the
moment the user picks it, and QGIS never waits for torch to load just to fill a label.

Every field is checked on load against one declarative table (CARD_FIELDS) before anything
uses it: a hand-edited or damaged sidecar is refused with one line naming the file, the field
and what it may hold, instead of a traceback or, worse, a map of NaN or nodata.
"""
import dataclasses
import itertools
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.errors import NaturalExplainError
from core.models.registry import ARCHITECTURES, KINDS

FORMAT = "natural-explain-model"
FORMAT_VERSION = 1

# Bounds on what a sane model can hold; beyond them a number is a typo or damage, and would overflow
# float32 or allocate without limit before any check downstream could catch it.
MAX_SIDECAR_BYTES = 16 * 2 ** 20
MAX_NAMES = 1024
MAX_ABS = 1e9
SCALE_RANGE = (1e-12, 1e6)
MIN_STD = 1e-9
RESOLUTION_RANGE_M = (0.01, 100_000.0)  # from drone imagery to coarse climate grids
TILE_RANGE = (16, 8192)
MAX_BINS = 10_000
SHOWN_CHARS = 60
_SHA256 = re.compile(r"[0-9a-f]{64}")

# A generator or classifier's kind, as the user reads it.
KIND_WORDS = {"classifier": "a classifier", "generators": "pattern generators", "segmenter": "a segmenter"}


@dataclasses.dataclass
class ModelCard:
    """Everything the engine needs to feed a raster to the weights and read the answer.

    `bands` are names in input order; pixels are multiplied by `scale`, clipped to `clip`
    and standardised by `mean`/`std`. `natural_classes` name the classes whose summed
    probability is the naturalness score. `value_range` holds each band's [low, high] over the
    training pixels (after scale and clip; train.normalization.RANGE_PERCENTILES), None in
    models that predate it. `trained_against` is set on models that serve a
    classifier rather than being one (the pattern generators): the classifier's weights file
    name and sha256, so they are never paired with a classifier they did not learn from.
    """

    architecture: str
    arch_args: dict[str, Any]
    bands: list[str]
    scale: float
    clip: tuple[float, float]
    mean: list[float]
    std: list[float]
    resolution_m: float
    tile_size: int
    classes: list[str]
    natural_classes: list[str]
    training: dict[str, Any] = dataclasses.field(default_factory=dict)
    jem: dict[str, Any] | None = None
    trained_against: dict[str, str] | None = None
    value_range: list[list[float]] | None = None

    @property
    def natural_indices(self) -> list[int]:
        """Indices of the natural classes in the logits."""
        return [self.classes.index(name) for name in self.natural_classes]

    @property
    def kind(self) -> str:
        """The model's kind, "classifier", "generators" or "segmenter": which commands can use it
        (core.models.registry.KINDS)."""
        return KINDS[self.architecture]

    def validate(self, source: str = "model card") -> None:
        """Check every field's type, range and length, and their agreement, before anything uses them.

        Args:
            source: how the message names the card, e.g. "model sidecar m.json".

        Raises:
            NaturalExplainError: naming the first field that is wrong and what it may hold.
        """
        check_card({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, source)


# ---- the checks a rule is built from: each says yes or no, never raises ----

def _is_number(v: Any) -> bool:
    """A finite real number; booleans are not numbers here, though Python says they are."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return False
    return isinstance(v, numbers.Integral) or math.isfinite(v)


def _in(v: Any, low: float, high: float) -> bool:
    return _is_number(v) and low <= v <= high


def _whole(v: Any, low: int, high: int) -> bool:
    """A whole number given as one (256, not 256.0, which a network's constructor would reject)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and low <= v <= high


def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple))


def _numbers(v: Any, count: int, low: float, high: float) -> bool:
    return _is_list(v) and len(v) == count and all(_in(x, low, high) for x in v)


def _names(v: Any, low: int, high: int) -> bool:
    """`low` to `high` distinct, non-blank strings."""
    return (_is_list(v) and low <= len(v) <= high and all(isinstance(x, str) and x.strip() for x in v)
            and len(set(v)) == len(v))


def _increasing(v: Any) -> bool:
    return all(a < b for a, b in itertools.pairwise(v))


def _is_object(v: Any) -> bool:
    return isinstance(v, dict)


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _sha256(v: Any) -> bool:
    return isinstance(v, str) and bool(_SHA256.fullmatch(v))


@dataclasses.dataclass(frozen=True)
class Context:
    """What a field's rule may depend on: the card's fields checked before it, and the object that holds it.

    Rules are checked in table order, so a property here only reads fields already found valid.
    """

    card: Mapping[str, Any]
    parent: Mapping[str, Any]

    @property
    def n(self) -> int:
        return len(self.card["bands"])

    @property
    def k(self) -> int:
        return len(self.card["classes"])

    @property
    def classes(self) -> str:
        return ", ".join(self.card["classes"])

    @property
    def low(self) -> float:
        return self.card["clip"][0]

    @property
    def high(self) -> float:
        return self.card["clip"][1]

    @property
    def span(self) -> float:
        return self.high - self.low

    @property
    def slack(self) -> float:
        """Rounding room around the clip range for statistics computed from clipped pixels."""
        return 1e-6 * self.span

    @property
    def tile(self) -> int:
        return self.card["tile_size"]

    @property
    def bins(self) -> int:
        return len(self.parent["edges"]) - 1

    @property
    def architectures(self) -> str:
        return ", ".join(ARCHITECTURES)


class _Words(dict):
    """str.format_map's view of a Context: a word is computed only when a message names it."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx

    def __missing__(self, key: str) -> Any:
        return getattr(self.ctx, key)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One field: what it must be, in the words the user reads, and the check that says whether it is.

    `must_be` is formatted with Context's properties, e.g. "{n} finite numbers (one per band)".
    `fields` gives an object's own rules (checked after `ok`), and `closed` refuses keys beyond them.
    """

    must_be: str
    ok: Callable[[Any, Context], bool]
    required: bool = True
    nullable: bool = False
    fields: Callable[[Context], Mapping[str, "Rule"]] | None = None
    closed: bool = False


ONE_PER_BAND = "(one per band, as \"bands\" lists {n})"
NUMBER_OF_BANDS = Rule("the number of bands, {n}", lambda v, c: _whole(v, c.n, c.n))


def _whole_rule(low: int, high: int, required: bool = False) -> Rule:
    return Rule(f"a whole number from {low} to {high}", lambda v, c: _whole(v, low, high), required=required)


def _spectra(v: Any, c: Context) -> bool:
    return _is_list(v) and 1 <= len(v) <= MAX_NAMES * 4 and all(_numbers(s, c.n, 0.0, 1.0) for s in v)


SPECTRA = Rule("1 to 4096 spectra, each {n} numbers from 0 to 1 (one per band)", _spectra)

WIDE_RESNET_ARGS: dict[str, Rule] = {
    "in_channels": NUMBER_OF_BANDS,
    "num_classes": Rule("the number of classes, {k}", lambda v, c: _whole(v, c.k, c.k)),
    "width": _whole_rule(1, 256),
    "blocks": _whole_rule(1, 16),
}

# arch_args per architecture: exactly the constructor's arguments, bounded so a typo cannot allocate gigabytes.
ARCH_ARGS: dict[str, dict[str, Rule]] = {
    "naturalness_fcn": {
        "in_channels": NUMBER_OF_BANDS,
        "num_classes": Rule("the number of classes, {k}", lambda v, c: _whole(v, c.k, c.k)),
        "width": _whole_rule(1, 256),
    },
    "repaint_pattern_generators": {
        "in_channels": NUMBER_OF_BANDS,
        "mean": Rule("{n} numbers from 0 to 1 (one per band)", lambda v, c: _numbers(v, c.n, 0.0, 1.0)),
        "std": Rule(f"{{n}} numbers from {MIN_STD:g} to 1 (one per band)",
                    lambda v, c: _numbers(v, c.n, MIN_STD, 1.0)),
        "natural_endmembers": SPECTRA,
        "anthropogenic_endmembers": SPECTRA,
        "ngf": _whole_rule(1, 256),
        "n_blocks": _whole_rule(0, 64),
        "n_downsampling": _whole_rule(0, 5),
    },
    "unet_segmenter": {
        "in_channels": NUMBER_OF_BANDS,
        "num_classes": Rule("the number of classes, {k}", lambda v, c: _whole(v, c.k, c.k)),
        "width": _whole_rule(1, 256),
        "depth": _whole_rule(1, 6),
    },
    "jem_wide_resnet": WIDE_RESNET_ARGS,
    "jem_hybrid": {
        **WIDE_RESNET_ARGS,
        "energy_width": _whole_rule(1, 256),
        "energy_depth": _whole_rule(1, 6),
        "energy_pixels": _whole_rule(16, 2 ** 20),
        "energy_classes": Rule("0 or the number of classes, {k}", lambda v, c: _whole(v, 0, 0) or _whole(v, c.k, c.k),
                               required=False),
        "energy_embedding": Rule("an even whole number from 0 to 1024", lambda v, c: _whole(v, 0, 1024) and v % 2 == 0,
                                 required=False),
    },
}

def _edges(v: Any, c: Context) -> bool:
    return _is_list(v) and 2 <= len(v) <= MAX_BINS + 1 and all(map(_is_number, v)) and _increasing(v)


def _counts(v: Any, c: Context) -> bool:
    return _is_list(v) and len(v) == c.bins and all(_whole(x, 0, 2 ** 63) for x in v) and sum(v) > 0


def _percentiles(v: Any, c: Context) -> bool:
    return _is_object(v) and {"p1", "p99"} <= set(v) and all(map(_is_number, v.values()))


LOGPX_FIELDS: dict[str, Rule] = {
    "edges": Rule(f"2 to {MAX_BINS + 1} increasing finite numbers", _edges),
    "counts": Rule("{bins} whole numbers of at least 0 (one per bin between the edges), not all 0", _counts),
    "percentiles": Rule("an object of finite numbers with at least \"p1\" and \"p99\"", _percentiles),
}

SGLD_FIELDS: dict[str, Rule] = {
    "steps": _whole_rule(0, 1_000_000),
    "step_size": Rule("a number above 0, at most 1e+06", lambda v, c: _in(v, 0.0, 1e6) and v > 0, required=False),
    "noise": Rule("a number from 0 to 1e+06", lambda v, c: _in(v, 0.0, 1e6), required=False),
}

JEM_FIELDS: dict[str, Rule] = {
    "patch_size": Rule("a whole number of pixels from 4 to the tile size, {tile}", lambda v, c: _whole(v, 4, c.tile)),
    "logpx": Rule("the training log p(x) histogram: an object with \"edges\", \"counts\" and \"percentiles\"",
                  lambda v, c: _is_object(v), fields=lambda c: LOGPX_FIELDS),
    "sgld": Rule("an object with the SGLD \"steps\", \"step_size\" and \"noise\"", lambda v, c: _is_object(v),
                 required=False, fields=lambda c: SGLD_FIELDS),
}

TRAINED_AGAINST_FIELDS: dict[str, Rule] = {
    "weights": Rule("the classifier's weights file name", lambda v, c: _text(v)),
    "weights_sha256": Rule("64 hexadecimal digits (lower case)", lambda v, c: _sha256(v)),
}


def _value_range(v: Any, c: Context) -> bool:
    return _is_list(v) and len(v) == c.n and all(
        _is_list(p) and len(p) == 2 and _in(p[0], c.low - c.slack, c.high + c.slack) and _in(p[1], p[0], c.high + c.slack)
        for p in v)


def _natural(v: Any, c: Context) -> bool:
    return _names(v, 1, c.k - 1) and all(name in c.card["classes"] for name in v)


# The card's fields, in the order they are checked: a rule may depend only on fields above it.
CARD_FIELDS: dict[str, Rule] = {
    "architecture": Rule("one of {architectures}", lambda v, c: isinstance(v, str) and v in ARCHITECTURES),
    "bands": Rule(f"a list of 1 to {MAX_NAMES} distinct band names", lambda v, c: _names(v, 1, MAX_NAMES)),
    "classes": Rule(f"a list of 2 to {MAX_NAMES} distinct class names", lambda v, c: _names(v, 2, MAX_NAMES)),
    "natural_classes": Rule("a list of distinct names from \"classes\" ({classes}), at least one and not all", _natural),
    "clip": Rule(f"two finite numbers [low, high] with low < high, each from {-MAX_ABS:g} to {MAX_ABS:g}",
                 lambda v, c: _numbers(v, 2, -MAX_ABS, MAX_ABS) and v[0] < v[1]),
    "scale": Rule(f"a number from {SCALE_RANGE[0]:g} to {SCALE_RANGE[1]:g}", lambda v, c: _in(v, *SCALE_RANGE)),
    "mean": Rule("{n} finite numbers within the clip range [{low:g}, {high:g}] " + ONE_PER_BAND,
                 lambda v, c: _numbers(v, c.n, c.low - c.slack, c.high + c.slack)),
    "std": Rule(f"{{n}} positive finite numbers, from {MIN_STD:g} to the clip span {{span:g}} " + ONE_PER_BAND,
                lambda v, c: _numbers(v, c.n, MIN_STD, c.span)),
    "value_range": Rule("null or {n} pairs [low, high] with low <= high within the clip range [{low:g}, {high:g}] "
                        + ONE_PER_BAND, _value_range, required=False, nullable=True),
    "resolution_m": Rule(f"a number of metres from {RESOLUTION_RANGE_M[0]:g} to {RESOLUTION_RANGE_M[1]:g}",
                         lambda v, c: _in(v, *RESOLUTION_RANGE_M)),
    "tile_size": Rule(f"a whole number of pixels from {TILE_RANGE[0]} to {TILE_RANGE[1]}",
                      lambda v, c: _whole(v, *TILE_RANGE)),
    "arch_args": Rule("an object of the architecture's arguments", lambda v, c: _is_object(v),
                      fields=lambda c: ARCH_ARGS[c.card["architecture"]], closed=True),
    "training": Rule("an object (the training command, data hash and metrics)", lambda v, c: _is_object(v),
                     required=False),
    "jem": Rule("null or an object with \"patch_size\" and \"logpx\"", lambda v, c: _is_object(v),
                required=False, nullable=True, fields=lambda c: JEM_FIELDS),
    "trained_against": Rule("null or an object with the classifier's \"weights\" and \"weights_sha256\"",
                            lambda v, c: _is_object(v), required=False, nullable=True,
                            fields=lambda c: TRAINED_AGAINST_FIELDS),
}

# What a sidecar holds beyond the card: checked first, since a file failing these is not a model sidecar at all.
SIDECAR_FIELDS: dict[str, Rule] = {
    "format": Rule(f"\"{FORMAT}\" (is this file a Natural Explain model sidecar?)", lambda v, c: v == FORMAT),
    "format_version": Rule(f"{FORMAT_VERSION}, the only version this Natural Explain reads (a newer model needs a newer "
                           "Natural Explain)", lambda v, c: _whole(v, FORMAT_VERSION, FORMAT_VERSION)),
    "weights": Rule("the weights' file name", lambda v, c: _text(v), required=False),
    "weights_sha256": Rule("64 hexadecimal digits (lower case)", lambda v, c: _sha256(v), required=False),
}


def _shown(value: Any) -> str:
    """The offending value, short and on one line: JSON where possible, cut after SHOWN_CHARS, with a list's length."""
    try:
        text = json.dumps(value, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + " ..."
    return f"{text} ({len(value)} items)" if _is_list(value) and len(value) > 2 else text


def _json_type(value: Any) -> str:
    """JSON's own name for a parsed value's type, as the user's editor would call it."""
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _check_object(obj: Mapping[str, Any], table: Mapping[str, Rule], card: Mapping[str, Any], source: str,
                  prefix: str = "", closed: bool = False) -> None:
    """Check `obj`'s fields against `table` in order, descending into objects; raise on the first wrong one."""
    if closed and (unknown := [key for key in obj if key not in table]):
        raise NaturalExplainError(f"{source}: \"{prefix}{unknown[0]}\" is not a known field here; "
                                  f"\"{prefix.rstrip('.')}\" takes {', '.join(table)}")
    for name, rule in table.items():
        field, ctx = prefix + name, Context(card, obj)
        if name not in obj:
            if rule.required:
                raise NaturalExplainError(f"{source}: \"{field}\" is missing; it must be "
                                          f"{rule.must_be.format_map(_Words(ctx))}")
            continue
        value = obj[name]
        if value is None and rule.nullable:
            continue
        if not rule.ok(value, ctx):
            raise NaturalExplainError(f"{source}: \"{field}\" must be {rule.must_be.format_map(_Words(ctx))}, "
                                      f"got {_shown(value)}")
        if rule.fields is not None:
            _check_object(value, rule.fields(ctx), card, source, f"{field}.", rule.closed)


def check_card(values: Mapping[str, Any], source: str = "model card") -> None:
    """Check a card's fields (a ModelCard's or a sidecar's JSON) against CARD_FIELDS.

    Raises:
        NaturalExplainError: "<source>: "<field>" must be <what is allowed>, got <value>".
    """
    _check_object(values, CARD_FIELDS, values, source)


def check_sidecar(raw: Any, source: str) -> None:
    """Check a parsed sidecar: a JSON object, of this format and version, whose card fields all hold.

    Raises:
        NaturalExplainError: naming the first field that is wrong.
    """
    if not isinstance(raw, dict):
        raise NaturalExplainError(f"{source} holds a JSON {_json_type(raw)}, not an object: it is not a Natural "
                                  "Explain model sidecar")
    _check_object(raw, SIDECAR_FIELDS, raw, source)
    check_card(raw, source)


def require_kind(card: ModelCard, expect: str, path: str | Path) -> None:
    """Refuse a model of another kind than `expect`, saying what it is and where it belongs.

    Raises:
        NaturalExplainError: e.g. pattern generators given where a classifier is needed.
    """
    if card.kind == expect:
        return
    spath = sidecar_path(path)
    what = (f"model {spath} holds {KIND_WORDS[card.kind]} (architecture \"{card.architecture}\"), "
            f"not {KIND_WORDS[expect]}")
    if card.kind == "segmenter" and expect == "classifier":
        raise NaturalExplainError(
            f"{what}: a segmenter is run by `python -m core segment INPUT --model {spath} --out DIR`; give a classifier "
            "here, such as the bundled naturalness_s2.json")
    if expect == "segmenter":
        raise NaturalExplainError(
            f"{what}: give a segmenter as --model, such as the bundled segmenter_s2.json (or train one with "
            "`python -m train segmenter --raster ... --polygons ...`); classifiers are run by `python -m core explain`")
    if card.kind == "generators":
        raise NaturalExplainError(
            f"{what}: give a classifier as --model, such as the bundled naturalness_s2.json; pattern generators are "
            "run by `explain --methods cyclegan` (or counterfactual) beside the classifier they were trained for")
    raise NaturalExplainError(f"{what}: train pattern generators for it with `python -m train cyclegan --classifier "
                              f"{spath} --raster ... --polygons ...`")


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".json")


def weights_path(path: str | Path) -> Path:
    """The safetensors weights belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".safetensors")


def _read_json(spath: Path) -> Any:
    """The sidecar's parsed JSON.

    Raises:
        NaturalExplainError: when it is missing, unreadable, too large or not JSON.
    """
    if not spath.is_file():
        raise NaturalExplainError(f"model sidecar {spath} not found: a model is a .safetensors file plus a .json "
                                  "beside it")
    try:
        if spath.stat().st_size > MAX_SIDECAR_BYTES:
            raise NaturalExplainError(f"model sidecar {spath} is larger than {MAX_SIDECAR_BYTES >> 20} MiB, so it is "
                                      "no model sidecar: give the model's .json")
        return json.loads(spath.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise NaturalExplainError(f"model sidecar {spath} cannot be read ({exc.strerror or exc})") from exc
    except (ValueError, RecursionError) as exc:
        raise NaturalExplainError(f"model sidecar {spath} is not valid JSON ({_json_problem(exc)}); "
                                  "re-export the model") from exc


def _json_problem(exc: Exception) -> str:
    """Why json.loads failed, in one short line without Python's own advice."""
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return str(exc).splitlines()[0]
    return "it is nested too deeply" if isinstance(exc, RecursionError) else "a number in it has too many digits"


def read_card(path: str | Path) -> tuple[ModelCard, dict[str, Any]]:
    """Read and check a sidecar; returns the card and the raw JSON.

    Raises:
        NaturalExplainError: when the sidecar is missing or unreadable, or any field is wrong.
    """
    spath = sidecar_path(path)
    raw = _read_json(spath)
    check_sidecar(raw, f"model sidecar {spath}")
    card = ModelCard(**{f.name: raw[f.name] for f in dataclasses.fields(ModelCard) if f.name in raw})
    card.clip = (float(card.clip[0]), float(card.clip[1]))
    return card, raw
