"""Option types and option groups that more than one training command takes.

Every command validates numbers the same way and names its fitting options the same way,
so a user who knows `python -m train classifier` knows the others.
"""
import argparse
import os
from pathlib import Path

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError
from core.raster.bands import parse_band_mapping


def names(text: str) -> list[str]:
    """Comma-separated names, as an argparse type."""
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return found


def _positive(kind: type, text: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive {'whole ' if kind is int else ''}number")
    return value


def positive_int(text: str) -> int:
    """A whole number above 0, as an argparse type."""
    return int(_positive(int, text))


def positive_float(text: str) -> float:
    """A number above 0, as an argparse type."""
    return _positive(float, text)


def add_fit_arguments(parser: argparse.ArgumentParser, epochs: int, batch_size: int, lr: float) -> None:
    """The training group every command has: epochs, batch, learning rate, seed, spatial split, checkpoints, device.

    Args:
        parser: the sub-command's parser.
        epochs: the default number of epochs.
        batch_size: the default batch size.
        lr: the default Adam learning rate.
    """
    fit = parser.add_argument_group("training")
    fit.add_argument("--epochs", type=positive_int, default=epochs, help=f"total epochs, resumed ones included (default: {epochs})")
    fit.add_argument("--batch-size", type=positive_int, default=batch_size)
    fit.add_argument("--lr", type=positive_float, default=lr, help=f"Adam learning rate (default: {lr:g})")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--block-size-m", type=positive_float, default=1000.0, help="side of the validation blocks (default: 1000)")
    fit.add_argument("--val-fraction", type=float, default=0.2, help="share of blocks held out (default: 0.2)")
    fit.add_argument("--workdir", type=Path, help="checkpoint folder (default: OUT.ckpt next to --out)")
    fit.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --workdir")
    fit.add_argument("--device", choices=DEVICE_CHOICES, default="auto")


def model_base(out: Path) -> Path:
    """The model path without .json/.safetensors: OUT.json and OUT.safetensors are written."""
    return out.with_suffix("") if out.suffix in (".json", ".safetensors") else out


def default_workdir(out: Path) -> Path:
    """OUT.ckpt beside the model, where checkpoints go unless --workdir says otherwise."""
    return model_base(out).with_name(model_base(out).name + ".ckpt")


def check_writable(base: Path) -> None:
    """Fail before training, not after, when the model cannot be written.

    Raises:
        NaturalExplainError: when the folder cannot be created or written.
    """
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NaturalExplainError(f"cannot create {base.parent} for --out ({exc.strerror}): choose a folder you may write to") from exc
    if not os.access(base.parent, os.W_OK):
        raise NaturalExplainError(f"cannot write --out into {base.parent}: choose a folder you may write to")


def band_names_and_mapping(items: list[str]) -> tuple[list[str], dict[str, int] | None]:
    """Split --bands items into model band names and, for NAME=NUMBER items, the input band mapping.

    Raises:
        NaturalExplainError: when an item with '=' is not NAME=NUMBER.
    """
    if not any("=" in item for item in items):
        return items, None
    return [item.partition("=")[0].strip() for item in items], parse_band_mapping(",".join(items))
