"""Each explanation method's settings, declared once as a dataclass: what the CLI, Processing and run.json use.

A setting is given as METHOD.NAME=VALUE (`--method-option occlusion.window=8`); the value is
converted to the field's type and checked here, so a mistake is one line before anything runs.
No torch here: the CLI's --help lists the settings without loading it.
"""
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

from core.errors import NaturalExplainError


def _setting(default: Any, help: str) -> Any:  # noqa: A002 (argparse's word)
    return dataclasses.field(default=default, metadata={"help": help})


def _positive(options: Any, method: str, *names: str) -> None:
    """One line naming the first setting that is not a positive whole number."""
    for name in names:
        if getattr(options, name) < 1:
            raise NaturalExplainError(f"{method}.{name} must be at least 1, got {getattr(options, name)}")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """A method without settings."""


@dataclasses.dataclass(frozen=True)
class GeneratorOptions:
    """cyclegan's and counterfactual's settings."""

    generators: Path | None = _setting(None, "pattern generators (default: MODEL_generators.json beside the model, "
                                             "else the bundled ones)")


@dataclasses.dataclass(frozen=True)
class OcclusionOptions:
    """Occlusion's window: smaller is sharper and costs (window/stride)^2 more forward passes per pixel."""

    window: int = _setting(16, "side of the occluded square, in model pixels")
    stride: int = _setting(8, "step between occluded squares, in model pixels")

    def __post_init__(self) -> None:
        _positive(self, "occlusion", "window", "stride")


@dataclasses.dataclass(frozen=True)
class IntegratedGradientsOptions:
    """Integrated gradients' path: more steps, a closer integral and a slower map."""

    steps: int = _setting(32, "steps from the band-mean baseline to the input")

    def __post_init__(self) -> None:
        _positive(self, "ig", "steps")


def _value(field: dataclasses.Field, text: str, where: str) -> Any:
    """`text` as the field's type (int, float, or a path; None for an empty path)."""
    kinds = typing.get_args(field.type) if isinstance(field.type, types.UnionType) else (field.type,)
    kind = next(k for k in kinds if k is not type(None))
    try:
        if kind is Path:
            return Path(text) if text else None
        return kind(text)
    except ValueError:
        raise NaturalExplainError(f"{where} takes {'a whole number' if kind is int else 'a number'}, "
                                  f"not '{text}'") from None


def parse_settings(items: list[str], options_of: dict[str, type]) -> dict[str, dict[str, Any]]:
    """['occlusion.window=8', ...] -> {'occlusion': {'window': 8}}, checked against each method's dataclass.

    Args:
        items: METHOD.NAME=VALUE texts.
        options_of: method name -> its options dataclass (core.explain.registry.METHODS).

    Raises:
        NaturalExplainError: for a malformed item, an unknown method or setting, or a value of the wrong type.
    """
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        method, dot, name = key.strip().partition(".")
        if not sep or not dot:
            raise NaturalExplainError(f"a method option reads METHOD.NAME=VALUE, e.g. occlusion.window=8, not '{item}'")
        if method not in options_of:
            raise NaturalExplainError(f"no method '{method}' in '{item}': choose from {', '.join(options_of)}")
        fields = {f.name: f for f in dataclasses.fields(options_of[method])}
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise NaturalExplainError(f"{method} has no setting '{name}' (its settings: {known})")
        found.setdefault(method, {})[name] = _value(fields[name], text.strip(), key.strip())
    for method, settings in found.items():
        options_of[method](**settings)  # the dataclass's own checks, now rather than when the run starts
    return found


def describe(options_of: dict[str, type]) -> str:
    """Every setting with its default and meaning, for --help."""
    parts = []
    for method, options in options_of.items():
        for field in dataclasses.fields(options):
            parts.append(f"{method}.{field.name} ({field.default}: {field.metadata['help']})")
    return "; ".join(parts)


def to_record(options: Any) -> dict[str, Any]:
    """A method's settings as run.json records them (paths as text)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(options).items()}
