"""`python -m train cyclegan`: train SpacEX's pattern maximizer and minimizer for a classifier.

Patches come from a raster and labelled polygons, as for the classifier (anthropogenic and natural
patches are the two CycleGAN domains), held out by the same spatial blocks. The generators take the classifier's
bands and preprocessing, and their model file records which classifier they were trained
against, so the explainer never pairs them with another.
"""
import argparse
import sys
from pathlib import Path

import torch
from torch import nn

from core.cli.options import fraction, non_negative_float, non_negative_int, path_value, positive_float, positive_int
from core.errors import NaturalExplainError
from core.models.card import ModelCard
from core.models.generator import PatternGenerators
from core.models.model_file import LoadedModel, classifier_reference, load_model, save_model
from core.models.patchgan import PatchGANDiscriminator
from core.models.preprocess import UnitSpace
from train.checkpoint import discard_earlier_run, run_fingerprint
from train.commands.arguments import add_fit_arguments, band_items, band_names_and_mapping, model_base, prepare_output
from train.datasets.raster_polygons import RasterPolygonPatches
from train.distributed import current_world, world_device
from train.endmembers import class_endmembers
from train.normalization import ModelInputs
from train.provenance import command_line, data_hash
from train.split import split_samples
from train.trainers.cyclegan import CycleGANSettings, CycleGANTrainer, frozen_score
from train.trainers.options import TrainerOptions

HELP = "train the pattern maximizer and minimizer (CycleGAN with activation maximization) for a classifier"
PROG = "python -m train cyclegan"
ARCHITECTURE = "repaint_pattern_generators"
N_DOWNSAMPLING = 2
INFERENCE_TILE = 256


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the cyclegan command's options.

    Args:
        parser: the sub-command's parser.
    """
    data = parser.add_argument_group("data")
    data.add_argument("--classifier", type=path_value, required=True, help="the classifier's model file (.json) to explain")
    data.add_argument("--kid-model", type=path_value, help="a model file the generators are NOT trained against (e.g. the "
                      "bundled JEM), whose features score the enhanced images' KID each epoch (default: no KID)")
    data.add_argument("--raster", type=path_value, required=True, help="a GeoTIFF or a folder of band files")
    data.add_argument("--polygons", type=path_value, required=True, help="labelled polygons (any OGR format and CRS)")
    data.add_argument("--label-field", default="label", help="the polygons' class-name field (default: label)")
    data.add_argument("--bands", type=band_items, help="NAME=NUMBER items mapping unnamed raster bands to the classifier's bands")
    data.add_argument("--patch-size", type=positive_int, default=64, help="patch side in model pixels (default: 64)")
    data.add_argument("--stride", type=positive_int, help="step between patches in pixels (default: half the patch)")
    model = parser.add_argument_group("model")
    model.add_argument("--out", type=path_value, required=True, help="model path; writes OUT.safetensors and OUT.json")
    model.add_argument("--ngf", type=positive_int, default=16, help="generator width (default: 16)")
    model.add_argument("--n-blocks", type=positive_int, default=4, help="generator ResNet blocks (default: 4)")
    model.add_argument("--ndf", type=positive_int, default=32, help="discriminator width (default: 32)")
    model.add_argument("--endmembers", type=positive_int, default=24,
                       help="real spectra each generator paints with: k-means centres of the training pixels of the class "
                            "it aims at (default: 24)")
    losses = parser.add_argument_group("losses (a weight of 0 switches a term off)")
    defaults = CycleGANSettings()
    for name, help_text in (("am", "the bounded score term"), ("proximity", "L1(G(x), x), standardised units"),
                            ("colour", "each band's mean shift over the tile"),
                            ("adversarial", "the LSGAN terms; 0 trains no discriminator"),
                            ("cycle", "the cycle terms"), ("identity", "the identity terms")):
        default = getattr(defaults, f"lambda_{name}")
        losses.add_argument(f"--lambda-{name}", type=non_negative_float, default=default,
                            help=f"weight of {help_text} (default: {default:g})")
    losses.add_argument("--am-margin", type=positive_float, default=defaults.am_margin,
                        help="natural log-odds the maximizer aims above and the minimizer below "
                             f"(default: {defaults.am_margin:g}, a probability of 0.982)")
    losses.add_argument("--warmup-steps", type=non_negative_int, default=defaults.warmup_steps,
                        help="steps over which the proximity, colour and identity weights ramp up from 0, so the score "
                             f"term can open a fresh generator's mask first (default: {defaults.warmup_steps})")
    losses.add_argument("--pool-size", type=non_negative_int, default=defaults.pool_size,
                        help=f"generated images kept per discriminator (default: {defaults.pool_size})")
    losses.add_argument("--decay-start", type=fraction, default=defaults.decay_start,
                        help="share of the epochs after which the learning rate decays linearly to 0 (default: 0.5)")
    losses.add_argument("--samples", type=positive_int, default=defaults.n_samples,
                        help=f"validation patches per sample grid (default: {defaults.n_samples})")
    add_fit_arguments(parser, epochs=4, batch_size=4, lr=2e-4)


def _classifier_bands(classifier: LoadedModel, items: list[str] | None) -> dict[str, int] | None:
    """The raster band mapping --bands gives, checked against the classifier's bands.

    Raises:
        NaturalExplainError: when --bands names other bands than the classifier takes.
    """
    if items is None:
        return None
    names_given, mapping = band_names_and_mapping(items)
    if names_given != classifier.card.bands or mapping is None:
        raise NaturalExplainError(f"--bands must map each of the classifier's bands {','.join(classifier.card.bands)} "
                                  "to a raster band number, in that order, e.g. B02=1,B03=2,...")
    return mapping


def generator_arch_args(card: ModelCard, palettes: dict[str, list[list[float]]], ngf: int, n_blocks: int) -> dict:
    """PatternGenerators' arguments for a classifier's card: its band statistics in unit space and the endmembers.

    Args:
        card: the classifier's card.
        palettes: {"natural": ..., "anthropogenic": ...} endmembers of each class (train/endmembers.py).
        ngf, n_blocks: the generators' width and depth.
    """
    low, high = card.clip
    span = high - low
    return {"in_channels": len(card.bands), "mean": [(m - low) / span for m in card.mean],
            "std": [s / span for s in card.std], "natural_endmembers": palettes["natural"],
            "anthropogenic_endmembers": palettes["anthropogenic"], "ngf": ngf, "n_blocks": n_blocks,
            "n_downsampling": N_DOWNSAMPLING}


def make_card(classifier: LoadedModel, args: argparse.Namespace, palettes: dict[str, list[list[float]]]) -> ModelCard:
    """The generators' card: the classifier's bands and preprocessing, the endmembers, and a reference to it."""
    c = classifier.card
    return ModelCard(
        architecture=ARCHITECTURE, arch_args=generator_arch_args(c, palettes, args.ngf, args.n_blocks),
        bands=list(c.bands), scale=c.scale, clip=tuple(c.clip), mean=list(c.mean), std=list(c.std),
        resolution_m=c.resolution_m, tile_size=INFERENCE_TILE, classes=list(c.classes),
        natural_classes=list(c.natural_classes), trained_against=classifier_reference(classifier))


def _discriminators(bands: int, ndf: int) -> nn.ModuleDict:
    return nn.ModuleDict({name: PatchGANDiscriminator(bands, ndf) for name in ("max", "min")})


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path:
    """Train the generators and write their model file.

    Args:
        args: the parsed options.
        parser: this command's parser, from which the reproducible command is rebuilt.

    Returns:
        The generators' JSON sidecar path.

    Raises:
        NaturalExplainError: for any bad input, before training wherever it can be detected.
    """
    device = world_device(current_world(), prepare_output(args))  # under torchrun on CUDA, this rank's GPU
    classifier = load_model(args.classifier, device)
    kid_model = load_model(args.kid_model, device) if args.kid_model else None
    if kid_model and not set(kid_model.card.bands) <= set(classifier.card.bands):
        raise NaturalExplainError(f"--kid-model {args.kid_model.name} needs bands the classifier lacks "
                                  f"({', '.join(sorted(set(kid_model.card.bands) - set(classifier.card.bands)))}): "
                                  "choose a model with the classifier's bands")
    mapping = _classifier_bands(classifier, args.bands)
    args.stride = args.stride or max(args.patch_size // 2, 1)
    dataset = RasterPolygonPatches(args.raster, args.polygons, args.label_field, classifier.card.bands,
                                   classifier.card.resolution_m, args.patch_size, args.stride, args.block_size_m, mapping)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, args.val_fraction, args.seed)
    digest = data_hash([*dataset.files, classifier.weights_path])
    train_data = ModelInputs(dataset, split.train, classifier.card)
    space = UnitSpace(classifier.card, device)
    card = make_card(classifier, args, class_endmembers(train_data, classifier.card, args.endmembers, args.seed))
    torch.manual_seed(args.seed)
    generators = PatternGenerators(**card.arch_args)
    settings = CycleGANSettings(args.lambda_cycle, args.lambda_identity, args.lambda_am, args.lambda_proximity,
                                args.lambda_colour, args.lambda_adversarial, args.am_margin, args.warmup_steps,
                                args.pool_size, args.decay_start, args.samples)
    options = TrainerOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             device=device, workdir=args.workdir, resume=args.resume)
    score = frozen_score(classifier.network, classifier.card.natural_indices, len(classifier.card.classes))
    trainer = CycleGANTrainer(generators, _discriminators(len(card.bands), args.ndf), score,
                              space, classifier.card, options, settings, run_fingerprint(args, digest), kid_model)
    if trainer.world.main:
        discard_earlier_run(args.workdir, args.resume)
    history = trainer.fit(train_data, ModelInputs(dataset, split.val, classifier.card))
    if not trainer.world.main:  # under torchrun rank 0 writes the model
        return model_base(args.out).with_suffix(".json")
    last = history[-1]
    card.training = {"command": command_line(PROG, parser, args), "data_hash": digest, "metrics": {
        "score_real": last["score_real"], "score_max": last["score_max"], "score_min": last["score_min"],
        "mean_attribution": last["mean_attribution"],
        **{k: v for k, v in last.items() if k.startswith(("outside_range_", "colour_cast_", "checkerboard_", "kid_"))},
        "n_train": len(split.train), "n_val": len(split.val),
        "split": split.mode, "block_size_m": args.block_size_m, "val_fraction": args.val_fraction,
        "epochs": last["epoch"], "training_seconds": round(sum(h["seconds"] for h in history), 1),
        "warnings": split.warnings, "history": history}}
    sidecar = save_model(generators.cpu(), card, model_base(args.out))
    print(f"wrote {sidecar}: classifier's mean natural score on {len(split.val)} held-out patches: real "
          f"{last['score_real']:.3f}, maximized {last['score_max']:.3f}, minimized {last['score_min']:.3f}", file=sys.stderr)
    return sidecar
