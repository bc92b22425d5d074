"""ood_report(raster) -> does the input look like the JEM's training imagery? ood.json and a histogram plot.

The input is read the way explain reads it (band matching, resampling to the model's
resolution, tiles and overlap), so its patches' log p(x), KL divergence and share below the
training 1st percentile are the ones explain records in run.json for the same input and AOI.
The plot is the JEM paper's Fig. 2: the training and the input log p(x) densities, one over
the other. The same tiles feed the statistics log p(x) cannot see (core.input_statistics: band
means, band order, fine detail; core.value_range: the training value range), and one verdict
(core.ood_verdict) combines them all: `out_of_distribution` and one sentence naming the checks
that fired, each with its statistic and limit. ood is a tile run that writes no maps
(core.tile_source.checks_only), so a Dask cluster gathers its checks as it gathers explain's.
"""
import dataclasses
from pathlib import Path

from core.aoi import AOI
from core.atomic import write_json
from core.errors import NaturalExplainError
from core.input_checks import InputChecks
from core.input_statistics import InputStatistics
from core.jem.familiarity import MIN_PATCHES, PatchLogPx
from core.jem.histogram import training_histogram
from core.models.choice import given_or_bundled
from core.models.model_file import LoadedModel
from core.ood_figure import histogram_figure
from core.raster.grid import Grid
from core.raster.read import BandReader, nonfinite_warning
from core.raster.sources import BandRef
from core.resources import DEFAULT_JEM
from core.run_outputs import RunOutputs
from core.scan import DEFAULT_OVERLAP, IsCanceled, Progress, default_batch_size, lay_tiles, prepare, scan_batches
from core.tile_source import RunRecipe, checks_only, new_run, tile_source
from core.value_range import ValueRangeCheck


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
               progress: Progress | None = None, is_canceled: IsCanceled | None = None,
               dask: "str | distributed.Client | None" = None) -> OODReport:  # noqa: F821
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
        dask: read the tiles and gather the checks on a Dask cluster, as explain's `dask`; the report equals
            this process's to float rounding.

    Returns:
        The verdict, KL divergence, share below the training 1st percentile, patch count, warning and paths.

    Raises:
        NaturalExplainError: for a model that is not a JEM, too small an input or other input the
            user can fix; RunCanceled when canceled.
    """
    scan = prepare(input_path, given_or_bundled(model, DEFAULT_JEM, "JEM"), bands=bands, aoi=aoi, device=device)
    card = scan.loaded.card
    training = training_histogram(card)
    recipe = RunRecipe(scan.choice.path, device, (), {}, None, DEFAULT_OVERLAP, scan.band_refs, checks_only)
    with tile_source(dask, recipe) as source, \
            RunOutputs(Path(out_dir), ["ood.png"], scan.read_files, record="ood.json") as outputs:
        run = new_run(scan.loaded, [], scan.device, recipe, progress, is_canceled, source)
        with BandReader(scan.band_refs) as reader:
            for _ in run.tiles(reader, scan.grids.model, scan.tiles):
                pass
            infinite = nonfinite_warning(reader.nonfinite_pixels)
        values = run.checks.patches.values()
        familiarity = run.checks.familiarity(card)
        if familiarity.histogram is None:
            size = card.jem["patch_size"]
            raise NaturalExplainError(f"the input holds {len(values)} complete {size} x {size} px patches, too few "
                                      f"to compare with the training imagery (at least {MIN_PATCHES}): give a larger area")
        verdict = run.checks.verdict(familiarity)
        found = [w for w in (infinite, verdict.warning()) if w]
        report = OODReport(verdict.out_of_distribution, familiarity.kl_divergence, familiarity.share_below_p1,
                           familiarity.patches, "; ".join(found) or None, outputs.final("ood.json"),
                           outputs.final("ood.png"))
        histogram_figure(values, training, familiarity, outputs.staged("ood.png"))
        write_json(outputs.staged("ood.json"), {
            **scan.provenance(),
            "parameters": {"aoi": dataclasses.asdict(aoi) if aoi else None, "bands": bands, "device": str(scan.device),
                           "patch_size": card.jem["patch_size"], "overlap": DEFAULT_OVERLAP},
            **verdict.to_json(),
            # the log p(x) comparison explain records too, less its own whole-input verdict: the verdict is above
            "ood": {k: v for k, v in familiarity.to_json().items() if k not in ("out_of_distribution", "limits")},
            "input_statistics": run.checks.statistics.to_json(),
            "value_range": run.checks.in_range.to_json() if run.checks.in_range else None,
            "warning": report.warning,
            "input_histogram": familiarity.histogram.to_json(),
            "training_percentiles": training.percentiles,
            "figure": str(report.figure_path.resolve()),
        })
        outputs.commit()
    if progress:
        progress(100.0)
    return report


def patch_log_px(loaded: LoadedModel, band_refs: list[BandRef], grid: Grid, in_range: ValueRangeCheck | None = None,
                 statistics: InputStatistics | None = None) -> PatchLogPx:
    """Tile log p(x) of every complete JEM-training-size patch of `grid`, from the tiles ood and explain read.

    Args:
        loaded: a JEM.
        band_refs: the input bands feeding the model, in its order.
        grid: the model grid over the area (core.scan.plan_grids(...).model).
        in_range: when given, counts the tiles' pixels outside the training value range.
        statistics: when given, gathers the tiles' input statistics.
    """
    card = loaded.card
    device = next(loaded.network.parameters()).device
    checks = InputChecks(statistics or InputStatistics(card, device), in_range, PatchLogPx(card.jem["patch_size"]))
    with BandReader(band_refs) as reader:
        for _ in scan_batches(reader, grid, lay_tiles(grid, card.tile_size, DEFAULT_OVERLAP), loaded, device,
                              default_batch_size(device), checks.observers()):
            pass
    return checks.patches
