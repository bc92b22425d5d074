"""explain(raster, aoi, methods, model) -> result files, with progress and cancel.

The one place that strings the engine together: open and match the input, lay tiles over
the AOI at the model's resolution, run the network and the chosen explanation methods
batch by batch, blend the tiles and write every output exactly on the input's pixel grid,
then record the run in run.json.

With a JEM the same forward pass also gives a confidence map (per-pixel log p(x)) and each
training-size patch's log p(x), which say whether the input looks like the training imagery.
"""
import contextlib
import dataclasses
import math
import platform
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.atomic import write_json
from core.blend import RowBlender
from core.device import resolve_device
from core.errors import NaturalExplainError, RunCanceled
from core.explain.base import Explainer
from core.explain.method_options import to_record
from core.explain.registry import MethodSettings, build_explainer, generators_setting, parse_methods
from core.input_statistics import InputStatistics
from core.jem.energy import log_px_of_logits
from core.jem.familiarity import Familiarity, PatchLogPx, assess
from core.jem.histogram import training_histogram
from core.models.card import ModelCard, sidecar_path
from core.models.choice import Choice, choose_model, match_chosen
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import to_model_input
from core.ood_verdict import Verdict, combine
from core.raster.bands import match_bands
from core.raster.grid import Grid, model_grid, pixel_size_m
from core.raster.read import BandReader, nonfinite_warning
from core.raster.sources import BandRef, RasterInput, open_input
from core.raster.write import NODATA, open_geotiff, to_cog, warped_rows, write_rows
from core.run_outputs import RunOutputs, writable_dir  # noqa: F401  (writable_dir: other commands' import)
from core.tiling import Tile, blend_weights, tile_grid
from core.value_range import ValueRangeCheck

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]
Report = Callable[[str], None]

# Pixels neighbouring tiles share and blend, so edge pixels see context.
DEFAULT_OVERLAP = 32
# The most a run resamples the input finer (a 60 m raster for a 10 m model is 6x); beyond it the
# model grid grows quadratically and the model sees only interpolation.
MAX_UPSAMPLING = 8
# From this ratio of pixel sizes on, a run says before it starts what resampling means for the maps.
FAR_RESOLUTION = 2.0


@dataclasses.dataclass
class ExplainResult:
    """What a run wrote: output paths by name, the run record, warnings for the user, and the model choice."""

    outputs: dict[str, Path]
    run_json: Path
    warnings: list[str]
    model: Choice | None = None


@dataclasses.dataclass(frozen=True)
class RunGrids:
    """The grids one run works on.

    `out` is the input's grid cut to the AOI (what is written); `context` adds a margin so
    tiles at the AOI's edge still see their neighbourhood; `model` is `context` at the
    model's resolution (the same object when the resolutions agree).
    """

    out: Grid
    out_window: Window
    context: Grid
    context_window: Window
    model: Grid

    @property
    def resampled(self) -> bool:
        return self.model is not self.context


@dataclasses.dataclass
class TileBatch:
    """Tiles that hold data, read as model input: their tiles, (B, C, H, W) input and (B, H, W) valid masks."""

    tiles: list[Tile]
    x: torch.Tensor
    valid: np.ndarray


@dataclasses.dataclass
class _Run:
    """One run's fixed parts, so the tile loop needs no long argument lists.

    `patches` gathers the patches' log p(x) when the model is a JEM, and is None otherwise;
    `in_range` counts pixels outside the training value range when the card has one; `statistics` gathers the
    input statistics (band moments, band order, fine detail) the verdict on the input combines with them.
    """

    loaded: LoadedModel
    explainers: list[Explainer]
    device: torch.device
    batch_size: int
    overlap: int
    progress: Progress | None
    is_canceled: IsCanceled | None
    timings: dict[str, float]
    patches: PatchLogPx | None
    in_range: ValueRangeCheck | None
    band_refs: list[BandRef]
    # A run of write_maps: the network output to write instead of naturalness and explanations, and its files' bands.
    maps: "MapsOf | None" = None
    bands: dict[str, list[str]] | None = None
    # Who computes the tiles: this process (local_tiles) when None, else e.g. a Dask cluster (core.dask_tiles).
    source: "TileSource | None" = None
    statistics: InputStatistics | None = None

    def output_bands(self) -> dict[str, list[str]]:
        """Every output file's band descriptions, naturalness (and confidence) first, in channel order."""
        if self.bands is not None:
            return dict(self.bands)
        bands = {"naturalness": ["naturalness"]}
        if self.patches is not None:
            bands["confidence"] = ["log_px"]
        for explainer in self.explainers:
            bands.update(explainer.output_bands())
        return bands


@dataclasses.dataclass(frozen=True)
class RunRecipe:
    """What another process needs to rebuild a run's model, methods and reads (a Dask worker: core.dask_tiles).

    `device` is the user's word ("auto" picks each worker's own GPU); `maps`/`bands` are write_maps's.
    """

    model: Path
    device: str
    methods: tuple[str, ...]
    method_options: MethodSettings
    batch_size: int | None
    overlap: int
    band_refs: list[BandRef]
    maps: "MapsOf | None" = None
    bands: dict[str, list[str]] | None = None


def new_run(loaded: LoadedModel, explainers: list[Explainer], device: torch.device, recipe: RunRecipe,
            progress: Progress | None = None, is_canceled: IsCanceled | None = None,
            source: "TileSource | None" = None) -> _Run:
    """A run with fresh timings and observers: the JEM's patch log p(x) (explain with a JEM only), the value range."""
    jem = bool(loaded.card.jem) and recipe.maps is None
    if recipe.maps is None:
        timings = {"read_s": 0.0, "naturalness_s": 0.0, **({"confidence_s": 0.0, "ood_s": 0.0} if jem else {}),
                   **{f"{e.name}_s": 0.0 for e in explainers}}
    else:
        timings = {"read_s": 0.0, f"{next(iter(recipe.bands))}_s": 0.0}
    return _Run(loaded, explainers, device, recipe.batch_size or default_batch_size(device), recipe.overlap, progress,
                is_canceled, timings, PatchLogPx(loaded.card.jem["patch_size"]) if jem else None,
                ValueRangeCheck(loaded.card, device) if loaded.card.value_range else None, recipe.band_refs,
                recipe.maps, recipe.bands, source, InputStatistics(loaded.card, device))


def tile_source(dask: "str | distributed.Client | None",  # noqa: F821
                recipe: RunRecipe) -> contextlib.AbstractContextManager["TileSource | None"]:
    """Where the tiles are computed: here (None) without `dask`, else on the cluster it names (local:N, tcp://...)
    or is the client of (a job of several scenes, core.scenes)."""
    if dask is None:
        return contextlib.nullcontext()
    from core.dask_tiles import dask_tiles

    return dask_tiles(dask, recipe)


def plan_grids(raster: RasterInput, aoi: AOI | None, resolution_m: float, overlap: int) -> RunGrids:
    """The output, context and model grids of a run (see RunGrids).

    Raises:
        NaturalExplainError: when the model's pixels are far finer than the input's.
    """
    ref = raster.grid
    if pixel_size_m(ref) / resolution_m > MAX_UPSAMPLING:
        raise NaturalExplainError(f"the model works on {resolution_m:g} m pixels and the input has "
                                  f"{pixel_size_m(ref):.3g} m ones: resampling {pixel_size_m(ref) / resolution_m:.0f}x "
                                  "finer would invent detail; use a model trained near the input's resolution")
    out_window = aoi.window_on(ref) if aoi else ref.full_window()
    margin = math.ceil(overlap * resolution_m / pixel_size_m(ref))
    c0, r0 = max(out_window.col_off - margin, 0), max(out_window.row_off - margin, 0)
    c1 = min(out_window.col_off + out_window.width + margin, ref.width)
    r1 = min(out_window.row_off + out_window.height + margin, ref.height)
    context_window = Window(c0, r0, c1 - c0, r1 - r0)
    context = ref.window(context_window)
    return RunGrids(ref.window(out_window), out_window, context, context_window, model_grid(context, resolution_m))


def resolution_note(input_m: float, model_m: float) -> str | None:
    """What resampling an input far from the model's resolution means, said before the run; None when close.

    A 0.5 m orthophoto for a 10 m model is seen as a 10 m image: its finer detail cannot change
    the verdict, and a model trained on the analyst's own imagery would see it.
    """
    if max(input_m / model_m, model_m / input_m) < FAR_RESOLUTION:
        return None
    seen = "averaged" if input_m < model_m else "interpolated"
    return (f"the model was trained on {model_m:g} m pixels and the input has {input_m:.3g} m ones: it sees a "
            f"{model_m:g} m version of the image ({seen}), and the maps are resampled back onto the input's grid; "
            f"for maps at the input's own detail, train a model on this imagery (python -m train classifier "
            f"--raster IMAGE --polygons LABELS --resolution-m {input_m:.3g}) and give it with --model")


def dense_logits(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) float32 per-pixel logits; bfloat16 arithmetic on CUDA, where it is twice as fast."""
    with torch.inference_mode(), torch.autocast(batch.device.type, dtype=torch.bfloat16,
                                                enabled=batch.device.type == "cuda"):
        logits = loaded.network.dense_logits(batch)
    return logits.float()


def _naturalness(card: ModelCard, logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) summed probability of the natural classes."""
    return torch.softmax(logits, dim=1)[:, card.natural_indices].sum(dim=1, keepdim=True)


def _compute(run: _Run, batch: TileBatch) -> np.ndarray:
    """(B, channels, H, W): naturalness, the confidence map of a JEM, then every explainer's maps.

    The JEM's confidence map and patch log p(x) reuse the logits naturalness needs: no second pass.
    """
    if run.maps is not None:
        return _compute_maps(run, batch)
    x = batch.x
    t = time.perf_counter()
    logits = dense_logits(run.loaded, x)
    parts = [_naturalness(run.loaded.card, logits)]
    _observe(run, batch)
    run.timings["naturalness_s"] += time.perf_counter() - t
    if run.patches is not None:
        t = time.perf_counter()
        parts.append(log_px_of_logits(logits))
        run.timings["confidence_s"] += time.perf_counter() - t
        t = time.perf_counter()
        run.patches.add([tile.window for tile in batch.tiles], logits, batch.valid)
        run.timings["ood_s"] += time.perf_counter() - t
    for explainer in run.explainers:
        t = time.perf_counter()
        parts.extend(m.detach() for m in explainer.maps(x.clone()).values())
        run.timings[f"{explainer.name}_s"] += time.perf_counter() - t
    return torch.cat([p.float() for p in parts], dim=1).cpu().numpy()


def _observe(run: _Run, batch: TileBatch) -> None:
    """Add a batch's input to the checks on the input: the value range and the input statistics."""
    for check in (run.in_range, run.statistics):
        if check is not None:
            check.add(batch.x, batch.valid)


class _OutputSink:
    """Receives blended rows of the context grid and writes the part inside the AOI to each file."""

    def __init__(self, files: list[rasterio.io.DatasetWriter], grids: RunGrids, aoi: AOI | None) -> None:
        self.files, self.grids, self.aoi = files, grids, aoi

    def __call__(self, row0: int, values: np.ndarray, covered: np.ndarray) -> None:
        """Crop rows of the context grid to the output window, mask outside the AOI, write."""
        ow, cw = self.grids.out_window, self.grids.context_window
        top = ow.row_off - cw.row_off
        lo, hi = max(row0, top), min(row0 + values.shape[1], top + ow.height)
        if hi <= lo:
            return
        cols = slice(ow.col_off - cw.col_off, ow.col_off - cw.col_off + ow.width)
        rows = slice(lo - row0, hi - row0)
        valid = covered[rows, cols]
        if self.aoi is not None:  # mask only these rows, so memory stays flat
            inside = self.aoi.inside_mask(self.grids.out.window(Window(0, lo - top, ow.width, hi - lo)))
            valid = valid if inside is None else valid & inside
        channel = 0
        for dst in self.files:
            write_rows(dst, lo - top, values[channel:channel + dst.count, rows, cols], valid)
            channel += dst.count


def tile_batches(reader: BandReader, grid: Grid, tiles: list[Tile], card: ModelCard, device: torch.device,
                 batch_size: int, progress: Progress | None = None, is_canceled: IsCanceled | None = None,
                 timings: dict[str, float] | None = None) -> Iterator[TileBatch]:
    """Read the tiles of `grid` batch by batch as model input, leaving out tiles with no data.

    Cancel is polled before each batch and progress reported once the caller has used it.

    Args:
        reader: the input's bands.
        grid: the model grid the tile windows address.
        tiles: from core.tiling.tile_grid.
        card: how to turn raw values into model input.
        device: where the input goes.
        batch_size: tiles per batch.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        timings: reading time is added to its "read_s" when given.

    Raises:
        RunCanceled: when is_canceled says so.
    """
    for start in range(0, len(tiles), batch_size):
        if is_canceled and is_canceled():
            raise RunCanceled("canceled")
        t = time.perf_counter()
        batch = tiles[start:start + batch_size]
        reads = [reader.read(grid.window(tile.window)) for tile in batch]
        kept = [(tile, raw, valid) for tile, (raw, valid) in zip(batch, reads) if valid.any()]
        if timings is not None:
            timings["read_s"] += time.perf_counter() - t
        if kept:
            x = np.stack([to_model_input(raw, valid, card) for _, raw, valid in kept])
            yield TileBatch([tile for tile, _, _ in kept], torch.from_numpy(x).to(device),
                            np.stack([valid for _, _, valid in kept]))
        if progress:
            progress(100.0 * min(start + batch_size, len(tiles)) / len(tiles))


# What computes a run's tiles: yields (tile, values (C, h, w), valid (h, w)) for each tile holding data, in the
# tiles' order, adding to the run's timings and observers (value range, JEM patches) as it goes.
TileSource = Callable[[_Run, BandReader, Grid, list[Tile]], Iterator[tuple[Tile, np.ndarray, np.ndarray]]]


def local_tiles(run: _Run, reader: BandReader, grid: Grid, tiles: list[Tile]) -> Iterator[tuple[Tile, np.ndarray,
                                                                                                 np.ndarray]]:
    """This process computes the tiles, batch by batch (a Dask worker runs the same for its block)."""
    for batch in tile_batches(reader, grid, tiles, run.loaded.card, run.device, run.batch_size, run.progress,
                              run.is_canceled, run.timings):
        values = _compute(run, batch)
        for i, tile in enumerate(batch.tiles):
            yield tile, values[i], batch.valid[i]


def _run_tiles(run: _Run, reader: BandReader, grid: Grid, tiles: list[Tile], blender: RowBlender) -> int:
    """Compute the tiles (run.source) and blend them in order; returns how many tiles held data."""
    weights = blend_weights(tiles[0].window.height, tiles[0].window.width, run.overlap)
    used = 0
    for tile, values, valid in (run.source or local_tiles)(run, reader, grid, tiles):
        blender.release_until(int(tile.window.row_off))
        blender.add(tile.window, values, weights * valid)
        used += 1
    blender.close()
    return used


def _write_outputs(run: _Run, reader: BandReader, grids: RunGrids, tiles: list[Tile], aoi: AOI | None,
                   paths: dict[str, Path], staging: Path) -> int:
    """Run every tile and write every output file, with `staging` for the model-grid scratch file; returns
    how many tiles held data."""
    bands = run.output_bands()
    channels = sum(len(b) for b in bands.values())
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open_geotiff(paths[name], grids.out, bands=len(descriptions),
                                                  descriptions=descriptions)) for name, descriptions in bands.items()]
        sink = _OutputSink(files, grids, aoi)
        if not grids.resampled:
            return _run_tiles(run, reader, grids.model, tiles, RowBlender(grids.model.height, grids.model.width,
                                                                         channels, sink))
        staging = staging / "model-grid.tif"
        try:
            with open_geotiff(staging, grids.model, bands=channels) as model_dst:
                blender = RowBlender(grids.model.height, grids.model.width, channels,
                                     lambda r, v, c: write_rows(model_dst, r, v, c))
                used = _run_tiles(run, reader, grids.model, tiles, blender)
            for row0, values in warped_rows(staging, grids.context):
                rows = grids.context.window(Window(0, row0, grids.context.width, values.shape[1]))
                _, input_valid = reader.read(rows)  # resampling must not move the nodata edge
                sink(row0, values, (values[0] != NODATA) & input_valid)
        finally:
            staging.unlink(missing_ok=True)
        return used


def explain(input_path: str | Path, out_dir: str | Path, *, methods: Sequence[str] = (), model: str | Path | None = None,
            aoi: AOI | None = None, device: str = "auto", bands: dict[str, int] | None = None,
            batch_size: int | None = None, tile_size: int | None = None, overlap: int = DEFAULT_OVERLAP,
            progress: Progress | None = None, is_canceled: IsCanceled | None = None,
            method_options: MethodSettings | None = None, report: Report | None = None,
            dask: "str | distributed.Client | None" = None, cog: bool = False) -> ExplainResult:  # noqa: F821
    """Write a naturalness map, and one set of maps per explanation method, for `input_path`.

    A JEM also writes confidence.tif (per-pixel log p(x)) and puts its patches' log p(x) against
    the training histogram under "ood" in run.json, with a warning when the input looks unlike
    the training imagery.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the outputs; created if missing.
        methods: names from core.explain.registry.METHODS; naturalness is always written.
        model: a model file (.json or .safetensors); when None, the richest bundled classifier whose bands
            the input has (core.models.choice.choose_model), recorded in run.json and reported.
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        bands: optional model band name -> 1-based input band number, overriding name matching.
        batch_size: tiles per forward pass; None = default_batch_size(device).
        tile_size: tile edge in model pixels; the model card's when None.
        overlap: pixels shared by neighbouring tiles and blended.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        method_options: method name -> its settings (core.explain.method_options), e.g. {"occlusion": {"window": 8}}.
        report: called before the run with each line the user should read first: the model chosen
            automatically, and what resampling an input far from the model's resolution means.
        dask: compute the tiles on a Dask cluster: "local:N" (N worker processes here) or "tcp://HOST:PORT"
            (a running scheduler), or a client of one; the maps equal this process's to float rounding.
        cog: write the maps as Cloud-Optimized GeoTIFFs (with overviews).

    Returns:
        The written outputs, the run.json path, any warnings and the model choice.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    method_names = parse_methods(",".join(methods))
    raster = open_input(input_path)
    torch_device = resolve_device(device)
    choice = choose_model(raster, model, bands, method_names, generators_setting(method_options))
    loaded = load_model(choice.path, torch_device)
    explainers = [build_explainer(name, loaded, method_options) for name in method_names]
    band_refs = match_chosen(raster, loaded.card.bands, bands, choice)
    grids = plan_grids(raster, aoi, loaded.card.resolution_m, overlap)
    note = resolution_note(pixel_size_m(raster.grid), loaded.card.resolution_m)
    if report:
        for line in ([choice.line()] if choice.automatic else []) + ([note] if note else []):
            report(line)
    size = tile_size or loaded.card.tile_size
    tiles = tile_grid(grids.model.height, grids.model.width, size, min(overlap, size // 2))
    recipe = RunRecipe(choice.path, device, tuple(method_names), {k: dict(v) for k, v in (method_options or {}).items()},
                       batch_size, overlap, band_refs)
    with tile_source(dask, recipe) as source:
        run = new_run(loaded, explainers, torch_device, recipe, progress, is_canceled, source)
        return _write_run(run, raster, grids, tiles, size, aoi, Path(out_dir), choice, started, cog)


def _write_run(run: _Run, raster: RasterInput, grids: RunGrids, tiles: list[Tile], size: int, aoi: AOI | None,
               out_dir: Path, choice: Choice, started: float, cog: bool = False) -> ExplainResult:
    """Run every tile and write every map of `run` (as COGs when `cog`) and its run.json into `out_dir`, together
    or not at all."""
    loaded = run.loaded
    names = {name: f"{name}.tif" for name in run.output_bands()}
    with RunOutputs(out_dir, names.values(), [*raster.files, loaded.weights_path, sidecar_path(loaded.weights_path)]) as outputs:
        staged = {name: outputs.staged(file) for name, file in names.items()}
        with BandReader(run.band_refs) as reader:
            used = _write_outputs(run, reader, grids, tiles, aoi, staged, outputs.staging)
        for path in staged.values() if cog else ():
            to_cog(path)
        familiarity = (assess(run.patches.values(), training_histogram(loaded.card)) if run.patches is not None
                       else None)
        verdict = combine(run.statistics, run.in_range, familiarity)
        warnings = _warnings(raster, grids, loaded, used, len(tiles), verdict, reader.nonfinite_pixels)
        run.timings["total_s"] = time.perf_counter() - started
        paths = {name: outputs.final(file) for name, file in names.items()}
        write_json(outputs.staged("run.json"),
                   _run_record(raster, run, grids, aoi, size, tiles, used, warnings, paths, familiarity, verdict,
                               choice))
        outputs.commit()
    return ExplainResult(paths, outputs.final("run.json"), warnings, choice)


def default_batch_size(device: torch.device) -> int:
    """8 tiles on CUDA, 1 on the CPU, where bigger batches run slower per pixel (bench/bench_naturalness.py)."""
    return 8 if device.type == "cuda" else 1


def _warnings(raster: RasterInput, grids: RunGrids, loaded: LoadedModel, used: int, total: int, verdict: Verdict,
              nonfinite: int) -> list[str]:
    warnings = [text] if (text := nonfinite_warning(nonfinite)) else []
    if grids.resampled:
        warnings.append(f"the input's {pixel_size_m(raster.grid):.3g} m pixels were resampled to the model's "
                        f"{loaded.card.resolution_m:g} m and the maps back onto the input grid")
    if used == 0:
        warnings.append("the AOI holds only nodata pixels: the maps are empty")
    elif used < total:
        warnings.append(f"{total - used} of {total} tiles held only nodata and were skipped")
    if used and (unlike := verdict.warning()):
        warnings.append(unlike)
    return warnings


def _run_record(raster: RasterInput, run: _Run, grids: RunGrids, aoi: AOI | None, tile_size: int, tiles: list[Tile],
                used: int, warnings: list[str], outputs: dict[str, Path], familiarity: Familiarity | None,
                verdict: Verdict, choice: Choice) -> dict:
    megapixels = grids.out.width * grids.out.height / 1e6
    card = run.loaded.card
    per_mpx = {k.removesuffix("_s"): round(v / max(megapixels, 1e-9), 3) for k, v in run.timings.items()}
    return {
        "input": {"path": str(raster.path.resolve()), "sha256": raster.checksum(),
                  "files": [str(p) for p in raster.files], "crs": raster.grid.crs.to_string(),
                  # model band -> 1-based band of the input file, so a viewer pairs the bands as the model did
                  "band_numbers": ({b: r.index for b, r in zip(card.bands, run.band_refs)}
                                   if raster.path.is_file() else None),
                  "pixel_size_m": pixel_size_m(raster.grid)},
        "model": {"path": str(run.loaded.weights_path.resolve()), "weights_sha256": run.loaded.weights_sha256,
                  "architecture": card.architecture, "bands": card.bands, "classes": card.classes,
                  "natural_classes": card.natural_classes, "resolution_m": card.resolution_m,
                  "training_command": card.training.get("command"), **choice.to_json()},
        "parameters": {"methods": [e.name for e in run.explainers],
                       "method_settings": {e.name: to_record(e.options) for e in run.explainers},
                       "aoi": dataclasses.asdict(aoi) if aoi else None,
                       "device": str(run.device), "tile_size": tile_size, "overlap": run.overlap,
                       "batch_size": run.batch_size},
        "grid": {"crs": grids.out.crs.to_string(), "transform": list(grids.out.transform)[:6],
                 "width": grids.out.width, "height": grids.out.height, "model_grid_resampled": grids.resampled,
                 "resolution_note": resolution_note(pixel_size_m(raster.grid), card.resolution_m)},
        "tiles": {"total": len(tiles), "with_data": used},
        "timings": {**{k: round(v, 3) for k, v in run.timings.items()}, "megapixels": round(megapixels, 4),
                    "s_per_megapixel": per_mpx},
        "outputs": {k: str(v.resolve()) for k, v in outputs.items()},
        # the one verdict on the input (core.ood_verdict), then what each of its checks measured
        "verdict": verdict.to_json(),
        "ood": ({k: v for k, v in familiarity.to_json().items() if k not in ("out_of_distribution", "limits")}
                if familiarity else None),
        "input_statistics": run.statistics.to_json() if run.statistics else None,
        "value_range": run.in_range.to_json() if run.in_range else None,
        "warnings": warnings,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__},
    }


# ---- write_maps: explain's tiles, blending, nodata, AOI and run record for another network output ----

# What write_maps writes: (B, channels, H, W) maps from a loaded model and a batch of model input.
MapsOf = Callable[[LoadedModel, torch.Tensor], torch.Tensor]


def _compute_maps(run: _Run, batch: TileBatch) -> np.ndarray:
    """(B, channels, H, W) of `run.maps`, timed under the first output file's name."""
    t = time.perf_counter()
    with torch.inference_mode(), torch.autocast(batch.x.device.type, dtype=torch.bfloat16,
                                                enabled=batch.x.device.type == "cuda"):
        values = run.maps(run.loaded, batch.x)
    _observe(run, batch)
    run.timings[f"{next(iter(run.bands))}_s"] += time.perf_counter() - t
    return values.float().cpu().numpy()


def write_maps(input_path: str | Path, out_dir: str | Path, loaded: LoadedModel, choice: Choice, maps: MapsOf,
               bands: dict[str, list[str]], *, aoi: AOI | None = None, device: torch.device | None = None,
               mapping: dict[str, int] | None = None, batch_size: int | None = None, tile_size: int | None = None,
               overlap: int = DEFAULT_OVERLAP, progress: Progress | None = None, is_canceled: IsCanceled | None = None,
               report: Report | None = None, dask: str | None = None, cog: bool = False) -> ExplainResult:
    """Write `maps(network, x)` for `input_path` as explain writes naturalness: same tiles, blending, grids and record.

    The input is matched to the model's bands, tiled at the model's resolution with `overlap`,
    blended, written on the input's grid (nodata and the AOI kept), and recorded in run.json,
    through the same functions explain uses; only the network output differs.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the outputs; created if missing.
        loaded: the model (of any kind `maps` can run).
        choice: the model and why it was taken, recorded in run.json.
        maps: (loaded, (B, C, H, W) model input) -> (B, channels, H, W) maps, channels as `bands` lists them.
        bands: output file name (without .tif) -> its band descriptions, in channel order.
        aoi: area of interest in any CRS; the whole raster when None.
        device: where `loaded` runs; its parameters' device when None.
        mapping: optional model band name -> 1-based input band number, overriding name matching.
        batch_size: tiles per forward pass; None = default_batch_size(device).
        tile_size: tile edge in model pixels; the model card's when None.
        overlap: pixels shared by neighbouring tiles and blended.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        report: called before the run with what resampling an input far from the model's resolution means.
        dask: as explain's (`maps` must then be a module-level function, which pickles by name).
        cog: as explain's.

    Returns:
        The written outputs, the run.json path, any warnings and `choice`.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    raster = open_input(input_path)
    device = device or next(loaded.network.parameters()).device
    band_refs = match_bands(raster, loaded.card.bands, mapping)
    grids = plan_grids(raster, aoi, loaded.card.resolution_m, overlap)
    note = resolution_note(pixel_size_m(raster.grid), loaded.card.resolution_m)
    if report and note:
        report(note)
    size = tile_size or loaded.card.tile_size
    tiles = tile_grid(grids.model.height, grids.model.width, size, min(overlap, size // 2))
    recipe = RunRecipe(loaded.weights_path, device.type, (), {}, batch_size, overlap, band_refs, maps, bands)
    with tile_source(dask, recipe) as source:
        run = new_run(loaded, [], device, recipe, progress, is_canceled, source)
        return _write_run(run, raster, grids, tiles, size, aoi, Path(out_dir), choice, started, cog)
