"""evaluate(raster, labels, methods) -> is an explanation faithful, and does it find the reference class?

Tiles are cut on a regular grid inside the AOI, nodata-free ones drawn with the seed. Every
method, and a random attribution as the floor any method must beat, explains each tile's
predicted class. Each map is then scored three ways (core.explain.metrics): deletion and
insertion AUC against the classifier itself, the IoU of its top-q% pixels with a reference
polygon class (SpacEX's Table I), and the seconds per megapixel its attribute() took.

The score the curves follow is the predicted class's log-odds against the other classes,
divided by its value on the untouched tile. Probabilities would be the textbook choice, but
this classifier's log-odds of 12-16 put most tiles at p = 1.0000 whatever is removed, so
every method, random included, would draw the same flat line.
"""
import dataclasses
import platform
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import rasterio
import torch

from core.aoi import AOI
from core.atomic import atomic_path, write_json
from core.device import resolve_device
from core.errors import NaturalExplainError, RunCanceled
from core.explain.base import Explainer
from core.explain.figure import FigureTiles, comparison_figure
from core.explain.metrics import Score, curve_auc, gaussian_blur, iou, pixel_order, reveal_curve, top_fraction_mask
from core.explain.registry import build_explainer, parse_methods
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace, to_model_input
from core.quicklook import TRUE_COLOUR
from core.raster.bands import match_bands
from core.raster.grid import Grid, model_grid
from core.raster.read import BandReader
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL
from core.tiling import tile_grid
from core.vector_io import read_polygons

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]

RANDOM = "random"
STEPS = 20
FIGURE_TILES = 4
# "mean": the model's band means (0 after standardisation), which removes spectral evidence too;
# "blur": a Gaussian blur of the tile, which keeps its colours and removes only texture.
FILLS = ("mean", "blur")
BLUR_SIGMA_PX = 16.0


@dataclasses.dataclass(frozen=True)
class MethodRow:
    """One method's scores, averaged over the tiles (IoU over the tiles holding the class)."""

    method: str
    deletion_auc: float
    insertion_auc: float
    iou: float | None
    s_per_megapixel: float


@dataclasses.dataclass
class EvaluationResult:
    """What an evaluation wrote, and its table rows ranked by deletion AUC."""

    json_path: Path
    markdown_path: Path
    figure_path: Path
    rows: list[MethodRow]


@dataclasses.dataclass
class _Tiles:
    """The sampled tiles as model input, where they lie, their verdicts and their reference masks."""

    x: torch.Tensor
    grids: list[Grid]
    target: torch.Tensor
    reference: np.ndarray


@dataclasses.dataclass
class _Scores:
    """Per-tile scores of one method's maps."""

    deletion: list[np.ndarray]
    insertion: list[np.ndarray]
    iou: list[float]
    seconds: float


def _reference(labels: str | Path, label_field: str, reference_class: str | None, loaded: LoadedModel) -> tuple[AOI, str]:
    """The reference class's polygons (as one AOI, which knows how to mask any grid) and its name.

    Raises:
        NaturalExplainError: for a missing field, or a class the labels do not hold.
    """
    polygons, crs = read_polygons(labels, label_field)
    values = sorted({str(v) for _, v in polygons if v is not None})
    if reference_class is None:
        natural = [c for c in loaded.card.natural_classes if c in values]
        if not natural:
            raise NaturalExplainError(f"choose the reference class (--reference-class), one of the '{label_field}' "
                                      f"values in {Path(labels).name}: {', '.join(values)}")
        reference_class = natural[0]
    if reference_class not in values:
        raise NaturalExplainError(f"reference class '{reference_class}' is not a '{label_field}' value in "
                                  f"{Path(labels).name}: choose one of {', '.join(values)}")
    parts = [g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
             for g, v in polygons if str(v) == reference_class]
    return AOI({"type": "MultiPolygon", "coordinates": [p for part in parts for p in part]}, crs), reference_class


def _evaluation_grid(input_grid: Grid, aoi: AOI | None, resolution_m: float) -> Grid:
    """The AOI's part of the input at the model's resolution: the grid tiles are cut from."""
    window = aoi.window_on(input_grid) if aoi else input_grid.full_window()
    return model_grid(input_grid.window(window), resolution_m)


def _sample_tiles(loaded: LoadedModel, band_refs: list, grid: Grid, aoi: AOI | None, reference: AOI,
                  count: int, tile_size: int, seed: int, device: torch.device) -> _Tiles:
    """Up to `count` nodata-free tiles wholly inside the AOI, visited in the seed's order.

    Raises:
        NaturalExplainError: when no tile qualifies.
    """
    candidates = tile_grid(grid.height, grid.width, tile_size, 0)
    xs, grids = [], []
    with BandReader(band_refs) as reader:
        for index in np.random.default_rng(seed).permutation(len(candidates)):
            cell = grid.window(candidates[index].window)
            inside = aoi.inside_mask(cell) if aoi else None
            if inside is not None and not inside.all():
                continue
            raw, valid = reader.read(cell)
            if valid.all():
                xs.append(to_model_input(raw, valid, loaded.card))
                grids.append(cell)
            if len(xs) == count:
                break
    if not xs:
        raise NaturalExplainError(f"no {tile_size} px tile inside the AOI is free of nodata: choose a larger AOI "
                                  "or a smaller --tile-size")
    x = torch.from_numpy(np.stack(xs)).to(device)
    with torch.no_grad():
        target = loaded.network(x).argmax(dim=1)
    masks = np.stack([reference.inside_mask(g) for g in grids])
    return _Tiles(x, grids, target, masks)


def _log_odds(network: torch.nn.Module, target: int) -> Score:
    """The score the curves follow: the target class's logit against the logsumexp of the others."""
    def score(batch: torch.Tensor) -> torch.Tensor:
        logits = network(batch).float()
        others = torch.cat([logits[:, :target], logits[:, target + 1:]], dim=1)
        return logits[:, target] - torch.logsumexp(others, dim=1)

    return score


def _attributions(explainer: Explainer, tiles: _Tiles, tick: Callable[[], None]) -> tuple[torch.Tensor, float]:
    """(N, H, W) maps of every tile, one tile per call, and the seconds attribute() took."""
    maps, seconds = [], 0.0
    for i in range(len(tiles.x)):
        tick()
        t = time.perf_counter()
        maps.append(explainer.attribute(tiles.x[i:i + 1].clone(), tiles.target[i:i + 1]).detach()[0, 0])
        seconds += time.perf_counter() - t
    return torch.stack(maps), seconds


def _score(loaded: LoadedModel, tiles: _Tiles, fill: torch.Tensor, maps: torch.Tensor, ties: torch.Tensor,
           q: float, tick: Callable[[], None]) -> _Scores:
    """Deletion and insertion curves (normalised by the untouched tile's score) and IoU per tile."""
    scores = _Scores([], [], [], 0.0)
    for i in range(len(tiles.x)):
        tick()
        score = _log_odds(loaded.network, int(tiles.target[i]))
        order = pixel_order(maps[i], ties[i])
        deletion = reveal_curve(score, tiles.x[i], fill[i], order, STEPS)
        scale = max(abs(float(deletion[0])), 1e-6)
        scores.deletion.append(deletion / scale)
        scores.insertion.append(reveal_curve(score, fill[i], tiles.x[i], order, STEPS) / scale)
        if tiles.reference[i].any():
            scores.iou.append(iou(top_fraction_mask(maps[i], ties[i], q).cpu().numpy(), tiles.reference[i]))
    return scores


def _fill(x: torch.Tensor, fill: str) -> torch.Tensor:
    """What removed pixels become (FILLS)."""
    return torch.zeros_like(x) if fill == "mean" else gaussian_blur(x, BLUR_SIGMA_PX)


def _row(method: str, scores: _Scores, megapixels: float) -> MethodRow:
    return MethodRow(method, round(float(np.mean([curve_auc(c) for c in scores.deletion])), 4),
                     round(float(np.mean([curve_auc(c) for c in scores.insertion])), 4),
                     round(float(np.mean(scores.iou)), 4) if scores.iou else None,
                     round(scores.seconds / megapixels, 3))


def _true_colour(loaded: LoadedModel, x: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) reflectance of B04/B03/B02 (or the first three bands when the model lacks them)."""
    bands = loaded.card.bands
    picks = [bands.index(b) for b in TRUE_COLOUR] if set(TRUE_COLOUR) <= set(bands) else [0, 1, 2][:len(bands)]
    space = UnitSpace(loaded.card, x.device)
    return space.to_physical(space.from_input(x))[:, picks].cpu().numpy()


def _naturalness(loaded: LoadedModel, x: torch.Tensor) -> np.ndarray:
    """(N, H, W) summed probability of the natural classes, as the naturalness map shows it."""
    with torch.no_grad():
        probs = torch.softmax(loaded.network.dense_logits(x).float(), dim=1)
    return probs[:, loaded.card.natural_indices].sum(dim=1).cpu().numpy()


def _check_options(out_dir: Path, q: float, tiles: int, tile_size: int, fill: str) -> None:
    """Raises NaturalExplainError for options out of range or an output folder that cannot be made."""
    if not 0 < q <= 100:
        raise NaturalExplainError(f"--q {q} must be a percentage in (0, 100]")
    if tiles < 1 or tile_size < 8:
        raise NaturalExplainError(f"--tiles ({tiles}) must be at least 1 and --tile-size ({tile_size}) at least 8")
    if fill not in FILLS:
        raise NaturalExplainError(f"unknown fill '{fill}': use one of {', '.join(FILLS)}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NaturalExplainError(f"cannot create the output folder {out_dir} ({exc.strerror}): choose another folder") from exc


def evaluate(input_path: str | Path, out_dir: str | Path, *, labels: str | Path, label_field: str,
             reference_class: str | None = None, methods: Sequence[str] = (), model: str | Path | None = None,
             aoi: AOI | None = None, bands: dict[str, int] | None = None, q: float = 10.0, tiles: int = 16, tile_size: int = 128, device: str = "auto",
             seed: int = 0, progress: Progress | None = None, is_canceled: IsCanceled | None = None,
             method_options: dict[str, Any] | None = None, fill: str = "blur") -> EvaluationResult:
    """Score every method's attributions on sampled tiles; write evaluation.json, .md and comparison.png.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the three outputs; created if missing.
        labels: a polygon file holding the reference class.
        label_field: the attribute naming each polygon's class.
        reference_class: the `label_field` value to compare top pixels with; None takes the
            model's first natural class when the labels hold it.
        methods: names from core.explain.registry.METHODS; "random" is always added.
        model: a model file; the bundled default when None.
        aoi: where tiles may be cut; the whole raster when None.
        bands: optional model band name -> 1-based input band number, overriding name matching.
        q: the percentage of top-attributed pixels compared with the reference class.
        tiles: how many tiles to sample.
        tile_size: tile edge in model pixels.
        device: "auto", "cpu" or "cuda".
        seed: fixes the tiles, the random baseline and the order of tied pixels.
        progress: called with percent done after each tile of each method.
        is_canceled: polled before each tile of each method.
        method_options: extra options for the methods that take them (e.g. `generators`).
        fill: what deleted pixels become (FILLS).

    Returns:
        The written paths and the rows, ranked by deletion AUC (most faithful first).

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    out_dir = Path(out_dir)
    names = parse_methods(",".join(methods))
    raster = open_input(input_path)
    torch_device = resolve_device(device)
    loaded = load_model(model or DEFAULT_MODEL, torch_device)
    reference, reference_class = _reference(labels, label_field, reference_class, loaded)
    explainers = [build_explainer(name, loaded, **(method_options or {})) for name in names]
    band_refs = match_bands(raster, loaded.card.bands, bands)
    grid = _evaluation_grid(raster.grid, aoi, loaded.card.resolution_m)
    _check_options(out_dir, q, tiles, tile_size, fill)
    sample = _sample_tiles(loaded, band_refs, grid, aoi, reference, tiles, tile_size, seed, torch_device)
    generator = torch.Generator().manual_seed(seed)
    n, h, w = len(sample.x), *sample.x.shape[-2:]
    ties = torch.rand(n, h, w, generator=generator).to(torch_device)
    maps = {RANDOM: (torch.rand(n, h, w, generator=generator).to(torch_device), 0.0)}
    done, total = 0, n * (2 * len(explainers) + 1)

    def tick() -> None:
        """Poll the cancel flag before each tile of each step and report the tiles done before it."""
        nonlocal done
        if is_canceled and is_canceled():
            raise RunCanceled("canceled")
        if progress:
            progress(95.0 * done / total)
        done += 1

    for explainer in explainers:
        maps[explainer.name] = _attributions(explainer, sample, tick)
    filled = _fill(sample.x, fill)
    scores = {name: dataclasses.replace(_score(loaded, sample, filled, m, ties, q, tick), seconds=s)
              for name, (m, s) in maps.items()}
    megapixels = n * h * w / 1e6
    rows = sorted((_row(name, s, megapixels) for name, s in scores.items()), key=lambda r: r.deletion_auc)
    result = EvaluationResult(out_dir / "evaluation.json", out_dir / "evaluation.md", out_dir / "comparison.png", rows)
    context = _context(raster.path, loaded, sample, labels, label_field, reference_class, q, seed, fill, names)
    write_json(result.json_path, {**context, "rows": [dataclasses.asdict(r) for r in rows],
                                 "curves": _mean_curves(scores), "tiles": _tile_records(sample, scores)})
    with atomic_path(result.markdown_path) as tmp:
        tmp.write_text(markdown_table(rows, context))
    figure = FigureTiles(_true_colour(loaded, sample.x[:FIGURE_TILES]), _naturalness(loaded, sample.x[:FIGURE_TILES]),
                         {name: m[:FIGURE_TILES].cpu().numpy() for name, (m, _) in maps.items()},
                         sample.reference[:FIGURE_TILES], reference_class)
    comparison_figure(figure, result.figure_path)
    if progress:
        progress(100.0)
    return result


def _context(input_path: Path, loaded: LoadedModel, sample: _Tiles, labels: str | Path, label_field: str,
             reference_class: str, q: float, seed: int, fill: str, methods: list[str]) -> dict[str, Any]:
    """What was evaluated and how, so a table can be reproduced."""
    n, h, w = len(sample.x), *sample.x.shape[-2:]
    return {
        "input": str(Path(input_path).resolve()),
        "model": {"path": str(loaded.weights_path.resolve()), "weights_sha256": loaded.weights_sha256},
        "parameters": {"methods": methods, "baseline": RANDOM, "tiles": n, "tile_size": [h, w], "seed": seed,
                       "steps": STEPS, "fill": fill, "blur_sigma_px": BLUR_SIGMA_PX if fill == "blur" else None,
                       "score": "log-odds of the tile's predicted class, divided by its value on the untouched tile",
                       "q_percent": q},
        "reference": {"labels": str(Path(labels).resolve()), "field": label_field, "class": reference_class,
                      "tiles_with_class": int(sample.reference.reshape(n, -1).any(axis=1).sum())},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "rasterio": rasterio.__version__},
    }


def _mean_curves(scores: dict[str, _Scores]) -> dict[str, dict[str, list[float]]]:
    """Each method's deletion and insertion curve averaged over tiles, at fractions 0, 1/STEPS, ..., 1."""
    return {name: {"deletion": np.mean(s.deletion, axis=0).round(4).tolist(),
                   "insertion": np.mean(s.insertion, axis=0).round(4).tolist()} for name, s in scores.items()}


def _tile_records(sample: _Tiles, scores: dict[str, _Scores]) -> list[dict[str, Any]]:
    """Where each tile lies (its bounds in the raster's CRS), its verdict and its per-method AUCs."""
    return [{"bounds": list(g.bounds), "predicted_class": int(sample.target[i]),
             "reference_pixels": int(sample.reference[i].sum()),
             "deletion_auc": {m: round(curve_auc(s.deletion[i]), 4) for m, s in scores.items()},
             "insertion_auc": {m: round(curve_auc(s.insertion[i]), 4) for m, s in scores.items()}}
            for i, g in enumerate(sample.grids)]


def markdown_table(rows: list[MethodRow], context: dict[str, Any]) -> str:
    """The evaluation as a Markdown table, methods ranked by deletion AUC, with what it was measured on."""
    p, ref = context["parameters"], context["reference"]
    q = f"{p['q_percent']:g}"
    lines = [
        "# Explanation evaluation", "",
        f"{p['tiles']} tiles of {p['tile_size'][0]}x{p['tile_size'][1]} px (seed {p['seed']}) from `{context['input']}`.",
        f"Deletion/insertion: the top pixels replaced by the `{p['fill']}` fill in {p['steps']} steps; the curve is "
        "the predicted class's log-odds relative to the untouched tile.",
        f"IoU@top-{q}%: with `{ref['field']} = {ref['class']}`, over the {ref['tiles_with_class']} tiles holding it.", "",
        f"| method | deletion AUC ↓ | insertion AUC ↑ | IoU@top-{q}% | s per megapixel |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        shown_iou = "n/a" if r.iou is None else f"{r.iou:.3f}"
        lines.append(f"| {r.method} | {r.deletion_auc:.3f} | {r.insertion_auc:.3f} | {shown_iou} | {r.s_per_megapixel:.2f} |")
    return "\n".join(lines) + "\n"
