"""One engine run as plain values, shared by the GUI task and the Processing algorithms.

The engine (and torch) is imported only when a run starts, so QGIS starts fast.
"""
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .engine_import import engine_packages
from .layer_arguments import Bounds

if TYPE_CHECKING:
    from core.aoi import AOI
    from core.pipeline import ExplainResult


@dataclasses.dataclass(frozen=True)
class ExplainRequest:
    """Everything a run needs, so the worker thread never touches a QGIS layer.

    `methods` are registry names; the naturalness map is always written. The AOI is either
    `aoi_bounds` or `aoi_geometry` (a GeoJSON polygon, for drawn or selected shapes), in
    `aoi_crs`; the engine reprojects it onto the raster. `bands` maps model band names to
    1-based input band numbers (None: matched by name).
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

    def aoi(self) -> "AOI | None":
        """The engine's AOI for the bounds or the geometry, None for the whole raster."""
        with engine_packages():
            from core.aoi import AOI
        if self.aoi_geometry is not None:
            return AOI(self.aoi_geometry, self.aoi_crs)
        return None if self.aoi_bounds is None else AOI.from_bounds(*self.aoi_bounds, crs=self.aoi_crs)


def run_explain(request: ExplainRequest, progress: Callable[[float], None], is_canceled: Callable[[], bool],
                tiling: dict[str, int] | None = None) -> "ExplainResult":
    """Run core.pipeline.explain for `request`, with the tiling options (tile_size, overlap, batch_size) given.

    Raises:
        NaturalExplainError: for anything the user can fix, a package missing from QGIS's Python included.
        RunCanceled: when `is_canceled()` turned true; no final-named output exists then.
    """
    with engine_packages():
        from core.pipeline import explain
    return explain(request.input_path, request.out_dir, methods=list(request.methods), model=request.model,
                   aoi=request.aoi(), device=request.device, bands=request.bands, progress=progress,
                   is_canceled=is_canceled, **(tiling or {}))
