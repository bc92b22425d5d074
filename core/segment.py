"""segment(raster) -> segmentation.tif: a U-Net segmenter's per-pixel probabilities on the input's grid.

The map is written exactly as explain writes naturalness.tif (core.pipeline.write_maps: the
same band matching, tiles at the model's resolution, overlap blending, nodata and AOI
handling, atomic outputs and run.json): band 1 is the summed probability of the natural
classes, so it reads, styles and vectorizes (python -m core vectorize) like naturalness.tif;
a model with more than two classes adds one probability band per class, in the card's order.
"""
import dataclasses
from pathlib import Path

import torch

from core.aoi import AOI
from core.models.card import ModelCard
from core.models.choice import Choice, given_or_bundled
from core.models.model_file import LoadedModel
from core.pipeline import write_maps
from core.resources import MODELS
from core.scan import DEFAULT_OVERLAP, IsCanceled, Progress, Report

DEFAULT_SEGMENTER = MODELS / "segmenter_s2.json"
OUTPUT = "segmentation"


@dataclasses.dataclass
class SegmentResult:
    """What a run wrote: segmentation.tif, run.json, warnings for the user, and the model."""

    segmentation: Path
    run_json: Path
    warnings: list[str]
    model: Choice


def output_bands(card: ModelCard) -> list[str]:
    """segmentation.tif's band descriptions: naturalness, then each class's probability when there are more than two."""
    return ["naturalness"] + ([f"p_{name}" for name in card.classes] if len(card.classes) > 2 else [])


def output_files(card: ModelCard) -> dict[str, list[str]]:
    """The one file segment writes, with its bands."""
    return {OUTPUT: output_bands(card)}


def probability_maps(loaded: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """(B, 1 or 1 + K, H, W): the natural classes' summed probability, then each class's when K > 2."""
    probabilities = torch.softmax(loaded.network(x).float(), dim=1)
    natural = probabilities[:, loaded.card.natural_indices].sum(dim=1, keepdim=True)
    return torch.cat([natural, probabilities], dim=1) if probabilities.shape[1] > 2 else natural


def segment(input_path: str | Path, out_dir: str | Path, *, model: str | Path | None = None, aoi: AOI | None = None,
            device: str = "auto", bands: dict[str, int] | None = None, batch_size: int | None = None,
            tile_size: int | None = None, overlap: int = DEFAULT_OVERLAP, progress: Progress | None = None,
            is_canceled: IsCanceled | None = None, report: Report | None = None,
            dask: str | None = None, cog: bool = False) -> SegmentResult:
    """Write segmentation.tif and run.json for `input_path` with a segmenter.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the outputs; created if missing.
        model: a segmenter model file (.json or .safetensors); the bundled segmenter_s2 when None.
        aoi: area of interest in any CRS; the whole raster when None.
        device: "auto", "cpu" or "cuda".
        bands: optional model band name -> 1-based input band number, overriding name matching.
        batch_size: tiles per forward pass; None = core.scan.default_batch_size(device).
        tile_size: tile edge in model pixels; the model card's when None.
        overlap: pixels shared by neighbouring tiles and blended.
        progress: called with percent done after each batch.
        is_canceled: polled before each batch.
        report: called before the run with each line the user should read first.
        dask: compute the tiles on a Dask cluster (core.pipeline.explain's `dask`).
        cog: write segmentation.tif as a Cloud-Optimized GeoTIFF.

    Returns:
        The map's path, the run record, warnings and the model used.

    Raises:
        NaturalExplainError: for a model that is not a segmenter (a classifier, pattern generators) or other
            input the user can fix; RunCanceled when canceled.
    """
    result = write_maps(input_path, out_dir, given_or_bundled(model, DEFAULT_SEGMENTER, "segmenter"), probability_maps,
                        output_files, expect="segmenter", aoi=aoi, device=device, mapping=bands, batch_size=batch_size,
                        tile_size=tile_size, overlap=overlap, progress=progress, is_canceled=is_canceled, report=report,
                        dask=dask, cog=cog)
    return SegmentResult(result.outputs[OUTPUT], result.run_json, result.warnings, result.model)
