"""The generator explainers: their maps, their units, the counterfactual's choice of generator, and the refusal of
generators made for another classifier."""
from pathlib import Path

import pytest
import torch
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.explain.cyclegan import CounterfactualExplainer, CycleGANExplainer
from core.models.model_file import LoadedModel, load_model, save_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, SAMPLE

pytestmark = pytest.mark.slow  # runs the pattern generators on real tiles


@pytest.fixture(scope="module")
def classifier() -> LoadedModel:
    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def sample_tile(classifier: LoadedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """A 70 x 45 px tile of the real sample: raw digital numbers and the standardised model input."""
    source = open_input(SAMPLE)
    raw, valid = read_window(match_bands(source, classifier.card.bands), source.grid.window(Window(10, 20, 45, 70)))
    return torch.from_numpy(raw)[None], torch.from_numpy(to_model_input(raw, valid, classifier.card))[None]


def test_maps_are_finite_non_negative_and_shaped_like_the_tile(classifier: LoadedModel, sample_tile) -> None:
    raw, x = sample_tile
    maps = CycleGANExplainer(classifier).maps(x)
    assert maps["attribution_cyclegan"].shape == (1, 1, 70, 45)
    assert maps["enhanced_max"].shape == maps["enhanced_min"].shape == x.shape
    assert all(torch.isfinite(m).all() and (m >= 0).all() for m in maps.values())
    assert maps["attribution_cyclegan"].std() > 0


def test_enhanced_images_are_in_the_inputs_raw_units(classifier: LoadedModel, sample_tile) -> None:
    raw, x = sample_tile
    maps = CycleGANExplainer(classifier).maps(x)
    for name in ("enhanced_max", "enhanced_min"):
        ratio = maps[name].median() / raw.median()
        assert 0.5 < ratio < 2, name


def test_attribute_is_the_attribution_map_whatever_the_target(classifier: LoadedModel, sample_tile) -> None:
    _, x = sample_tile
    explainer = CycleGANExplainer(classifier)
    torch.testing.assert_close(explainer.attribute(x, target=torch.tensor([0])), explainer.maps(x)["attribution_cyclegan"])


def test_generators_of_another_classifier_are_refused(classifier: LoadedModel, tmp_path: Path) -> None:
    other = load_model(DEFAULT_MODEL)
    with torch.no_grad():
        other.network.head.bias.add_(0.1)
    retrained = load_model(save_model(other.network, other.card, tmp_path / "retrained"))
    with pytest.raises(NaturalExplainError, match="train generators for this classifier") as info:
        CycleGANExplainer(retrained)
    assert "python -m train cyclegan --classifier" in str(info.value) and "\n" not in str(info.value)


def test_counterfactual_shows_what_the_generator_against_the_verdict_changes(classifier: LoadedModel,
                                                                             sample_tile) -> None:
    """A natural verdict is explained by the minimizer's changes, an anthropogenic one by the maximizer's."""
    _, x = sample_tile
    explainer = CounterfactualExplainer(classifier)
    space, (natural,) = explainer.space, classifier.card.natural_indices
    u = space.from_input(x)
    with torch.no_grad():
        u_max, u_min = explainer.generators.maximizer(u), explainer.generators.minimizer(u)
        predicted = classifier.network(x).argmax(dim=1)
    changes = {cls: (space.to_input(g) - space.to_input(u)).abs().mean(dim=1, keepdim=True)
               for cls, g in ((natural, u_min), (1 - natural, u_max))}
    for cls, expected in changes.items():
        torch.testing.assert_close(explainer.attribute(x, target=torch.tensor([cls])), expected)
    torch.testing.assert_close(explainer.attribute(x), changes[int(predicted)])
    assert not torch.allclose(changes[natural], changes[1 - natural])
    assert explainer.maps(x).keys() == {"attribution_counterfactual"}
