"""ood.png: the JEM paper's Fig. 2, the training and the input patches' log p(x) densities, one over the other.

core.ood computes and this module draws what it is given, so the report's numbers and its
figure come from the same values and the figure knows nothing of models or rasters.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.atomic import atomic_path  # noqa: E402
from core.jem.familiarity import Familiarity  # noqa: E402
from core.jem.histogram import BINS, LogPxHistogram  # noqa: E402


def histogram_figure(values: np.ndarray, training: LogPxHistogram, familiarity: Familiarity, out: Path) -> Path:
    """Draw the training and input log p(x) densities and the training 1st percentile to a PNG, atomically."""
    edges = np.asarray(training.edges)
    counts = np.asarray(training.counts, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    ax.stairs(counts / (counts.sum() * np.diff(edges)), edges, fill=True, alpha=0.5, color="#1b9e77",
              label=f"training patches ({int(counts.sum())})")
    bins = np.linspace(min(edges[0], values.min()), max(edges[-1], values.max()), BINS + 1)
    ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.5, color="#d95f02",
            label=f"input patches ({len(values)})")
    ax.axvline(familiarity.threshold, color="black", linestyle="--", linewidth=1, label="training 1st percentile")
    ax.set_xlabel("log p(x) = logsumexp of the logits")
    ax.set_ylabel("density")
    ax.set_title(f"KL divergence {familiarity.kl_divergence:.2f}; {familiarity.share_below_p1:.0%} of the input "
                 "patches below the training 1st percentile", fontsize=9)
    ax.legend(fontsize=8)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return out
