"""Measure `core sample`: KID of class-conditional JEM samples against real held-out patches of their class.

For each class, starts and chain length, 16 samples are drawn exactly as `core sample` draws
them, and their KID (core.jem.kid) against real patches of the scene's held-out south half is
set beside three yardsticks of the same size: the floor (a second, disjoint set of real patches
of the class), the class gap (real patches of the other class) and uniform noise. Samples look
like their class, by this measure, when their KID is below the class gap. KID on these pooled
features does not see texture, so each row also gives the samples' fine detail (core.fine_detail)
relative to the real patches of the class. The starts alone (0 SGLD steps) say what the chain
adds; a JEM trained with the score term also runs the annealed chain down its ladder (--levels).
Writes JSON (default out/bench/samples.json) and, with --figure, real held-out patches of each
class beside `core sample`'s default samples of it.

    .venv/bin/python bench/measure_samples.py [--out FILE] [--model M] [--steps 0,20,100] [--levels 100] [--start-sigma S] [--figure PNG]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import matplotlib
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure_inpaint import held_out_stack  # noqa: E402
from core import sample as sampling  # noqa: E402
from core.atomic import atomic_path  # noqa: E402
from core.models.card import ModelCard, read_card  # noqa: E402
from core.models.choice import given_or_bundled  # noqa: E402
from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.resources import DEFAULT_MODEL, DEFAULT_SAMPLING_JEM  # noqa: E402
from core.scan import prepare  # noqa: E402
from train.score_term import score_residual  # noqa: E402

SEED = 0
N = 16
# The levels at which the score's fit is measured: the training ladder's ends, four between and the top of `train
# energy`'s chain (10).
FIT_LEVELS = (10.0, 5.0, 2.0, 0.8, 0.32, 0.13, 0.05, 0.02)


def score_fit(model: Path, reference: Path) -> dict[str, float]:
    """The score term's residual (train/score_term.py, in the card's form; 1: no help) at each of FIT_LEVELS, on
    held-out 32 px patches.

    Each patch's class is the JEM's own verdict (the south half's labels are never used); this is
    what chose where `core sample`'s annealed chain starts (core.sample.ANNEALED_START_SIGMA, and the chain of a
    `train energy` card).
    """
    scan = prepare(reference, model, device="cpu")
    loaded = scan.loaded
    raw, valid = read_window(scan.band_refs, scan.grids.model)
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))
    patch = loaded.card.jem["patch_size"]
    patches = torch.stack([x[:, r:r + patch, c:c + patch] for r in range(0, x.shape[1] - patch + 1, 2 * patch)
                           for c in range(0, x.shape[2] - patch + 1, 2 * patch)])
    with torch.no_grad():
        labels = loaded.network(patches).argmax(dim=1)
    form = loaded.card.jem["score"].get("form", "energy")
    fit = {}
    for sigma in FIT_LEVELS:
        residual = score_residual(loaded.network, patches, labels, torch.Generator().manual_seed(SEED), sigma, sigma, 0.0,
                                  form)
        fit[f"{sigma:g}"] = round(float(residual.detach()), 4)
    print(json.dumps({"score_fit": fit}), flush=True)
    return fit


def measure(model: Path, card: ModelCard, steps: list[int], levels: list[int], guidances: list[float | None],
            work: Path, start_sigma: float | None = None) -> list[dict]:
    """One row per class, start, chain length and guidance weight: the samples' KID and fine detail, and the
    yardsticks' KID; the annealed chains start at `start_sigma` (the card's when None)."""
    reference = held_out_stack(work / "held_out.tif", card.bands)
    rows = []
    for class_name in card.classes:
        for init in sampling.INITS:
            if init == "annealed" and not card.jem.get("score"):
                continue
            chains = levels if init == "annealed" else [0] if card.jem.get("score") else steps  # SGLD runs away
            for n_steps, guidance in [(n, g) for n in chains for g in (guidances if init == "annealed" else [None])]:
                result = sampling.sample(work / _grid_name(class_name, init, n_steps, guidance), class_name=class_name,
                                         n=N, model=model, steps=n_steps, init=init, reference=reference, seed=SEED,
                                         device="cpu", guidance=guidance,
                                         start_sigma=start_sigma if init == "annealed" else None)
                rows.append({"class": class_name, "init": init, "steps": n_steps,
                             **({} if guidance is None else {"guidance": guidance}), "kid": result.kid,
                             "fine_detail": result.fine_detail,
                             "mean_probability": {"jem": round(result.jem_probability, 4),
                                                  "independent_classifier": round(result.reference_probability, 4)}})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def _grid_name(class_name: str, init: str, steps: int, guidance: float | None) -> str:
    return f"{class_name}_{init}_{steps}{'' if guidance is None else f'_g{guidance:g}'}.png"


def figure(model: Path, work: Path, out: Path) -> Path:
    """Real held-out patches of each class (those the independent classifier is sure of) beside its default samples.

    Uses the sample grids `measure` drew at the default start and chain length.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scan = prepare(work / "held_out.tif", given_or_bundled(model, DEFAULT_SAMPLING_JEM, "JEM"), device="cpu")
    loaded = scan.loaded
    real = sampling.reference_patches(scan, load_model(DEFAULT_MODEL), loaded.card.jem["patch_size"],
                                      torch.Generator().manual_seed(SEED))
    classes, init = loaded.card.classes, sampling.default_init(loaded.card)
    fig, axes = plt.subplots(len(classes), 2, figsize=(8, 4 * len(classes)))
    for row, name in zip(axes, classes):
        real_png = sampling.write_grid(work / f"real_{name}.png", torch.from_numpy(real.patches_of(name)[:N]),
                                       loaded.card.bands)
        sampled_png = work / _grid_name(name, init, sampling.default_steps(init), None)
        for ax, png, title in zip(row, (real_png, sampled_png), (f"real {name} (held out)", f"JEM samples: {name}")):
            ax.imshow(plt.imread(png))
            ax.set_title(title)
            ax.axis("off")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/samples.json"))
    parser.add_argument("--model", type=Path, default=DEFAULT_SAMPLING_JEM)
    parser.add_argument("--steps", default="0,20,100", help="SGLD chain lengths, comma-separated; --figure needs "
                        f"core sample's default, {sampling.DEFAULT_STEPS}, for a JEM without the score term")
    parser.add_argument("--levels", default=str(sampling.DEFAULT_LEVELS), help="noise ladder lengths for a JEM trained "
                        f"with the score term, comma-separated; --figure needs core sample's {sampling.DEFAULT_LEVELS}")
    parser.add_argument("--guidance", default="",
                        help="classifier guidance weights for a JEM fitted by `train energy`, comma-separated, beside the "
                             "card's own (which --figure shows)")
    parser.add_argument("--start-sigma", type=float, help="where the annealed chains start (default: the card's)")
    parser.add_argument("--figure", type=Path, help="also write real patches beside samples to this PNG")
    args = parser.parse_args()
    card, _ = read_card(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        guidances = [None, *(float(v) for v in args.guidance.split(",") if v)]
        rows = measure(args.model, card, [int(v) for v in args.steps.split(",")],
                       [int(v) for v in args.levels.split(",")], guidances, Path(tmp), args.start_sigma)
        fit = score_fit(args.model, Path(tmp) / "held_out.tif") if card.jem.get("score") else None
        if args.figure:
            print(f"written: {figure(args.model, Path(tmp), args.figure)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": str(args.model), "n": N, "seed": SEED, "rows": rows, "score_fit": fit},
                                   indent=2) + "\n")


if __name__ == "__main__":
    main()
