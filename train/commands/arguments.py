"""Option types and option groups that more than one training command takes.

Every command validates numbers the same way and names its fitting options the same way,
so a user who knows `python -m train classifier` knows the others. The number types are
core.cli.options', which `python -m core` uses too.
"""
import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli.options import non_negative_int, open_fraction, path_value, positive_float, positive_int, real_number, seed
from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError
from core.raster.bands import parse_band_mapping
from core.raster.sources import normalize_band_name
from train.camat import FILLS, CAMATSettings

if TYPE_CHECKING:
    import torch

__all__ = ["add_camat_arguments", "add_fit_arguments", "band_items", "band_names_and_mapping", "camat_settings", "check_writable",
           "default_workdir", "model_base", "names", "positive_float", "positive_int"]


def names(text: str) -> list[str]:
    """Comma-separated names, as an argparse type."""
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise argparse.ArgumentTypeError(f"must be comma-separated names, got {text!r}")
    return found


def band_items(text: str) -> list[str]:
    """--bands: model band names in model order, or NAME=NUMBER items mapping unnamed raster bands, as an argparse type.

    Each name may come once, and NAME=NUMBER items are checked as `python -m core --bands` checks them.
    """
    items = names(text)
    if any("=" in item for item in items):
        try:
            parse_band_mapping(",".join(items))
        except NaturalExplainError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    else:
        given = [normalize_band_name(item) for item in items]
        twice = sorted({name for name in given if given.count(name) > 1})
        if twice:
            raise argparse.ArgumentTypeError(f"names {', '.join(twice)} twice ('{text}'): name each band once")
    return items


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
    fit.add_argument("--seed", type=seed, default=0)
    fit.add_argument("--block-size-m", type=positive_float, default=1000.0, help="side of the validation blocks (default: 1000)")
    fit.add_argument("--val-fraction", type=open_fraction, default=0.2, help="share of blocks held out (default: 0.2)")
    fit.add_argument("--workdir", type=path_value, help="checkpoint folder (default: OUT.ckpt next to --out)")
    again = fit.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --workdir")
    again.add_argument("--fresh", action="store_true", help="discard the checkpoints an earlier run left in --workdir "
                       "and start again (without it, a run refuses to overwrite them)")
    fit.add_argument("--device", choices=DEVICE_CHOICES, default="auto")


def add_camat_arguments(parser: argparse.ArgumentParser) -> None:
    """--camat and its settings, for the commands that train a classifier (classifier, jem); see train/camat.py.

    The settings default to None so that a setting given without --camat is caught (camat_settings).
    """
    defaults = CAMATSettings()
    camat = parser.add_argument_group("CAMAT: occlude each sample's strongest GradCAM evidence while training")
    camat.add_argument("--camat", action="store_true", help="train on batches whose samples are partly occluded where "
                       "the GradCAM of their true class is highest (Yang et al., IGARSS 2019)")
    camat.add_argument("--camat-share", type=open_fraction, help="share of an occluded sample's pixels hidden: the top "
                       f"of its true-class GradCAM (default: {defaults.share:g})")
    camat.add_argument("--camat-fill", choices=FILLS, help="what hidden pixels become: the card's band means, the "
                       f"batch's band means, or noise with the card's band means and stds (default: {defaults.fill})")
    camat.add_argument("--camat-probability", type=real_number(0, 1, low_open=True),
                       help=f"chance that a sample of a batch is occluded (default: {defaults.probability:g})")
    camat.add_argument("--camat-warmup", type=non_negative_int, help="epochs of plain training before occlusion starts "
                       f"(an untrained network's GradCAM is noise; default: {defaults.warmup})")


def camat_settings(args: argparse.Namespace) -> CAMATSettings | None:
    """CAMAT's settings under --camat (defaults written back into `args`, so the recorded command is exact), else None.

    Raises:
        NaturalExplainError: for a CAMAT setting without --camat, or a warm-up that leaves no epoch to occlude.
    """
    names = ["share", "fill", "probability", "warmup"]
    if not args.camat:
        given = [f"--camat-{name}" for name in names if getattr(args, f"camat_{name}") is not None]
        if given:
            raise NaturalExplainError(f"{', '.join(given)} only apply with --camat: add --camat or drop them")
        return None
    defaults = CAMATSettings()
    settings = CAMATSettings(**{name: getattr(defaults, name) if getattr(args, f"camat_{name}") is None
                                else getattr(args, f"camat_{name}") for name in names})
    if settings.warmup >= args.epochs:
        raise NaturalExplainError(f"--camat-warmup {settings.warmup} leaves none of the {args.epochs} --epochs to occlude: "
                                  "lower --camat-warmup or raise --epochs")
    for name in names:
        setattr(args, f"camat_{name}", getattr(settings, name))
    return settings


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


def prepare_output(args: argparse.Namespace) -> "torch.device":
    """Before any data is read: the device, a writable --out, and a --workdir (default OUT.ckpt) that
    holds no earlier run unless --resume or --fresh says what to do with it; returns the device.

    Raises:
        NaturalExplainError: for an unwritable --out or a workdir with an earlier run.
    """
    from core.device import resolve_device
    from train.checkpoint import check_workdir

    device = resolve_device(args.device)
    check_writable(model_base(args.out))
    args.workdir = args.workdir or default_workdir(args.out)
    check_workdir(args.workdir, args.resume, args.fresh)
    return device


def band_names_and_mapping(items: list[str]) -> tuple[list[str], dict[str, int] | None]:
    """Split --bands items into model band names and, for NAME=NUMBER items, the input band mapping.

    Raises:
        NaturalExplainError: when an item with '=' is not NAME=NUMBER.
    """
    if not any("=" in item for item in items):
        return items, None
    return [item.partition("=")[0].strip() for item in items], parse_band_mapping(",".join(items))
