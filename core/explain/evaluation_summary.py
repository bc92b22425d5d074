"""The evaluation's rows: each method's scores per draw of tiles, their mean ± spread, who beats whom.

It only arranges numbers core.evaluate computed, so the table (core.explain.report) can be
rewritten from the rows. One draw of a few tiles can rank two close methods either way, so the
summary counts on how many draws each method beats the controls and GradCAM instead of trusting one ranking.
"""
import dataclasses
from collections.abc import Sequence

import numpy as np

from core.explain.controls import BRIGHTNESS, RANDOM

# The cheapest method that asks the model: one a new method should at least delete faster than.
MODEL_BASELINE = "gradcam"
# metric -> whether lower is better, for the contests the table counts.
DIRECTIONS = {"deletion_auc": True, "insertion_auc": False, "road_auc": True}


@dataclasses.dataclass(frozen=True)
class MethodRow:
    """One method's scores on one draw (averaged over its tiles), or their mean or spread over draws.

    iou is None when no tile holds the reference class; randomization_rho (the mean Spearman
    correlation of its maps with those of the fully randomised classifier) is None for the
    controls, which do not ask the model, and when the check did not run.
    """

    method: str
    deletion_auc: float
    insertion_auc: float
    road_auc: float
    iou: float | None
    s_per_megapixel: float
    randomization_rho: float | None


METRICS = tuple(f.name for f in dataclasses.fields(MethodRow) if f.name != "method")


@dataclasses.dataclass(frozen=True)
class MethodSummary:
    """A method over all draws: the mean, the sample standard deviation (None for one draw), the wins.

    wins maps "<metric> vs <rival>" to the number of draws on which the method did better.
    """

    mean: MethodRow
    sd: MethodRow | None
    wins: dict[str, int]


def rivals(methods: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Who every method is compared with, and on which metrics: both controls, and GradCAM on deletion."""
    compared = {RANDOM: tuple(DIRECTIONS), BRIGHTNESS: tuple(DIRECTIONS)}
    if MODEL_BASELINE in methods:
        compared[MODEL_BASELINE] = ("deletion_auc",)
    return compared


def _aggregate(method: str, rows: list[MethodRow], statistic: str) -> MethodRow:
    """The rows' mean or sample standard deviation, metric by metric, ignoring missing values.

    A spread needs two values: None where fewer draws hold the metric (the IoU of draws without the class).
    """
    def combine(metric: str) -> float | None:
        values = [getattr(r, metric) for r in rows if getattr(r, metric) is not None]
        if statistic == "mean":
            return round(float(np.mean(values)), 4) if values else None
        return round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None

    return MethodRow(method, **{m: combine(m) for m in METRICS})


def _wins(method: str, draws: list[dict[str, MethodRow]], compared: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """On how many draws `method` did better than each rival, metric by metric."""
    def better(draw: dict[str, MethodRow], metric: str, rival: str) -> bool:
        mine, theirs = getattr(draw[method], metric), getattr(draw[rival], metric)
        return mine < theirs if DIRECTIONS[metric] else mine > theirs

    return {f"{metric} vs {rival}": sum(better(d, metric, rival) for d in draws)
            for rival, metrics in compared.items() if rival != method for metric in metrics}


def summarise(draws: list[list[MethodRow]]) -> list[MethodSummary]:
    """Each method's mean, spread and wins over the draws, ranked by mean deletion AUC (most faithful first).

    Args:
        draws: one list of rows per draw, every draw holding the same methods.
    """
    by_name = [{r.method: r for r in rows} for rows in draws]
    compared = rivals(list(by_name[0]))
    summaries = [MethodSummary(_aggregate(m, [d[m] for d in by_name], "mean"),
                               _aggregate(m, [d[m] for d in by_name], "sd") if len(draws) > 1 else None,
                               _wins(m, by_name, compared))
                 for m in by_name[0]]
    return sorted(summaries, key=lambda s: s.mean.deletion_auc)
