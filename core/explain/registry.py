"""The one list of explanation methods: the pipeline, the CLI, Processing and the dock all read it.

Methods are named by import path and imported only when one runs, so listing them (a CLI's
--help, the plugin at QGIS start) loads neither torch nor Captum.
"""
import dataclasses
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from core.errors import NaturalExplainError
from core.explain.method_options import GeneratorOptions, IntegratedGradientsOptions, NoOptions, OcclusionOptions, parse_settings

if TYPE_CHECKING:
    from core.explain.base import Explainer
    from core.models.model_file import LoadedModel


@dataclasses.dataclass(frozen=True)
class Method:
    """Where a method's class lives (imported when it runs) and the dataclass of its settings."""

    path: str
    options: type


METHODS: dict[str, Method] = {
    "cyclegan": Method("core.explain.cyclegan:CycleGANExplainer", GeneratorOptions),
    "counterfactual": Method("core.explain.cyclegan:CounterfactualExplainer", GeneratorOptions),
    "gradcam": Method("core.explain.captum_methods:GradCAMExplainer", NoOptions),
    "occlusion": Method("core.explain.captum_methods:OcclusionExplainer", OcclusionOptions),
    "deeplift": Method("core.explain.captum_methods:DeepLiftExplainer", NoOptions),
    "ig": Method("core.explain.captum_methods:IntegratedGradientsExplainer", IntegratedGradientsOptions),
}
OPTIONS_OF = {name: method.options for name, method in METHODS.items()}


def parse_methods(text: str | None) -> list[str]:
    """'gradcam,ig' -> ['gradcam', 'ig'], checked against the registry.

    Raises:
        NaturalExplainError: naming the unknown methods and the known ones.
    """
    names = [n.strip().lower() for n in (text or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise NaturalExplainError(f"unknown method(s) {', '.join(unknown)}: choose from {', '.join(METHODS)}")
    return list(dict.fromkeys(names))


def explainer_class(name: str) -> "type[Explainer]":
    """Import and return the class behind a registered method name."""
    module, _, attribute = METHODS[parse_methods(name)[0]].path.partition(":")
    return getattr(importlib.import_module(module), attribute)


# The settings of every method of a run: method name -> setting name -> value (what --method-option gives).
MethodSettings = Mapping[str, Mapping[str, Any]]


def parse_method_settings(items: list[str]) -> dict[str, dict[str, Any]]:
    """--method-option's METHOD.NAME=VALUE items, typed and checked (core.explain.method_options.parse_settings)."""
    return parse_settings(items, OPTIONS_OF)


def generators_setting(settings: MethodSettings | None) -> Path | None:
    """The pattern generators a run's settings name (cyclegan's, else counterfactual's), None for the default."""
    settings = settings or {}
    return settings.get("cyclegan", {}).get("generators") or settings.get("counterfactual", {}).get("generators")


def build_explainer(name: str, model: "LoadedModel", settings: MethodSettings | None = None) -> "Explainer":
    """An explainer for `model` with its settings from `settings` (defaults for the rest)."""
    return explainer_class(name)(model, METHODS[name].options(**(settings or {}).get(name, {})))
