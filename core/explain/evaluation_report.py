"""The evaluation's rows and table: each method's scores per draw of tiles, their mean ± spread, who beats whom.

It only arranges numbers core.evaluate computed, so the table can be rewritten from the rows.
One draw of a few tiles can rank two close methods either way, so the table counts on how
many draws each method beats the controls and GradCAM instead of trusting one ranking.
"""
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.explain.controls import BRIGHTNESS, RANDOM

# The cheapest method that asks the model: one a new method should at least delete faster than.
MODEL_BASELINE = "gradcam"
# metric -> whether lower is better, for the contests the table counts.
DIRECTIONS = {"deletion_auc": True, "insertion_auc": False, "road_auc": True}
SHORT = {"deletion_auc": "del", "insertion_auc": "ins", "road_auc": "ROAD"}


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


def _cell(summary: MethodSummary, metric: str, digits: int) -> str:
    mean = getattr(summary.mean, metric)
    if mean is None:
        return "n/a"
    spread = getattr(summary.sd, metric) if summary.sd else None
    return f"{mean:.{digits}f}" + ("" if spread is None else f" ± {spread:.{digits}f}")


def _wins_cell(summary: MethodSummary, rival: str, metrics: tuple[str, ...]) -> str:
    if summary.mean.method == rival:
        return "—"
    return "/".join(str(summary.wins[f"{m} vs {rival}"]) for m in metrics)


def markdown_table(summaries: list[MethodSummary], context: dict[str, Any]) -> str:
    """The evaluation as a Markdown table (mean ± sd over draws), with what it was measured on."""
    p, ref = context["parameters"], context["reference"]
    q, draws = f"{p['q_percent']:g}", p["draws"]
    compared = rivals([s.mean.method for s in summaries])
    randomized = p["randomization"] is not None
    columns = ["method", "deletion AUC ↓", "insertion AUC ↑", "ROAD AUC ↓", f"IoU@top-{q}%", "s per megapixel",
               *(["rank corr. randomised ↓"] if randomized else []),
               *(f"beats {rival} ({'/'.join(SHORT[m] for m in metrics)})" for rival, metrics in compared.items())]
    lines = [
        "# Explanation evaluation", "",
        (f"{draws} draw(s) of {p['tiles']} tiles of {p['tile_size'][0]}x{p['tile_size'][1]} px (seeds "
         f"{', '.join(map(str, p['seeds']))}; {context['distinct_tiles']} distinct tiles) from `{context['input']}`"
         + (": mean ± standard deviation over the draws." if draws > 1 else ".")),
        (f"Deletion/insertion: the top pixels replaced by the `{p['fill']}` fill in {p['steps']} steps; the curve is "
         "the predicted class's log-odds relative to the untouched tile."),
        (f"ROAD: the top {p['road']['percentages'][0]}-{p['road']['percentages'][-1]} % pixels filled by noisy linear "
         "imputation (Rong et al. 2022), the same log-odds curve's mean height."),
        f"IoU@top-{q}%: with `{ref['field']} = {ref['class']}`, over the {ref['tiles_with_class']} tiles holding it.",
        "Controls: `random` ranks pixels by chance, `brightness` by mean reflectance; neither asks the model.",
    ]
    if randomized:
        lines.append("Rank corr. randomised: Spearman correlation of each map with the same method's map once every "
                     "classifier layer is re-initialised (cascading, Adebayo et al. 2018); near 1 = the map does not "
                     "depend on the model.")
    lines += [f"Beats X: on how many of the {draws} draw(s) the method scored better than X.", "",
              "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for s in summaries:
        cells = [s.mean.method, _cell(s, "deletion_auc", 3), _cell(s, "insertion_auc", 3), _cell(s, "road_auc", 3),
                 _cell(s, "iou", 3), _cell(s, "s_per_megapixel", 2),
                 *([_cell(s, "randomization_rho", 3)] if randomized else []),
                 *(_wins_cell(s, rival, metrics) for rival, metrics in compared.items())]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
