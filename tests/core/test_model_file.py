import json
import pickle

import pytest
import torch

from core.errors import NaturalExplainError
from core.models.card import read_card
from core.models.model_file import load_model, save_model
from core.resources import DEFAULT_GENERATORS


@pytest.fixture
def model_copy(tmp_path, default_model):
    loaded = load_model(default_model)
    return save_model(loaded.network, loaded.card, tmp_path / "m")


def test_model_round_trips(model_copy, default_model):
    a, b = load_model(default_model), load_model(model_copy)
    x = torch.randn(1, len(a.card.bands), 32, 32)
    torch.testing.assert_close(a.network(x), b.network(x))
    assert a.card == b.card


def test_corrupt_weights_are_refused(model_copy):
    weights = model_copy.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(NaturalExplainError, match="corrupt"):
        load_model(model_copy)


def test_pickle_posing_as_weights_is_not_unpickled(model_copy):
    weights = model_copy.with_suffix(".safetensors")
    weights.write_bytes(pickle.dumps({"x": torch.zeros(1)}))
    sidecar = json.loads(model_copy.read_text())
    sidecar.pop("weights_sha256")
    model_copy.write_text(json.dumps(sidecar))
    with pytest.raises(NaturalExplainError, match="corrupt"):
        load_model(model_copy)


def test_sidecar_that_does_not_match_the_weights_is_refused(model_copy):
    sidecar = json.loads(model_copy.read_text())
    sidecar["arch_args"]["width"] = 16
    model_copy.write_text(json.dumps(sidecar))
    with pytest.raises(NaturalExplainError, match="do not fit the architecture"):
        load_model(model_copy)


def test_inconsistent_sidecar_is_refused_naming_the_field(model_copy):
    sidecar = json.loads(model_copy.read_text())
    sidecar["bands"] = sidecar["bands"][:3]
    model_copy.write_text(json.dumps(sidecar))
    with pytest.raises(NaturalExplainError, match=r'm.json: "mean" must be 3 finite numbers .*\(10 items\)'):
        read_card(model_copy)


def test_generators_round_trip_as_generators(tmp_path):
    loaded = load_model(DEFAULT_GENERATORS, expect="generators")
    copy = load_model(save_model(loaded.network, loaded.card, tmp_path / "g"), expect="generators")
    assert copy.card == loaded.card and copy.card.kind == "generators"


def test_read_card_normalises_clip_to_floats(model_copy):
    card, raw = read_card(model_copy)
    assert card.clip == (0.0, 1.0) and isinstance(card.clip, tuple) and raw["format"] == "natural-explain-model"
