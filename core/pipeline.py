"""explain(raster, aoi, model) -> result files, with progress and cancel.

The one place that strings the engine together: open and match the input, lay tiles over
the AOI at the model's resolution, run the network batch by batch, blend the tiles and
write every output exactly on the input's pixel grid, then record the run in run.json.
"""
import dataclasses
import math
import os
import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.atomic import temporary_name, write_json
from core.blend import RowBlender
from core.device import resolve_device
from core.errors import NaturalExplainError, RunCanceled
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.grid import Grid, model_grid, pixel_size_m
from core.raster.read import open_reader
from core.raster.sources import RasterInput, open_input
from core.raster.write import NODATA, open_geotiff, warped_rows, write_rows
from core.resources import DEFAULT_MODEL
from core.tiling import Tile, blend_weights, tile_grid

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]


@dataclasses.dataclass
class ExplainResult:
    """What a run wrote: output paths by name, the run record, and warnings for the user."""

    outputs: dict[str, Path]
    run_json: Path
    warnings: list[str]


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


def _plan_grids(raster: RasterInput, aoi: AOI | None, resolution_m: float, overlap: int) -> RunGrids:
    ref = raster.grid
    out_window = aoi.window_on(ref) if aoi else ref.full_window()
    margin = math.ceil(overlap * resolution_m / pixel_size_m(ref))
    c0, r0 = max(out_window.col_off - margin, 0), max(out_window.row_off - margin, 0)
    c1 = min(out_window.col_off + out_window.width + margin, ref.width)
    r1 = min(out_window.row_off + out_window.height + margin, ref.height)
    context_window = Window(c0, r0, c1 - c0, r1 - r0)
    context = ref.window(context_window)
    return RunGrids(ref.window(out_window), out_window, context, context_window, model_grid(context, resolution_m))


def _writable_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NaturalExplainError(f"cannot create the output folder {out_dir} ({exc.strerror}): choose another folder") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise NaturalExplainError(f"cannot write to the output folder {out_dir}: choose a folder you may write to")


def _naturalness(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) summed probability of the natural classes."""
    with torch.autocast(batch.device.type, dtype=torch.bfloat16, enabled=batch.device.type == "cuda"):
        logits = loaded.network.dense_logits(batch)
    probs = torch.softmax(logits.float(), dim=1)
    return probs[:, loaded.card.natural_indices].sum(dim=1, keepdim=True)


class _OutputSink:
    """Receives blended rows of the context grid and writes the part inside the AOI."""

    def __init__(self, dst: rasterio.io.DatasetWriter, grids: RunGrids, aoi: AOI | None) -> None:
        self.dst, self.grids, self.aoi = dst, grids, aoi

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
        write_rows(self.dst, lo - top, values[:, rows, cols], valid)


def _run_tiles(loaded: LoadedModel, reader, grid: Grid, tiles: list[Tile], blender: RowBlender, device: torch.device,
               batch_size: int, overlap: int, progress: Progress | None, is_canceled: IsCanceled | None,
               timings: dict[str, float]) -> int:
    """Feed tiles to the model in batches and blend the results; returns how many tiles held data."""
    weights = blend_weights(tiles[0].window.height, tiles[0].window.width, overlap)
    used = 0
    for start in range(0, len(tiles), batch_size):
        if is_canceled and is_canceled():
            raise RunCanceled("canceled")
        batch = tiles[start:start + batch_size]
        t = time.perf_counter()
        reads = [reader.read(grid.window(tile.window)) for tile in batch]
        kept = [(tile, raw, valid) for tile, (raw, valid) in zip(batch, reads) if valid.any()]
        timings["read_s"] += time.perf_counter() - t
        if kept:
            t = time.perf_counter()
            x = np.stack([to_model_input(raw, valid, loaded.card) for _, raw, valid in kept])
            with torch.inference_mode():
                scores = _naturalness(loaded, torch.from_numpy(x).to(device)).cpu().numpy()
            timings["model_s"] += time.perf_counter() - t
        for i, (tile, _, valid) in enumerate(kept):
            blender.release_until(int(tile.window.row_off))
            blender.add(tile.window, scores[i], weights * valid)
        used += len(kept)
        if progress:
            progress(100.0 * min(start + batch_size, len(tiles)) / len(tiles))
    blender.close()
    return used


def explain(input_path: str | Path, out_dir: str | Path, *, model: str | Path | None = None, aoi: AOI | None = None,
            device: str = "auto", bands: dict[str, int] | None = None, batch_size: int | None = None, tile_size: int | None = None,
            overlap: int = 32, progress: Progress | None = None, is_canceled: IsCanceled | None = None) -> ExplainResult:
    """Write a naturalness map of `input_path` inside `aoi` to `out_dir`, plus run.json.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the outputs; created if missing.
        model: a model file (.json or .safetensors); the bundled default when None.
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        bands: optional model band name -> 1-based input band number, overriding name matching.
        batch_size: tiles per forward pass; None = 8 on CUDA and 1 on the CPU, where bigger
            batches run slower per pixel (bench/bench_naturalness.py measures it).
        tile_size: tile edge in model pixels; the model card's when None.
        overlap: pixels shared by neighbouring tiles and blended.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.

    Returns:
        The written outputs, the run.json path and any warnings.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    timings = {"read_s": 0.0, "model_s": 0.0}
    raster = open_input(input_path)
    torch_device = resolve_device(device)
    loaded = load_model(model or DEFAULT_MODEL, torch_device)
    batch_size = batch_size or (8 if torch_device.type == "cuda" else 1)
    band_refs = match_bands(raster, loaded.card.bands, bands)
    grids = _plan_grids(raster, aoi, loaded.card.resolution_m, overlap)
    _writable_dir(out_dir)
    size = tile_size or loaded.card.tile_size
    tiles = tile_grid(grids.model.height, grids.model.width, size, min(overlap, size // 2))
    target = out_dir / "naturalness.tif"
    with open_geotiff(target, grids.out, descriptions=["naturalness"]) as dst:
        sink = _OutputSink(dst, grids, aoi)
        with open_reader(band_refs) as reader:
            if grids.resampled:
                staging = temporary_name(out_dir / "naturalness.model-grid.tif")
                try:
                    with open_geotiff(staging, grids.model) as model_dst:
                        blender = RowBlender(grids.model.height, grids.model.width, 1,
                                             lambda r, v, c: write_rows(model_dst, r, v, c))
                        used = _run_tiles(loaded, reader, grids.model, tiles, blender, torch_device, batch_size,
                                          overlap, progress, is_canceled, timings)
                    for row0, values in warped_rows(staging, grids.context):
                        rows = grids.context.window(Window(0, row0, grids.context.width, values.shape[1]))
                        _, input_valid = reader.read(rows)  # resampling must not move the nodata edge
                        sink(row0, values, (values[0] != NODATA) & input_valid)
                finally:
                    staging.unlink(missing_ok=True)
            else:
                blender = RowBlender(grids.model.height, grids.model.width, 1, sink)
                used = _run_tiles(loaded, reader, grids.model, tiles, blender, torch_device, batch_size, overlap,
                                  progress, is_canceled, timings)
    warnings = _warnings(raster, grids, loaded, used, len(tiles))
    timings["total_s"] = time.perf_counter() - started
    run_json = out_dir / "run.json"
    write_json(run_json, _run_record(raster, loaded, grids, aoi, torch_device, size, overlap, batch_size, tiles,
                                     used, timings, warnings, {"naturalness": target}))
    return ExplainResult({"naturalness": target}, run_json, warnings)


def _warnings(raster: RasterInput, grids: RunGrids, loaded: LoadedModel, used: int, total: int) -> list[str]:
    warnings = []
    if grids.resampled:
        warnings.append(f"the input's {pixel_size_m(raster.grid):.3g} m pixels were resampled to the model's "
                        f"{loaded.card.resolution_m:g} m and the map back onto the input grid")
    if used == 0:
        warnings.append("the AOI holds only nodata pixels: the map is empty")
    elif used < total:
        warnings.append(f"{total - used} of {total} tiles held only nodata and were skipped")
    return warnings


def _run_record(raster: RasterInput, loaded: LoadedModel, grids: RunGrids, aoi: AOI | None, device: torch.device,
                tile_size: int, overlap: int, batch_size: int, tiles: list[Tile], used: int,
                timings: dict[str, float], warnings: list[str], outputs: dict[str, Path]) -> dict:
    megapixels = grids.out.width * grids.out.height / 1e6
    card = loaded.card
    return {
        "input": {"path": str(raster.path.resolve()), "sha256": raster.checksum(),
                  "files": [str(p) for p in raster.files], "crs": raster.grid.crs.to_string(),
                  "pixel_size_m": pixel_size_m(raster.grid)},
        "model": {"path": str(loaded.weights_path.resolve()), "weights_sha256": loaded.weights_sha256,
                  "architecture": card.architecture, "bands": card.bands, "classes": card.classes,
                  "natural_classes": card.natural_classes, "resolution_m": card.resolution_m,
                  "training_command": card.training.get("command")},
        "parameters": {"aoi": dataclasses.asdict(aoi) if aoi else None, "device": str(device),
                       "tile_size": tile_size, "overlap": overlap, "batch_size": batch_size},
        "grid": {"crs": grids.out.crs.to_string(), "transform": list(grids.out.transform)[:6],
                 "width": grids.out.width, "height": grids.out.height, "model_grid_resampled": grids.resampled},
        "tiles": {"total": len(tiles), "with_data": used},
        "timings": {**{k: round(v, 3) for k, v in timings.items()}, "megapixels": round(megapixels, 4),
                    "s_per_megapixel": round(timings["total_s"] / max(megapixels, 1e-9), 3)},
        "outputs": {k: str(v.resolve()) for k, v in outputs.items()},
        "warnings": warnings,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__},
    }
