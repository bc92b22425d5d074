"""Model-parameter randomisation (Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018).

An explanation of the model must change when the model does. The cascading test re-initialises
the classifier's parametrised layers from the top (the head first, then the layer below, and so
on, keeping earlier ones randomised), rebuilds each method on every randomised model and
compares its maps with the original ones by Spearman rank correlation. A method whose maps
stay near 1 at full randomisation does not depend on what the model learnt: an edge detector
or a brightness map would pass through unchanged.

The copies keep the classifier's weights_sha256, so the generator methods accept them; their
generators were trained against the real classifier, so they barely change, and the test
says so rather than hiding it.
"""
import copy
import dataclasses

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from core.models.model_file import LoadedModel

NOT_RANDOMISED = "none"


@dataclasses.dataclass(frozen=True)
class RandomizedModel:
    """The classifier with its top `depth` parametrised layers re-initialised, the last one `layer`."""

    depth: int
    layer: str
    model: LoadedModel


def parametrised_layers(network: nn.Module) -> list[str]:
    """Names of the modules that own parameters and can re-initialise them, top (output) first."""
    names = [name for name, module in network.named_modules()
             if hasattr(module, "reset_parameters") and any(True for _ in module.parameters(recurse=False))]
    return names[::-1]


def cascading_randomization(loaded: LoadedModel, seed: int) -> list[RandomizedModel]:
    """An untouched copy (depth 0), then one copy per layer with every layer above it re-initialised too.

    Each layer is re-initialised by its own reset_parameters() under seed + depth, so a run
    is reproducible and the caller's random state is left as it was.

    Args:
        loaded: the classifier; it is not modified.
        seed: fixes the new weights.

    Returns:
        len(parametrised_layers) + 1 models, depth 0 first.
    """
    device = next(loaded.network.parameters()).device
    models = [RandomizedModel(0, NOT_RANDOMISED, copy.deepcopy(loaded))]
    for depth, name in enumerate(parametrised_layers(loaded.network), start=1):
        randomized = copy.deepcopy(models[-1].model)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed + depth)
            randomized.network.get_submodule(name).reset_parameters()
        models.append(RandomizedModel(depth, name, randomized))
    return models


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps' pixels (ties take their mean rank).

    A constant map ranks no pixel above another, so it shares no ranking with any map: 0.
    """
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    rho, _ = spearmanr(a, b)
    return float(rho)
