"""The scan engine: one preparation of a run and one tile iterator, for every command.

`prepare` opens the input, resolves the device, chooses and loads the model, matches its bands,
plans the grids over the AOI and lays the tiles, so explain, segment, ood, evaluate, inpaint and
sample set up a run the same way and record the same provenance (`Scan.provenance`).
`scan_batches` reads any list of tiles of a grid batch by batch as model input, leaving out
tiles with no data, and feeds each batch to the run's observers (the value range, the input
statistics, a JEM's patch log p(x): core.input_checks), so what a command accumulates is
gathered from the tiles it already reads.
"""
import contextlib
import dataclasses
import functools
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.device import resolve_device
from core.errors import NaturalExplainError, RunCanceled
from core.models.card import sidecar_path
from core.models.choice import Choice, choose_model, match_chosen
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.grid import Grid, model_grid, pixel_size_m
from core.raster.read import BandReader
from core.raster.sources import BandRef, RasterInput, open_input
from core.tiling import Tile, tile_grid

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]
Report = Callable[[str], None]

# Pixels neighbouring tiles share and blend, so edge pixels see context.
DEFAULT_OVERLAP = 32
# The most a run resamples the input finer (a 60 m raster for a 10 m model is 6x); beyond it the
# model grid grows quadratically and the model sees only interpolation.
MAX_UPSAMPLING = 8


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


def lay_tiles(grid: Grid, size: int, overlap: int) -> list[Tile]:
    """The tiles of `grid`, `size` px, overlapping by `overlap` px but at most half a tile."""
    return tile_grid(grid.height, grid.width, size, min(overlap, size // 2))


@dataclasses.dataclass(frozen=True)
class Scan:
    """A prepared run: the opened input, the device, the model and why it was taken, its bands, grids and tiles.

    `tiles` lie on `grids.model` at `tile_size` px with `overlap`; a command that cuts its own tiles
    (evaluate's samples, sample's strips) reads them from the same grid and bands.
    """

    raster: RasterInput
    device: torch.device
    loaded: LoadedModel
    choice: Choice
    band_refs: list[BandRef]
    grids: RunGrids
    tile_size: int
    overlap: int
    tiles: list[Tile]

    @property
    def read_files(self) -> list[Path]:
        """Every file the run reads, the input's and the model's: outputs must never overwrite them."""
        weights = self.loaded.weights_path
        return [*self.raster.files, weights, sidecar_path(weights)]

    def input_record(self) -> dict[str, Any]:
        """What was read: the input's path, checksum, files, CRS, band numbers and pixel size."""
        raster = self.raster
        return {"path": str(raster.path.resolve()), "sha256": raster.checksum(),
                "files": [str(p) for p in raster.files], "crs": raster.grid.crs.to_string(),
                # model band -> 1-based band of the input file, so a viewer pairs the bands as the model did
                "band_numbers": ({b: r.index for b, r in zip(self.loaded.card.bands, self.band_refs)}
                                 if raster.path.is_file() else None),
                "pixel_size_m": pixel_size_m(raster.grid)}

    def model_record(self) -> dict[str, Any]:
        """Which model ran: its weights and checksum, what its card says it is, and why it was taken."""
        loaded, card = self.loaded, self.loaded.card
        return {"path": str(loaded.weights_path.resolve()), "weights_sha256": loaded.weights_sha256,
                "architecture": card.architecture, "bands": card.bands, "classes": card.classes,
                "natural_classes": card.natural_classes, "resolution_m": card.resolution_m,
                "training_command": card.training.get("command"), **self.choice.to_json()}

    def provenance(self) -> dict[str, dict[str, Any]]:
        """The "input" and "model" records every command's JSON opens with, so a result names what made it."""
        return {"input": self.input_record(), "model": self.model_record()}


def prepare(input_path: str | Path, model: str | Path | Choice | None = None, *, bands: dict[str, int] | None = None,
            aoi: AOI | None = None, device: str = "auto", overlap: int = DEFAULT_OVERLAP, tile_size: int | None = None,
            methods: Sequence[str] = (), generators: str | Path | None = None,
            expect: str = "classifier") -> Scan:
    """Open, match and plan a run the one way every command does.

    Args:
        input_path: a raster file or a folder of band files.
        model: a Choice for a command with its own default model (the bundled JEM or segmenter), whose
            bands are matched as given; a path the user named; or None for the richest bundled classifier
            whose bands the input has (core.models.choice.choose_model, which `methods` and `generators` steer).
        bands: optional model band name -> 1-based input band number, overriding name matching.
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        overlap: pixels neighbouring tiles share; it also widens the context grid around the AOI.
        tile_size: tile edge in model pixels; the model card's when None.
        methods: the explanation methods of the run, for the automatic choice.
        generators: the pattern generators the run uses, for the automatic choice.
        expect: the model kind the command needs (core.models.registry.KINDS).

    Raises:
        NaturalExplainError: for an input, model, band mapping or resolution the user can fix.
    """
    raster = open_input(input_path)
    torch_device = resolve_device(device)
    given = isinstance(model, Choice)
    choice = model if given else choose_model(raster, model, bands, methods, generators)
    loaded = load_model(choice.path, torch_device, expect)
    band_refs = (match_bands(raster, loaded.card.bands, bands) if given
                 else match_chosen(raster, loaded.card.bands, bands, choice))
    grids = plan_grids(raster, aoi, loaded.card.resolution_m, overlap)
    size = tile_size or loaded.card.tile_size
    return Scan(raster, torch_device, loaded, choice, band_refs, grids, size, overlap,
                lay_tiles(grids.model, size, overlap))


def default_batch_size(device: torch.device) -> int:
    """8 tiles on CUDA, 1 on the CPU, where bigger batches run slower per pixel (bench/bench_naturalness.py)."""
    return 8 if device.type == "cuda" else 1


def dense_logits(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) float32 per-pixel logits; bfloat16 arithmetic on CUDA, where it is twice as fast."""
    with torch.inference_mode(), torch.autocast(batch.device.type, dtype=torch.bfloat16,
                                                enabled=batch.device.type == "cuda"):
        logits = loaded.network.dense_logits(batch)
    return logits.float()


@contextlib.contextmanager
def timed(timings: dict[str, float] | None, key: str) -> Iterator[None]:
    """Add the seconds the block takes to `timings[key]` (nothing when `timings` is None)."""
    started = time.perf_counter()
    yield
    if timings is not None:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - started


@dataclasses.dataclass
class TileBatch:
    """Tiles read as model input: their tiles, (B, C, H, W) input, (B, H, W) valid masks and (B, C, H, W) raw values.

    `raw` is stacked from `raws` on first use only: core sample reads it, and explain's loop should not copy it.

    `logits` are the model's dense logits, computed on first use and then shared: explain's
    naturalness and the JEM's patch log p(x) take them from one forward pass.
    """

    tiles: list[Tile]
    x: torch.Tensor
    valid: np.ndarray
    raws: list[np.ndarray]
    loaded: LoadedModel

    @functools.cached_property
    def raw(self) -> np.ndarray:
        return np.stack(self.raws)

    @functools.cached_property
    def logits(self) -> torch.Tensor:
        return dense_logits(self.loaded, self.x)


@dataclasses.dataclass(frozen=True)
class Observer:
    """What a run accumulates from every batch of tiles it reads: `observe(batch)`, timed under f"{name}_s"."""

    name: str
    observe: Callable[[TileBatch], None]


def scan_batches(reader: BandReader, grid: Grid, tiles: Sequence[Tile], loaded: LoadedModel, device: torch.device,
                 batch_size: int, observers: Sequence[Observer] = (), *, progress: Progress | None = None,
                 is_canceled: IsCanceled | None = None, timings: dict[str, float] | None = None,
                 keep_empty: bool = False) -> Iterator[TileBatch]:
    """Read the tiles of `grid` batch by batch as model input, leaving out tiles with no data.

    Cancel is polled before each batch. Each batch goes to the caller first, then to every
    observer (so they reuse what the caller computed, e.g. the logits), then progress is reported.
    The next batch is read in a thread meanwhile: GDAL decodes and resamples without holding the
    GIL, so reading overlaps the network instead of adding to it (bench/bench_scale.py).

    Args:
        reader: the input's bands.
        grid: the grid the tile windows address.
        tiles: any tiles of `grid` of one size (a Scan's, or a command's own sample of them).
        loaded: the model: its card turns raw values into model input.
        device: where the input goes.
        batch_size: tiles per batch.
        observers: fed every batch after the caller has used it.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        timings: reading time is added to its "read_s", each observer's to f"{name}_s", when given.
        keep_empty: keep tiles with no data too (inpainting fills them).

    Raises:
        RunCanceled: when is_canceled says so.
    """
    starts = range(0, len(tiles), batch_size)
    with ThreadPoolExecutor(1, thread_name_prefix="tile-reads") as ahead:
        pending = ahead.submit(_read_chunk, reader, grid, tiles[:batch_size], keep_empty) if starts else None
        for start in starts:
            if is_canceled and is_canceled():
                pending.cancel()
                raise RunCanceled("canceled")
            with timed(timings, "read_s"):  # only the wait: the read itself overlapped the last batch's compute
                kept = pending.result()
            following = tiles[start + batch_size:start + 2 * batch_size]
            pending = ahead.submit(_read_chunk, reader, grid, following, keep_empty) if following else None
            if kept:
                x = np.stack([to_model_input(raw, valid, loaded.card) for _, raw, valid in kept])
                batch = TileBatch([tile for tile, _, _ in kept], torch.from_numpy(x).to(device),
                                  np.stack([valid for _, _, valid in kept]), [raw for _, raw, _ in kept], loaded)
                yield batch
                for observer in observers:
                    with timed(timings, f"{observer.name}_s"):
                        observer.observe(batch)
            if progress:
                progress(100.0 * min(start + batch_size, len(tiles)) / len(tiles))


def _read_chunk(reader: BandReader, grid: Grid, chunk: Sequence[Tile],
                keep_empty: bool) -> list[tuple[Tile, np.ndarray, np.ndarray]]:
    """The chunk's tiles read, with their valid masks, less those without data unless `keep_empty`."""
    reads = [reader.read(grid.window(tile.window)) for tile in chunk]
    return [(tile, raw, valid) for tile, (raw, valid) in zip(chunk, reads) if keep_empty or valid.any()]
