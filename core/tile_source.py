"""Who computes a run's tiles: this process, batch by batch, or a Dask cluster (core.dask_tiles).

A tile run is the scan engine's iterator (core.scan.scan_batches) with what each batch
computes (`TileCompute`: explain's maps, another network's maps, or nothing but the checks on
the input) and where: `local_tiles` here, or a TileSource on a cluster whose workers rebuild the
run from its RunRecipe and run `local_tiles` on their blocks, their checks merged back in order.
"""
import contextlib
import dataclasses
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from core.explain.base import Explainer
from core.explain.registry import MethodSettings
from core.input_checks import InputChecks
from core.models.model_file import LoadedModel
from core.raster.grid import Grid
from core.raster.read import BandReader
from core.raster.sources import BandRef
from core.scan import IsCanceled, Progress, TileBatch, default_batch_size, scan_batches
from core.tiling import Tile

# What a run computes from a batch of tiles: (B, channels, H, W) maps (channels may be 0), adding its own timings.
# A module-level function (or a partial of one), so a Dask worker unpickles it by name.
TileCompute = Callable[["TileRun", TileBatch], np.ndarray]


@dataclasses.dataclass(frozen=True)
class RunRecipe:
    """What another process needs to rebuild a run's model, methods, reads and per-batch computation.

    `device` is the user's word ("auto" picks each worker's own GPU).
    """

    model: Path
    device: str
    methods: tuple[str, ...]
    method_options: MethodSettings
    batch_size: int | None
    overlap: int
    band_refs: list[BandRef]
    compute: TileCompute


@dataclasses.dataclass
class TileRun:
    """One run's fixed parts and what it gathers, so the tile loop needs no long argument lists.

    `checks` are the checks on the input the tiles feed; `source` computes the tiles elsewhere
    (a Dask cluster) when not None.
    """

    loaded: LoadedModel
    explainers: list[Explainer]
    device: torch.device
    batch_size: int
    overlap: int
    progress: Progress | None
    is_canceled: IsCanceled | None
    timings: dict[str, float]
    checks: InputChecks
    band_refs: list[BandRef]
    compute: TileCompute
    source: "TileSource | None" = None

    def tiles(self, reader: BandReader, grid: Grid, tiles: list[Tile]) -> Iterator[tuple[Tile, np.ndarray, np.ndarray]]:
        """Every tile holding data with its values and valid mask, in order, computed by the run's source."""
        return (self.source or local_tiles)(self, reader, grid, tiles)


# What computes a run's tiles: yields (tile, values (C, h, w), valid (h, w)) for each tile holding data, in the
# tiles' order, adding to the run's timings and checks as it goes.
TileSource = Callable[[TileRun, BandReader, Grid, list[Tile]], Iterator[tuple[Tile, np.ndarray, np.ndarray]]]


def new_run(loaded: LoadedModel, explainers: list[Explainer], device: torch.device, recipe: RunRecipe,
            progress: Progress | None = None, is_canceled: IsCanceled | None = None,
            source: TileSource | None = None) -> TileRun:
    """A run with fresh timings and checks on the input."""
    return TileRun(loaded, explainers, device, recipe.batch_size or default_batch_size(device), recipe.overlap,
                   progress, is_canceled, {"read_s": 0.0}, InputChecks.of(loaded.card, device), recipe.band_refs,
                   recipe.compute, source)


def local_tiles(run: TileRun, reader: BandReader, grid: Grid, tiles: list[Tile]) -> Iterator[tuple[Tile, np.ndarray,
                                                                                                    np.ndarray]]:
    """This process computes the tiles, batch by batch (a Dask worker runs the same for its block)."""
    for batch in scan_batches(reader, grid, tiles, run.loaded, run.device, run.batch_size, run.checks.observers(),
                              progress=run.progress, is_canceled=run.is_canceled, timings=run.timings):
        values = run.compute(run, batch)
        for i, tile in enumerate(batch.tiles):
            yield tile, values[i], batch.valid[i]


def tile_source(dask: "str | distributed.Client | None",  # noqa: F821
                recipe: RunRecipe) -> contextlib.AbstractContextManager[TileSource | None]:
    """Where the tiles are computed: here (None) without `dask`, else on the cluster it names (local:N, tcp://...)
    or is the client of (a job of several scenes, core.scenes)."""
    if dask is None:
        return contextlib.nullcontext()
    from core.dask_tiles import dask_tiles

    return dask_tiles(dask, recipe)


def checks_only(run: TileRun, batch: TileBatch) -> np.ndarray:
    """No maps, (B, 0, H, W): a run for its checks on the input alone (core ood)."""
    return np.zeros((len(batch.tiles), 0, *batch.x.shape[-2:]), dtype=np.float32)
