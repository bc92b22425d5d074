"""evaluate(raster, labels, methods) -> is an explanation faithful to the model, and does it find the reference class?

Tiles are cut on a regular grid inside the AOI, nodata-free ones drawn with the seed; each
further draw takes the next seed. Every method, and two controls that never ask the model
(core.explain.controls: `random`, the floor, and `brightness`, the image itself), explains
each tile's predicted class. Each map is then scored (core.explain.metrics, .road): deletion
and insertion AUC against the classifier itself, ROAD (deletion with a fill that does not
give the removed shape away), the IoU of its top-q% pixels with a reference polygon class
(SpacEX's Table I) and the seconds per megapixel its attribute() took. The randomisation
check (core.explain.randomization) then asks whether each method's maps change when the
classifier's weights are replaced by random ones, as an explanation of the model must.

The score the curves follow is the predicted class's log-odds against the other classes,
divided by its value on the untouched tile. Probabilities would be the textbook choice, but
this classifier's log-odds of 12-16 put most tiles at p = 1.0000 whatever is removed, so
every method, random included, would draw the same flat line.
"""
import copy
import dataclasses
import math
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch

from core.aoi import AOI
from core.errors import NaturalExplainError, RunCanceled
from core.explain.base import Explainer
from core.explain.controls import BRIGHTNESS, CONTROLS, RANDOM, brightness_map, random_map
from core.explain.evaluation_summary import MethodRow, MethodSummary, summarise
from core.explain.metrics import (
    Score,
    class_log_odds,
    curve_auc,
    gaussian_blur,
    iou,
    pixel_order,
    reveal_curve,
    top_fraction_mask,
    untouched_scale,
)
from core.explain.randomization import RandomizedModel, cascading_randomization, rank_correlation
from core.explain.registry import MethodSettings, build_explainer, generators_setting, parse_methods
from core.explain.report import FigureTiles, write_evaluation
from core.explain.road import NOISE_STD, PERCENTAGES, road_auc, road_curve
from core.models.choice import Choice
from core.models.model_file import LoadedModel
from core.models.preprocess import UnitSpace
from core.quicklook import TRUE_COLOUR
from core.raster.grid import Grid
from core.raster.read import BandReader
from core.run_outputs import RunOutputs
from core.scan import IsCanceled, Progress, Scan, prepare, scan_batches
from core.vector_io import read_polygons

STEPS = 20
FIGURE_TILES = 4
# "mean": the model's band means (0 after standardisation), which removes spectral evidence too;
# "blur": a Gaussian blur of the tile, which keeps its colours and removes only texture.
FILLS = ("mean", "blur")
BLUR_SIGMA_PX = 16.0
# Tiles whose verdict has log-odds below this (p < 0.73) are not drawn (see _sample_tiles).
MIN_VERDICT_LOG_ODDS = 1.0


@dataclasses.dataclass
class EvaluationResult:
    """What an evaluation wrote: each method's summary over the draws, ranked by mean deletion AUC, and every draw's rows."""

    json_path: Path
    markdown_path: Path
    figure_path: Path
    summaries: list[MethodSummary]
    draws: list[list[MethodRow]]
    model: Choice | None = None

    @property
    def rows(self) -> list[MethodRow]:
        """The mean rows over the draws, most faithful (lowest deletion AUC) first."""
        return [s.mean for s in self.summaries]


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
    road: list[np.ndarray]
    iou: list[float]
    seconds: float


@dataclasses.dataclass
class _Plan:
    """What every draw shares: the classifier (and its copy for the curves), the methods, their randomised copies."""

    loaded: LoadedModel
    scorer: torch.nn.Module
    explainers: list[Explainer]
    randomized: list[tuple[RandomizedModel, list[Explainer]]]
    q: float
    fill: str


@dataclasses.dataclass
class _Draw:
    """One draw's tiles, maps (with seconds spent) and scores, and each method's correlation per randomisation depth."""

    seed: int
    sample: _Tiles
    maps: dict[str, tuple[torch.Tensor, float]]
    scores: dict[str, _Scores]
    randomization: dict[str, list[float]]


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


def _sample_tiles(scan: Scan, reader: BandReader, aoi: AOI | None, reference: AOI, count: int, seed: int,
                  is_canceled: IsCanceled | None) -> _Tiles:
    """Up to `count` nodata-free tiles of the scan wholly inside the AOI with a confident verdict, read in the
    seed's order.

    A tile whose verdict is barely made (log-odds under MIN_VERDICT_LOG_ODDS) has little to explain,
    and dividing its curves by its near-zero score would let it outweigh every other tile.

    Raises:
        NaturalExplainError: when no tile qualifies.
    """
    grid, loaded = scan.grids.model, scan.loaded
    order = [scan.tiles[i] for i in np.random.default_rng(seed).permutation(len(scan.tiles))]
    xs, grids, targets = [], [], []
    for batch in scan_batches(reader, grid, order, loaded, scan.device, 1, is_canceled=is_canceled):
        cell = grid.window(batch.tiles[0].window)
        inside = aoi.inside_mask(cell) if aoi else None
        if (inside is not None and not inside.all()) or not batch.valid.all():
            continue
        with torch.no_grad():
            logits = loaded.network(batch.x).float()
        target = int(logits.argmax())
        if float(class_log_odds(logits, target)) >= MIN_VERDICT_LOG_ODDS:
            xs.append(batch.x[0])
            grids.append(cell)
            targets.append(target)
        if len(xs) == count:
            break
    if not xs:
        raise NaturalExplainError(f"no {scan.tile_size} px tile inside the AOI is free of nodata and confidently "
                                  "classified: choose a larger AOI or a smaller --tile-size")
    masks = np.stack([reference.inside_mask(g) for g in grids])
    return _Tiles(torch.stack(xs), grids, torch.tensor(targets, device=scan.device), masks)


def _scoring_network(network: torch.nn.Module) -> torch.nn.Module:
    """A channels-last copy of the classifier for the curves, whose forward passes are most of the cost.

    oneDNN's convolutions take channels-last tensors faster: 21 tiles of 128 px in 1.1 s instead
    of 1.7 s on 2 CPU threads (0.45 s instead of 1.46 s on one); the logits differ only by rounding.
    """
    return copy.deepcopy(network).to(memory_format=torch.channels_last)


def log_odds_score(network: torch.nn.Module, target: int) -> Score:
    """The score the curves follow: the target class's logit against the logsumexp of the others."""
    def score(batch: torch.Tensor) -> torch.Tensor:
        return class_log_odds(network(batch.contiguous(memory_format=torch.channels_last)).float(), target)

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


def _controls(loaded: LoadedModel, x: torch.Tensor, generator: torch.Generator) -> dict[str, tuple[torch.Tensor, float]]:
    """The two control maps (core.explain.controls) with the seconds they took, as the methods' maps come."""
    n, _, h, w = x.shape
    t = time.perf_counter()
    brightness = brightness_map(x, loaded)
    return {RANDOM: (random_map((n, h, w), generator).to(x.device), 0.0),
            BRIGHTNESS: (brightness, time.perf_counter() - t)}


def _score(scorer: torch.nn.Module, tiles: _Tiles, fill: torch.Tensor, noise: np.ndarray, maps: torch.Tensor,
           ties: torch.Tensor, q: float, tick: Callable[[], None]) -> _Scores:
    """Deletion, insertion and ROAD curves (normalised by the untouched tile's score) and IoU per tile."""
    scores = _Scores([], [], [], [], 0.0)
    for i in range(len(tiles.x)):
        tick()
        score = log_odds_score(scorer, int(tiles.target[i]))
        order = pixel_order(maps[i], ties[i])
        deletion = reveal_curve(score, tiles.x[i], fill[i], order, STEPS)
        scale = untouched_scale(deletion)
        scores.deletion.append(deletion / scale)
        scores.insertion.append(reveal_curve(score, fill[i], tiles.x[i], order, STEPS) / scale)
        scores.road.append(road_curve(score, tiles.x[i], order, noise[i]) / scale)
        if tiles.reference[i].any():
            scores.iou.append(iou(top_fraction_mask(maps[i], ties[i], q).cpu().numpy(), tiles.reference[i]))
    return scores


def _randomization(plan: _Plan, sample: _Tiles, maps: dict[str, tuple[torch.Tensor, float]],
                   tick: Callable[[], None]) -> dict[str, list[float]]:
    """Each method's mean rank correlation over the tiles between its maps and the randomised models', per depth.

    Every tile of the draw goes through one call (maps are per tile; nothing here is timed).
    """
    correlations: dict[str, list[float]] = {e.name: [] for e in plan.explainers}
    for _, explainers in plan.randomized:
        for explainer in explainers:
            for _ in range(len(sample.x)):
                tick()
            randomized = explainer.attribute(sample.x.clone(), sample.target).detach()[:, 0]
            original = maps[explainer.name][0]
            correlations[explainer.name].append(round(float(np.mean(
                [rank_correlation(original[i].cpu().numpy(), randomized[i].cpu().numpy())
                 for i in range(len(sample.x))])), 4))
    return correlations


def removal_fill(x: torch.Tensor, fill: str) -> torch.Tensor:
    """What removed pixels become (FILLS)."""
    return torch.zeros_like(x) if fill == "mean" else gaussian_blur(x, BLUR_SIGMA_PX)


def _evaluate_draw(plan: _Plan, sample: _Tiles, seed: int, tick: Callable[[], None]) -> _Draw:
    """Every method's and control's maps on one draw of tiles, scored, and the randomisation check.

    The seed fixes the order of tied pixels, the random control and the ROAD noise; the noise is
    one field per tile, shared by every map, so maps differ only by the pixels they remove.
    """
    generator = torch.Generator().manual_seed(seed)
    n, c, h, w = sample.x.shape
    ties = torch.rand(n, h, w, generator=generator).to(sample.x.device)
    maps = _controls(plan.loaded, sample.x, generator)
    for explainer in plan.explainers:
        maps[explainer.name] = _attributions(explainer, sample, tick)
    filled = removal_fill(sample.x, plan.fill)
    noise = np.random.default_rng(seed).normal(0.0, NOISE_STD, (n, c, h, w))
    scores = {name: dataclasses.replace(_score(plan.scorer, sample, filled, noise, m, ties, plan.q, tick), seconds=s)
              for name, (m, s) in maps.items()}
    return _Draw(seed, sample, maps, scores, _randomization(plan, sample, maps, tick))


def _row(method: str, scores: _Scores, megapixels: float, correlations: list[float] | None) -> MethodRow:
    return MethodRow(method, round(float(np.mean([curve_auc(c) for c in scores.deletion])), 4),
                     round(float(np.mean([curve_auc(c) for c in scores.insertion])), 4),
                     round(float(np.mean([road_auc(c) for c in scores.road])), 4),
                     round(float(np.mean(scores.iou)), 4) if scores.iou else None,
                     round(scores.seconds / megapixels, 3),
                     correlations[-1] if correlations else None)


def _rows(draw: _Draw) -> list[MethodRow]:
    """One row per method and control of a draw; the controls ask no model, so they have no correlation."""
    megapixels = draw.sample.x[:, 0].numel() / 1e6
    return [_row(name, s, megapixels, draw.randomization.get(name)) for name, s in draw.scores.items()]


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


def _check_options(q: float, tiles: int, tile_size: int, fill: str, draws: int) -> None:
    """Raises NaturalExplainError for options out of range."""
    if not math.isfinite(q) or not 0 < q <= 100:
        raise NaturalExplainError(f"--q {q} must be a percentage in (0, 100]")
    if tiles < 1 or tile_size < 8:
        raise NaturalExplainError(f"--tiles ({tiles}) must be at least 1 and --tile-size ({tile_size}) at least 8")
    if draws < 1:
        raise NaturalExplainError(f"--draws ({draws}) must be at least 1: the number of tile draws to average over")
    if fill not in FILLS:
        raise NaturalExplainError(f"unknown fill '{fill}': use one of {', '.join(FILLS)}")


def _check_area(grid: Grid, aoi: AOI | None, tile_size: int) -> None:
    """Refuse an area that cannot hold one whole tile: a smaller one would be scored as one tiny tile, whose
    curves and IoU mean nothing (a 1-pixel area scores AUC and IoU of 1.0).

    Raises:
        NaturalExplainError: naming the area's size, the tile size and what to change.
    """
    if grid.width < tile_size or grid.height < tile_size:
        area = "the AOI" if aoi is not None else "the raster"
        raise NaturalExplainError(f"{area} is {grid.width} x {grid.height} model pixels, smaller than one --tile-size "
                                  f"{tile_size} tile: choose a larger AOI or a smaller --tile-size (at least 8)")


def evaluate(input_path: str | Path, out_dir: str | Path, *, labels: str | Path, label_field: str,
             reference_class: str | None = None, methods: Sequence[str] = (), model: str | Path | None = None,
             aoi: AOI | None = None, bands: dict[str, int] | None = None, q: float = 10.0, tiles: int = 16,
             tile_size: int = 128, device: str = "auto", seed: int = 0, draws: int = 1, randomization: bool = True,
             progress: Progress | None = None, is_canceled: IsCanceled | None = None,
             method_options: MethodSettings | None = None, fill: str = "blur",
             report: Callable[[str], None] | None = None) -> EvaluationResult:
    """Score every method's attributions on sampled tiles; write evaluation.json, .md and comparison.png.

    Args:
        input_path: a raster file or a folder of band files.
        out_dir: folder for the three outputs; created if missing.
        labels: a polygon file holding the reference class.
        label_field: the attribute naming each polygon's class.
        reference_class: the `label_field` value to compare top pixels with; None takes the
            model's first natural class when the labels hold it.
        methods: names from core.explain.registry.METHODS; the controls "random" and "brightness" are always added.
        model: a model file; when None, the richest bundled classifier whose bands the input has
            (core.models.choice.choose_model), recorded in evaluation.json and reported.
        aoi: where tiles may be cut; the whole raster when None.
        bands: optional model band name -> 1-based input band number, overriding name matching.
        q: the percentage of top-attributed pixels compared with the reference class.
        tiles: how many tiles to sample per draw.
        tile_size: tile edge in model pixels.
        device: "auto", "cpu" or "cuda".
        seed: draw k uses seed + k for its tiles, the random control, the order of tied pixels and
            the ROAD noise; the randomised weights use seed.
        draws: how many draws of tiles to score; the table gives the mean ± spread over them.
        randomization: run the model-parameter randomisation check, which recomputes every
            method's maps once per classifier layer.
        progress: called with percent done after each tile of each step.
        is_canceled: polled before each tile of each step.
        method_options: method name -> its settings (core.explain.method_options), as explain takes them.
        fill: what deleted pixels become (FILLS).
        report: called before the run with the line saying which model was chosen, when it was chosen automatically.

    Returns:
        The written paths, each method's summary over the draws and every draw's rows.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    names = parse_methods(",".join(methods))
    _check_options(q, tiles, tile_size, fill, draws)
    # tiles abut (no overlap), so the model grid is the AOI's part of the input at the model's resolution
    scan = prepare(input_path, model, bands=bands, aoi=aoi, device=device, overlap=0, tile_size=tile_size,
                   methods=names, generators=generators_setting(method_options))
    if report and scan.choice.automatic:
        report(scan.choice.line())
    loaded = scan.loaded
    reference, reference_class = _reference(labels, label_field, reference_class, loaded)
    explainers = [build_explainer(name, loaded, method_options) for name in names]
    _check_area(scan.grids.model, aoi, tile_size)
    with RunOutputs(Path(out_dir), ["evaluation.md", "comparison.png"], scan.read_files,
                    record="evaluation.json") as outputs:
        with BandReader(scan.band_refs) as reader:
            samples = [_sample_tiles(scan, reader, aoi, reference, tiles, seed + k, is_canceled) for k in range(draws)]
        randomized = [(r, [build_explainer(name, r.model, method_options) for name in names])
                      for r in (cascading_randomization(loaded, seed) if randomization else [])]
        plan = _Plan(loaded, _scoring_network(loaded.network), explainers, randomized, q, fill)
        for explainer in explainers:  # the first call pays for lazy set-up (about 1 s), which is no draw's cost
            explainer.attribute(samples[0].x[:1].clone(), samples[0].target[:1])
        done, total = 0, sum(len(s.x) for s in samples) * (len(names) * (2 + len(randomized)) + len(CONTROLS))

        def tick() -> None:
            """Poll the cancel flag before each tile of each step and report the tiles done before it."""
            nonlocal done
            if is_canceled and is_canceled():
                raise RunCanceled("canceled")
            if progress:
                progress(95.0 * done / total)
            done += 1

        evaluated = [_evaluate_draw(plan, sample, seed + k, tick) for k, sample in enumerate(samples)]
        per_draw = [_rows(d) for d in evaluated]
        summaries = summarise(per_draw)
        result = EvaluationResult(outputs.final("evaluation.json"), outputs.final("evaluation.md"),
                                  outputs.final("comparison.png"), summaries, per_draw, scan.choice)
        context = _context(scan, plan, evaluated, labels, label_field, reference_class, seed, names)
        write_evaluation(_record(plan, evaluated, per_draw, summaries, context), summaries,
                         _figure_tiles(loaded, evaluated[0], reference_class),
                         json_path=outputs.staged("evaluation.json"), markdown_path=outputs.staged("evaluation.md"),
                         figure_path=outputs.staged("comparison.png"))
        outputs.commit()
    if progress:
        progress(100.0)
    return result


def _record(plan: _Plan, evaluated: list[_Draw], per_draw: list[list[MethodRow]], summaries: list[MethodSummary],
            context: dict[str, Any]) -> dict[str, Any]:
    """Every number and curve of the evaluation, for evaluation.json, with the context that reproduces it."""
    return {**context, "rows": _summary_records(summaries), "curves": _mean_curves(evaluated),
            "tiles": [t for k, d in enumerate(evaluated) for t in _tile_records(d, k)],
            "randomization": _randomization_record(plan, evaluated),
            "draws": [_draw_record(d, rows) for d, rows in zip(evaluated, per_draw)]}


def _figure_tiles(loaded: LoadedModel, draw: _Draw, reference_class: str) -> FigureTiles:
    """The first draw's first tiles through every method and control, for the side-by-side figure."""
    x = draw.sample.x[:FIGURE_TILES]
    return FigureTiles(_true_colour(loaded, x), _naturalness(loaded, x),
                       {name: m[:FIGURE_TILES].cpu().numpy() for name, (m, _) in draw.maps.items()},
                       draw.sample.reference[:FIGURE_TILES], reference_class)


def _context(scan: Scan, plan: _Plan, draws: list[_Draw], labels: str | Path, label_field: str,
             reference_class: str, seed: int, methods: list[str]) -> dict[str, Any]:
    """What was evaluated and how, so a table can be reproduced."""
    first = draws[0].sample
    n, h, w = len(first.x), *first.x.shape[-2:]
    references = np.concatenate([d.sample.reference for d in draws])
    return {
        "input": str(scan.raster.path.resolve()),
        "model": scan.model_record(),
        "parameters": {"methods": methods, "controls": list(CONTROLS), "tiles": n, "tile_size": [h, w], "seed": seed,
                       "draws": len(draws), "seeds": [d.seed for d in draws],
                       "steps": STEPS, "fill": plan.fill, "blur_sigma_px": BLUR_SIGMA_PX if plan.fill == "blur" else None,
                       "score": "log-odds of the tile's predicted class, divided by its value on the untouched tile",
                       "q_percent": plan.q,
                       "road": {"percentages": list(PERCENTAGES), "order": "most relevant first", "noise_std": NOISE_STD,
                                "imputation": "noisy linear: neighbour weights 1/6 direct, 1/12 diagonal"},
                       "randomization": {"order": "cascading, top layer first", "seed": seed,
                                         "layers": [r.layer for r, _ in plan.randomized]} if plan.randomized else None},
        "reference": {"labels": str(Path(labels).resolve()), "field": label_field, "class": reference_class,
                      "tiles_with_class": int(references.reshape(len(references), -1).any(axis=1).sum())},
        "distinct_tiles": len({tuple(g.bounds) for d in draws for g in d.sample.grids}),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "rasterio": rasterio.__version__},
    }


def _summary_records(summaries: list[MethodSummary]) -> list[dict[str, Any]]:
    """Each method's mean row, with its spread over the draws (None for one draw) and its wins."""
    return [{**dataclasses.asdict(s.mean), "sd": dataclasses.asdict(s.sd) if s.sd else None, "wins": s.wins}
            for s in summaries]


def _mean_curves(draws: list[_Draw]) -> dict[str, dict[str, list[float]]]:
    """Each map's curves averaged over every tile of every draw: deletion and insertion at fractions
    0, 1/STEPS, ..., 1, ROAD at road.PERCENTAGES."""
    return {name: {curve: np.mean([c for d in draws for c in getattr(d.scores[name], curve)], axis=0).round(4).tolist()
                   for curve in ("deletion", "insertion", "road")}
            for name in draws[0].scores}


def _tile_records(draw: _Draw, index: int) -> list[dict[str, Any]]:
    """Where each tile of a draw lies (its bounds in the raster's CRS), its verdict and its per-method AUCs."""
    sample, scores = draw.sample, draw.scores
    return [{"draw": index, "bounds": list(g.bounds), "predicted_class": int(sample.target[i]),
             "reference_pixels": int(sample.reference[i].sum()),
             "deletion_auc": {m: round(curve_auc(s.deletion[i]), 4) for m, s in scores.items()},
             "insertion_auc": {m: round(curve_auc(s.insertion[i]), 4) for m, s in scores.items()},
             "road_auc": {m: round(road_auc(s.road[i]), 4) for m, s in scores.items()}}
            for i, g in enumerate(sample.grids)]


def _randomization_record(plan: _Plan, draws: list[_Draw]) -> dict[str, Any] | None:
    """Each method's rank correlation per randomisation depth (depth 0: an untouched copy), mean over the draws."""
    if not plan.randomized:
        return None
    return {"layers": [r.layer for r, _ in plan.randomized],
            "rank_correlation": {name: np.mean([d.randomization[name] for d in draws], axis=0).round(4).tolist()
                                 for name in draws[0].randomization}}


def _draw_record(draw: _Draw, rows: list[MethodRow]) -> dict[str, Any]:
    """One draw's seed, rows and rank correlations per randomisation depth."""
    return {"seed": draw.seed, "rows": [dataclasses.asdict(r) for r in rows],
            "rank_correlation": draw.randomization or None}
