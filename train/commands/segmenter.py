"""`python -m train segmenter`: train a U-Net segmenter from a raster and polygons rasterised to pixel masks.

The classifier's layout (train.datasets.raster_polygons), read as masks (train.datasets.raster_masks),
with the classifier's spatial-block split, band statistics, checkpoints, --resume/--fresh and model
file; the trainer (train.trainers.segmenter) adds Dice to cross-entropy. The model card's
architecture is "unet_segmenter" (kind "segmenter"), which `python -m core segment` runs and
`python -m core explain` refuses by name.
"""
import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from core.cli.options import path_value, positive_float, positive_int, whole_number
from core.models.card import ModelCard
from core.models.model_file import save_model
from core.models.unet import UNetSegmenter
from train.checkpoint import discard_earlier_run, run_fingerprint
from train.commands.arguments import add_fit_arguments, band_items, band_names_and_mapping, model_base, names, prepare_output
from train.commands.classifier import BYTE_SCALE, DEFAULT_RASTER_BANDS, INFERENCE_TILE, SENTINEL2_SCALE, _clip, natural_classes
from train.datasets.raster_masks import MaskedModelInputs, RasterPolygonMasks
from train.label_checks import check_labels
from train.normalization import band_statistics
from train.provenance import command_line, data_hash
from train.split import Split, split_samples
from train.trainers.options import TrainerOptions
from train.trainers.segmenter import SegmenterTrainer

HELP = "train a U-Net segmenter (raster + polygons rasterised to pixel masks; cross-entropy + Dice)"
PROG = "python -m train segmenter"
ARCHITECTURE = "unet_segmenter"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share above 0 and at most 1, e.g. 0.25, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the segmenter command's options."""
    data = parser.add_argument_group("raster + polygons")
    data.add_argument("--raster", type=path_value, required=True, help="a GeoTIFF or a folder of band files")
    data.add_argument("--polygons", type=path_value, required=True,
                      help="polygon layer (GeoPackage, Shapefile, GeoJSON; any CRS), rasterised to pixel masks")
    data.add_argument("--label-field", default="label", help="the polygons' class-name field (default: label)")
    data.add_argument("--patch-size", type=positive_int, default=64, help="patch side in model pixels (default: 64)")
    data.add_argument("--stride", type=positive_int, help="step between patches in pixels (default: half the patch)")
    data.add_argument("--min-labelled", type=_share, default=0.25,
                      help="share of a patch's pixels the polygons must label for it to be used (default: 0.25)")
    model = parser.add_argument_group("model")
    model.add_argument("--out", type=path_value, required=True, help="model path; writes OUT.safetensors and OUT.json")
    model.add_argument("--bands", type=band_items, help="band names in model order, or NAME=NUMBER items mapping "
                       f"unnamed raster bands (default: {','.join(DEFAULT_RASTER_BANDS)})")
    model.add_argument("--natural-classes", type=names, help="classes that count as natural (default: 'natural')")
    model.add_argument("--resolution-m", type=positive_float, default=10.0, help="model pixel size in metres (default: 10)")
    model.add_argument("--scale", type=positive_float, help="multiplies raw values (default: 1e-4, or 1/255 for 8-bit images)")
    model.add_argument("--clip", type=_clip, default=(0.0, 1.0), help="range after scaling (default: 0,1)")
    model.add_argument("--width", type=positive_int, default=16, help="channels of the full-resolution stage (default: 16)")
    model.add_argument("--depth", type=whole_number(1, 6), default=3, help="number of 2x poolings, 1 to 6 (default: 3)")
    add_fit_arguments(parser, epochs=12, batch_size=16, lr=1e-3)


def make_card(args: argparse.Namespace, dataset: RasterPolygonMasks, split: Split) -> ModelCard:
    """The model card, with mean, std and value range from the training split only."""
    stats = band_statistics(dataset, split.train, args.scale, args.clip)
    return ModelCard(
        architecture=ARCHITECTURE,
        arch_args={"in_channels": len(dataset.bands), "num_classes": len(dataset.classes), "width": args.width,
                   "depth": args.depth},
        bands=list(dataset.bands), scale=args.scale, clip=tuple(args.clip), mean=stats.mean, std=stats.std,
        resolution_m=dataset.resolution_m, tile_size=INFERENCE_TILE, classes=list(dataset.classes),
        natural_classes=list(args.natural_classes), value_range=stats.value_range)


def summarize(history: list[dict[str, Any]], dataset: RasterPolygonMasks, split: Split,
              args: argparse.Namespace) -> dict[str, Any]:
    """The metrics the model card records (pixel scores over the validation blocks' labelled pixels)."""
    last = history[-1]
    return {
        "val_accuracy": last["val_accuracy"], "val_f1": last["val_f1"], "val_iou": last["val_iou"],
        "val_loss": last["val_loss"], "confusion": last["confusion"], "scores": "pixels",
        "n_train": len(split.train), "n_val": len(split.val),
        "n_train_groups": len({dataset.groups[i] for i in split.train}),
        "n_val_groups": len({dataset.groups[i] for i in split.val}),
        "labelled_pixels": {name: int(n) for name, n in zip(dataset.classes, dataset.pixel_counts)},
        "split": split.mode, "block_size_m": args.block_size_m, "val_fraction": args.val_fraction,
        "epochs": last["epoch"], "training_seconds": round(sum(h["seconds"] for h in history), 1),
        "warnings": split.warnings,
        "history": [{k: h[k] for k in ("epoch", "train_loss", "val_loss", "val_accuracy")} for h in history],
    }


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path:
    """Train and write the model file.

    Returns:
        The model's JSON sidecar path.

    Raises:
        NaturalExplainError: for any bad input, before training wherever it can be detected.
    """
    device = prepare_output(args)
    args.bands = args.bands or DEFAULT_RASTER_BANDS
    args.stride = args.stride or max(args.patch_size // 2, 1)
    band_names, mapping = band_names_and_mapping(args.bands)
    check_labels(args.raster, args.polygons, args.label_field, args.resolution_m)
    dataset = RasterPolygonMasks(args.raster, args.polygons, args.label_field, band_names, args.resolution_m,
                                 args.patch_size, args.stride, args.block_size_m, args.min_labelled, mapping)
    args.natural_classes = natural_classes(args.natural_classes, dataset.classes)
    args.scale = args.scale if args.scale is not None else (BYTE_SCALE if dataset.is_8bit else SENTINEL2_SCALE)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, args.val_fraction, args.seed)
    card = make_card(args, dataset, split)
    digest = data_hash(dataset.files)
    torch.manual_seed(args.seed)
    network = UNetSegmenter(**card.arch_args)
    options = TrainerOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             device=device, workdir=args.workdir, resume=args.resume)
    train = MaskedModelInputs(dataset, split.train, card)
    trainer = SegmenterTrainer(network, dataset.classes, options, run_fingerprint(args, digest))
    if trainer.world.main:
        discard_earlier_run(args.workdir, args.resume)
    history = trainer.fit(train, MaskedModelInputs(dataset, split.val, card), train.labels)
    if not trainer.world.main:  # under torchrun rank 0 writes the model
        return model_base(args.out).with_suffix(".json")
    card.training = {"command": command_line(PROG, parser, args), "data_hash": digest,
                     "metrics": summarize(history, dataset, split, args)}
    sidecar = save_model(network.cpu(), card, model_base(args.out))
    last = history[-1]
    print(f"wrote {sidecar}: val pixel accuracy {last['val_accuracy']:.3f} on the labelled pixels of "
          f"{len({dataset.groups[i] for i in split.val})} held-out blocks ({split.mode}), IoU {last['val_iou']}",
          file=sys.stderr)
    return sidecar
