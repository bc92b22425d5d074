"""Compute a run's tiles on a Dask cluster: blocks of tile rows, the model loaded once per worker.

The tiles are cut into blocks of whole tile rows. Each worker builds the run's model and
explanation methods once (a worker plugin, from the run's RunRecipe) and computes its blocks
with the same code a single process runs (core.tile_source.local_tiles). The blocks come back in
order to the process that started the run, which blends and writes them as it always does, so
the outputs are one set of GeoTIFFs on the input's grid, staged and committed atomically, equal
to a single-process run. A worker that dies mid-run loses only its unfinished blocks, which the
scheduler runs again elsewhere; a block that fails to read raises its error here.

At most IN_FLIGHT_PER_WORKER blocks per worker are queued ahead of the one being blended, so
the memory of the process that writes stays flat however large the input.
"""
import contextlib
import dataclasses
import hashlib
import itertools
import logging
import os
import re
import uuid
from collections import deque
from typing import Iterator

import numpy as np
import torch
from distributed import Client, Future, LocalCluster, WorkerPlugin, get_worker
from distributed import TimeoutError as DaskTimeout

from core.errors import NaturalExplainError, RunCanceled
from core.input_checks import InputChecks
from core.raster.grid import Grid
from core.raster.read import BandReader
from core.tile_source import RunRecipe, TileRun, TileSource, local_tiles, new_run
from core.tiling import Tile

LOCAL = re.compile(r"^local:(\d+)$")
CONNECT_TIMEOUT_S = 10
POLL_S = 0.2
IN_FLIGHT_PER_WORKER = 2
ROWS_PER_BLOCK = 1


def check_address(text: str) -> str:
    """`text` when it is a cluster --dask names, else one line saying what it takes.

    Raises:
        NaturalExplainError: when it is neither local:N (N >= 1) nor tcp://HOST:PORT.
    """
    local = LOCAL.match(text)
    if (local and int(local.group(1)) >= 1) or re.match(r"^tcp://[^:/\s]+:\d+$", text):
        return text
    raise NaturalExplainError(f"--dask takes local:N (N worker processes on this machine, N >= 1) or tcp://HOST:PORT "
                              f"(a running `dask scheduler`), not '{text}'")


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[Client]:
    """A client of a LocalCluster of N single-threaded worker processes (local:N), or of a running scheduler.

    Raises:
        NaturalExplainError: when the address is malformed or no scheduler answers there.
    """
    check_address(address)
    if local := LOCAL.match(address):  # its workers' own error logs are silenced: errors reach the user from here
        workers = int(local.group(1))
        threads = max(1, (os.cpu_count() or 1) // workers)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL, env={"OMP_NUM_THREADS": str(threads)}) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise NaturalExplainError(f"no Dask scheduler answers at {address} ({type(exc).__name__}): start one with "
                                  "`dask scheduler` and workers with `dask worker ADDRESS`, or use --dask local:N"
                                  ) from exc
    with client:
        if not client.scheduler_info().get("workers"):
            raise NaturalExplainError(f"the Dask scheduler at {address} has no workers: start some with "
                                      f"`dask worker {address}`")
        yield client


def plugin_name(recipe: RunRecipe) -> str:
    """One worker plugin per model, device and methods: the scenes of a job that share them share it."""
    settings = sorted((name, sorted(values.items(), key=str)) for name, values in recipe.method_options.items())
    key = repr((str(recipe.model), recipe.device, recipe.methods, settings))
    return f"natural-explain-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class _ModelOnWorker(WorkerPlugin):
    """A worker plugin holding a run's model and methods, built once when the worker takes the plugin."""

    def __init__(self, recipe: RunRecipe) -> None:
        self.recipe = recipe
        self.loaded = None
        self.explainers: list = []
        self.device: torch.device | None = None

    def setup(self, worker: object) -> None:
        """Load the model and build the methods on this worker's own device (its GPU under "auto")."""
        from core.device import resolve_device
        from core.explain.registry import build_explainer
        from core.models.model_file import load_model

        self.device = resolve_device(self.recipe.device)
        self.loaded = load_model(self.recipe.model, self.device)
        self.explainers = [build_explainer(name, self.loaded, self.recipe.method_options)
                           for name in self.recipe.methods]

    def fresh_run(self, recipe: RunRecipe) -> TileRun:
        """A run of one block of `recipe`'s scene, with its own timings and observers (merged by the writer)."""
        return new_run(self.loaded, self.explainers, self.device, recipe)


@dataclasses.dataclass
class _Block:
    """What a worker sends back for one block: its tiles that held data, and what the run observed reading them."""

    tiles: list[tuple[Tile, np.ndarray, np.ndarray]]
    timings: dict[str, float]
    checks: InputChecks
    nonfinite: object


def _compute_block(recipe: RunRecipe, grid: Grid, tiles: list[Tile]) -> _Block:
    """Run on a worker: compute one block of tiles with the plugin's model, as a single process would."""
    run = get_worker().plugins[plugin_name(recipe)].fresh_run(recipe)
    try:
        with BandReader(run.band_refs) as reader:
            computed = list(local_tiles(run, reader, grid, tiles))
            return _Block(computed, run.timings, run.checks, reader.nonfinite_record)
    except NaturalExplainError as exc:
        message = str(exc)
    # Raised outside the handler, with no cause or context: Dask pickles the whole chain, a GDAL error in it may
    # not pickle, and then the user would get a bare Exception with a traceback instead of the one line.
    raise NaturalExplainError(message)


def row_blocks(tiles: list[Tile], rows: int = ROWS_PER_BLOCK) -> list[list[Tile]]:
    """The tiles cut into blocks of `rows` whole tile rows, in order."""
    by_row = [list(group) for _, group in itertools.groupby(tiles, key=lambda t: t.row)]
    return [sum(by_row[i:i + rows], []) for i in range(0, len(by_row), rows)]


def _merge(run: TileRun, reader: BandReader, block: _Block) -> None:
    """Add a block's timings and checks on the input to the run, as if this process had read it."""
    for name, seconds in block.timings.items():
        run.timings[name] = run.timings.get(name, 0.0) + seconds
    run.checks.merge(block.checks)
    reader.add_nonfinite(block.nonfinite)


def _result(future: Future, run: TileRun) -> _Block:
    """Wait for one block, polling the run's cancel."""
    while True:
        if run.is_canceled and run.is_canceled():
            raise RunCanceled("canceled")
        try:
            return future.result(timeout=POLL_S)
        except (DaskTimeout, TimeoutError):
            continue


class DaskTiles:
    """A run's TileSource that sends blocks of tile rows to a cluster and yields their tiles in order."""

    def __init__(self, client: Client, recipe: RunRecipe) -> None:
        self.client, self.recipe = client, recipe

    def __call__(self, run: TileRun, reader: BandReader, grid: Grid,
                 tiles: list[Tile]) -> Iterator[tuple[Tile, np.ndarray, np.ndarray]]:
        blocks = row_blocks(tiles)
        ahead = IN_FLIGHT_PER_WORKER * max(len(self.client.scheduler_info().get("workers", {})), 1)
        pending: deque[Future] = deque()
        waiting = iter(blocks)
        try:
            for block in itertools.islice(waiting, ahead):
                pending.append(self._submit(grid, block))
            for finished in range(1, len(blocks) + 1):
                result = _result(pending.popleft(), run)
                if (block := next(waiting, None)) is not None:
                    pending.append(self._submit(grid, block))
                _merge(run, reader, result)
                yield from result.tiles
                if run.progress:
                    run.progress(100.0 * finished / len(blocks))
        finally:
            for future in pending:
                future.cancel()

    def _submit(self, grid: Grid, block: list[Tile]) -> Future:
        return self.client.submit(_compute_block, self.recipe, grid, block, key=f"natural-explain-{uuid.uuid4().hex}")


@contextlib.contextmanager
def dask_tiles(cluster: str | Client, recipe: RunRecipe) -> Iterator[TileSource]:
    """A TileSource on `cluster` (an address --dask takes, or the client of a job of several scenes), with the
    recipe's model loaded once on every worker (and kept for the job's later scenes that use it)."""
    with contextlib.nullcontext(cluster) if isinstance(cluster, Client) else dask_client(cluster) as client:
        name = plugin_name(recipe)
        if name not in _registered(client):
            client.register_plugin(_ModelOnWorker(recipe), name=name)
        yield DaskTiles(client, recipe)


def _registered(client: Client) -> set[str]:
    """The worker plugins the scheduler hands to every (new) worker."""
    return set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins)))
