"""ssc(raster) -> Self-Supervised Classification: the CNN's confident pixels teach a shallow per-pixel learner.

The seed method (Carbonneau et al., Self-Supervised Classification) has two phases:

1. the trained CNN classifies the image as usual (core.pipeline.explain: tiled, dense, blended);
   its output is smooth at the scale of the CNN's receptive field;
2. the pixels phase 1 is confident about become training labels for a shallow learner (an MLP,
   or a random forest) fitted on *this image's own pixels only*, which then predicts every
   pixel from its own values, adapting the classification to this image's radiometry and
   sharpening it to the pixel.

Everything streams: training pixels are a fixed-size, seeded random sample drawn block by
block, and the prediction is written block by block, so a scene larger than memory works.
With label polygons the run scores both phases (per-class and pixel-weighted F1, and the F1
of pixels near a label edge) and draws the seed's 4-part figure.
"""
import dataclasses
import math
import shutil
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from affine import Affine
from rasterio.windows import Window
from scipy import ndimage

from core.aoi import AOI
from core.atomic import atomic_path, write_json
from core.errors import NaturalExplainError, RunCanceled
from core.models.card import read_card, sidecar_path
from core.models.choice import choose_model
from core.raster.bands import match_bands
from core.raster.grid import Grid
from core.raster.read import BandReader
from core.raster.sources import BandRef, open_input
from core.raster.write import open_geotiff, to_cog, write_rows
from core.run_outputs import RunOutputs, writable_file
from core.ssc_figure import FourParts, four_part_figure
from core.vector_io import read_polygons

# torch (through core.pipeline), matplotlib and scikit-learn are imported where used, so the CLI's --help,
# which reads this module's defaults, stays fast.
Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]
Report = Callable[[str], None]

LEARNERS = ("mlp", "rf")
DEFAULT_LEARNER = "mlp"  # the seed found the MLP better than the random forest
# Phase-1 probability at or beyond which a pixel is a training label (p >= c: natural, p <= 1 - c: not).
DEFAULT_CONFIDENCE = 0.9
# Training pixels kept per class: enough for a shallow learner, small enough to fit in seconds.
DEFAULT_SAMPLES_PER_CLASS = 20_000
DEFAULT_SEED = 0
# Fewer confident pixels than this cannot train anything: the run stops.
MIN_TRAINING_PIXELS = 200
# A class with fewer confident pixels than this is absent: phase 2 falls back to phase 1's map.
MIN_CLASS_PIXELS = 50
# Rows per block when sampling and predicting, fewer for a wide scene so a block holds at most BLOCK_PIXELS
# pixels: memory stays near BLOCK_PIXELS x features x 4 bytes (about 0.2 GB) however large the scene.
BLOCK_ROWS = 256
BLOCK_PIXELS = 1 << 21
# Local texture: standard deviation over a (2 r + 1)^2 window.
TEXTURE_RADIUS = 2
# "Near a label edge": within this many pixels (Chebyshev) of a pixel with another label value.
BOUNDARY_PX = 2
FEATURE_GROUPS = ("bands", "indices", "texture")
# What phase 2 uses by default, measured on the held-out blocks (bench/ssc_heldout.py, MLP, 3 seeds):
# pixel-weighted F1 0.9629 with the bands alone, 0.9618 with indices, 0.9642 with texture, 0.9662 with both.
DEFAULT_FEATURES = ("bands", "indices", "texture")
# Normalized differences (a - b) / (a + b) a shallow learner cannot form from the raw bands alone.
INDICES = {"ndvi": ("B08", "B04"), "ndwi": ("B03", "B08"), "mndwi": ("B03", "B11"), "ndbi": ("B11", "B08"),
           "grvi": ("B03", "B04")}
FIGURE_MAX_PIXELS = 800
NATURAL, ANTHROPOGENIC, UNLABELLED = 1, 0, -1


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """Which per-pixel features phase 2 sees, computed from the model's bands (`band_names`, in reading order)."""

    band_names: tuple[str, ...]
    groups: tuple[str, ...] = DEFAULT_FEATURES

    @property
    def indices(self) -> list[str]:
        """The normalized-difference indices the bands allow, when the "indices" group is on."""
        if "indices" not in self.groups:
            return []
        return [name for name, (a, b) in INDICES.items() if a in self.band_names and b in self.band_names]

    @property
    def names(self) -> list[str]:
        """Every feature's name, in column order."""
        names = list(self.band_names) if "bands" in self.groups else []
        names += self.indices
        if "texture" in self.groups:
            names += ["std_brightness"] + [f"std_{i}" for i in self.indices[:1]]
        return names

    @property
    def halo(self) -> int:
        """Extra rows read around a block so the texture window sees its neighbours."""
        return TEXTURE_RADIUS if "texture" in self.groups else 0


def parse_features(text: str) -> tuple[str, ...]:
    """'bands,indices' -> ("bands", "indices"), checked against FEATURE_GROUPS.

    Raises:
        NaturalExplainError: for an unknown group or none at all.
    """
    groups = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown or not groups:
        raise NaturalExplainError(f"features must be a comma-separated list of {', '.join(FEATURE_GROUPS)}, got {text!r}")
    return groups


def _normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (a + b)
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)


def _local_std(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Standard deviation over a (2 r + 1)^2 window of the valid pixels only (nodata does not count as texture)."""
    size = 2 * TEXTURE_RADIUS + 1
    m = valid.astype(np.float64)
    x = np.where(valid, values, 0.0).astype(np.float64)
    n = np.maximum(ndimage.uniform_filter(m, size, mode="constant"), 1e-9)
    mean = ndimage.uniform_filter(x * m, size, mode="constant") / n
    var = ndimage.uniform_filter(x * x * m, size, mode="constant") / n - mean ** 2
    return np.sqrt(np.maximum(var, 0.0)).astype(np.float32)


def pixel_features(raw: np.ndarray, valid: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """(F, H, W) float32 features of a (C, H, W) block of the model's bands, in `spec.names` order.

    Raw band values (the MLP standardizes them; trees need no scaling), normalized differences,
    whose ratios a small learner would otherwise have to discover, and local standard deviation,
    which tells smooth fields from mixed marsh and town edges.
    """
    by_name = dict(zip(spec.band_names, raw))
    parts = list(raw) if "bands" in spec.groups else []
    indices = [_normalized_difference(by_name[INDICES[i][0]], by_name[INDICES[i][1]]) for i in spec.indices]
    parts += indices
    if "texture" in spec.groups:
        brightness = np.nan_to_num(raw).mean(axis=0)
        parts.append(_local_std(brightness, valid))
        parts += [_local_std(index, valid) for index in indices[:1]]
    stacked = np.stack(parts).astype(np.float32)
    return np.where(valid[None], np.nan_to_num(stacked), 0.0)


@dataclasses.dataclass
class TrainingSet:
    """Phase 2's training pixels: features (N, F), labels (N,) 1 natural / 0 not, and their (row, col) on the output grid.

    `confident` counts every confident pixel per class (before sampling); `valid` the pixels
    both phase 1 and the input have data for.
    """

    x: np.ndarray
    y: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    confident: dict[int, int]
    valid: int


class _BottomK:
    """A uniform random sample of at most k items from a stream: the k smallest random keys (seeded)."""

    def __init__(self, k: int, features: int) -> None:
        self.k = k
        self.keys = np.empty(0)
        self.x = np.empty((0, features), dtype=np.float32)
        self.rc = np.empty((0, 2), dtype=np.int64)

    def add(self, keys: np.ndarray, x: np.ndarray, rc: np.ndarray) -> None:
        keys, x, rc = np.concatenate([self.keys, keys]), np.concatenate([self.x, x]), np.concatenate([self.rc, rc])
        if len(keys) > self.k:
            keep = np.argpartition(keys, self.k)[:self.k]
            keys, x, rc = keys[keep], x[keep], rc[keep]
        self.keys, self.x, self.rc = keys, x, rc


@dataclasses.dataclass
class Block:
    """One block of rows of the output grid: its features, phase-1 probability and valid mask."""

    row0: int
    features: np.ndarray
    phase1: np.ndarray
    valid: np.ndarray


def blocks(reader: BandReader, phase1: BandReader, grid: Grid, spec: FeatureSpec,
           is_canceled: IsCanceled | None = None) -> Iterator[Block]:
    """The output grid block by block: features from the input's bands, phase 1's probability, valid pixels.

    Valid means the input has every band and phase 1 wrote a value (so the AOI's outside and
    nodata stay out). Rows above and below are read for the texture window and cut off again.
    """
    rows = max(1, min(BLOCK_ROWS, BLOCK_PIXELS // grid.width))
    for row0 in range(0, grid.height, rows):
        if is_canceled and is_canceled():
            raise RunCanceled("canceled")
        h = min(rows, grid.height - row0)
        top = spec.halo
        raw, band_valid = reader.read(grid.window(Window(0, row0 - top, grid.width, h + 2 * top)))
        prob, prob_valid = phase1.read(grid.window(Window(0, row0, grid.width, h)))
        inner = slice(top, top + h)
        valid = band_valid[inner] & prob_valid
        halo_valid = band_valid.copy()
        halo_valid[inner] &= prob_valid
        features = pixel_features(raw, halo_valid, spec)[:, inner]
        yield Block(row0, features, np.where(valid, prob[0], np.nan), valid)


def sample_training_pixels(reader: BandReader, phase1: BandReader, grid: Grid, spec: FeatureSpec,
                           confidence: float = DEFAULT_CONFIDENCE, per_class: int = DEFAULT_SAMPLES_PER_CLASS,
                           seed: int = DEFAULT_SEED, is_canceled: IsCanceled | None = None) -> TrainingSet:
    """Phase 1's confident pixels of this image, sampled uniformly (seeded) up to `per_class` per class.

    Only the pixels of `grid` (the input cut to the AOI) are ever read, so phase 2 learns this
    image's radiometry and nothing else.
    """
    rng = np.random.default_rng(seed)
    kept = {k: _BottomK(per_class, len(spec.names)) for k in (ANTHROPOGENIC, NATURAL)}
    confident = {ANTHROPOGENIC: 0, NATURAL: 0}
    valid_pixels = 0
    for block in blocks(reader, phase1, grid, spec, is_canceled):
        valid_pixels += int(block.valid.sum())
        for k, mask in ((NATURAL, block.valid & (block.phase1 >= confidence)),
                        (ANTHROPOGENIC, block.valid & (block.phase1 <= 1 - confidence))):
            rows, cols = np.nonzero(mask)
            confident[k] += len(rows)
            if len(rows):
                kept[k].add(rng.random(len(rows)), block.features[:, rows, cols].T,
                            np.stack([rows + block.row0, cols], axis=1))
    x = np.concatenate([kept[k].x for k in (ANTHROPOGENIC, NATURAL)])
    y = np.concatenate([np.full(len(kept[k].x), k, dtype=np.int64) for k in (ANTHROPOGENIC, NATURAL)])
    rc = np.concatenate([kept[k].rc for k in (ANTHROPOGENIC, NATURAL)])
    return TrainingSet(x, y, rc[:, 0], rc[:, 1], confident, valid_pixels)


def learner_settings(name: str, seed: int) -> dict:
    """The learner's settings, as recorded in ssc.json (small, fixed: phase 2 must fit in seconds)."""
    if name == "mlp":
        return {"hidden_layer_sizes": [32, 16], "alpha": 1e-4, "early_stopping": True, "max_iter": 200,
                "random_state": seed, "scaler": "StandardScaler"}
    if name == "rf":
        return {"n_estimators": 100, "min_samples_leaf": 5, "max_features": "sqrt", "n_jobs": 2, "random_state": seed}
    raise NaturalExplainError(f"learner must be one of {', '.join(LEARNERS)}, got {name!r}")


def build_learner(name: str, seed: int):
    """A scikit-learn classifier with predict_proba: a standardized MLP (the seed's choice) or a random forest."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    settings = learner_settings(name, seed)
    if name == "mlp":
        mlp = {k: v for k, v in settings.items() if k != "scaler"}
        mlp["hidden_layer_sizes"] = tuple(mlp["hidden_layer_sizes"])
        return make_pipeline(StandardScaler(), MLPClassifier(**mlp))
    return RandomForestClassifier(**settings)


def balanced(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Undersample the larger class to the smaller one's count (imbalanced-learn, as the seed does).

    Phase 1's confident pixels follow the landscape's mix; unbalanced, a learner would lean
    toward the commoner class at every ambiguous pixel.
    """
    from imblearn.under_sampling import RandomUnderSampler

    return RandomUnderSampler(random_state=seed).fit_resample(x, y)


def fit_learner(training: TrainingSet, name: str, seed: int):
    """Fit the learner on the class-balanced training pixels; returns it and how many pixels of each class it saw."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    x, y = balanced(training.x, training.y, seed)
    learner = build_learner(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        learner.fit(x, y)
    return learner, {int(k): int((y == k).sum()) for k in (ANTHROPOGENIC, NATURAL)}


def predict_natural(learner, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(H, W) probability of natural for a block's valid pixels (NaN elsewhere)."""
    out = np.full(valid.shape, np.nan, dtype=np.float32)
    if valid.any():
        proba = learner.predict_proba(features[:, valid].T)
        out[valid] = proba[:, list(learner.classes_).index(NATURAL)]
    return out


# ---------------------------------------------------------------- scoring against label polygons


class LabelPolygons:
    """Label polygons split into natural and not (by the model's natural classes), rasterized onto any grid."""

    def __init__(self, path: str | Path, field: str, natural_classes: Sequence[str]) -> None:
        polygons, crs = read_polygons(path, field)
        values = sorted({str(v) for _, v in polygons if v is not None})
        if not any(v in natural_classes for v in values):
            raise NaturalExplainError(f"no '{field}' value in {Path(path).name} names a natural class of the model "
                                      f"({', '.join(natural_classes)}); its values are: {', '.join(values) or 'none'}")
        self.values = values
        self.aois = {}
        for k, wanted in ((NATURAL, True), (ANTHROPOGENIC, False)):
            parts = [g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
                     for g, v in polygons if v is not None and (str(v) in natural_classes) == wanted]
            if parts:
                self.aois[k] = AOI({"type": "MultiPolygon", "coordinates": [p for part in parts for p in part]}, crs)

    def raster(self, grid: Grid) -> np.ndarray:
        """(H, W) int8: 1 natural, 0 not, -1 unlabelled (or claimed by both)."""
        out = np.full((grid.height, grid.width), UNLABELLED, dtype=np.int8)
        hits = np.zeros(out.shape, dtype=np.int8)
        for k, aoi in self.aois.items():
            inside = aoi.inside_mask(grid)
            inside = np.ones(out.shape, bool) if inside is None else inside
            out[inside] = k
            hits += inside
        out[hits > 1] = UNLABELLED
        return out


def near_label_edge(labels: np.ndarray, distance: int = BOUNDARY_PX) -> np.ndarray:
    """Labelled pixels within `distance` pixels (Chebyshev) of a pixel with another label value (unlabelled included)."""
    size = 2 * distance + 1
    lo = ndimage.minimum_filter(labels, size, mode="nearest")
    hi = ndimage.maximum_filter(labels, size, mode="nearest")
    return (labels != UNLABELLED) & (lo != hi)


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """2 x 2 counts [truth, predicted] over pixels whose truth is 0 or 1."""
    keep = truth >= 0
    return np.bincount(2 * truth[keep].astype(np.int64) + predicted[keep].astype(np.int64), minlength=4).reshape(2, 2)


def f1_report(counts: np.ndarray, classes: Sequence[str] = ("anthropogenic", "natural")) -> dict:
    """Per-class F1 and support, and the support-weighted ("pixel-weighted", as the seed reports) F1.

    F1 of class k = 2 TP / (2 TP + FP + FN); a class with no pixels in truth or prediction has F1 0.
    """
    counts = np.asarray(counts, dtype=np.int64)
    per_class = {}
    for k, name in enumerate(classes):
        tp = counts[k, k]
        fp, fn = counts[:, k].sum() - tp, counts[k, :].sum() - tp
        per_class[name] = {"f1": round(float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0, 4),
                           "support": int(counts[k, :].sum())}
    total = sum(c["support"] for c in per_class.values())
    weighted = sum(c["f1"] * c["support"] for c in per_class.values()) / total if total else 0.0
    return {"pixel_weighted_f1": round(weighted, 4), "per_class": per_class, "pixels": int(total)}


class _Scores:
    """Confusion counts of phase 1 and phase 2 against the labels, over all and near-edge labelled pixels."""

    def __init__(self) -> None:
        self.counts = {f"{stage}{part}": np.zeros((2, 2), np.int64)
                       for stage in ("cnn", "ssc") for part in ("", "_boundary")}

    def add(self, labels_halo: np.ndarray, top: int, phase1: np.ndarray, phase2: np.ndarray, valid: np.ndarray) -> None:
        h = valid.shape[0]
        labels = np.where(valid, labels_halo[top:top + h], UNLABELLED)
        edge = near_label_edge(labels_halo)[top:top + h]
        for stage, prob in (("cnn", phase1), ("ssc", phase2)):
            predicted = np.nan_to_num(prob) >= 0.5
            self.counts[stage] += confusion(labels, predicted)
            self.counts[f"{stage}_boundary"] += confusion(np.where(edge, labels, UNLABELLED), predicted)

    def to_json(self) -> dict:
        return {stage: {**f1_report(self.counts[stage]),
                        "boundary": f1_report(self.counts[f"{stage}_boundary"])} for stage in ("cnn", "ssc")}


# ---------------------------------------------------------------- the 4-part figure


def _coarse(grid: Grid) -> Grid:
    factor = max(1, math.ceil(max(grid.width, grid.height) / FIGURE_MAX_PIXELS))
    return Grid(grid.crs, grid.transform * Affine.scale(factor), math.ceil(grid.width / factor),
                math.ceil(grid.height / factor))


def _four_parts(band_refs: list[BandRef], band_names: Sequence[str], phase1: Path, phase2: Path,
                labels: LabelPolygons | None, grid: Grid) -> FourParts:
    """The figure's panels read on a coarse copy of the grid (at most FIGURE_MAX_PIXELS a side), so a large
    scene costs little: the image in true colour, the labels and both phases' classes (1 natural, NaN none)."""
    from core.quicklook import TRUE_COLOUR, _limits, _stretch

    small = _coarse(grid)
    picks = [band_names.index(b) for b in TRUE_COLOUR if b in band_names]
    picks = picks if len(picks) == 3 else [0, 0, 0]
    with BandReader([band_refs[i] for i in dict.fromkeys(picks)]) as reader:
        raw, valid = reader.read(small)
    order = list(dict.fromkeys(picks))
    rgb = np.stack([raw[order.index(i)] for i in picks])
    image = _stretch(rgb, valid, _limits(rgb, valid))
    maps = []
    for path in (phase1, phase2):
        with BandReader([open_input(path).bands[0]]) as reader:
            prob, ok = reader.read(small)
        maps.append(np.where(ok, (prob[0] >= 0.5).astype(float), np.nan))
    truth = labels.raster(small).astype(float) if labels else np.full(valid.shape, np.nan)
    truth[truth == UNLABELLED] = np.nan
    return FourParts(image, truth, *maps, small.bounds, labels is not None)


# ---------------------------------------------------------------- the run


@dataclasses.dataclass(frozen=True)
class SSCResult:
    """What a run wrote and found; `fallback` holds the reason when phase 2 copied phase 1's map."""

    probability: Path
    json_path: Path
    figure: Path
    phase1_run: Path
    agreement: float
    fallback: str | None
    scores: dict | None
    warnings: list[str]


def _scaled(progress: Progress | None, low: float, high: float) -> Progress | None:
    return (lambda pct: progress(low + (high - low) * pct / 100.0)) if progress else None


def ssc(input_path: str | Path, out_dir: str | Path, *, model: str | Path | None = None, learner: str = DEFAULT_LEARNER,
        aoi: AOI | None = None, bands: dict[str, int] | None = None, device: str = "auto",
        labels: str | Path | None = None, label_field: str = "label", figure: str | Path | None = None,
        features: Sequence[str] = DEFAULT_FEATURES, confidence: float = DEFAULT_CONFIDENCE,
        samples_per_class: int = DEFAULT_SAMPLES_PER_CLASS, seed: int = DEFAULT_SEED,
        progress: Progress | None = None, is_canceled: IsCanceled | None = None,
        report: Report | None = None, dask: str | None = None, cog: bool = False) -> SSCResult:
    """Self-Supervised Classification of `input_path`: phase 1's CNN map, then a shallow learner fitted on its
    confident pixels.

    Writes, in `out_dir`: phase 1's naturalness.tif and run.json (core.pipeline.explain), then
    naturalness_ssc.tif (phase 2's probability of natural, on exactly the input's grid cut to
    the AOI, nodata where phase 1 or the input has none), ssc.png (the 4-part figure; also at
    `figure` when given) and ssc.json.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: output folder; created if missing.
        model, aoi, bands, device: as core.pipeline.explain takes them.
        learner: "mlp" (the seed's choice) or "rf".
        labels, label_field: optional label polygons to score both phases against.
        figure: an extra path for the 4-part PNG.
        features: groups from FEATURE_GROUPS.
        confidence: phase-1 probability from which a pixel is a training label (and at most 1 - it for "not").
        samples_per_class: training pixels kept per class (a seeded uniform sample).
        seed: seeds the sampling, the balancing and the learner.
        progress: percent done (phase 1 is the first half).
        is_canceled: polled per batch of tiles and per block.
        report: lines for the user before phase 1 runs (the model chosen, resampling); the one-class
            fallback is among the result's warnings.
        dask: compute phase 1's tiles on a Dask cluster (core.pipeline.explain's `dask`); phase 2 runs here.
        cog: write both phases' maps as Cloud-Optimized GeoTIFFs.

    Raises:
        NaturalExplainError: input the user can fix: an AOI with no valid pixels, too few confident
            pixels, bad labels; RunCanceled when canceled.
    """
    from core.pipeline import explain

    if learner not in LEARNERS:
        raise NaturalExplainError(f"learner must be one of {', '.join(LEARNERS)}, got {learner!r}")
    if not 0.5 < confidence < 1:
        raise NaturalExplainError(f"confidence must be above 0.5 and below 1, got {confidence:g}")
    groups = parse_features(",".join(features))
    out_dir = Path(out_dir)
    raster = open_input(input_path)
    if figure is not None:
        writable_file(Path(figure), raster.files)
    polygons = None
    if labels is not None:  # checked before phase 1, against the model explain will choose the same way
        natural_classes = read_card(choose_model(raster, model, bands).path)[0].natural_classes
        polygons = LabelPolygons(labels, label_field, natural_classes)
    started = time.perf_counter()
    timings = {}
    first = explain(input_path, out_dir, model=model, aoi=aoi, device=device, bands=bands,
                    progress=_scaled(progress, 0, 50), is_canceled=is_canceled, report=report, dask=dask, cog=cog)
    timings["phase1_s"] = time.perf_counter() - started
    card = read_card(first.model.path)[0]
    band_refs = match_bands(raster, card.bands, bands)
    spec = FeatureSpec(tuple(card.bands), groups)
    phase1_ref = open_input(first.outputs["naturalness"]).bands[0]
    grid = phase1_ref.grid
    t = time.perf_counter()
    with BandReader(band_refs) as reader, BandReader([phase1_ref]) as phase1:
        training = sample_training_pixels(reader, phase1, grid, spec, confidence, samples_per_class, seed, is_canceled)
    timings["sample_s"] = time.perf_counter() - t
    if progress:
        progress(60.0)
    _check_training(training, confidence)
    fallback = _one_class(training, confidence)
    fitted, seen = None, {ANTHROPOGENIC: 0, NATURAL: 0}
    if not fallback:
        t = time.perf_counter()
        fitted, seen = fit_learner(training, learner, seed)
        timings["fit_s"] = time.perf_counter() - t
    if progress:
        progress(70.0)
    inputs = [*raster.files, first.model.path, sidecar_path(first.model.path)]
    with RunOutputs(out_dir, ["naturalness_ssc.tif", "ssc.png"], inputs, record="ssc.json") as outputs:
        t = time.perf_counter()
        agree, scores = _predict(band_refs, phase1_ref, grid, spec, fitted, polygons,
                                 outputs.staged("naturalness_ssc.tif"), _scaled(progress, 70, 95), is_canceled)
        if cog:
            to_cog(outputs.staged("naturalness_ssc.tif"))
        timings["predict_s"] = time.perf_counter() - t
        t = time.perf_counter()
        four_part_figure(_four_parts(band_refs, list(card.bands), first.outputs["naturalness"],
                                     outputs.staged("naturalness_ssc.tif"), polygons, grid),
                         outputs.staged("ssc.png"), learner)
        if figure is not None:
            with atomic_path(Path(figure)) as tmp:
                shutil.copyfile(outputs.staged("ssc.png"), tmp)
        timings["figure_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - started
        megapixels = grid.width * grid.height / 1e6
        classes = {ANTHROPOGENIC: "anthropogenic", NATURAL: "natural"}
        record = {
            "input": {"path": str(raster.path.resolve())},
            "phase1": {"run_json": str(first.run_json.resolve()),
                       "naturalness": str(first.outputs["naturalness"].resolve()), "model": str(first.model.path.resolve())},
            "learner": {"name": learner, "settings": learner_settings(learner, seed),
                        "features": spec.names, "feature_groups": list(groups), "confidence": confidence,
                        "samples_per_class": samples_per_class, "seed": seed, "balancing": "RandomUnderSampler",
                        "versions": _versions()},
            "training_pixels": {"valid": training.valid,
                                "confident": {classes[k]: v for k, v in training.confident.items()},
                                "sampled": {classes[k]: int((training.y == k).sum()) for k in classes},
                                "fitted": {classes[k]: v for k, v in seen.items()},
                                # the sampled pixels' extent on the output grid (the input cut to the AOI)
                                "rows": [int(training.rows.min()), int(training.rows.max())],
                                "cols": [int(training.cols.min()), int(training.cols.max())]},
            "agreement": round(agree, 4),
            "fallback": fallback,
            "scores": scores,
            "labels": {"path": str(Path(labels).resolve()), "field": label_field} if labels is not None else None,
            "grid": {"crs": grid.crs.to_string(), "transform": list(grid.transform)[:6], "width": grid.width,
                     "height": grid.height},
            "timings": {**{k: round(v, 3) for k, v in timings.items()}, "megapixels": round(megapixels, 4),
                        "s_per_megapixel": round(timings["total_s"] / max(megapixels, 1e-9), 3),
                        "phase2_s_per_megapixel": round((timings["total_s"] - timings["phase1_s"])
                                                        / max(megapixels, 1e-9), 3)},
            "outputs": {"naturalness_ssc": str(outputs.final("naturalness_ssc.tif").resolve()),
                        "figure": str(outputs.final("ssc.png").resolve())},
            "warnings": first.warnings + ([fallback] if fallback else []),
        }
        write_json(outputs.staged("ssc.json"), record)
        outputs.commit()
    if progress:
        progress(100.0)
    return SSCResult(outputs.final("naturalness_ssc.tif"), outputs.final("ssc.json"), outputs.final("ssc.png"),
                     first.run_json, agree, fallback, scores, record["warnings"])


def _versions() -> dict:
    import imblearn
    import sklearn

    return {"scikit-learn": sklearn.__version__, "imbalanced-learn": imblearn.__version__}


def _check_training(training: TrainingSet, confidence: float) -> None:
    """Stop with one line when phase 1 left nothing to learn from.

    Raises:
        NaturalExplainError: for no valid pixels, or fewer than MIN_TRAINING_PIXELS confident ones.
    """
    if training.valid == 0:
        raise NaturalExplainError("the AOI holds no valid pixels (only nodata): draw the AOI over the image's data")
    total = sum(training.confident.values())
    if total < MIN_TRAINING_PIXELS:
        raise NaturalExplainError(f"phase 1 is confident (p >= {confidence:g} or <= {1 - confidence:g}) about only "
                                  f"{total} of {training.valid} pixels, fewer than the {MIN_TRAINING_PIXELS} phase 2 "
                                  "needs: give a larger AOI or a lower --confidence")


def _one_class(training: TrainingSet, confidence: float) -> str | None:
    """The one line saying phase 2 falls back to phase 1's map when phase 1 is confident about one class only."""
    natural, other = training.confident[NATURAL], training.confident[ANTHROPOGENIC]
    if min(natural, other) >= MIN_CLASS_PIXELS:
        return None
    only = "natural" if natural > other else "anthropogenic"
    return (f"phase 1 found only {only} pixels with confidence {confidence:g} ({natural} natural, {other} "
            f"anthropogenic): a learner needs both classes, so naturalness_ssc.tif is phase 1's map")


def _predict(band_refs: list[BandRef], phase1_ref: BandRef, grid: Grid, spec: FeatureSpec, learner,
             labels: LabelPolygons | None, out: Path, progress: Progress | None,
             is_canceled: IsCanceled | None) -> tuple[float, dict | None]:
    """Write phase 2's probability block by block (phase 1's when `learner` is None); returns the share of valid
    pixels where both phases agree at 0.5, and the scores against `labels` when given."""
    agree = total = 0
    scores = _Scores() if labels else None
    with BandReader(band_refs) as reader, BandReader([phase1_ref]) as phase1, \
            open_geotiff(out, grid, descriptions=["naturalness_ssc"]) as dst:
        for block in blocks(reader, phase1, grid, spec, is_canceled):
            h = block.valid.shape[0]
            prob = block.phase1 if learner is None else predict_natural(learner, block.features, block.valid)
            write_rows(dst, block.row0, np.nan_to_num(prob)[None], block.valid)
            agree += int(((prob >= 0.5) == (block.phase1 >= 0.5))[block.valid].sum())
            total += int(block.valid.sum())
            if scores is not None:
                halo = grid.window(Window(0, block.row0 - BOUNDARY_PX, grid.width, h + 2 * BOUNDARY_PX))
                scores.add(labels.raster(halo), BOUNDARY_PX, block.phase1, prob, block.valid)
            if progress:
                progress(100.0 * min(block.row0 + h, grid.height) / grid.height)
    return agree / max(total, 1), scores.to_json() if scores else None


def summary_lines(result: SSCResult) -> list[str]:
    """What the CLI prints: agreement and, with labels, each stage's F1 (overall, per class, near edges)."""
    lines = [f"phase 1 and phase 2 agree on {result.agreement:.1%} of the valid pixels"]
    for stage, name in (("cnn", "CNN (phase 1)"), ("ssc", "SSC (phase 2)")):
        if result.scores:
            s = result.scores[stage]
            per = ", ".join(f"{k} {v['f1']:.3f}" for k, v in s["per_class"].items())
            lines.append(f"{name}: pixel-weighted F1 {s['pixel_weighted_f1']:.3f} ({per}); within {BOUNDARY_PX} px of "
                         f"a label edge {s['boundary']['pixel_weighted_f1']:.3f}")
    return lines
