"""The one list of explanation methods: the pipeline, the CLI, Processing and the dock all read it.

Methods are named by import path and imported only when one runs, so listing them (a CLI's
--help, the plugin at QGIS start) loads neither torch nor Captum.
"""
import importlib
import inspect
from typing import TYPE_CHECKING, Any

from core.errors import NaturalExplainError

if TYPE_CHECKING:
    from core.explain.base import Explainer
    from core.models.model_file import LoadedModel

METHODS: dict[str, str] = {
    "cyclegan": "core.explain.cyclegan:CycleGANExplainer",
    "counterfactual": "core.explain.cyclegan:CounterfactualExplainer",
    "gradcam": "core.explain.captum_methods:GradCAMExplainer",
    "occlusion": "core.explain.captum_methods:OcclusionExplainer",
    "deeplift": "core.explain.captum_methods:DeepLiftExplainer",
    "ig": "core.explain.captum_methods:IntegratedGradientsExplainer",
}


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
    module, _, attribute = METHODS[parse_methods(name)[0]].partition(":")
    return getattr(importlib.import_module(module), attribute)


def build_explainer(name: str, model: "LoadedModel", **options: Any) -> "Explainer":
    """An explainer for `model`; options reach only the methods that take them (e.g. generators)."""
    cls = explainer_class(name)
    accepted = inspect.signature(cls.__init__).parameters
    return cls(model, **{k: v for k, v in options.items() if k in accepted and v is not None})
