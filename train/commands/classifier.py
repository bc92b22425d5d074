"""`python -m train classifier`: train a naturalness classifier from one of three dataset layouts.

This module only wires things together: a dataset layout gives labelled raw patches, the
split holds out validation, the training statistics make the model card, the trainer fits
the network, and the model file records the exact command, a data hash and the metrics.
"""
import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import torch

from core.cli.options import finite_float, path_value, positive_float, positive_int
from core.errors import NaturalExplainError
from core.models.card import ModelCard
from core.models.classifier import NaturalnessFCN
from core.models.model_file import save_model
from train.camat import CAMATSettings
from train.checkpoint import discard_earlier_run, run_fingerprint
from train.commands.arguments import (
    add_camat_arguments,
    add_fit_arguments,
    band_items,
    band_names_and_mapping,
    camat_settings,
    default_workdir,
    model_base,
    names,
    prepare_output,
)
from train.datasets.anthroprotect import anthroprotect
from train.datasets.eurosat import eurosat
from train.datasets.labelled_patches import LabelledPatches
from train.datasets.raster_polygons import RasterPolygonPatches
from train.label_checks import check_labels
from train.normalization import ModelInputs, band_statistics
from train.provenance import command_line, data_hash
from train.split import Split, split_samples
from train.trainers.classifier import ClassifierTrainer
from train.trainers.options import TrainerOptions

HELP = "train a naturalness classifier (raster + polygons, EuroSAT folder, or AnthroProtect/MapInWild tiles + CSV)"
PROG = "python -m train classifier"
DEFAULT_RASTER_BANDS = ["B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"]
SENTINEL2_SCALE = 1e-4
BYTE_SCALE = 1 / 255
INFERENCE_TILE = 256
ARCHITECTURE = "naturalness_fcn"


def _clip(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        low, high = (finite_float(v) for v in parts) if len(parts) == 2 else ()
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH with finite numbers, e.g. 0,1, got {text!r}") from exc
    if low >= high:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH with LOW below HIGH, got {text!r}")
    return low, high


def add_arguments(parser: argparse.ArgumentParser, epochs: int = 10, batch_size: int = 32, lr: float = 1e-3) -> None:
    """Declare the classifier command's options (the JEM command takes them too, with its own fit defaults).

    Args:
        parser: the sub-command's parser.
        epochs: the default number of epochs.
        batch_size: the default batch size.
        lr: the default Adam learning rate.
    """
    source = parser.add_argument_group("data (choose one layout)").add_mutually_exclusive_group(required=True)
    source.add_argument("--raster", type=path_value, help="a GeoTIFF or a folder of band files (with --polygons)")
    source.add_argument("--eurosat", type=path_value, help="a EuroSAT-style folder, one sub-folder per class")
    source.add_argument("--tiles", type=path_value, help="an AnthroProtect/MapInWild-style folder of GeoTIFF tiles (with --csv)")
    raster = parser.add_argument_group("raster + polygons")
    raster.add_argument("--polygons", type=path_value, help="polygon layer (GeoPackage, Shapefile, GeoJSON; any CRS)")
    raster.add_argument("--label-field", default="label", help="the polygons' class-name field (default: label)")
    raster.add_argument("--patch-size", type=positive_int, default=32, help="patch side in model pixels (default: 32)")
    raster.add_argument("--stride", type=positive_int, help="step between patches in pixels (default: half the patch)")
    tiles = parser.add_argument_group("tiles + CSV")
    tiles.add_argument("--csv", type=path_value, help="AnthroProtect infos.csv, MapInWild split_IDs.csv, or id/label/split CSV")
    tiles.add_argument("--id-column", help="tile-id column (default: file, id, tile, filename or image)")
    tiles.add_argument("--label-column", help="label column (default: label or class)")
    tiles.add_argument("--split-column", help="split column (default: datasplit or split; '' to split spatially)")
    tiles.add_argument("--masks", type=path_value, help="MapInWild mask folder, labelling tiles by their majority")
    tiles.add_argument("--tile-bands", type=names, help="names of the tile files' bands in file order, if unnamed")
    model = parser.add_argument_group("model")
    model.add_argument("--out", type=path_value, required=True, help="model path; writes OUT.safetensors and OUT.json")
    model.add_argument("--bands", type=band_items, help="band names in model order, or NAME=NUMBER items mapping "
                       "unnamed raster bands, as python -m core takes them (default: raster "
                       f"{','.join(DEFAULT_RASTER_BANDS)}; tiles: every band they have)")
    model.add_argument("--natural-classes", type=names, help="classes that count as natural (default: 'natural')")
    model.add_argument("--resolution-m", type=positive_float, help="model pixel size in metres (default: 10 for a raster, "
                       "the tiles' own otherwise)")
    model.add_argument("--scale", type=positive_float, help="multiplies raw values (default: 1e-4, or 1/255 for 8-bit images)")
    model.add_argument("--clip", type=_clip, default=(0.0, 1.0), help="range after scaling (default: 0,1)")
    model.add_argument("--width", type=positive_int, default=32, help="network width (default: 32)")
    add_fit_arguments(parser, epochs, batch_size, lr)
    add_camat_arguments(parser)


def _require(args: argparse.Namespace, needed: list[str], layout: str) -> None:
    missing = [name for name in needed if getattr(args, name.lstrip("-").replace("-", "_")) is None]
    if missing:
        raise NaturalExplainError(f"{layout} also needs {' and '.join(missing)}")


def build_dataset(args: argparse.Namespace) -> LabelledPatches:
    """Open the layout the arguments name, resolving raster defaults into `args`.

    Raises:
        NaturalExplainError: for incomplete arguments or bad data.
    """
    if args.raster is not None:
        _require(args, ["--polygons"], "--raster")
        args.bands = args.bands or DEFAULT_RASTER_BANDS
        args.resolution_m = args.resolution_m or 10.0
        args.stride = args.stride or max(args.patch_size // 2, 1)
        names, mapping = band_names_and_mapping(args.bands)
        check_labels(args.raster, args.polygons, args.label_field, args.resolution_m)
        return RasterPolygonPatches(args.raster, args.polygons, args.label_field, names, args.resolution_m,
                                    args.patch_size, args.stride, args.block_size_m, mapping)
    args.label_field = args.patch_size = None  # raster-only options; kept out of the recorded command
    if args.bands and band_names_and_mapping(args.bands)[1]:
        raise NaturalExplainError("NAME=NUMBER in --bands maps raster bands; name the bands of tile files with --tile-bands")
    if args.eurosat is not None:
        return eurosat(args.eurosat, args.bands, args.block_size_m, args.resolution_m, args.tile_bands)
    _require(args, ["--csv"], "--tiles")
    return anthroprotect(args.tiles, args.csv, args.bands, args.block_size_m, args.id_column, args.label_column,
                         args.split_column, args.masks, args.tile_bands)


def natural_classes(requested: list[str] | None, classes: list[str]) -> list[str]:
    """The natural classes: those requested, or the class literally named 'natural'.

    Raises:
        NaturalExplainError: when none is given and no class is named 'natural', or one is unknown.
    """
    if requested is None:
        if "natural" not in classes:
            raise NaturalExplainError(f"the classes are {', '.join(classes)}: say which count as natural with --natural-classes")
        return ["natural"]
    unknown = [name for name in requested if name not in classes]
    if unknown:
        raise NaturalExplainError(f"--natural-classes {', '.join(unknown)} not among the classes {', '.join(classes)}")
    return requested


def resolve_defaults(args: argparse.Namespace, dataset: LabelledPatches) -> None:
    """Write every default that depends on the data back into `args`, so the command is exact."""
    args.bands = args.bands or dataset.bands
    args.resolution_m = dataset.resolution_m
    args.natural_classes = natural_classes(args.natural_classes, dataset.classes)
    args.scale = args.scale if args.scale is not None else (BYTE_SCALE if dataset.is_8bit else SENTINEL2_SCALE)
    args.workdir = args.workdir or default_workdir(args.out)


def make_card(args: argparse.Namespace, dataset: LabelledPatches, split: Split) -> ModelCard:
    """The model card, with mean, std and value range from the training split only."""
    stats = band_statistics(dataset, split.train, args.scale, args.clip)
    return ModelCard(
        architecture=ARCHITECTURE,
        arch_args={"in_channels": len(dataset.bands), "num_classes": len(dataset.classes), "width": args.width},
        bands=list(dataset.bands), scale=args.scale, clip=tuple(args.clip), mean=stats.mean, std=stats.std,
        resolution_m=dataset.resolution_m, tile_size=INFERENCE_TILE, classes=list(dataset.classes),
        natural_classes=list(args.natural_classes), value_range=stats.value_range)


def summarize(history: list[dict[str, Any]], dataset: LabelledPatches, split: Split, args: argparse.Namespace) -> dict[str, Any]:
    """The metrics the model card records."""
    last = history[-1]
    return {
        "val_accuracy": last["val_accuracy"], "val_f1": last["val_f1"], "val_loss": last["val_loss"],
        "confusion": last["confusion"], "n_train": len(split.train), "n_val": len(split.val),
        "n_train_groups": len({dataset.groups[i] for i in split.train}),
        "n_val_groups": len({dataset.groups[i] for i in split.val}),
        "split": split.mode, "block_size_m": args.block_size_m, "val_fraction": args.val_fraction,
        "epochs": last["epoch"], "training_seconds": round(sum(h["seconds"] for h in history), 1),
        "warnings": split.warnings,
        "history": [{k: h[k] for k in ("epoch", "train_loss", "val_loss", "val_accuracy", "val_evidence_top10") if k in h}
                    for h in history],
    }


def camat_record(args: argparse.Namespace) -> dict[str, Any]:
    """The training record's `camat` entry (the settings, which the plugin shows) under --camat; empty otherwise."""
    return {"camat": CAMATSettings(args.camat_share, args.camat_fill, args.camat_probability,
                                   args.camat_warmup).card_entry()} if args.camat else {}


@dataclasses.dataclass
class PreparedRun:
    """What every classifier-like command builds before training: data, split, card, fresh network, options."""

    dataset: LabelledPatches
    split: Split
    card: ModelCard
    train: ModelInputs
    val: ModelInputs
    digest: str
    network: NaturalnessFCN
    options: TrainerOptions


def prepare(args: argparse.Namespace) -> PreparedRun:
    """Check the output, read and split the data, and build the card, a seeded network and the trainer options.

    Raises:
        NaturalExplainError: for any bad input, before training wherever it can be detected.
    """
    camat = camat_settings(args)
    device = prepare_output(args)
    dataset = build_dataset(args)
    resolve_defaults(args, dataset)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, dataset.splits,
                          args.val_fraction, args.seed)
    card = make_card(args, dataset, split)
    digest = data_hash(dataset.files)
    torch.manual_seed(args.seed)
    network = NaturalnessFCN(**card.arch_args)
    options = TrainerOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             device=device, workdir=args.workdir, resume=args.resume, camat=camat)
    return PreparedRun(dataset, split, card, ModelInputs(dataset, split.train, card), ModelInputs(dataset, split.val, card),
                       digest, network, options)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path:
    """Train and write the model file.

    Args:
        args: the parsed options.
        parser: this command's parser, from which the reproducible command is rebuilt.

    Returns:
        The model's JSON sidecar path.

    Raises:
        NaturalExplainError: for any bad input, before training wherever it can be detected.
    """
    run_ = prepare(args)
    dataset, split, card = run_.dataset, run_.split, run_.card
    trainer = ClassifierTrainer(run_.network, dataset.classes, run_.options, run_fingerprint(args, run_.digest))
    if trainer.world.main:
        discard_earlier_run(args.workdir, args.resume)
    history = trainer.fit(run_.train, run_.val, run_.train.labels)
    if not trainer.world.main:  # under torchrun rank 0 writes the model
        return model_base(args.out).with_suffix(".json")
    card.training = {"command": command_line(PROG, parser, args), "data_hash": run_.digest,
                     "metrics": summarize(history, dataset, split, args), **camat_record(args)}
    sidecar = save_model(run_.network.cpu(), card, model_base(args.out))
    print(f"wrote {sidecar}: val accuracy {history[-1]['val_accuracy']:.3f} on {len(split.val)} held-out "
          f"samples ({split.mode}), F1 {history[-1]['val_f1']}", file=sys.stderr)
    return sidecar
