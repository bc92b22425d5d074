"""explain(raster, aoi, methods, model) -> result files, with progress and cancel; write_maps for another network's maps.

The scan engine prepares the run (core.scan: input, bands, model, AOI, grids, tiles, provenance);
here the network and the chosen explanation methods run batch by batch (in this process or on
a Dask cluster, core.tile_source), the tiles are blended, every output is written exactly on
the input's pixel grid, and the run is recorded in run.json.

With a JEM the same forward pass also gives a confidence map (per-pixel log p(x)) and each
training-size patch's log p(x), which say whether the input looks like the training imagery.
"""
import contextlib
import dataclasses
import functools
import platform
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.atomic import write_json
from core.blend import RowBlender
from core.explain.base import Explainer
from core.explain.method_options import to_record
from core.explain.registry import MethodSettings, build_explainer, generators_setting, parse_methods
from core.jem.energy import log_px_of_logits
from core.jem.familiarity import Familiarity
from core.models.card import ModelCard
from core.models.choice import Choice
from core.models.model_file import LoadedModel
from core.ood_verdict import Verdict
from core.raster.grid import pixel_size_m
from core.raster.read import BandReader, nonfinite_warning
from core.raster.write import NODATA, open_geotiff, to_cog, warped_rows, write_rows
from core.run_outputs import RunOutputs
from core.scan import (
    DEFAULT_OVERLAP,
    IsCanceled,
    Progress,
    Report,
    RunGrids,
    Scan,
    TileBatch,
    prepare,
    timed,
)
from core.tile_source import RunRecipe, TileRun, new_run, tile_source
from core.tiling import blend_weights

# From this ratio of pixel sizes on, a run says before it starts what resampling means for the maps.
FAR_RESOLUTION = 2.0


@dataclasses.dataclass
class ExplainResult:
    """What a run wrote: output paths by name, the run record, warnings for the user, and the model choice."""

    outputs: dict[str, Path]
    run_json: Path
    warnings: list[str]
    model: Choice | None = None


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


def _naturalness(card: ModelCard, logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) summed probability of the natural classes."""
    return torch.softmax(logits, dim=1)[:, card.natural_indices].sum(dim=1, keepdim=True)


def explain_maps(run: TileRun, batch: TileBatch) -> np.ndarray:
    """(B, channels, H, W): naturalness, the confidence map of a JEM, then every explainer's maps.

    The JEM's confidence map, and its patch log p(x) afterwards (core.input_checks), reuse the
    batch's logits naturalness needs: no second pass.
    """
    with timed(run.timings, "naturalness_s"):
        parts = [_naturalness(run.loaded.card, batch.logits)]
    if run.loaded.card.jem:
        with timed(run.timings, "confidence_s"):
            parts.append(log_px_of_logits(batch.logits))
    for explainer in run.explainers:
        with timed(run.timings, f"{explainer.name}_s"):
            parts.extend(m.detach() for m in explainer.maps(batch.x.clone()).values())
    return torch.cat([p.float() for p in parts], dim=1).cpu().numpy()


def explain_bands(card: ModelCard, explainers: list[Explainer]) -> dict[str, list[str]]:
    """Every output file's band descriptions, in explain_maps's channel order: naturalness (and confidence) first."""
    bands = {"naturalness": ["naturalness"]}
    if card.jem:
        bands["confidence"] = ["log_px"]
    for explainer in explainers:
        bands.update(explainer.output_bands())
    return bands


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


def _run_tiles(run: TileRun, reader: BandReader, scan: Scan, blender: RowBlender) -> int:
    """Compute the tiles (here or on the run's source) and blend them in order; returns how many tiles held data."""
    tiles = scan.tiles
    weights = blend_weights(tiles[0].window.height, tiles[0].window.width, run.overlap)
    used = 0
    for tile, values, valid in run.tiles(reader, scan.grids.model, tiles):
        blender.release_until(int(tile.window.row_off))
        blender.add(tile.window, values, weights * valid)
        used += 1
    blender.close()
    return used


def _write_outputs(run: TileRun, reader: BandReader, scan: Scan, aoi: AOI | None, bands: dict[str, list[str]],
                   paths: dict[str, Path], staging: Path) -> int:
    """Run every tile and write every output file, with `staging` for the model-grid scratch file; returns
    how many tiles held data."""
    grids = scan.grids
    channels = sum(len(b) for b in bands.values())
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open_geotiff(paths[name], grids.out, bands=len(descriptions),
                                                  descriptions=descriptions)) for name, descriptions in bands.items()]
        sink = _OutputSink(files, grids, aoi)
        if not grids.resampled:
            return _run_tiles(run, reader, scan, RowBlender(grids.model.height, grids.model.width, channels, sink))
        staging = staging / "model-grid.tif"
        try:
            with open_geotiff(staging, grids.model, bands=channels) as model_dst:
                blender = RowBlender(grids.model.height, grids.model.width, channels,
                                     lambda r, v, c: write_rows(model_dst, r, v, c))
                used = _run_tiles(run, reader, scan, blender)
            for row0, values in warped_rows(staging, grids.context):
                rows = grids.context.window(Window(0, row0, grids.context.width, values.shape[1]))
                _, input_valid = reader.read(rows)  # resampling must not move the nodata edge
                sink(row0, values, (values[0] != NODATA) & input_valid)
        finally:
            staging.unlink(missing_ok=True)
        return used


def _report_first(report: Report | None, scan: Scan, choice_line: bool) -> None:
    """Tell the user, before the run, the model chosen automatically (when `choice_line`) and what resampling an
    input far from the model's resolution means."""
    if report is None:
        return
    note = resolution_note(pixel_size_m(scan.raster.grid), scan.loaded.card.resolution_m)
    for line in ([scan.choice.line()] if choice_line and scan.choice.automatic else []) + ([note] if note else []):
        report(line)


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
        batch_size: tiles per forward pass; None = core.scan.default_batch_size(device).
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
    method_names = parse_methods(",".join(methods))
    scan = prepare(input_path, model, bands=bands, aoi=aoi, device=device, overlap=overlap, tile_size=tile_size,
                   methods=method_names, generators=generators_setting(method_options))
    explainers = [build_explainer(name, scan.loaded, method_options) for name in method_names]
    _report_first(report, scan, choice_line=True)
    recipe = RunRecipe(scan.choice.path, device, tuple(method_names),
                       {k: dict(v) for k, v in (method_options or {}).items()}, batch_size, overlap, scan.band_refs,
                       explain_maps)
    with tile_source(dask, recipe) as source:
        run = new_run(scan.loaded, explainers, scan.device, recipe, progress, is_canceled, source)
        return _write_run(run, scan, explain_bands(scan.loaded.card, explainers), aoi, Path(out_dir), started, cog)


def _write_run(run: TileRun, scan: Scan, bands: dict[str, list[str]], aoi: AOI | None, out_dir: Path, started: float,
               cog: bool = False) -> ExplainResult:
    """Run every tile and write every map of `run` (one file per entry of `bands`; COGs when `cog`) and its
    run.json into `out_dir`, together or not at all."""
    names = {name: f"{name}.tif" for name in bands}
    with RunOutputs(out_dir, names.values(), scan.read_files) as outputs:
        staged = {name: outputs.staged(file) for name, file in names.items()}
        with BandReader(scan.band_refs) as reader:
            used = _write_outputs(run, reader, scan, aoi, bands, staged, outputs.staging)
        for path in staged.values() if cog else ():
            to_cog(path)
        familiarity = run.checks.familiarity(scan.loaded.card)
        verdict = run.checks.verdict(familiarity)
        warnings = _warnings(scan, used, verdict, reader.nonfinite_pixels)
        run.timings["total_s"] = time.perf_counter() - started
        paths = {name: outputs.final(file) for name, file in names.items()}
        write_json(outputs.staged("run.json"),
                   _run_record(scan, run, aoi, used, warnings, paths, familiarity, verdict))
        outputs.commit()
    return ExplainResult(paths, outputs.final("run.json"), warnings, scan.choice)


def _warnings(scan: Scan, used: int, verdict: Verdict, nonfinite: int) -> list[str]:
    warnings = [text] if (text := nonfinite_warning(nonfinite)) else []
    total = len(scan.tiles)
    if scan.grids.resampled:
        warnings.append(f"the input's {pixel_size_m(scan.raster.grid):.3g} m pixels were resampled to the model's "
                        f"{scan.loaded.card.resolution_m:g} m and the maps back onto the input grid")
    if used == 0:
        warnings.append("the AOI holds only nodata pixels: the maps are empty")
    elif used < total:
        warnings.append(f"{total - used} of {total} tiles held only nodata and were skipped")
    if used and (unlike := verdict.warning()):
        warnings.append(unlike)
    return warnings


def _run_record(scan: Scan, run: TileRun, aoi: AOI | None, used: int, warnings: list[str], outputs: dict[str, Path],
                familiarity: Familiarity | None, verdict: Verdict) -> dict:
    grids = scan.grids
    megapixels = grids.out.width * grids.out.height / 1e6
    per_mpx = {k.removesuffix("_s"): round(v / max(megapixels, 1e-9), 3) for k, v in run.timings.items()}
    return {
        **scan.provenance(),
        "parameters": {"methods": [e.name for e in run.explainers],
                       "method_settings": {e.name: to_record(e.options) for e in run.explainers},
                       "aoi": dataclasses.asdict(aoi) if aoi else None,
                       "device": str(run.device), "tile_size": scan.tile_size, "overlap": run.overlap,
                       "batch_size": run.batch_size},
        "grid": {"crs": grids.out.crs.to_string(), "transform": list(grids.out.transform)[:6],
                 "width": grids.out.width, "height": grids.out.height, "model_grid_resampled": grids.resampled,
                 "resolution_note": resolution_note(pixel_size_m(scan.raster.grid), scan.loaded.card.resolution_m)},
        "tiles": {"total": len(scan.tiles), "with_data": used},
        "timings": {**{k: round(v, 3) for k, v in run.timings.items()}, "megapixels": round(megapixels, 4),
                    "s_per_megapixel": per_mpx},
        "outputs": {k: str(v.resolve()) for k, v in outputs.items()},
        # the one verdict on the input (core.ood_verdict), then what each of its checks measured
        "verdict": verdict.to_json(),
        "ood": ({k: v for k, v in familiarity.to_json().items() if k not in ("out_of_distribution", "limits")}
                if familiarity else None),
        "input_statistics": run.checks.statistics.to_json(),
        "value_range": run.checks.in_range.to_json() if run.checks.in_range else None,
        "warnings": warnings,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__},
    }


# ---- write_maps: explain's tiles, blending, nodata, AOI and run record for another network output ----

# What write_maps writes: (B, channels, H, W) maps from a loaded model and a batch of model input.
MapsOf = Callable[[LoadedModel, torch.Tensor], torch.Tensor]


def network_maps(maps: MapsOf, timing: str, run: TileRun, batch: TileBatch) -> np.ndarray:
    """(B, channels, H, W) of `maps`, timed under `timing` (write_maps's TileCompute, as a partial)."""
    with timed(run.timings, timing), torch.inference_mode(), torch.autocast(
            batch.x.device.type, dtype=torch.bfloat16, enabled=batch.x.device.type == "cuda"):
        values = maps(run.loaded, batch.x)
    return values.float().cpu().numpy()


def write_maps(input_path: str | Path, out_dir: str | Path, model: Choice, maps: MapsOf,
               bands: Callable[[ModelCard], dict[str, list[str]]], *, expect: str, aoi: AOI | None = None,
               device: str = "auto", mapping: dict[str, int] | None = None, batch_size: int | None = None,
               tile_size: int | None = None, overlap: int = DEFAULT_OVERLAP, progress: Progress | None = None,
               is_canceled: IsCanceled | None = None, report: Report | None = None, dask: str | None = None,
               cog: bool = False) -> ExplainResult:
    """Write `maps(network, x)` for `input_path` as explain writes naturalness: same tiles, blending, grids and record.

    The input is matched to the model's bands, tiled at the model's resolution with `overlap`,
    blended, written on the input's grid (nodata and the AOI kept), and recorded in run.json,
    through the same functions explain uses; only the network output differs.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the outputs; created if missing.
        model: the model and why it was taken, recorded in run.json.
        maps: (loaded, (B, C, H, W) model input) -> (B, channels, H, W) maps, channels as `bands` lists them
            (a module-level function, which pickles by name for `dask`).
        bands: the loaded model's card -> output file name (without .tif) -> its band descriptions, in channel order.
        expect: the model kind `maps` runs (core.models.registry.KINDS).
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        mapping: optional model band name -> 1-based input band number, overriding name matching.
        batch_size: tiles per forward pass; None = core.scan.default_batch_size(device).
        tile_size: tile edge in model pixels; the model card's when None.
        overlap: pixels shared by neighbouring tiles and blended.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        report: called before the run with what resampling an input far from the model's resolution means.
        dask: as explain's.
        cog: as explain's.

    Returns:
        The written outputs, the run.json path, any warnings and `model`.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    scan = prepare(input_path, model, bands=mapping, aoi=aoi, device=device, overlap=overlap, tile_size=tile_size,
                   expect=expect)
    _report_first(report, scan, choice_line=False)
    files = bands(scan.loaded.card)
    compute = functools.partial(network_maps, maps, f"{next(iter(files))}_s")
    recipe = RunRecipe(scan.choice.path, device, (), {}, batch_size, overlap, scan.band_refs, compute)
    with tile_source(dask, recipe) as source:
        run = new_run(scan.loaded, [], scan.device, recipe, progress, is_canceled, source)
        return _write_run(run, scan, files, aoi, Path(out_dir), started, cog)
