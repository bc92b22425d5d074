"""Which classifier a run uses: the one the user named, or the richest bundled one whose bands the input has.

The bundled classifiers (core.resources.BUNDLED_CLASSIFIERS) were trained on the same scene and
labels with ten Sentinel-2 bands, with blue, green, red and near infrared, and with blue, green
and red. When no model is named, `choose_model` picks the first of them, richest first, whose
every band the input has by name (or by the user's band mapping), and says why; when none fits,
its error names what is missing, lists the models with their bands, and suggests only band
numbers the input has. The CLI, the pipeline and the QGIS plugin all choose through it; it reads
model cards only (no weights, no torch, no qgis).
"""
import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.errors import NaturalExplainError
from core.models.card import ModelCard, read_card
from core.raster.bands import match_bands
from core.raster.sources import BandRef, RasterInput, normalize_band_name
from core.resources import BUNDLED_CLASSIFIERS, DEFAULT_GENERATORS

# Methods that run pattern generators, which work only with the classifier they were trained against.
GENERATOR_METHODS = ("cyclegan", "counterfactual")
TRAIN_COMMAND = "python -m train classifier"


@dataclasses.dataclass(frozen=True)
class Choice:
    """The classifier a run uses and why.

    Attributes:
        path: the model's sidecar (.json) or weights path.
        automatic: True when no model was named and this one was picked from the bundled ones.
        why: one clause saying why (e.g. "the input has B02, B03, B04, B08; naturalness_s2 also needs B05, ...").
    """

    path: Path
    automatic: bool
    why: str

    @property
    def name(self) -> str:
        """The model's name: its file name without suffix."""
        return self.path.with_suffix("").name

    def line(self) -> str:
        """The one line a command prints before the run, e.g. "model: naturalness_s2_rgbn (the input has ...)"."""
        return f"model: {self.name} ({self.why})"

    def to_json(self) -> dict:
        """What run.json records under "model" beside the model's own fields."""
        return {"chosen_automatically": self.automatic, "why": self.why}


def given_or_bundled(model: str | Path | None, bundled: Path, what: str) -> Choice:
    """`model` when the user named one, else `bundled`, the one default of a command (ood's JEM, segment's segmenter)."""
    if model is not None:
        return Choice(Path(model), False, "the model given")
    return Choice(bundled, True, f"the bundled {what}")


@dataclasses.dataclass(frozen=True)
class _Candidate:
    path: Path
    card: ModelCard

    @property
    def name(self) -> str:
        return self.path.with_suffix("").name

    @property
    def bands(self) -> list[str]:
        return [normalize_band_name(b) for b in self.card.bands]

    def missing(self, have: set[str]) -> list[str]:
        return [b for b in self.bands if b not in have]

    def needs(self) -> str:
        return f"{self.name} needs {', '.join(self.bands)}"


def bundled_candidates(paths: Iterable[Path] = BUNDLED_CLASSIFIERS) -> list[_Candidate]:
    """The bundled classifiers that are present, richest first (more bands first, then the listed order)."""
    found = [_Candidate(Path(p), read_card(p)[0]) for p in paths if Path(p).is_file()]
    return sorted(found, key=lambda c: -len(c.card.bands))


def input_band_names(raster: RasterInput, mapping: dict[str, int] | None = None) -> list[str]:
    """The band names the input offers, in its band order: its bands' names, then the names a band mapping adds.

    A mapped number beyond the input's band count still counts: match_bands refuses it, naming the band count.
    """
    names = [b.name for b in raster.bands if b.name]
    names += [normalize_band_name(k) for k in (mapping or {})]
    return list(dict.fromkeys(names))


def _generator_classifier(generators: str | Path | None) -> str | None:
    """The weights sha256 of the classifier the pattern generators were trained against, or None if unknown."""
    try:
        card, _ = read_card(generators or DEFAULT_GENERATORS)
    except NaturalExplainError:
        return None
    return (card.trained_against or {}).get("weights_sha256")


def _restricted_to_generators(candidates: list[_Candidate], methods: Sequence[str],
                              generators: str | Path | None) -> tuple[list[_Candidate], str | None]:
    """The candidates the generator methods among `methods` can explain, and those methods' names (None if none)."""
    wanting = [m for m in methods if m in GENERATOR_METHODS]
    if not wanting:
        return candidates, None
    sha = _generator_classifier(generators)
    kept = [c for c in candidates if read_card(c.path)[1].get("weights_sha256") == sha]
    return (kept, " and ".join(wanting)) if kept else (candidates, None)


def _example_mapping(raster: RasterInput, candidates: list[_Candidate], have: set[str]) -> str:
    """A --bands example that uses only the input's band numbers, for the candidate the input comes closest to."""
    count = len(raster.bands)
    if not have & {b for c in candidates for b in c.bands}:  # no band a model knows: the richest the count allows
        fitting = [c for c in candidates if len(c.bands) <= count] or [candidates[-1]]
        return ",".join(f"{b}={i}" for i, b in enumerate(fitting[0].bands[:count], start=1))
    closest = min(candidates, key=lambda c: (len(c.missing(have)), -len(c.bands)))
    free = [i for i, b in enumerate(raster.bands, start=1) if b.name not in closest.bands]
    missing = closest.missing(have)
    if len(free) >= len(missing):
        return ",".join(f"{b}={i}" for b, i in zip(missing, free))
    smallest = candidates[-1]
    return ",".join(f"{b}={i}" for i, b in enumerate(smallest.bands[:count], start=1))


def _none_fits(raster: RasterInput, candidates: list[_Candidate], have: list[str], methods: str | None,
               every: list[_Candidate]) -> NaturalExplainError:
    """The one-line error when no candidate fits: what is missing, which models need which bands, what to change."""
    closest = min(candidates, key=lambda c: (len(c.missing(set(have))), -len(c.bands)))
    count = len(raster.bands)
    named = ", ".join(str(b.name) if b.name else "unnamed" for b in raster.bands)
    any_named = any(b.name for b in raster.bands)
    if count < max(len(c.bands) for c in candidates):
        has = f"it has only {count} band{'s' if count != 1 else ''} ({named if any_named else 'none named'})"
    else:
        has = f"its {count} bands are named: {named}" if any_named else f"its {count} bands have no names"
    if methods:
        others = [c for c in every if not c.missing(set(have))]
        instead = f"; leave out {methods} to use {others[0].name}, which fits them" if others else ""
        return NaturalExplainError(
            f"cannot find band(s) {', '.join(closest.missing(set(have)))} in {raster.path} for {methods}: their "
            f"pattern generators were trained against {closest.name} ({closest.needs()}) and {has}{instead}")
    example = _example_mapping(raster, candidates, set(have))
    numbers = f"numbers 1 to {count}" if count > 1 else "number 1"
    own = f" --bands {','.join(have)}" if have else ""
    return NaturalExplainError(
        f"cannot find band(s) {', '.join(closest.missing(set(have)))} in {raster.path} for any bundled model: {has}, "
        f"and {'; '.join(c.needs() for c in candidates)}; give a raster that holds one of these sets of bands, named "
        f"(band descriptions or file names) or mapped to its band {numbers} (e.g. --bands {example}), "
        f"or train a model on the bands it has ({TRAIN_COMMAND} --raster ... --polygons ...{own}) and give it with "
        "--model")


def _why(chosen: _Candidate, richer: list[_Candidate], have: set[str]) -> str:
    accuracy = chosen.card.training.get("metrics", {}).get("val_accuracy")
    held_out = f"; held-out accuracy {accuracy:.1%}" if isinstance(accuracy, (int, float)) else ""
    if not richer:
        return f"the input has all {len(chosen.bands)} of its bands, {', '.join(chosen.bands)}{held_out}"
    lacks = "; ".join(f"{c.name} also needs {', '.join(c.missing(have))}" for c in richer)
    return f"the input has {', '.join(chosen.bands)}; {lacks}{held_out}"


def choose_model(raster: RasterInput, model: str | Path | None = None, mapping: dict[str, int] | None = None,
                 methods: Sequence[str] = (), generators: str | Path | None = None,
                 bundled: Iterable[Path] = BUNDLED_CLASSIFIERS) -> Choice:
    """The classifier for `raster`: `model` when given, else the richest bundled one whose bands it has.

    Args:
        raster: the opened input (core.raster.sources.open_input).
        model: the model the user named, or None to choose.
        mapping: the user's model band -> 1-based input band number mapping; its names count as the input's.
        methods: the explanation methods of the run; the generator methods (cyclegan, counterfactual) need the
            classifier their generators were trained against.
        generators: the pattern generators the run uses (None: the bundled ones).
        bundled: the models to choose from, richest first (the bundled classifiers by default).

    Returns:
        The model and why it was taken.

    Raises:
        NaturalExplainError: when no model is named and no bundled one fits: the missing bands, each model's
            bands, and what to change (never a band number the input does not have).
    """
    if model is not None:
        return Choice(Path(model), False, "the model given")
    every = bundled_candidates(bundled)
    if not every:
        raise NaturalExplainError("no bundled model found (resources/models is missing): give a model with --model")
    have = input_band_names(raster, mapping)
    mapped = {normalize_band_name(k) for k in (mapping or {})}
    candidates, generator_methods = _restricted_to_generators(every, methods, generators)
    # a user's mapping may name only the model's bands, so a model must hold every band it maps (a name no
    # model has is left to match_bands, whose error names the chosen model's bands)
    if not mapped <= {b for c in candidates for b in c.bands}:
        mapped = set()
    fits = [c for c in candidates if not c.missing(set(have)) and mapped <= set(c.bands)]
    if not fits:
        raise _none_fits(raster, candidates, have, generator_methods, every)
    chosen = fits[0]
    richer = [c for c in candidates if len(c.bands) > len(chosen.bands)]
    return Choice(chosen.path, True, _why(chosen, richer, set(have)))


def match_chosen(raster: RasterInput, wanted: list[str], mapping: dict[str, int] | None, choice: Choice,
                 bundled: Iterable[Path] = BUNDLED_CLASSIFIERS) -> list[BandRef]:
    """match_bands for the chosen model's bands; when the user named a model the input lacks bands for and a
    bundled one fits, the error says so too.

    Raises:
        NaturalExplainError: match_bands's, with "or leave out the model to use ..." where a bundled model fits.
    """
    try:
        return match_bands(raster, wanted, mapping)
    except NaturalExplainError as exc:
        if choice.automatic:
            raise
        try:
            instead = choose_model(raster, None, mapping, bundled=bundled)
        except NaturalExplainError:
            raise exc from None
        if instead.path.resolve() == choice.path.resolve():
            raise
        raise NaturalExplainError(f"{exc}; or leave out the model to use the bundled {instead.name}, "
                                  "which fits the input's bands") from exc
