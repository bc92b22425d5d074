"""Measure `core sample`: KID of class-conditional JEM samples against real held-out patches of their class.

For each class, starts and chain length, 16 samples are drawn exactly as `core sample` draws
them, and their KID (core.jem.kid) against real patches of the scene's held-out south half is
set beside three yardsticks of the same size: the floor (a second, disjoint set of real patches
of the class), the class gap (real patches of the other class) and uniform noise. Samples look
like their class, by this measure, when their KID is below the class gap. The starts alone
(0 SGLD steps) say what the chain adds. Writes JSON (default out/bench/samples.json) and, with
--figure, real held-out patches of each class beside `core sample`'s default samples of it.

    .venv/bin/python bench/measure_samples.py [--out FILE] [--model M] [--steps 0,20,100] [--figure PNG]
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
from core.models.card import read_card  # noqa: E402
from core.models.choice import given_or_bundled  # noqa: E402
from core.models.model_file import load_model  # noqa: E402
from core.resources import DEFAULT_JEM, DEFAULT_MODEL  # noqa: E402
from core.scan import prepare  # noqa: E402

SEED = 0
N = 16


def measure(model: Path, steps: list[int], work: Path) -> list[dict]:
    """One row per class, start and chain length: the samples' KID and the yardsticks'."""
    card, _ = read_card(model)
    reference = held_out_stack(work / "held_out.tif", card.bands)
    rows = []
    for class_name in card.classes:
        for init in sampling.INITS:
            for n_steps in steps:
                result = sampling.sample(work / f"{class_name}_{init}_{n_steps}.png", class_name=class_name, n=N,
                                         model=model, steps=n_steps, init=init, reference=reference, seed=SEED,
                                         device="cpu")
                rows.append({"class": class_name, "init": init, "steps": n_steps, "kid": result.kid,
                             "mean_probability": {"jem": round(result.jem_probability, 4),
                                                  "independent_classifier": round(result.reference_probability, 4)}})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def figure(model: Path, work: Path, out: Path) -> Path:
    """Real held-out patches of each class (those the independent classifier is sure of) beside its default samples.

    Uses the sample grids `measure` drew at the default start and chain length.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scan = prepare(work / "held_out.tif", given_or_bundled(model, DEFAULT_JEM, "JEM"), device="cpu")
    loaded = scan.loaded
    real = sampling.reference_patches(scan, load_model(DEFAULT_MODEL), loaded.card.jem["patch_size"],
                                      torch.Generator().manual_seed(SEED))
    classes = loaded.card.classes
    fig, axes = plt.subplots(len(classes), 2, figsize=(8, 4 * len(classes)))
    for row, name in zip(axes, classes):
        real_png = sampling.write_grid(work / f"real_{name}.png", real.patches[torch.from_numpy(real.confident(name))][:N],
                                       loaded.card.bands)
        sampled_png = work / f"{name}_{sampling.DEFAULT_INIT}_{sampling.DEFAULT_STEPS}.png"
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
    parser.add_argument("--model", type=Path, default=DEFAULT_JEM)
    parser.add_argument("--steps", default="0,20,100", help="chain lengths, comma-separated; --figure needs "
                        f"core sample's default, {sampling.DEFAULT_STEPS}")
    parser.add_argument("--figure", type=Path, help="also write real patches beside samples to this PNG")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(args.model, [int(v) for v in args.steps.split(",")], Path(tmp))
        if args.figure:
            print(f"written: {figure(args.model, Path(tmp), args.figure)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": str(args.model), "n": N, "seed": SEED, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
