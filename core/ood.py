"""ood_report(raster) -> does the input look like the JEM's training imagery? ood.json and a histogram plot.

The input is read the way explain reads it (band matching, resampling to the model's
resolution, tiles and overlap), so its patches' log p(x), KL divergence and share below the
training 1st percentile are the ones explain records in run.json for the same input and AOI.
The plot is the JEM paper's Fig. 2: the training and the input log p(x) densities, one over
the other. The same tiles feed the statistics log p(x) cannot see (core.input_statistics: band
means, band order, fine detail; core.value_range: the training value range), and one verdict
(core.ood_verdict) combines them all: `out_of_distribution` and one sentence naming the checks
that fired, each with its statistic and limit.
"""
import contextlib
import dataclasses
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.aoi import AOI  # noqa: E402
from core.atomic import atomic_path, write_json  # noqa: E402
from core.device import resolve_device  # noqa: E402
from core.errors import NaturalExplainError  # noqa: E402
from core.input_statistics import InputStatistics  # noqa: E402
from core.jem.familiarity import MIN_PATCHES, Familiarity, PatchLogPx, assess  # noqa: E402
from core.jem.histogram import BINS, LogPxHistogram, training_histogram  # noqa: E402
from core.models.card import sidecar_path  # noqa: E402
from core.models.model_file import LoadedModel, load_model  # noqa: E402
from core.ood_verdict import combine  # noqa: E402
from core.pipeline import DEFAULT_OVERLAP, IsCanceled, Progress, default_batch_size, dense_logits, plan_grids, tile_batches  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import Grid  # noqa: E402
from core.raster.read import BandReader, nonfinite_warning  # noqa: E402
from core.raster.sources import BandRef, open_input  # noqa: E402
from core.resources import DEFAULT_JEM  # noqa: E402
from core.run_outputs import RunOutputs  # noqa: E402
from core.tiling import tile_grid  # noqa: E402
from core.value_range import ValueRangeCheck  # noqa: E402


@dataclasses.dataclass(frozen=True)
class OODReport:
    """What the report found and where it wrote it; `warning` is None when the input looks familiar.

    `warning` also names ±inf pixels, which do not make the input out of distribution.
    """

    out_of_distribution: bool
    kl_divergence: float
    share_below_p1: float
    patches: int
    warning: str | None
    json_path: Path
    figure_path: Path


def ood_report(input_path: str | Path, out_dir: str | Path, *, model: str | Path | None = None,
               bands: dict[str, int] | None = None, aoi: AOI | None = None, device: str = "auto",
               progress: Progress | None = None, is_canceled: IsCanceled | None = None) -> OODReport:
    """Compare the input patches' log p(x) with the JEM's training histogram; write ood.json and ood.png.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the two outputs; created if missing.
        model: a JEM model file; the bundled default JEM when None.
        bands: optional model band name -> 1-based input band number, overriding name matching.
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        progress: called with percent done after each batch of tiles.
        is_canceled: polled before each batch of tiles.

    Returns:
        The verdict, KL divergence, share below the training 1st percentile, patch count, warning and paths.

    Raises:
        NaturalExplainError: for a model that is not a JEM, too small an input or other input the
            user can fix; RunCanceled when canceled.
    """
    out_dir = Path(out_dir)
    raster = open_input(input_path)
    torch_device = resolve_device(device)
    loaded = load_model(model or DEFAULT_JEM, torch_device)
    training = training_histogram(loaded.card)
    band_refs = match_bands(raster, loaded.card.bands, bands)
    grid = plan_grids(raster, aoi, loaded.card.resolution_m, DEFAULT_OVERLAP).model
    in_range = ValueRangeCheck(loaded.card, torch_device) if loaded.card.value_range else None
    statistics = InputStatistics(loaded.card, torch_device)
    inputs = [*raster.files, loaded.weights_path, sidecar_path(loaded.weights_path)]
    with RunOutputs(out_dir, ["ood.png"], inputs, record="ood.json") as outputs:
        with BandReader(band_refs) as reader:
            values = patch_log_px(loaded, band_refs, grid, progress, is_canceled, in_range, reader,
                                  statistics).values()
            infinite = nonfinite_warning(reader.nonfinite_pixels)
        familiarity = assess(values, training)
        if familiarity.histogram is None:
            size = loaded.card.jem["patch_size"]
            raise NaturalExplainError(f"the input holds {len(values)} complete {size} x {size} px patches, too few "
                                      f"to compare with the training imagery (at least {MIN_PATCHES}): give a larger area")
        verdict = combine(statistics, in_range, familiarity)
        found = [w for w in (infinite, verdict.warning()) if w]
        report = OODReport(verdict.out_of_distribution, familiarity.kl_divergence, familiarity.share_below_p1,
                           familiarity.patches, "; ".join(found) or None, outputs.final("ood.json"),
                           outputs.final("ood.png"))
        histogram_figure(values, training, familiarity, outputs.staged("ood.png"))
        write_json(outputs.staged("ood.json"), {
            "input": {"path": str(raster.path.resolve()), "sha256": raster.checksum()},
            "model": {"path": str(loaded.weights_path.resolve()), "weights_sha256": loaded.weights_sha256},
            "parameters": {"aoi": dataclasses.asdict(aoi) if aoi else None, "bands": bands, "device": str(torch_device),
                           "patch_size": loaded.card.jem["patch_size"], "overlap": DEFAULT_OVERLAP},
            **verdict.to_json(),
            # the log p(x) comparison explain records too, less its own whole-input verdict: the verdict is above
            "ood": {k: v for k, v in familiarity.to_json().items() if k not in ("out_of_distribution", "limits")},
            "input_statistics": statistics.to_json(),
            "value_range": in_range.to_json() if in_range else None,
            "warning": report.warning,
            "input_histogram": familiarity.histogram.to_json(),
            "training_percentiles": training.percentiles,
            "figure": str(report.figure_path.resolve()),
        })
        outputs.commit()
    if progress:
        progress(100.0)
    return report


def patch_log_px(loaded: LoadedModel, band_refs: list[BandRef], grid: Grid, progress: Progress | None = None,
                 is_canceled: IsCanceled | None = None, in_range: ValueRangeCheck | None = None,
                 reader: BandReader | None = None, statistics: InputStatistics | None = None) -> PatchLogPx:
    """Tile log p(x) of every complete JEM-training-size patch of `grid`, from explain's tiles.

    Args:
        loaded: a JEM.
        band_refs: the input bands feeding the model, in its order.
        grid: the model grid over the area (pipeline.plan_grids(...).model).
        progress: called with percent done after each batch of tiles.
        is_canceled: polled before each batch.
        in_range: when given, counts the tiles' pixels outside the training value range.
        reader: an open reader of `band_refs` (to ask it about ±inf pixels afterwards); one is
            opened when None.
        statistics: when given, gathers the tiles' input statistics.
    """
    card = loaded.card
    size = card.tile_size
    tiles = tile_grid(grid.height, grid.width, size, min(DEFAULT_OVERLAP, size // 2))
    device = next(loaded.network.parameters()).device
    patches = PatchLogPx(card.jem["patch_size"])
    with contextlib.ExitStack() as stack:
        if reader is None:
            reader = stack.enter_context(BandReader(band_refs))
        for batch in tile_batches(reader, grid, tiles, card, device, default_batch_size(device), progress, is_canceled):
            patches.add([tile.window for tile in batch.tiles], dense_logits(loaded, batch.x), batch.valid)
            for check in (in_range, statistics):
                if check is not None:
                    check.add(batch.x, batch.valid)
    return patches


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
