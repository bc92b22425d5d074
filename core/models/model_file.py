"""The model file: safetensors weights plus a JSON sidecar that says how to use them.

Loading never unpickles code: weights come from safetensors, the architecture from a
registry of known names, and everything else from plain JSON.
"""
import dataclasses
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.atomic import atomic_path, write_json
from core.checksum import file_sha256
from core.errors import NaturalExplainError
from core.models.card import FORMAT, FORMAT_VERSION, ModelCard, read_card, require_kind, sidecar_path, weights_path
from core.models.registry import build_architecture


@dataclasses.dataclass
class LoadedModel:
    """A ready network with its card and where it came from."""

    network: torch.nn.Module
    card: ModelCard
    weights_path: Path
    weights_sha256: str


def save_model(network: torch.nn.Module, card: ModelCard, path: str | Path, half: tuple[str, ...] = ()) -> Path:
    """Write weights and sidecar atomically; returns the sidecar path.

    Args:
        network: the weights to write.
        card: its card.
        path: where (.json or .safetensors or neither).
        half: prefixes of the floating-point tensors to store as float16, which halves a large part that does not
            need float32's precision (a generative JEM's energy); loading casts them back to the network's float32.

    Raises:
        NaturalExplainError: when the card would be refused on loading, so no unloadable model is written.
    """
    card.validate(f"model card for {sidecar_path(path)}")
    wpath, spath = weights_path(path), sidecar_path(path)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    state = {k: v.half() if v.is_floating_point() and k.startswith(half) else v for k, v in state.items()}
    with atomic_path(wpath) as tmp:
        save_file(state, str(tmp))
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **dataclasses.asdict(card),
               "weights": wpath.name, "weights_sha256": file_sha256(wpath)}
    write_json(spath, payload)
    return spath


def load_model(path: str | Path, device: torch.device | str = "cpu",
               expect: str | None = "classifier") -> LoadedModel:
    """Load a model file for inference, in eval mode on `device`.

    Every --model a command takes is a classifier, so that is the default: pattern generators given
    there are refused by name instead of failing later on a missing method.

    Args:
        path: the model's .json or .safetensors.
        device: where to put the network.
        expect: the kind the caller needs, "classifier" or "generators" (core.models.registry.KINDS); None takes either.

    Raises:
        NaturalExplainError: when a file is missing or corrupt, the model is of another kind, or the weights
            do not match the sidecar.
    """
    card, raw = read_card(path)
    if expect is not None:
        require_kind(card, expect, path)
    wpath = weights_path(path)
    if not wpath.is_file():
        raise NaturalExplainError(f"model weights {wpath} not found beside {sidecar_path(path).name}")
    digest = _checked_digest(wpath, raw.get("weights_sha256"))
    network = _fitted_network(card, _read_weights(wpath), wpath)
    network.eval().to(device)
    return LoadedModel(network=network, card=card, weights_path=wpath, weights_sha256=digest)


def _checked_digest(wpath: Path, expected: str | None) -> str:
    """The weights' sha256, refused when the sidecar records another (a corrupt file or a pair mixed up)."""
    try:
        digest = file_sha256(wpath)
    except OSError as exc:
        raise NaturalExplainError(f"model weights {wpath} cannot be read ({exc.strerror or exc})") from exc
    if expected and expected != digest:
        raise NaturalExplainError(f"model weights {wpath} do not match their sidecar (checksum differs): "
                                  "the file is corrupt or from another model")
    return digest


def _read_weights(wpath: Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, refused when it is corrupt or holds NaN or infinity (a map of NaN)."""
    try:
        state = load_file(str(wpath))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise NaturalExplainError(f"model weights {wpath} are corrupt ({reason}); "
                                  "re-download or retrain the model") from exc
    bad = next((name for name, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())), None)
    if bad is not None:
        raise NaturalExplainError(f"model weights {wpath} are corrupt (tensor {bad} holds NaN or infinity); "
                                  "re-download or retrain the model")
    return state


def _fitted_network(card: ModelCard, state: dict[str, torch.Tensor], wpath: Path) -> torch.nn.Module:
    """The card's network holding `state`; shapes are compared on a weightless (meta) copy first.

    Comparing before building means a sidecar that names a huge architecture costs nothing when the
    weights do not fit it, and the message names the first tensor that differs.
    """
    with torch.device("meta"):
        skeleton = build_architecture(card.architecture, card.arch_args)
    expected = {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    problem = _state_mismatch(expected, {name: tuple(t.shape) for name, t in state.items()})
    if problem:
        raise NaturalExplainError(f"model weights {wpath} do not fit the architecture in the sidecar: {problem}")
    network = build_architecture(card.architecture, card.arch_args)
    network.load_state_dict(state, strict=True)
    return network


def _state_mismatch(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> str | None:
    """The first difference between the tensors an architecture needs and those a file holds, in words."""
    for name, shape in expected.items():
        if name not in found:
            return f"tensor {name} is missing"
        if found[name] != shape:
            return f"tensor {name} is {list(found[name])} but the sidecar's arch_args need {list(shape)}"
    extra = [name for name in found if name not in expected]
    return f"tensor {extra[0]} is not part of the architecture" if extra else None


def classifier_reference(model: LoadedModel) -> dict[str, str]:
    """What a dependent model's card records of the classifier it was trained against."""
    return {"weights": model.weights_path.name, "weights_sha256": model.weights_sha256}

