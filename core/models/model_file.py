"""The model file: safetensors weights plus a JSON sidecar that says how to use them.

Loading never unpickles code: weights come from safetensors, the architecture from a
registry of known names, and everything else from plain JSON.
"""
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.atomic import atomic_path, write_json
from core.errors import NaturalExplainError
from core.models.registry import ARCHITECTURES

FORMAT = "natural-explain-model"
FORMAT_VERSION = 1


@dataclasses.dataclass
class ModelCard:
    """Everything the engine needs to feed a raster to the weights and read the answer.

    `bands` are names in input order; pixels are multiplied by `scale`, clipped to `clip`
    and standardised by `mean`/`std`. `natural_classes` name the classes whose summed
    probability is the naturalness score. `trained_against` is set on models that serve a
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
        if self.arch_args.get("in_channels") != n:
            problems.append(f"{n} bands but in_channels={self.arch_args.get('in_channels')}")
        if self.trained_against is None and self.arch_args.get("num_classes") != len(self.classes):
            problems.append(f"{len(self.classes)} classes but num_classes={self.arch_args.get('num_classes')}")
        unknown = [c for c in self.natural_classes if c not in self.classes]
        if unknown or not self.natural_classes:
            problems.append(f"natural classes {self.natural_classes} are not among {self.classes}")
        if problems:
            raise NaturalExplainError(f"the model sidecar is inconsistent: {problems[0]}")


@dataclasses.dataclass
class LoadedModel:
    """A ready network with its card and where it came from."""

    network: torch.nn.Module
    card: ModelCard
    weights_path: Path
    weights_sha256: str


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".json")


def weights_path(path: str | Path) -> Path:
    """The safetensors weights belonging to a model given by its .json or .safetensors path."""
    return Path(path).with_suffix(".safetensors")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(network: torch.nn.Module, card: ModelCard, path: str | Path) -> Path:
    """Write weights and sidecar atomically; returns the sidecar path."""
    card.validate()
    wpath, spath = weights_path(path), sidecar_path(path)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    with atomic_path(wpath) as tmp:
        save_file(state, str(tmp))
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **dataclasses.asdict(card),
               "weights": wpath.name, "weights_sha256": file_sha256(wpath)}
    write_json(spath, payload)
    return spath


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


def load_model(path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """Load a model file for inference, in eval mode on `device`.

    Raises:
        NaturalExplainError: when a file is missing or corrupt, or the weights do not match the sidecar.
    """
    card, raw = read_card(path)
    wpath = weights_path(path)
    if not wpath.is_file():
        raise NaturalExplainError(f"model weights {wpath} not found beside {sidecar_path(path).name}")
    digest = file_sha256(wpath)
    expected = raw.get("weights_sha256")
    if expected and expected != digest:
        raise NaturalExplainError(f"model weights {wpath} do not match their sidecar (checksum differs): the file is corrupt or from another model")
    try:
        state = load_file(str(wpath))
    except (SafetensorError, OSError, ValueError) as exc:
        raise NaturalExplainError(f"model weights {wpath} are corrupt ({exc}); re-download or retrain the model") from exc
    network = ARCHITECTURES[card.architecture](**card.arch_args)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise NaturalExplainError(f"model weights {wpath} do not fit the architecture in the sidecar: {first}") from exc
    network.eval().to(device)
    return LoadedModel(network=network, card=card, weights_path=wpath, weights_sha256=digest)


def classifier_reference(model: LoadedModel) -> dict[str, str]:
    """What a dependent model's card records of the classifier it was trained against."""
    return {"weights": model.weights_path.name, "weights_sha256": model.weights_sha256}

