"""Cascading model-parameter randomisation of the bundled classifier, and the rank correlation it is scored by."""
import numpy as np
import pytest
import torch

from core.explain.randomization import NOT_RANDOMISED, cascading_randomization, parametrised_layers, rank_correlation
from core.models.model_file import load_model


@pytest.fixture(scope="module")
def classifier(default_model):
    return load_model(default_model)


def test_layers_are_listed_from_the_head_down(classifier):
    layers = parametrised_layers(classifier.network)
    assert layers[0] == "head" and layers[-1] == "features.0"
    assert len(layers) == sum(isinstance(m, torch.nn.Conv2d) for m in classifier.network.modules())


def test_each_depth_randomises_one_more_layer_from_the_top_and_leaves_the_classifier_alone(classifier):
    before = {k: v.clone() for k, v in classifier.network.state_dict().items()}
    models = cascading_randomization(classifier, seed=0)
    layers = parametrised_layers(classifier.network)
    assert [m.layer for m in models] == [NOT_RANDOMISED, *layers] and [m.depth for m in models] == list(range(len(models)))
    for m in models:
        state = m.model.network.state_dict()
        changed = {name for name in layers if not torch.equal(state[f"{name}.weight"], before[f"{name}.weight"])}
        assert changed == set(layers[:m.depth])
        assert m.model.weights_sha256 == classifier.weights_sha256  # the generator methods still accept it
    assert all(torch.equal(v, before[k]) for k, v in classifier.network.state_dict().items())


def test_randomisation_is_fixed_by_the_seed(classifier):
    a, b, c = (cascading_randomization(classifier, seed)[1].model.network.head.weight for seed in (0, 0, 1))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rank_correlation_follows_the_ranking_not_the_values():
    a = np.arange(16.0).reshape(4, 4)
    assert rank_correlation(a, a ** 3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.zeros_like(a)) == 0.0  # a constant map ranks nothing
