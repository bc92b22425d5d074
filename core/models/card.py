"""The model card: the JSON sidecar that says how to feed a raster to a model's weights.

Reading a card needs no torch, so the plugin can show a model's bands, classes and kind the
moment the user picks it, and QGIS never waits for torch to load just to fill a label.
"""
import dataclasses
import json
from pathlib import Path
from typing import Any

from core.errors import NaturalExplainError
from core.models.registry import ARCHITECTURES

FORMAT = "natural-explain-model"
FORMAT_VERSION = 1


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

    def validate(self) -> None:
        """Check the card is self-consistent.

        Raises:
            NaturalExplainError: naming the first inconsistency.
        """
        n = len(self.bands)
        problems = []
        if self.architecture not in ARCHITECTURES:
            problems.append(f"unknown architecture '{self.architecture}'")
        if len(self.mean) != n or len(self.std) != n:
            problems.append(f"{n} bands but {len(self.mean)} means and {len(self.std)} stds")
        if self.value_range is not None and len(self.value_range) != n:
            problems.append(f"{n} bands but {len(self.value_range)} value ranges")
        if self.arch_args.get("in_channels") != n:
            problems.append(f"{n} bands but in_channels={self.arch_args.get('in_channels')}")
        if self.trained_against is None and self.arch_args.get("num_classes") != len(self.classes):
            problems.append(f"{len(self.classes)} classes but num_classes={self.arch_args.get('num_classes')}")
        unknown = [c for c in self.natural_classes if c not in self.classes]
        if unknown or not self.natural_classes:
            problems.append(f"natural classes {self.natural_classes} are not among {self.classes}")
        if problems:
            raise NaturalExplainError(f"the model sidecar is inconsistent: {problems[0]}")


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".json")


def weights_path(path: str | Path) -> Path:
    """The safetensors weights belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".safetensors")


def read_card(path: str | Path) -> tuple[ModelCard, dict[str, Any]]:
    """Read and check a sidecar; returns the card and the raw JSON.

    Raises:
        NaturalExplainError: when the sidecar is missing, unreadable or inconsistent.
    """
    spath = sidecar_path(path)
    if not spath.is_file():
        raise NaturalExplainError(f"model sidecar {spath} not found: a model is a .safetensors file plus a .json beside it")
    try:
        raw = json.loads(spath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NaturalExplainError(f"model sidecar {spath} is not valid JSON ({exc}); re-export the model") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise NaturalExplainError(f"{spath} is not a Natural Explain model sidecar (no \"format\": \"{FORMAT}\")")
    fields = {f.name for f in dataclasses.fields(ModelCard)}
    missing = sorted(f.name for f in dataclasses.fields(ModelCard)
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                     and f.name not in raw)
    if missing:
        raise NaturalExplainError(f"model sidecar {spath} lacks {', '.join(missing)}; re-export the model")
    card = ModelCard(**{k: v for k, v in raw.items() if k in fields})
    card.clip = tuple(card.clip)
    card.validate()
    return card, raw
