"""Explanations from the pattern maximizer and minimizer (SpacEX's generators).

Two generators were trained against the frozen classifier, one to raise its natural score
and one to lower it. Each may only repaint pixels with a mix of real spectra of the training
imagery (core.models.generator), and training keeps the repainted share small (a proximity
term, and a score term that stops once the classifier is convinced), so an enhanced image is
the same place with some land cover changed.

- `cyclegan` is SpacEX's attribution: where the two enhanced images differ, the per-band
  mean of |G_max(x) - G_min(x)| in physical units (reflectance), plus both enhanced images
  in the input's raw units, so QGIS can style them with the input's stretch. It is
  class-agnostic by design, so `target` is ignored.
- `counterfactual` explains one verdict. |max - min| marks the evidence for both classes at
  once: in a tile judged natural that holds a farm, the farm (which the maximizer rewrites)
  outweighs the wetland the verdict rests on. Here the explained class picks the generator
  that argues against it (the minimizer for a natural verdict, the maximizer for an
  anthropogenic one), and the map is where that generator changes the image, as the
  classifier sees it: the per-band mean of |G(x) - x| in standardised units, so a change in
  a dark band counts as much as the classifier lets it.
"""
from pathlib import Path

import torch

from core.errors import NaturalExplainError
from core.explain.base import Explainer
from core.explain.method_options import GeneratorOptions
from core.models.card import sidecar_path
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace
from core.resources import DEFAULT_GENERATORS

TRAIN_COMMAND = "python -m train cyclegan"
GENERATORS_SUFFIX = "_generators"  # MODEL_generators.json: where the panel's second step puts a model's generators


def generators_beside(model: str | Path) -> Path:
    """Where a model's own generators are looked for: MODEL_generators.json in the model's folder."""
    card = sidecar_path(model)
    return card.with_name(card.stem + GENERATORS_SUFFIX + ".json")


def default_generators(classifier: LoadedModel) -> Path:
    """The generators a run takes when none are named: the classifier's own beside it, else the bundled ones."""
    beside = generators_beside(classifier.weights_path)
    return beside if beside.is_file() else DEFAULT_GENERATORS


def load_generators(path: str | Path, classifier: LoadedModel, device: torch.device | str = "cpu") -> LoadedModel:
    """Load pattern generators, refusing any trained against another classifier.

    Args:
        path: the generators' .json or .safetensors.
        classifier: the loaded classifier they are to explain.
        device: where to put them.

    Returns:
        The loaded generators (a PatternGenerators network), in eval mode.

    Raises:
        NaturalExplainError: when the file is missing or corrupt, or the classifier's weights or bands differ.
    """
    loaded = load_model(path, device, expect="generators")
    reference = loaded.card.trained_against or {}
    if reference.get("weights_sha256") != classifier.weights_sha256 or loaded.card.bands != classifier.card.bands:
        raise NaturalExplainError(
            f"generators {sidecar_path(path).name} were trained for classifier {reference.get('weights', 'unknown')}, "
            f"not for {classifier.weights_path.name} (its weights differ): train generators for this classifier with "
            f"`{TRAIN_COMMAND} --classifier {sidecar_path(classifier.weights_path)} --raster ... --polygons ... "
            f"--out {generators_beside(classifier.weights_path)}` (found there without --generators)")
    return loaded


class GeneratorExplainer(Explainer):
    """What both generator methods share: the generators checked against the classifier, and running them.

    Args:
        model: the loaded classifier.
        options: GeneratorOptions; its `generators` None takes default_generators (the model's own, else the
            bundled ones).

    Raises:
        NaturalExplainError: when the generators are missing or were trained for another classifier.
    """

    def __init__(self, model: LoadedModel, options: GeneratorOptions | None = None) -> None:
        super().__init__(model, options)
        device = next(model.network.parameters()).device
        self.generators = load_generators(self.options.generators or default_generators(model), model, device).network
        self.space = UnitSpace(model.card, device)

    @torch.no_grad()
    def _enhanced(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The maximized and minimized images in unit space."""
        u = self.space.from_input(x)
        return self.generators.maximizer(u), self.generators.minimizer(u)


class CycleGANExplainer(GeneratorExplainer):
    """SpacEX's attribution, mean |G_max(x) - G_min(x)| over bands, and the two enhanced images."""

    name = "cyclegan"
    description = "CycleGAN pattern maximizer/minimizer (SpacEX): mean |max - min| over bands"

    def _attribution(self, u_max: torch.Tensor, u_min: torch.Tensor) -> torch.Tensor:
        return (self.space.to_physical(u_max) - self.space.to_physical(u_min)).abs().mean(dim=1, keepdim=True)

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) mean |G_max(x) - G_min(x)| over bands, in physical units; `target` is ignored.

        Args:
            x: (B, C, H, W) standardised model input.
            target: ignored: the attribution is class-agnostic by design.

        Returns:
            The non-negative attribution.
        """
        return self._attribution(*self._enhanced(x))

    def output_bands(self) -> dict[str, list[str]]:
        """The attribution, then both enhanced images with the model's band names."""
        bands = list(self.model.card.bands)
        return {f"attribution_{self.name}": [f"attribution_{self.name}"], "enhanced_max": bands, "enhanced_min": bands}

    def maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The attribution plus both enhanced images (B, C, H, W) in the input's raw units.

        Args:
            x: (B, C, H, W) standardised model input.

        Returns:
            {"attribution_cyclegan", "enhanced_max", "enhanced_min"}.
        """
        u_max, u_min = self._enhanced(x)
        return {f"attribution_{self.name}": self._attribution(u_max, u_min),
                "enhanced_max": self.space.to_raw(u_max), "enhanced_min": self.space.to_raw(u_min)}


class CounterfactualExplainer(GeneratorExplainer):
    """Where the generator that argues against the explained class changes the image (see the module)."""

    name = "counterfactual"
    description = "CycleGAN counterfactual: mean |G(x) - x| over bands, G the generator against the verdict"

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) mean |G(x) - x| over bands in standardised units, G against each tile's explained class.

        Args:
            x: (B, C, H, W) standardised model input.
            target: (B,) the class to explain per tile; None explains each tile's predicted class.

        Returns:
            The non-negative attribution.
        """
        natural = torch.tensor(self.model.card.natural_indices, device=x.device)
        against_natural = torch.isin(self.explained_class(x, target), natural)
        u = self.space.from_input(x)
        changed = torch.empty_like(u)
        with torch.no_grad():  # each tile through its one generator (InstanceNorm keeps tiles independent)
            for generator, chosen in ((self.generators.minimizer, against_natural),
                                      (self.generators.maximizer, ~against_natural)):
                if chosen.any():
                    changed[chosen] = generator(u[chosen])
        return (self.space.to_input(changed) - self.space.to_input(u)).abs().mean(dim=1, keepdim=True)
