"""A classifier as an ONNX segmentation model that the Deepness QGIS plugin runs as it is.

Deepness (PUTvision/qgis-plugin-deepness) feeds every model the same way: it reads each band in
its own data type, divides every value by 255 whatever that type is, standardises with the
model's `standardization_mean` / `standardization_std` metadata (identity when absent) and passes
a float32 (N, C, H, W) batch (src/deepness/processing/models/model_base.py, `preprocessing`).
Our card scales raw values, clips them to a range and then standardises; Deepness can express
the scale (folded into its mean/std) but not the clip. So the exported graph does all three
itself: its input is the raw band values divided by 255, exactly what Deepness hands over with
identity standardisation (mean 0, std 1), and it multiplies by 255 * scale, clips, standardises,
runs the network and a softmax. Anyone else calling the model must likewise pass raw / 255.

A pixel that is NaN or infinite in any band gets the band means (0 after standardisation) in every
band, as in core.models.preprocess.to_model_input, so a nodata hole does not look like a strong pattern.
Deepness has no nodata mask of its own: such pixels still get a class.

The output is class probabilities (N, K, H, W) at the input's size, the Segmentor output
Deepness expects. The batch is dynamic; height and width are fixed at the card's tile size,
because Deepness takes its tile size from the input's last dimension and cannot use a named one.
"""
import dataclasses
import io
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.atomic import atomic_path
from core.errors import NaturalExplainError
from core.models.card import ModelCard, read_card, require_kind, sidecar_path
from core.models.model_file import LoadedModel, load_model

# Deepness divides every input value by this before standardising (preprocessing_utils.normalize_values_to_01).
DEEPNESS_INPUT_DIVISOR = 255.0
# Old enough for the onnxruntime of any Deepness release still in use, new enough for every op here.
OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
BATCH_AXIS = "batch"
# A class counts as present where its probability reaches this (Deepness' seg_thresh); with softmax
# over two classes it is the same rule as `vectorize --threshold 0.5` on the naturalness map.
SEGMENTATION_THRESHOLD = 0.5
# Keys of our own beside Deepness' keys, prefixed so they never collide with a key Deepness may add.
OWN_PREFIX = "natural_explain_"
# The synthetic tile the export is checked on when onnxruntime is installed.
CHECK_SEED = 0
ONNX_MISSING = ("export-onnx needs the onnx package: .venv/bin/python -m pip install -c constraints.txt "
                "-r requirements.txt")


@dataclasses.dataclass(frozen=True)
class OnnxExport:
    """What was written: the file, its Deepness metadata (JSON-encoded values, as stored) and the check.

    `max_abs_difference` is the largest difference between onnxruntime's and torch's probabilities on a
    synthetic tile, or None when onnxruntime is not installed.
    """

    path: Path
    metadata: dict[str, str]
    input_shape: list[int | str]
    output_shape: list[int | str]
    max_abs_difference: float | None


class DeepnessSegmentor(nn.Module):
    """Raw band values / 255 (N, C, H, W) to class probabilities (N, K, H, W).

    The card's scale, clip and standardisation run inside, so the graph needs nothing from its
    caller but Deepness' own division by 255 (see the module docstring).

    Args:
        network: the classifier, with `dense_logits` (core.models.classifier.NaturalnessFCN).
        card: its card (scale, clip, mean, std).
        input_divisor: what the caller divided the raw values by.
    """

    def __init__(self, network: nn.Module, card: ModelCard, input_divisor: float = DEEPNESS_INPUT_DIVISOR) -> None:
        super().__init__()
        self.network = network
        self.low, self.high = (float(v) for v in card.clip)
        self.register_buffer("to_physical", torch.tensor(input_divisor * card.scale, dtype=torch.float32))
        self.register_buffer("mean", _per_band(card.mean))
        self.register_buffer("std", _per_band(card.std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale, clip, standardise (a pixel with nodata in any band to 0), then a per-pixel softmax."""
        nodata = (torch.isnan(x) | torch.isinf(x)).any(dim=1, keepdim=True)
        z = (torch.clamp(x * self.to_physical, self.low, self.high) - self.mean) / self.std
        z = torch.where(nodata, torch.zeros_like(z), z)
        return torch.softmax(self.network.dense_logits(z), dim=1)


def _per_band(values: list[float]) -> torch.Tensor:
    """A (1, C, 1, 1) float32 tensor that broadcasts over a (N, C, H, W) batch."""
    return torch.tensor(values, dtype=torch.float32)[None, :, None, None]


def deepness_metadata(card: ModelCard, model_name: str, weights_sha256: str, overlap_px: int) -> dict[str, Any]:
    """The metadata Deepness reads from an ONNX model, plus our own keys, as plain values (not yet JSON).

    Deepness reads each key with json.loads (model_base.py `get_metadata_*`): `class_names` as
    {index: name}, `resolution` in centimetres per pixel, `tile_size` and `tiles_overlap` (percent
    of the tile) in pixels. Its documentation and tools/add_model_metadata.py spell the tile key
    `tiles_size` while its code reads `tile_size`, so both are written.

    Args:
        card: the classifier's card.
        model_name: the sidecar's file name, recorded so the ONNX file says where it came from.
        weights_sha256: the weights' checksum, likewise.
        overlap_px: the overlap between tiles our own runs use, in pixels.
    """
    n = len(card.bands)
    return {
        "model_type": "Segmentor",
        "class_names": {str(i): name for i, name in enumerate(card.classes)},
        "resolution": card.resolution_m * 100.0,
        "tile_size": card.tile_size,
        "tiles_size": card.tile_size,
        "tiles_overlap": math.ceil(100 * overlap_px / card.tile_size),
        "standardization_mean": [0.0] * n,
        "standardization_std": [1.0] * n,
        "seg_thresh": SEGMENTATION_THRESHOLD,
        "seg_small_segment": 0,
        f"{OWN_PREFIX}bands": list(card.bands),
        f"{OWN_PREFIX}natural_classes": list(card.natural_classes),
        f"{OWN_PREFIX}input": f"raw band values / {DEEPNESS_INPUT_DIVISOR:g}, bands in the order of "
                              f"{OWN_PREFIX}bands; scale, clip and standardisation run inside the graph",
        f"{OWN_PREFIX}model": model_name,
        f"{OWN_PREFIX}weights_sha256": weights_sha256,
    }


def _require_classifier(model_path: Path) -> None:
    """Refuse generators, segmenters or any other non-classifier by what it is, before loading any weights.

    Raises:
        NaturalExplainError: naming the file, its kind and what to give instead.
    """
    card, _ = read_card(model_path)
    require_kind(card, "classifier", model_path)


def _onnx_module() -> Any:
    """The onnx package, or a one-line error saying how to install it (the plugin does not ship it)."""
    try:
        import onnx
    except ImportError as exc:
        raise NaturalExplainError(ONNX_MISSING) from exc
    return onnx


def _traced_graph(segmentor: DeepnessSegmentor, card: ModelCard) -> bytes:
    """The serialised graph from torch's TorchScript exporter (dynamo=False), with a dynamic batch.

    The TorchScript exporter needs no onnxscript, and the network is plain convolutions. Its
    deprecation and constant-folding warnings say nothing about this export, which the caller checks
    numerically, so they are silenced here only.
    """
    example = torch.zeros(1, len(card.bands), card.tile_size, card.tile_size)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(segmentor, (example,), buffer, dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: BATCH_AXIS}, OUTPUT_NAME: {0: BATCH_AXIS}})
    return buffer.getvalue()


def _set_shape(value_info: Any, dims: list[int | str]) -> None:
    """Declare a graph input's or output's shape: whole numbers fixed, strings named (dynamic)."""
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for dim in dims:
        entry = shape.dim.add()
        if isinstance(dim, str):
            entry.dim_param = dim
        else:
            entry.dim_value = dim


def _finished_model(graph: bytes, card: ModelCard, metadata: dict[str, Any]) -> Any:
    """The exported graph with declared shapes, the metadata (values as JSON) and a doc string; checked.

    The exporter cannot infer the output's class and spatial sizes through the replicate padding
    with a dynamic batch, and Deepness reads the class count from the output's shape, so both
    shapes are declared here.
    """
    onnx = _onnx_module()
    model = onnx.load_from_string(graph)
    size = card.tile_size
    _set_shape(model.graph.input[0], [BATCH_AXIS, len(card.bands), size, size])
    _set_shape(model.graph.output[0], [BATCH_AXIS, len(card.classes), size, size])
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    model.doc_string = (f"Natural Explain classifier {metadata[OWN_PREFIX + 'model']}: input {INPUT_NAME} "
                        f"(N, {len(card.bands)}, {size}, {size}) float32 = raw values of bands "
                        f"{', '.join(card.bands)} divided by {DEEPNESS_INPUT_DIVISOR:g}; output {OUTPUT_NAME} "
                        f"(N, {len(card.classes)}, {size}, {size}) = probabilities of {', '.join(card.classes)}")
    onnx.checker.check_model(model)
    return model


def check_tile(card: ModelCard, batch: int = 2, seed: int = CHECK_SEED) -> np.ndarray:
    """A synthetic (batch, C, tile, tile) input in Deepness' units (raw / 255), around the training statistics.

    Each band is its training mean plus noise of three of its standard deviations, so the
    probabilities are not all saturated at 0 or 1 and some values fall beyond the clip range too.
    """
    shape = (batch, len(card.bands), card.tile_size, card.tile_size)
    mean, std = (np.asarray(v, dtype=np.float64)[None, :, None, None] for v in (card.mean, card.std))
    physical = mean + 3.0 * std * np.random.default_rng(seed).standard_normal(shape)
    return (physical / card.scale / DEEPNESS_INPUT_DIVISOR).astype(np.float32)


def onnx_probabilities(model_bytes: bytes, x: np.ndarray) -> np.ndarray | None:
    """onnxruntime's output for `x` on the CPU, or None when onnxruntime is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]


def _max_difference(model_bytes: bytes, segmentor: DeepnessSegmentor, card: ModelCard) -> float | None:
    """The largest difference between onnxruntime's and torch's probabilities on check_tile(card)."""
    x = check_tile(card)
    found = onnx_probabilities(model_bytes, x)
    if found is None:
        return None
    with torch.no_grad():
        expected = segmentor(torch.from_numpy(x)).numpy()
    return float(np.abs(found - expected).max())


def _default_overlap() -> int:
    """The tile overlap our own runs use (core.scan.DEFAULT_OVERLAP), imported only when exporting."""
    from core.scan import DEFAULT_OVERLAP

    return DEFAULT_OVERLAP


def export_onnx(model_path: str | Path, out_path: str | Path) -> OnnxExport:
    """Write the classifier at `model_path` as an ONNX model for Deepness to `out_path`, atomically.

    Args:
        model_path: the classifier's .json or .safetensors.
        out_path: the .onnx file to write (replaced if it exists; the CLI asks for --overwrite first).

    Returns:
        What was written, with the onnxruntime-against-torch check when onnxruntime is installed.

    Raises:
        NaturalExplainError: for pattern generators, a missing or damaged model, a missing onnx
            package or an unwritable file.
    """
    model_path, out_path = Path(model_path), Path(out_path)
    _require_classifier(model_path)
    _onnx_module()
    loaded: LoadedModel = load_model(model_path, "cpu", expect="classifier")
    card = loaded.card
    segmentor = DeepnessSegmentor(loaded.network, card).eval()
    metadata = deepness_metadata(card, sidecar_path(model_path).name, loaded.weights_sha256, _default_overlap())
    model = _finished_model(_traced_graph(segmentor, card), card, metadata)
    model_bytes = model.SerializeToString()
    difference = _max_difference(model_bytes, segmentor, card)
    with atomic_path(out_path) as tmp:
        tmp.write_bytes(model_bytes)
    size = card.tile_size
    return OnnxExport(path=out_path, metadata={e.key: e.value for e in model.metadata_props},
                      input_shape=[BATCH_AXIS, len(card.bands), size, size],
                      output_shape=[BATCH_AXIS, len(card.classes), size, size], max_abs_difference=difference)
