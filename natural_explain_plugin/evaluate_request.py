"""One evaluation as plain values: an explain run's arguments plus the reference labels.

The evaluation explains the same input with the same methods and model, then scores the
maps against polygons, so it reuses ExplainRequest instead of repeating its fields.
"""
import dataclasses
from typing import TYPE_CHECKING, Callable

from .explain_request import ExplainRequest, run_engine

if TYPE_CHECKING:
    from core.evaluate import EvaluationResult


@dataclasses.dataclass(frozen=True)
class EvaluateRequest:
    """What core.evaluate needs: the run to score, the label polygons, the IoU and sampling settings.

    `labels` is a vector file; `reference_class` is the `label_field` value the top-`q` %
    attribution pixels are compared with. None, for it, for `tiles` (how many tiles each draw
    samples), for `draws` (how many draws) or for `tile_size` (each sampled tile's edge in model
    pixels), takes the engine's default. `randomization` runs the model-randomisation check,
    which recomputes every map once per classifier layer.
    """

    run: ExplainRequest
    labels: str
    label_field: str
    reference_class: str | None = None
    q: float = 10.0
    tiles: int | None = None
    draws: int | None = None
    randomization: bool = True
    tile_size: int | None = None


def run_evaluate(request: EvaluateRequest, progress: Callable[[float], None],
                 is_canceled: Callable[[], bool]) -> "EvaluationResult":
    """Run core.evaluate.evaluate for `request`.

    Raises:
        NaturalExplainError: for anything the user can fix, a package missing from QGIS's Python included.
        RunCanceled: when `is_canceled()` turned true.
    """
    sampling = {k: v for k, v in (("tiles", request.tiles), ("draws", request.draws), ("tile_size", request.tile_size))
                if v is not None}
    return run_engine("evaluate", request.run, progress, is_canceled, labels=request.labels,
                      label_field=request.label_field, reference_class=request.reference_class,
                      methods=list(request.run.methods), q=request.q, randomization=request.randomization, **sampling)
