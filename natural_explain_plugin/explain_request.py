"""One engine run as plain values, and the task that runs it: the panel's task and the Processing
algorithms take the same path, request -> run function.

The engine (and torch) is imported only when a run starts, so QGIS starts fast.
"""
import dataclasses
import importlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from core.errors import NaturalExplainError, RunCanceled

from .dock.cost_estimate import CPU_SECONDS_PER_MEGAPIXEL
from .engine_import import engine_packages
from .i18n import tr
from .layer_arguments import Bounds
from .layer_names import SEGMENTATION, SSC, readable_name
from .task import EngineTask

if TYPE_CHECKING:
    from core.aoi import AOI
    from core.pipeline import ExplainResult

# Extra maps a run can add after explain, each by its own engine call into its own subfolder of the run
# folder (ssc and segment write their own run.json, which would replace explain's in the same folder):
# name -> (subfolder, the output it adds).
EXTRA_MAPS = {"ssc": ("ssc", SSC), "segment": ("segmentation", SEGMENTATION)}
# The engine calls a request runs, by name: each takes (input, destination, **engine_arguments, progress, ...).
ENGINE_CALLS = {"explain": "core.pipeline:explain", "evaluate": "core.evaluate:evaluate", "segment": "core.segment:segment",
                "ssc": "core.ssc:ssc", "ood": "core.ood:ood_report", "inpaint": "core.inpaint:inpaint"}
# The calls that fill a whole raster and so take no AOI.
WHOLE_RASTER_CALLS = {"inpaint"}
# Packages a call imports only late in its run: imported first, so a missing one fails before any work, not after it.
LATE_IMPORTS = {"ssc": ("imblearn", "sklearn")}
Progress = Callable[[float], None]


@dataclasses.dataclass(frozen=True)
class ExplainRequest:
    """Everything a run needs, so the worker thread never touches a QGIS layer.

    `methods` are registry names; the naturalness map is always written. The AOI is either
    `aoi_bounds` or `aoi_geometry` (a GeoJSON polygon, for drawn or selected shapes), in
    `aoi_crs`; the engine reprojects it onto the raster. `bands` maps model band names to
    1-based input band numbers (None: matched by name). `extra_maps` are names of EXTRA_MAPS
    made after explain: "ssc" (core.ssc with `model`) and "segment" (core.segment with the
    bundled segmenter).
    """

    input_path: str
    out_dir: Path
    methods: tuple[str, ...] = ()
    model: str | None = None
    aoi_bounds: Bounds | None = None
    aoi_crs: str | None = None
    device: str = "auto"
    aoi_geometry: dict[str, Any] | None = None
    bands: dict[str, int] | None = None
    extra_maps: tuple[str, ...] = ()

    def aoi(self) -> "AOI | None":
        """The engine's AOI for the bounds or the geometry, None for the whole raster."""
        with engine_packages():
            from core.aoi import AOI
        if self.aoi_geometry is not None:
            return AOI(self.aoi_geometry, self.aoi_crs)
        return None if self.aoi_bounds is None else AOI.from_bounds(*self.aoi_bounds, crs=self.aoi_crs)

    def engine_arguments(self, with_aoi: bool = True) -> dict[str, Any]:  # noqa: FBT001, FBT002
        """The keyword arguments the engine calls take from a request; the AOI unless `with_aoi` is False."""
        return {"model": self.model, "device": self.device, "bands": self.bands, **({"aoi": self.aoi()} if with_aoi else {})}


def engine_call(name: str) -> Callable[..., Any]:
    """The engine function ENGINE_CALLS names, imported with its LATE_IMPORTS.

    Raises:
        MissingPackage: naming a package QGIS's Python lacks.
    """
    module, _, function = ENGINE_CALLS[name].partition(":")
    with engine_packages():
        for package in LATE_IMPORTS.get(name, ()):
            importlib.import_module(package)
        return getattr(importlib.import_module(module), function)


def run_engine(name: str, request: ExplainRequest, progress: Progress, is_canceled: Callable[[], bool],
               out: Path | None = None, **options: Any) -> Any:
    """Run the engine call `name` for `request` into `out` (default: the request's folder) with its own `options`.

    Every Processing algorithm and every task reaches the engine through here or run_explain, so
    the request's input, model, device, bands and AOI mean the same in each.

    Raises:
        NaturalExplainError: for anything the user can fix, a package missing from QGIS's Python included.
        RunCanceled: when `is_canceled()` turned true.
    """
    call = engine_call(name)
    return call(request.input_path, out or request.out_dir, **request.engine_arguments(name not in WHOLE_RASTER_CALLS),
                progress=progress, is_canceled=is_canceled, **options)


def run_explain(request: ExplainRequest, progress: Progress, is_canceled: Callable[[], bool],
                tiling: dict[str, int] | None = None,
                method_options: dict[str, dict[str, Any]] | None = None) -> "ExplainResult":
    """Run core.pipeline.explain for `request`, with the tiling options (tile_size, overlap, batch_size) and the
    methods' settings given, then each of its extra maps (EXTRA_MAPS) into a subfolder, their layers joining the
    result's outputs.

    Progress is split between the engine calls by their cost per megapixel. An extra map the
    input cannot give (SSC with too few confident pixels) becomes a warning; the other maps stay.

    Raises:
        NaturalExplainError: for anything the user can fix, a package missing from QGIS's Python included.
        RunCanceled: when `is_canceled()` turned true; no final-named output exists then, the
            maps of the calls that had finished removed too.
    """
    extras = [name for name in EXTRA_MAPS if name in request.extra_maps]
    for name in extras:
        engine_call(name)  # a package an extra map lacks fails before explain, not after it
    ends = _progress_ends(request.methods, extras)
    first = run_engine("explain", request, _part(progress, 0.0, ends[0]), is_canceled, methods=list(request.methods),
                       method_options=method_options, **(tiling or {}))
    if not extras:
        return first
    outputs, warnings = dict(first.outputs), list(first.warnings)
    try:
        for name, low, high in zip(extras, ends, ends[1:]):
            folder, output = EXTRA_MAPS[name]
            try:
                path, extra_warnings = _extra_map(name, request, request.out_dir / folder,
                                                  _part(progress, low, high), is_canceled, tiling)
            except RunCanceled:
                raise
            except NaturalExplainError as exc:
                warnings.append(tr("{0} was not made: {1}").format(readable_name(output), exc))
                continue
            outputs[output] = path
            warnings.extend(w for w in extra_warnings if w not in warnings)
    except RunCanceled:
        _remove_run(request.out_dir, [*first.outputs.values(), first.run_json], [EXTRA_MAPS[n][0] for n in extras])
        raise
    return dataclasses.replace(first, outputs=outputs, warnings=warnings)


def _progress_ends(methods: tuple[str, ...], extras: list[str]) -> list[float]:
    """Where each engine call's share of the progress bar ends: explain's first, then each extra map's."""
    costs = [sum(CPU_SECONDS_PER_MEGAPIXEL.get(m, 0.0) for m in ["naturalness", *methods])]
    costs += [CPU_SECONDS_PER_MEGAPIXEL.get(name, 1.0) for name in extras]
    total, ends, done = sum(costs), [], 0.0
    for cost in costs:
        done += cost
        ends.append(100.0 * done / total)
    ends[-1] = 100.0
    return ends


def _part(progress: Progress, low: float, high: float) -> Progress:
    """`progress` for one engine call that reports 0 to 100 %, mapped onto [low, high] of the whole run."""
    return lambda percent: progress(low + (high - low) * percent / 100.0)


def _extra_map(name: str, request: ExplainRequest, folder: Path, progress: Progress,
               is_canceled: Callable[[], bool], tiling: dict[str, int] | None) -> tuple[Path, list[str]]:
    """Run the engine call for the extra map `name` into `folder`: its map's path and its warnings."""
    if name == "ssc":
        result = run_engine("ssc", request, progress, is_canceled, out=folder)
        return result.probability, result.warnings
    # The bundled segmenter reads the same ten Sentinel-2 bands as the bundled classifier; bands the
    # panel's mapping does not name are matched by name.
    done = run_engine("segment", dataclasses.replace(request, model=None), progress, is_canceled, out=folder,
                      **(tiling or {}))
    return done.segmentation, done.warnings


def _remove_run(out_dir: Path, files: list[Path], folders: list[str]) -> None:
    """Remove what a canceled run had written: the finished call's files and the extra maps' subfolders."""
    for path in files:
        Path(path).unlink(missing_ok=True)
    for folder in folders:
        shutil.rmtree(out_dir / folder, ignore_errors=True)


class ExplainTask(EngineTask):
    """One naturalness map (and the chosen explanations) for `request`, off the GUI thread."""

    def __init__(self, description: str, request: ExplainRequest,
                 on_success: Callable[["ExplainResult"], None],
                 on_failure: Callable[[Exception], None],
                 on_canceled: Callable[[], None]) -> None:
        super().__init__(description, lambda progress, is_canceled: run_explain(request, progress, is_canceled),
                         on_success, on_failure, on_canceled)
        self.request = request
