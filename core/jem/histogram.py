"""The training log p(x) histogram a JEM's sidecar carries, and how far an input's histogram lies from it.

An input whose tiles the model finds much less familiar than its training tiles gets a large
KL divergence and many tiles below the training 1st percentile: a sign that the model was not
trained on imagery like it, so its naturalness verdict should not be trusted.
"""
import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import NaturalExplainError

if TYPE_CHECKING:
    from core.models.card import ModelCard

BINS = 50
# Added to every bin before normalising, so an empty bin does not make KL infinite.
EPSILON = 1e-6


@dataclasses.dataclass(frozen=True)
class LogPxHistogram:
    """Counts of log p(x) values over fixed bin edges, with the percentiles the reports quote."""

    edges: list[float]
    counts: list[int]
    percentiles: dict[str, float]

    @classmethod
    def of(cls, values: np.ndarray, edges: np.ndarray | None = None) -> "LogPxHistogram":
        """The histogram of `values`, over `edges` (BINS bins spanning the values, padded, when None)."""
        values = np.asarray(values, dtype=np.float64)
        if edges is None:
            low, high = float(values.min()), float(values.max())
            pad = 0.1 * max(high - low, 1e-3)
            edges = np.linspace(low - pad, high + pad, BINS + 1)
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        percentiles = {f"p{q}": float(np.percentile(values, q)) for q in (1, 5, 50, 95, 99)}
        return cls([float(e) for e in edges], [int(c) for c in counts], percentiles)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LogPxHistogram":
        """The histogram as the sidecar stores it."""
        return cls(list(data["edges"]), list(data["counts"]), dict(data["percentiles"]))

    def to_json(self) -> dict[str, Any]:
        """Plain data for the sidecar."""
        return dataclasses.asdict(self)

    def probabilities(self) -> np.ndarray:
        """Bin probabilities, smoothed so that none is zero."""
        counts = np.asarray(self.counts, dtype=np.float64) + EPSILON
        return counts / counts.sum()


def kl_divergence(observed: LogPxHistogram, reference: LogPxHistogram) -> float:
    """KL(observed || reference) over the shared bins; values outside the reference range fall in its end bins.

    Raises:
        ValueError: when the two histograms use different bins.
    """
    if observed.edges != reference.edges:
        raise ValueError("histograms must share their bin edges; build the observed one with the reference's edges")
    p, q = observed.probabilities(), reference.probabilities()
    return float(np.sum(p * np.log(p / q)))


def training_histogram(card: "ModelCard") -> LogPxHistogram:
    """The training histogram stored in a JEM's card (`card.jem["logpx"]`).

    Args:
        card: a core.models.model_file.ModelCard.

    Raises:
        NaturalExplainError: when the model is not a JEM.
    """
    if not card.jem or "logpx" not in card.jem:
        raise NaturalExplainError("this model is not a JEM, so it has no log p(x): train one with `python -m train jem`")
    return LogPxHistogram.from_json(card.jem["logpx"])
