"""One engine run as plain values, shared by the GUI task and the Processing algorithm.

The engine (and torch) is imported only when a run starts, so QGIS starts fast.
"""
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from core.errors import NaturalExplainError

from .layer_arguments import Bounds

if TYPE_CHECKING:
    from core.pipeline import ExplainResult


@dataclasses.dataclass(frozen=True)
class ExplainRequest:
    """Everything a run needs, so the worker thread never touches a QGIS layer.

    `aoi_bounds` are in `aoi_crs`; the engine reprojects them onto the raster.
    """

    input_path: str
    out_dir: Path
    model: str | None = None
    aoi_bounds: Bounds | None = None
    aoi_crs: str | None = None
    device: str = "auto"


def run_explain(request: ExplainRequest, progress: Callable[[float], None],
                is_canceled: Callable[[], bool]) -> "ExplainResult":
    """Run core.pipeline.explain for `request`.

    Raises:
        NaturalExplainError: for anything the user can fix, a package missing from QGIS's Python included.
        RunCanceled: when `is_canceled()` turned true; no final-named output exists then.
    """
    try:
        from core.aoi import AOI
        from core.pipeline import explain
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "core":
            raise  # a broken engine is a bug, not a missing install
        raise NaturalExplainError(
            f"the Python package '{exc.name}' is missing from QGIS's Python: install the plugin's requirements "
            "(torch, safetensors, rasterio) with the pip of the Python QGIS runs, then restart QGIS") from exc
    aoi = None if request.aoi_bounds is None else AOI.from_bounds(*request.aoi_bounds, crs=request.aoi_crs)
    return explain(request.input_path, request.out_dir, model=request.model, aoi=aoi, device=request.device,
                   progress=progress, is_canceled=is_canceled)
