"""How far a classifier's confidence is from its accuracy: expected calibration error and the reliability diagram's bins.

The JEM paper reports that training the classifier as an energy model also calibrates it;
bench/measure_calibration.py measures it for the bundled JEM and the plain classifier on the
held-out blocks. Confidence is the top class's softmax probability; the ECE is the mean, weighted
by the share of samples per equal-width confidence bin, of |accuracy - mean confidence| (Guo et
al. 2017, 15 bins).
"""
import dataclasses
from typing import Any

import numpy as np

BINS = 15


@dataclasses.dataclass(frozen=True)
class Reliability:
    """Per equal-width confidence bin: samples, mean confidence and accuracy (NaN in empty bins), and the ECE."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float

    def to_json(self) -> dict[str, Any]:
        def listed(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else round(float(v), 4) for v in values]
        return {"ece": round(self.ece, 4), "bins": len(self.counts), "bin_edges": listed(self.edges),
                "bin_counts": self.counts.tolist(), "bin_confidence": listed(self.confidence),
                "bin_accuracy": listed(self.accuracy)}


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    """Bin the samples by the confidence of their top class and compare it with how often that class is right.

    Args:
        probabilities: (N, K) class probabilities, each row summing to 1.
        labels: (N,) true class indices.
        bins: equal-width bins over (0, 1]; a bin holds confidences in (low, high].

    Returns:
        The bins and the expected calibration error.
    """
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(index, confidence, bins) / counts
        accuracy = np.bincount(index, correct, bins) / counts
    gaps = np.where(counts > 0, np.abs(accuracy - mean_confidence), 0.0)
    return Reliability(np.linspace(0.0, 1.0, bins + 1), counts, mean_confidence, accuracy,
                       float((counts * gaps).sum() / len(labels)))
