"""`python -m train energy`: carry a generative JEM's energy on as a denoiser, on unlabelled crops of a raster.

It takes a model `train jem --architecture jem_hybrid` wrote (--weights), or a plain JEM
(jem_wide_resnet) whose classifier gets a fresh U-Net energy of --energy-width and --energy-depth,
told the class with --class-told, the raster it was
trained on and the polygons whose bounding box is the training window (only imagery is read
there, never labels), and a classifier that sorts the window's crops by class so that each batch
is balanced (train/datasets/crops.py). It writes the same model with the energy's moving average
(train/trainers/energy.py): the classifier and its probabilities are unchanged, and the card's
log p(x) histogram is measured again on the window's crops.
"""
import argparse
import copy
import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.aoi import AOI
from core.cli.options import non_negative_float, path_value, positive_float, positive_int, real_number, seed, whole_number
from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError
from core.jem.energy import log_px
from core.jem.histogram import LogPxHistogram
from core.models.card import ModelCard
from core.models.hybrid_jem import ENERGY_DEPTH, ENERGY_EMBEDDING, ENERGY_WIDTH, SIGMA_MIN
from core.models.model_file import LoadedModel, load_model, save_model
from core.models.preprocess import to_model_input
from core.models.registry import build_architecture
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from train.checkpoint import discard_earlier_run, resume_state, run_fingerprint
from train.commands.arguments import model_base, prepare_output
from train.datasets.crops import CELL, BalancedCrops
from train.provenance import command_line
from train.trainers.energy import EnergySettings, EnergyTrainer

# Where `core sample`'s chain starts: pure noise this far above the data's unit std is close to the data
# noised at this level (the fit's log-normal levels reach it; 2 % of them lie above).
CHAIN_SIGMA_MAX = 10.0
# The guidance `core sample` applies (core.sample), as bench/measure_samples.py's weights compared: a U-Net told the
# class, classifier-free (5 scored a lower KID but painted speckle), else the classifier's gradient on r.
GUIDANCE = {"class_free": 3.0, "classifier": 5.0}
HELP = "fit a generative JEM's energy longer, as a denoiser on unlabelled crops of a raster (for `core sample`)"
PROG = "python -m train energy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the energy command's options."""
    defaults = EnergySettings(steps=1)
    data = parser.add_argument_group("data")
    data.add_argument("--raster", type=path_value, required=True, help="the imagery the JEM was trained on")
    data.add_argument("--polygons", type=path_value, required=True,
                      help="polygons whose bounding box is the training window (e.g. the training labels)")
    data.add_argument("--weights", type=path_value, required=True,
                      help="the generative JEM to carry on (a jem_hybrid model file from `train jem`), or a "
                           "jem_wide_resnet JEM whose classifier gets a fresh energy")
    data.add_argument("--classifier", type=path_value, required=True,
                      help="a classifier of the same bands and classes that sorts the crops by class")
    data.add_argument("--out", type=path_value, required=True, help="where to write the model (.json/.safetensors)")
    fresh = parser.add_argument_group("a fresh energy (--weights a jem_wide_resnet)")
    fresh.add_argument("--energy-width", type=positive_int, default=ENERGY_WIDTH,
                       help=f"the U-Net's channels at full resolution (default: {ENERGY_WIDTH})")
    fresh.add_argument("--energy-depth", type=whole_number(1, 6), default=ENERGY_DEPTH,
                       help=f"the U-Net's 2x poolings (default: {ENERGY_DEPTH})")
    fresh.add_argument("--class-told", action="store_true",
                       help="tell the U-Net each crop's class, for classifier-free guidance in `core sample`")
    fresh.add_argument("--class-dropout", type=real_number(0, 1, high_open=True), default=defaults.class_dropout,
                       help="share of crops the class-told U-Net is not told the class of, so that it also learns "
                            f"the energy of all classes (default: {defaults.class_dropout:g})")
    fit = parser.add_argument_group("training")
    fit.add_argument("--steps", type=positive_int, required=True, help="optimizer steps in all, resumed ones included")
    fit.add_argument("--batch-size", type=positive_int, default=defaults.batch_size,
                     help=f"crops per step (default: {defaults.batch_size})")
    fit.add_argument("--lr", type=positive_float, default=defaults.lr, help=f"Adam learning rate (default: {defaults.lr:g})")
    fit.add_argument("--ema", type=real_number(0, 1, low_open=True, high_open=True), default=defaults.ema,
                     help=f"decay of the weights' moving average, which is written out (default: {defaults.ema:g})")
    fit.add_argument("--p-mean", type=float, default=defaults.p_mean,
                     help=f"mean of the log noise level, standardised units (default: {defaults.p_mean:g})")
    fit.add_argument("--p-std", type=positive_float, default=defaults.p_std,
                     help=f"std of the log noise level (default: {defaults.p_std:g})")
    fit.add_argument("--seed", type=seed, default=defaults.seed)
    fit.add_argument("--checkpoint-every", type=positive_int, default=defaults.checkpoint_every,
                     help=f"steps between checkpoints (default: {defaults.checkpoint_every})")
    fit.add_argument("--workdir", type=path_value, help="checkpoint folder (default: OUT.ckpt next to --out)")
    again = fit.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --workdir")
    again.add_argument("--fresh", action="store_true", help="discard the checkpoints an earlier run left in --workdir")
    fit.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    chain = parser.add_argument_group("the chain `core sample` runs, recorded in the card")
    chain.add_argument("--chain-sigma-max", type=positive_float, default=CHAIN_SIGMA_MAX,
                       help=f"the noise level chains start at from pure noise (default: {CHAIN_SIGMA_MAX:g})")
    chain.add_argument("--guidance", type=non_negative_float,
                       help="how hard chains are steered to the class: the weight of the classifier's gradient on "
                            "the denoised estimate, or for a class-told energy of the class's pull (r_y - r) "
                            f"(default: {GUIDANCE['class_free']:g} for a class-told energy, else "
                            f"{GUIDANCE['classifier']:g})")


def _models(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[LoadedModel, LoadedModel]:
    """The generative JEM (a jem_wide_resnet's with a fresh energy) and the sorting classifier.

    Raises:
        NaturalExplainError: when --weights is neither JEM, the classifier has other bands, classes or scaling, or a
            fresh energy's option is given with a jem_hybrid.
    """
    jem, sorter = load_model(args.weights), load_model(args.classifier)
    if jem.card.architecture == "jem_wide_resnet":
        jem = _with_fresh_energy(jem, args)
    elif jem.card.architecture != "jem_hybrid":
        raise NaturalExplainError(f"--weights {args.weights} is a {jem.card.architecture}: give the jem_hybrid model "
                                  "that `train jem --architecture jem_hybrid` wrote, or a jem_wide_resnet JEM")
    else:
        for name in ("energy_width", "energy_depth", "class_told", "class_dropout"):
            if getattr(args, name) != parser.get_default(name):
                raise NaturalExplainError(f"--{name.replace('_', '-')} shapes a fresh energy, and --weights "
                                          f"{args.weights} has one: drop it, or give a jem_wide_resnet JEM")
    for what in ("bands", "classes", "scale", "clip", "mean", "std"):  # the crops are standardised once, for both
        if getattr(jem.card, what) != getattr(sorter.card, what):
            raise NaturalExplainError(f"--classifier {args.classifier} has {what} {getattr(sorter.card, what)}, "
                                      f"--weights {getattr(jem.card, what)}: they must be the same")
    return jem, sorter


def _with_fresh_energy(jem: LoadedModel, args: argparse.Namespace) -> LoadedModel:
    """A jem_hybrid with `jem`'s network as its classifier and a fresh U-Net energy, and the card to match: the
    classifier's inpainting settings go (they were fitted to its own gradient), a denoiser's score comes in."""
    card = copy.deepcopy(jem.card)
    patch = int(card.jem["patch_size"])
    card.architecture = "jem_hybrid"
    card.arch_args = {**card.arch_args, "energy_width": args.energy_width, "energy_depth": args.energy_depth,
                      "energy_pixels": patch * patch, "energy_classes": len(card.classes) if args.class_told else 0,
                      "energy_embedding": ENERGY_EMBEDDING}
    card.jem = {**{key: value for key, value in card.jem.items() if not key.startswith("inpaint_")},
                "score": {"form": "denoiser", "sigma_min": SIGMA_MIN, "sigma_max": args.chain_sigma_max}}
    network = build_architecture(card.architecture, card.arch_args)
    network.classifier.load_state_dict(jem.network.state_dict())
    return LoadedModel(network, card, jem.weights_path, jem.weights_sha256)


def _window(args: argparse.Namespace, card: ModelCard) -> tuple[np.ndarray, np.ndarray]:
    """The training window's raw pixels (C, H, W) in the model's bands, and where they are all valid (H, W)."""
    raster = open_input(args.raster)
    grid = raster.grid.window(AOI.from_vector(args.polygons).window_on(raster.grid))
    return read_window(match_bands(raster, card.bands), grid)


def _standardised(raw: np.ndarray, valid: np.ndarray, card: ModelCard) -> torch.Tensor:
    return torch.from_numpy(to_model_input(raw, valid, card).astype("float32"))


@torch.no_grad()
def window_log_px(network: torch.nn.Module, crops: BalancedCrops) -> np.ndarray:
    """Tile log p(x) of the window's valid crops every 2 cells: the card's histogram of the training data."""
    cells = crops.cells[(crops.cells % 2 == 0).all(axis=1)]
    values = []
    for first in range(0, len(cells), 256):
        batch = torch.stack([crops.image[:, r * CELL:r * CELL + crops.size, c * CELL:c * CELL + crops.size]
                             for r, c in cells[first:first + 256]])
        values.append(log_px(network, batch))
    return torch.cat(values).double().numpy()


def _card(jem: LoadedModel, args: argparse.Namespace, network: torch.nn.Module, crops: BalancedCrops,
          trainer: EnergyTrainer, record: dict[str, Any]) -> ModelCard:
    """--weights' card with the histogram measured again, the fit's settings, the chain `core sample` runs and how to
    reproduce it."""
    card, settings = jem.card, trainer.settings
    logpx = LogPxHistogram.of(window_log_px(network, crops))
    fit = {"steps": settings.steps, "batch_size": settings.batch_size, "lr": settings.lr, "ema": settings.ema,
           "p_mean": settings.p_mean, "p_std": settings.p_std,
           **({"class_dropout": settings.class_dropout} if network.energy_classes else {})}
    guidance = GUIDANCE["class_free" if network.energy_classes else "classifier"] if args.guidance is None \
        else args.guidance
    chain = {"sigma_max": args.chain_sigma_max, "guidance": guidance}
    card.jem = {**card.jem, "logpx": logpx.to_json(),
                "score": {**card.jem["score"], "form": "denoiser", "fit": fit, "chain": chain}}
    card.training = {**card.training, **record,
                     "weights_from": {"path": str(args.weights), "weights_sha256": jem.weights_sha256,
                                      "command": card.training.get("command")}}
    return card


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path:
    """Fit the energy and write the model; returns its JSON sidecar path.

    Raises:
        NaturalExplainError: for bad input, before training wherever it can be detected.
    """
    device = prepare_output(args)
    jem, sorter = _models(args, parser)
    raw, valid = _window(args, jem.card)
    digest = hashlib.sha256(raw.tobytes()).hexdigest()
    crops = BalancedCrops.sort(_standardised(raw, valid, jem.card), valid, jem.card.jem["patch_size"],
                               lambda batch: torch.softmax(sorter.network(batch), dim=1))
    settings = EnergySettings(args.steps, args.batch_size, args.lr, args.ema, args.p_mean, args.p_std, args.seed,
                              args.checkpoint_every, args.class_dropout)
    fingerprint = run_fingerprint(args, digest)
    for free in ("steps", "chain_sigma_max", "guidance"):  # a resume may go on longer, or record another chain
        fingerprint["options"].pop(free)
    trainer = EnergyTrainer(jem.network, crops, settings, args.workdir, fingerprint, device)
    if args.resume:
        trainer.load_state(resume_state(args.workdir, fingerprint))
    discard_earlier_run(args.workdir, args.resume)
    trainer.fit()
    network = trainer.averaged_network()
    record = {"command": command_line(PROG, parser, args), "data_hash": digest}
    sidecar = save_model(network, _card(jem, args, network, crops, trainer, record), model_base(args.out),
                         half=("energy.",))
    print(f"wrote {sidecar}: {trainer.step} steps, loss {trainer.loss:.4f}; crops per class "
          f"{', '.join(f'{name} {len(pool)}' for name, pool in zip(jem.card.classes, crops.pools))}", file=sys.stderr)
    return sidecar

