"""The evaluation's files: evaluation.json (every number and curve), evaluation.md (the table) and
comparison.png (SpacEX's Fig. 4: the same tiles through every method).

core.evaluate computes and this module writes what it is given, so the compute code holds no
file format and a table or a figure can be redrawn from numbers alone; the figure draws
arrays, so it knows nothing of models or rasters.
"""
import dataclasses
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.atomic import atomic_path, write_json  # noqa: E402
from core.explain.evaluation_summary import MethodSummary, rivals  # noqa: E402

SHORT = {"deletion_auc": "del", "insertion_auc": "ins", "road_auc": "ROAD"}


@dataclasses.dataclass
class FigureTiles:
    """What the figure shows for N tiles.

    rgb: (N, 3, H, W) reflectance; naturalness: (N, H, W) in [0, 1]; attributions: method
    name -> (N, H, W) non-negative maps; reference: (N, H, W) bool mask of `reference_class`.
    """

    rgb: np.ndarray
    naturalness: np.ndarray
    attributions: dict[str, np.ndarray]
    reference: np.ndarray
    reference_class: str


def _true_colour(rgb: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) in [0, 1] by one 2-98 % stretch over all tiles, so tiles compare by brightness."""
    lo, hi = np.percentile(rgb, [2, 98], axis=(0, 2, 3), keepdims=True)
    return np.clip((rgb - lo) / np.maximum(hi - lo, 1e-6), 0, 1).transpose(0, 2, 3, 1)


def _relative(attribution: np.ndarray) -> np.ndarray:
    """A map divided by its own 99th percentile: methods differ in units, their rankings are what compare."""
    return np.clip(attribution / max(float(np.percentile(attribution, 99)), 1e-12), 0, 1)


def comparison_figure(tiles: FigureTiles, out: str | Path) -> Path:
    """Draw the tiles x (input | naturalness | each method) grid to a PNG, atomically; returns its path."""
    images = _true_colour(tiles.rgb)
    n, columns = len(images), 2 + len(tiles.attributions)
    fig, axes = plt.subplots(n, columns, figsize=(2.2 * columns, 2.3 * n), squeeze=False, constrained_layout=True)
    for i in range(n):
        axes[i, 0].imshow(images[i])
        if 0 < tiles.reference[i].mean() < 1:  # an outline needs both sides of the class edge in the tile
            axes[i, 0].contour(tiles.reference[i].astype(float), levels=[0.5], colors=["#ffd92f"], linewidths=0.8)
        axes[i, 1].imshow(tiles.naturalness[i], cmap="BrBG", vmin=0, vmax=1)
        for j, attribution in enumerate(tiles.attributions.values(), start=2):
            axes[i, j].imshow(_relative(attribution[i]), cmap="magma", vmin=0, vmax=1)
    titles = [f"input (outline: {tiles.reference_class})", "naturalness", *tiles.attributions]
    for j, title in enumerate(titles):
        axes[0, j].set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return out


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


def write_evaluation(record: dict[str, Any], summaries: list[MethodSummary], figure: FigureTiles, *, json_path: Path,
                     markdown_path: Path, figure_path: Path) -> None:
    """Write evaluation.json (`record`, with the context the table quotes), evaluation.md and comparison.png."""
    write_json(json_path, record)
    with atomic_path(markdown_path) as tmp:
        tmp.write_text(markdown_table(summaries, record))
    comparison_figure(figure, figure_path)
