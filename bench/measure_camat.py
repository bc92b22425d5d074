"""Measure CAMAT (train/camat.py) against plain training, with the bundled classifier's recipe.

Plain and CAMAT classifiers are trained with the same data (the pinned scene's north half and its
region labels), options (train/reproduce.py TRAINING_OPTIONS: 6 epochs, width 32, 32 px patches),
seed and split, for seeds 0, 1 and 2, each on one CPU thread (two trained at once). The seed also draws the spatial split, so
each seed holds out its own 1 km blocks, and plain and CAMAT of one seed are scored on the same ones.
CAMAT runs with its default settings (train/camat.py CAMATSettings: the band-mean fill); the batch-mean
and noise fills are also trained on seed 0, which is how the default fill was chosen (held-out accuracy
0.969 with band means, 0.965 with batch means, 0.962 with noise; plain 0.962).

Each classifier is scored on its held-out patches:
- accuracy and macro F1;
- accuracy when the top 10 / 25 % of each patch's GradCAM evidence (of its predicted class, as
  `explain --methods gradcam` maps it) is occluded, against the same share occluded at random,
  both with the band-mean fill and with core evaluate's blur fill;
- accuracy under shifts: reflectance brightened and darkened by 10 %, and the scene averaged to
  60 m and read back at 10 m (bench/measure_ood.py's case), the same patches and labels;
- deletion AUC of GradCAM (and of a random map, the control) with core evaluate's blur fill and
  steps, normalised by the untouched score, on a fixed draw of 100 of the held-out patches with a
  confident verdict (log-odds of at least 1, as core evaluate draws its tiles: the normalisation
  blows up on patches near the decision boundary);
- the same deletion AUC of the `counterfactual` and `cyclegan` maps, from pattern generators trained
  against each of the six paired classifiers with the bundled generators' recipe (train/reproduce.py
  GENERATOR_OPTIONS, without the KID score; about 15 minutes of one core each), kept beside the
  model as MODEL_generators.json;
- the GradCAM evidence concentration (share in the top 10 % of pixels) the training logged.

Not measured: accuracy on the Landsat scenes of bench/measure_ood.py (they lie outside the labelled
area, in other UTM zones, so there is nothing to score against).

    PYTHONPATH=. .venv/bin/python bench/measure_camat.py [--out out/bench/camat.json] [--seeds 0,1,2]

Trained models are kept in out/bench/camat/models/ and reused, so an interrupted bench continues.
"""
import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure_ood import COARSE_M, translated  # noqa: E402
from core.evaluate import BLUR_SIGMA_PX, MIN_VERDICT_LOG_ODDS, STEPS  # noqa: E402
from core.explain.base import Explainer  # noqa: E402
from core.explain.captum_methods import GradCAMExplainer  # noqa: E402
from core.explain.cyclegan import CounterfactualExplainer, CycleGANExplainer, generators_beside  # noqa: E402
from core.explain.method_options import GeneratorOptions  # noqa: E402
from core.explain.metrics import (  # noqa: E402
    class_log_odds,
    curve_auc,
    gaussian_blur,
    pixel_order,
    reveal_curve,
    top_fraction_mask,
    untouched_scale,
)
from core.models.model_file import LoadedModel, load_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from train.__main__ import build_parsers  # noqa: E402
from train.__main__ import main as train_main
from train.camat import FILLS, CAMATSettings  # noqa: E402
from train.checkpoint import latest_checkpoint  # noqa: E402
from train.commands.classifier import build_dataset  # noqa: E402
from train.datasets.labelled_patches import LabelledPatches  # noqa: E402
from train.fetch import sentinel2_band_files  # noqa: E402
from train.metrics import accuracy, confusion_matrix, per_class_f1  # noqa: E402
from train.reproduce import GENERATOR_OPTIONS, LABELS, TRAINING_OPTIONS  # noqa: E402
from train.split import Split, split_samples  # noqa: E402

MODELS = Path("out/bench/camat/models")
OCCLUDED_PERCENT = (10, 25)
BRIGHTNESS = (1.1, 0.9)
BATCH = 128
# Deletion curves cost 2 x 21 forward passes a patch: a fixed draw of this many held-out patches keeps them short.
DELETION_PATCHES = 100


def _options(seed: int, camat: CAMATSettings | None) -> list[str]:
    """The bundled recipe with `seed`, plus CAMAT's settings when given."""
    options = list(TRAINING_OPTIONS)
    options[options.index("--seed") + 1] = str(seed)
    if camat is not None:
        options += ["--camat", "--camat-share", f"{camat.share:g}", "--camat-fill", camat.fill,
                    "--camat-probability", f"{camat.probability:g}", "--camat-warmup", str(camat.warmup)]
    return options


def _arguments(name: str, seed: int, camat: CAMATSettings | None) -> list[str]:
    scene = sentinel2_band_files(["B02"])["B02"].parent
    return ["classifier", "--raster", str(scene), "--polygons", str(LABELS), "--out", str(MODELS / name),
            "--workdir", str(MODELS / f"{name}.ckpt"), *_options(seed, camat)]


def trained(name: str, seed: int, camat: CAMATSettings | None) -> Path:
    """The model `name`, trained now unless an earlier bench run left it (one thread, --fresh)."""
    path = MODELS / f"{name}.json"
    if not path.is_file():
        started = time.perf_counter()
        if train_main([*_arguments(name, seed, camat), "--fresh"]):
            raise SystemExit(f"training {name} failed")
        print(f"trained {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return path


def trained_generators(name: str) -> Path:
    """The pattern generators of model `name` (the bundled recipe, GENERATOR_OPTIONS, against it; no KID), trained
    now unless an earlier run left them, as MODEL_generators.json beside the model, where explain finds them."""
    model = MODELS / f"{name}.json"
    path = generators_beside(model)
    if not path.is_file():
        started = time.perf_counter()
        scene = sentinel2_band_files(["B02"])["B02"].parent
        workdir = path.with_suffix(".ckpt")  # an interrupted bench continues the training
        if train_main(["cyclegan", "--classifier", str(model), "--raster", str(scene), "--polygons", str(LABELS),
                       "--out", str(path.with_suffix("")), "--workdir", str(workdir), *GENERATOR_OPTIONS,
                       "--resume" if latest_checkpoint(workdir) else "--fresh"]):
            raise SystemExit(f"training the generators of {name} failed")
        print(f"trained the generators of {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return path


def _inputs(dataset: LabelledPatches, indices: list[int], loaded: LoadedModel, factor: float = 1.0) -> torch.Tensor:
    """The patches as the model takes them, raw values multiplied by `factor` first (a brightness change)."""
    out = []
    for i in indices:
        raw, valid, _ = dataset[i]
        out.append(torch.from_numpy(to_model_input(raw * np.float32(factor), valid, loaded.card)))
    return torch.stack(out)


@torch.no_grad()
def _logits(loaded: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([loaded.network(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def _predict(loaded: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    return _logits(loaded, x).argmax(dim=1)


def _scores(loaded: LoadedModel, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    confusion = confusion_matrix(_predict(loaded, x), y, len(loaded.card.classes))
    f1 = per_class_f1(confusion, loaded.card.classes)
    return {"accuracy": round(accuracy(confusion), 4), "macro_f1": round(float(np.mean(list(f1.values()))), 4)}


def _occluded(x: torch.Tensor, maps: torch.Tensor, ties: torch.Tensor, percent: float, fill: torch.Tensor) -> torch.Tensor:
    masks = torch.stack([top_fraction_mask(maps[i], ties[i], percent) for i in range(len(x))])[:, None]
    return torch.where(masks, fill, x)


class Draw(NamedTuple):
    """What every map of one classifier is scored on: its verdicts, tie-breaks, random maps and deletion patches."""

    predicted: torch.Tensor
    ties: torch.Tensor
    random_maps: torch.Tensor
    deletion: torch.Tensor  # indices of the DELETION_PATCHES confident patches the deletion curves run on


def _held_out(loaded: LoadedModel, dataset: LabelledPatches, seed: int) -> Split:
    """The seed's split, checked to be the one the model was trained with."""
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, dataset.splits, 0.2, seed)
    assert len(split.val) == loaded.card.training["metrics"]["n_val"], "the bench's split is not the one the model was trained with"
    return split


def _draw(loaded: LoadedModel, x: torch.Tensor, seed: int) -> Draw:
    """The seeded draw, the same on every call, so maps scored later (the counterfactual's) share the patches."""
    logits = _logits(loaded, x)
    predicted = logits.argmax(dim=1)
    generator = torch.Generator().manual_seed(seed)
    ties = torch.rand(len(x), *x.shape[-2:], generator=generator)
    random_maps = torch.rand(len(x), *x.shape[-2:], generator=generator)
    margin = torch.stack([class_log_odds(logits[i:i + 1], int(predicted[i]))[0] for i in range(len(x))])
    confident = (margin >= MIN_VERDICT_LOG_ODDS).nonzero()[:, 0]
    return Draw(predicted, ties, random_maps, confident[torch.randperm(len(confident), generator=generator)[:DELETION_PATCHES]])


def _maps(explainer: Explainer, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, H, W) the explainer's maps of `target`, a batch at a time."""
    return torch.cat([explainer.attribute(x[i:i + BATCH], target[i:i + BATCH]).detach()[:, 0]
                      for i in range(0, len(x), BATCH)])


def _deletion_auc(loaded: LoadedModel, x: torch.Tensor, target: torch.Tensor, maps: torch.Tensor, ties: torch.Tensor,
                  fill: torch.Tensor) -> float:
    """Mean deletion AUC (core evaluate's: log-odds of the explained class, normalised by the untouched tile's)."""
    aucs = []
    for i in range(len(x)):
        def score(batch: torch.Tensor, k: int = int(target[i])) -> torch.Tensor:
            return class_log_odds(loaded.network(batch), k)

        curve = reveal_curve(score, x[i], fill[i], pixel_order(maps[i], ties[i]), STEPS)
        aucs.append(curve_auc(curve / untouched_scale(curve)))
    return round(float(np.mean(aucs)), 4)


def evaluate(path: Path, seed: int, dataset: LabelledPatches, coarse: LabelledPatches) -> dict:
    """Every measure of the module docstring for the model at `path`, on the held-out patches of its seed's split."""
    loaded = load_model(path)
    split = _held_out(loaded, dataset, seed)
    metrics = loaded.card.training["metrics"]
    x = _inputs(dataset, split.val, loaded)
    y = torch.tensor([dataset.labels[i] for i in split.val])
    draw = _draw(loaded, x, seed)
    predicted, ties, random_maps, some = draw.predicted, draw.ties, draw.random_maps, draw.deletion
    cams = _maps(GradCAMExplainer(loaded), x, predicted)
    fills = {"mean": torch.zeros_like(x), "blur": gaussian_blur(x, BLUR_SIGMA_PX)}
    occlusion = {f"{fill}_{where}_{q}": _scores(loaded, _occluded(x, maps, ties, q, value), y)["accuracy"]
                 for fill, value in fills.items() for where, maps in (("gradcam", cams), ("random", random_maps))
                 for q in OCCLUDED_PERCENT}
    shifts = {f"brightness_x{factor:g}": _scores(loaded, _inputs(dataset, split.val, loaded, factor), y)["accuracy"]
              for factor in BRIGHTNESS}
    shifts[f"{COARSE_M}m_read_at_10m"] = _scores(loaded, _inputs(coarse, split.val, loaded), y)["accuracy"]
    return {"model": str(path), "seed": seed, "camat": loaded.card.training.get("camat"),
            "n_val": len(split.val), **_scores(loaded, x, y), "occluded_accuracy": occlusion, "shift_accuracy": shifts,
            "deletion_auc": {name: _deletion_auc(loaded, x[some], predicted[some], maps[some], ties[some], fills["blur"][some])
                             for name, maps in (("gradcam", cams), ("random", random_maps))},
            "evidence_top10_by_epoch": [h.get("val_evidence_top10") for h in metrics["history"]],
            "training_seconds": metrics["training_seconds"]}


def counterfactual_deletion(path: Path, generators: Path, seed: int, dataset: LabelledPatches) -> dict[str, float]:
    """Deletion AUC of the counterfactual and cyclegan maps on the patches, fill and steps evaluate() scores GradCAM on."""
    loaded = load_model(path)
    x = _inputs(dataset, _held_out(loaded, dataset, seed).val, loaded)
    draw = _draw(loaded, x, seed)
    some = draw.deletion
    x, target, ties = x[some], draw.predicted[some], draw.ties[some]
    options = GeneratorOptions(generators)
    return {explainer.name: _deletion_auc(loaded, x, target, _maps(explainer, x, target), ties, gaussian_blur(x, BLUR_SIGMA_PX))
            for explainer in (CounterfactualExplainer(loaded, options), CycleGANExplainer(loaded, options))}


def _datasets(folder: Path) -> tuple[LabelledPatches, LabelledPatches]:
    """The recipe's patches from the scene, and the same patches from the scene averaged to 60 m (VRTs in `folder`)."""
    parser, _ = build_parsers()
    args = parser.parse_args(_arguments("plain_s0", 0, None))
    dataset = build_dataset(args)
    scene = open_input(args.raster)
    translated(match_bands(scene, dataset.bands), folder / "coarse", xRes=COARSE_M, yRes=COARSE_M, resampleAlg="average")
    args = parser.parse_args(_arguments("plain_s0", 0, None))
    args.raster = folder / "coarse"
    coarse = build_dataset(args)
    if coarse.groups != dataset.groups or coarse.labels != dataset.labels:
        raise SystemExit("the 60 m scene gives other patches than the 10 m one; cannot score the same patches")
    return dataset, coarse


def _summary(rows: list[dict]) -> dict:
    """Mean and sample std over seeds of every number of the rows."""
    def numbers(row: dict, prefix: str = "") -> dict[str, float]:
        found = {}
        for key, value in row.items():
            if isinstance(value, dict):
                found.update(numbers(value, f"{prefix}{key}."))
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("seed", "n_val"):
                found[prefix + key] = value
        return found

    table = [numbers(row) for row in rows]
    return {key: {"mean": round(float(np.mean([t[key] for t in table])), 4),
                  "std": round(float(np.std([t[key] for t in table], ddof=1)), 4) if len(table) > 1 else 0.0}
            for key in table[0]}


def markdown(summary: dict[str, dict], fill: str) -> str:
    """The README table: plain against CAMAT, mean ± std over the seeds."""
    rows = [("held-out accuracy", "accuracy"), ("held-out macro F1", "macro_f1")]
    rows += [(f"accuracy, top {q} % GradCAM occluded (band-mean fill)", f"occluded_accuracy.mean_gradcam_{q}")
             for q in OCCLUDED_PERCENT]
    rows += [(f"accuracy, random {q} % occluded (band-mean fill)", f"occluded_accuracy.mean_random_{q}")
             for q in OCCLUDED_PERCENT]
    rows += [(f"accuracy, top {q} % GradCAM occluded (blur fill)", f"occluded_accuracy.blur_gradcam_{q}")
             for q in OCCLUDED_PERCENT]
    rows += [(f"accuracy, random {q} % occluded (blur fill)", f"occluded_accuracy.blur_random_{q}")
             for q in OCCLUDED_PERCENT]
    rows += [("accuracy, reflectance +10 %", "shift_accuracy.brightness_x1.1"),
             ("accuracy, reflectance −10 %", "shift_accuracy.brightness_x0.9"),
             (f"accuracy, scene at {COARSE_M} m read at 10 m", f"shift_accuracy.{COARSE_M}m_read_at_10m"),
             ("deletion AUC, GradCAM ↓", "deletion_auc.gradcam"),
             ("deletion AUC, counterfactual (its own generators) ↓", "deletion_auc.counterfactual"),
             ("deletion AUC, cyclegan (its own generators) ↓", "deletion_auc.cyclegan"),
             ("deletion AUC, random map ↓", "deletion_auc.random"),
             ("GradCAM evidence in top 10 % of pixels (last epoch)", "evidence_top10_last")]
    lines = [f"| measure (3 seeds, mean ± std) | plain | CAMAT ({fill} fill) |", "|---|---|---|"]
    for label, key in rows:
        cells = [f"{summary[v][key]['mean']:.3f} ± {summary[v][key]['std']:.3f}" for v in ("plain", "camat")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _settings(fill: str) -> CAMATSettings:
    defaults = CAMATSettings()
    return CAMATSettings(defaults.share, fill, defaults.probability, defaults.warmup)


_DATASETS: list[LabelledPatches] = []


def measured(variant: str, seed: int, counterfactual: bool) -> dict:
    """Train (unless done) and score one classifier, in a worker of its own: one thread, the row kept in a file.

    Args:
        variant: "plain" or a CAMAT fill.
        seed: the recipe's seed.
        counterfactual: also train its pattern generators (unless done) and score the counterfactual and
            cyclegan maps' deletion, added to a kept row that lacks them.
    """
    torch.set_num_threads(1)
    name = f"plain_s{seed}" if variant == "plain" else f"camat_{variant}_s{seed}"
    row_path = MODELS / f"{name}.row.json"
    row = json.loads(row_path.read_text()) if row_path.is_file() else None
    if row is not None and (not counterfactual or "counterfactual" in row["deletion_auc"]):
        return row
    path = trained(name, seed, None if variant == "plain" else _settings(variant))
    if not _DATASETS:
        _DATASETS.extend(_datasets(Path(tempfile.mkdtemp(prefix="camat_bench_"))))
    if row is None:
        row = {"variant": variant, **evaluate(path, seed, *_DATASETS)}
        row["evidence_top10_last"] = row["evidence_top10_by_epoch"][-1]
        row_path.write_text(json.dumps(row, indent=2))
    if counterfactual:
        row["deletion_auc"].update(counterfactual_deletion(path, trained_generators(name), seed, _DATASETS[0]))
        row_path.write_text(json.dumps(row, indent=2))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/camat.json"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--fills", default=",".join(FILLS), help="CAMAT fills compared on the first seed (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="classifiers trained at once, one thread each (default: 2)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    first, default = seeds[0], CAMATSettings().fill
    fills = [fill for fill in FILLS if fill in args.fills.split(",")]
    MODELS.mkdir(parents=True, exist_ok=True)
    # Pairs first, so a cut-short bench still compares plain and CAMAT on the seeds it reached.
    jobs = [*[job for s in seeds for job in (("plain", s, True), (default, s, True))],
            *[(fill, first, False) for fill in fills if fill != default]]
    with ProcessPoolExecutor(args.workers) as pool:
        results = {job[:2]: row for job, row in zip(jobs, pool.map(measured, *zip(*jobs)))}
    by_fill = {fill: results[(fill, first)]["accuracy"] for fill in [default, *fills] if (fill, first) in results}
    plain = [results[("plain", s)] for s in seeds]
    camat = [results[(default, s)] for s in seeds]
    summary = {"plain": _summary(plain), "camat": _summary(camat)}
    paired = {key: round(float(np.mean([c[key] - p[key] for c, p in zip(camat, plain)])), 4)
              for key in ("accuracy", "macro_f1")}
    report = {"recipe": TRAINING_OPTIONS, "camat_settings": _settings(default).card_entry(),
              "fill_comparison_seed": first, "fill_comparison_accuracy": by_fill, "seeds": seeds,
              "paired_difference_camat_minus_plain": paired, "summary": summary,
              "runs": list(results.values()), "torch_threads": 1}
    table = markdown(summary, default)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    print(f"fills on seed {first} (held-out accuracy): {by_fill}; paired CAMAT - plain: {paired}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
