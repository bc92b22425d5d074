"""The model file: safetensors weights plus a JSON sidecar that says how to use them.

Loading never unpickles code: weights come from safetensors, the architecture from a
registry of known names, and everything else from plain JSON.
"""
import dataclasses
import hashlib
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.atomic import atomic_path, write_json
from core.errors import NaturalExplainError
from core.models.card import FORMAT, FORMAT_VERSION, ModelCard, read_card, sidecar_path, weights_path
from core.models.registry import build_architecture


@dataclasses.dataclass
class LoadedModel:
    """A ready network with its card and where it came from."""

    network: torch.nn.Module
    card: ModelCard
    weights_path: Path
    weights_sha256: str


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
    network = build_architecture(card.architecture, card.arch_args)
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

