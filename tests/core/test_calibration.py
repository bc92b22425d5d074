"""Expected calibration error: a case worked by hand, and the bundled models on real held-out patches."""
import numpy as np
import pytest

from core.calibration import reliability


def test_ece_matches_a_case_worked_by_hand():
    # Confidences 0.92 (right), 0.83 (wrong), 0.57 and 0.55 (both right) in 10 bins:
    # bin (0.5, 0.6]: accuracy 1, mean confidence 0.56, 2 of 4 samples -> 0.22
    # bin (0.8, 0.9]: accuracy 0, confidence 0.83, 1 of 4 -> 0.2075; bin (0.9, 1]: 0.08 / 4 = 0.02
    probabilities = np.array([[0.08, 0.92], [0.17, 0.83], [0.57, 0.43], [0.45, 0.55]])
    labels = np.array([1, 0, 0, 1])
    found = reliability(probabilities, labels, bins=10)
    assert found.ece == pytest.approx(0.22 + 0.2075 + 0.02)
    assert found.counts.tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 1, 1]
    assert found.accuracy[5] == 1.0 and found.confidence[5] == pytest.approx(0.56) and np.isnan(found.accuracy[0])


def test_a_perfectly_calibrated_set_has_no_error_and_an_overconfident_one_has_its_gap():
    # 10 samples at confidence 0.75, of which 3 in 4 right in the first set, all wrong in the second.
    probabilities = np.tile([[0.25, 0.75]], (8, 1))
    assert reliability(probabilities, np.array([1, 1, 1, 0, 1, 1, 1, 0])).ece == pytest.approx(0.0)
    assert reliability(probabilities, np.zeros(8, dtype=int)).ece == pytest.approx(0.75)


@pytest.fixture(scope="module")
def held_out():
    from bench.measure_calibration import MODELS, held_out_patches, probabilities
    from core.models.model_file import load_model

    loaded = {name: load_model(path) for name, path in MODELS.items()}
    dataset, val = held_out_patches(next(iter(loaded.values())).card.bands)
    return {name: (model.card, *probabilities(model, dataset, val)) for name, model in loaded.items()}


@pytest.mark.slow
def test_the_bench_rebuilds_the_trainers_held_out_patches_and_both_models_are_calibrated_there(held_out):
    for card, probabilities, labels in held_out.values():
        metrics = card.training["metrics"]
        assert len(labels) == metrics["n_val"] == 806
        assert round(float((probabilities.argmax(axis=1) == labels).mean()), 4) == metrics["val_accuracy"]
        assert 0.0 < reliability(probabilities, labels).ece < 0.05
