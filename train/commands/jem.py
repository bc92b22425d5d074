"""`python -m train jem`: train a naturalness classifier as a joint energy-based model (JEM).

It takes the classifier command's data layouts, split and model options, adds JEM's sampler
settings, and writes a model the engine loads like any classifier. The sidecar's `jem` block
carries the histogram of the training patches' log p(x), which confidence maps and
out-of-distribution reports compare new imagery against.
"""
import argparse
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from core.cli.options import non_negative_float, non_negative_int, positive_float, positive_int, real_number, whole_number
from core.errors import NaturalExplainError
from core.jem.histogram import LogPxHistogram
from core.jem.init import CoarseGaussian
from core.jem.sgld import SGLDSettings
from core.models.card import ModelCard
from core.models.hybrid_jem import ENERGY_DEPTH, ENERGY_EMBEDDING, ENERGY_WIDTH
from core.models.model_file import load_model, save_model
from core.models.preprocess import UnitSpace
from core.models.registry import build_architecture
from train.checkpoint import discard_earlier_run, run_fingerprint
from train.commands import classifier
from train.commands.arguments import model_base
from train.distributed import current_world, world_device
from train.inpainting_term import inpainting_card_entry, ring_gains
from train.provenance import command_line
from train.replay_buffer import STORAGE
from train.score_term import SCORE_FORMS
from train.trainers.jem import JEMSettings, JEMTrainer, tile_log_px

HELP = "train a naturalness classifier as a JEM, which also scores how familiar an input is (log p(x))"
PROG = "python -m train jem"
# The replay buffer lives in memory and in the latest checkpoint; beyond this it would not fit a laptop.
MAX_BUFFER_BYTES = 4 * 2 ** 30
# The classifier's FCN, the Wide-ResNet-like network of the JEM-EO seed (core.models.wide_resnet), or that network
# plus a U-Net energy (core.models.hybrid_jem), the JEM that `core sample` draws from.
ARCHITECTURES = ("naturalness_fcn", "jem_wide_resnet", "jem_hybrid")
INITS = ("uniform", "data", "mixed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the JEM command's options: the classifier's, with Adam 1e-4, and the sampler's.

    Args:
        parser: the sub-command's parser.
    """
    classifier.add_arguments(parser, epochs=10, batch_size=32, lr=1e-4)
    defaults = JEMSettings()
    jem = parser.add_argument_group("JEM (Grathwohl et al.'s defaults)")
    jem.add_argument("--sgld-steps", type=non_negative_int, default=defaults.sgld.steps,
                     help="SGLD steps per training step; 0 drops JEM's SGLD term, for --score-weight to fit log p(x) "
                          f"alone (default: {defaults.sgld.steps})")
    jem.add_argument("--sgld-step-size", type=positive_float, default=defaults.sgld.step_size,
                     help=f"SGLD step size in unit space (default: {defaults.sgld.step_size:g})")
    jem.add_argument("--sgld-noise", type=positive_float, default=defaults.sgld.noise,
                     help=f"SGLD noise std in unit space (default: {defaults.sgld.noise:g})")
    jem.add_argument("--buffer-size", type=positive_int, default=defaults.buffer_size,
                     help=f"SGLD chains kept in the replay buffer (default: {defaults.buffer_size})")
    jem.add_argument("--reinit-freq", type=real_number(0, 1, low_open=True), default=defaults.reinit_freq,
                     help=f"share of the chains restarted from --init's starts each step (default: {defaults.reinit_freq:g})")
    jem.add_argument("--data-noise", type=positive_float, default=defaults.data_noise,
                     help=f"std of the noise added to data patches in unit space (default: {defaults.data_noise:g})")
    jem.add_argument("--warmup-steps", type=positive_int, default=defaults.warmup_steps,
                     help=f"steps over which the learning rate rises linearly to --lr (default: {defaults.warmup_steps})")
    jem.add_argument("--energy-reg", type=non_negative_float, default=defaults.energy_reg,
                     help="weight of Du & Mordatch's penalty on log p(x)^2 that keeps the energies from running "
                          f"away; 0 for Grathwohl et al.'s plain loss (default: {defaults.energy_reg:g})")
    jem.add_argument("--init", choices=INITS, default=defaults.init,
                     help="where chains start: 'data', per-class Gaussians of the coarse training patches (JEM++), "
                          f"'uniform' noise (JEM), or 'mixed', half of each (default: {defaults.init})")
    jem.add_argument("--architecture", choices=ARCHITECTURES, default=ARCHITECTURES[0],
                     help=f"the network (default: {ARCHITECTURES[0]})")
    jem.add_argument("--blocks", type=positive_int, default=1,
                     help="residual blocks per stage of jem_wide_resnet and jem_hybrid (default: 1)")
    jem.add_argument("--energy-width", type=positive_int, default=ENERGY_WIDTH,
                     help=f"channels of jem_hybrid's U-Net energy at full resolution (default: {ENERGY_WIDTH})")
    jem.add_argument("--energy-depth", type=whole_number(1, 6), default=ENERGY_DEPTH,
                     help=f"2x poolings of jem_hybrid's U-Net energy (default: {ENERGY_DEPTH})")
    jem.add_argument("--score-weight", type=non_negative_float, default=defaults.score_weight,
                     help="weight of denoising score matching over noise levels, which fits the gradient `core sample`'s "
                          "annealed chain follows (train/score_term.py; not under torchrun; default: "
                          f"{defaults.score_weight:g}, off)")
    jem.add_argument("--score-form", choices=SCORE_FORMS, default=defaults.score_form,
                     help="what --score-weight fits: the energy's gradient, which the chain then follows exactly, or "
                          "the energy's U-Net as a denoiser, whose score the chain follows (one backward pass, and far "
                          f"faster to learn; train/score_term.py; default: {defaults.score_form})")
    jem.add_argument("--freeze-classifier", action="store_true",
                     help="train jem_hybrid's energy only, keeping the classifier of --weights as it is (its "
                          "probabilities and maps stay the same, bit for bit)")
    jem.add_argument("--inpaint-weight", type=non_negative_float, default=defaults.inpaint_weight,
                     help="weight of a term that teaches the gradient of log p(x) to fill holes from their smooth "
                          "start, as `core inpaint` runs it (train/inpainting_term.py; not under torchrun; "
                          f"default: {defaults.inpaint_weight:g}, off)")
    jem.add_argument("--weights", type=Path,
                     help="start from this model file's weights and input scaling (fine-tuning) instead of a fresh "
                          "network: the same --architecture, --width, --blocks, bands and classes")


def jem_settings(args: argparse.Namespace) -> JEMSettings:
    """The sampler and regularisation settings the options give."""
    return JEMSettings(sgld=SGLDSettings(args.sgld_steps, args.sgld_step_size, args.sgld_noise),
                       buffer_size=args.buffer_size, reinit_freq=args.reinit_freq, data_noise=args.data_noise,
                       warmup_steps=args.warmup_steps, energy_reg=args.energy_reg, init=args.init,
                       inpaint_weight=args.inpaint_weight, score_weight=args.score_weight,
                       score_form=args.score_form)


def jem_network(args: argparse.Namespace, card: ModelCard, prepared: nn.Module, patch_pixels: int) -> nn.Module:
    """The network to train: the classifier's FCN as prepared, or a seeded Wide-ResNet (plus energy) of the same width.

    Raises:
        NaturalExplainError: when --blocks is given for the FCN, which has no blocks.
    """
    if args.architecture == "naturalness_fcn":
        if args.blocks != 1:
            raise NaturalExplainError("--blocks sets the depth of --architecture jem_wide_resnet or jem_hybrid only")
        return prepared
    card.architecture = args.architecture
    card.arch_args = {**card.arch_args, "blocks": args.blocks}
    if args.architecture == "jem_hybrid":
        card.arch_args.update(energy_width=args.energy_width, energy_depth=args.energy_depth,
                              energy_pixels=patch_pixels, energy_embedding=ENERGY_EMBEDDING)
    torch.manual_seed(args.seed)
    return build_architecture(card.architecture, card.arch_args)


def check_objective(args: argparse.Namespace) -> None:
    """Refuse option sets that train nothing generative or freeze what is not there, before any data is read.

    Raises:
        NaturalExplainError: naming the option to change.
    """
    if args.sgld_steps == 0 and not args.score_weight:
        raise NaturalExplainError("--sgld-steps 0 drops JEM's SGLD term, leaving a plain classifier: give "
                                  "--score-weight so that log p(x) is still fitted")
    if args.score_weight and args.architecture != "jem_hybrid":
        raise NaturalExplainError("--score-weight fits an energy told the noise level, which only --architecture "
                                  "jem_hybrid has")
    if args.freeze_classifier and not (args.architecture == "jem_hybrid" and args.weights):
        raise NaturalExplainError("--freeze-classifier keeps the classifier of --weights: it needs --architecture "
                                  "jem_hybrid and --weights")
    if (args.inpaint_weight or args.score_weight) and current_world().size > 1:
        raise NaturalExplainError("--inpaint-weight and --score-weight differentiate the input gradient, which DDP "
                                  "cannot reduce: train them in one process (without torchrun)")


def start_from_weights(path: Path, card: ModelCard, network: nn.Module) -> dict[str, Any]:
    """Load the weights of the model file `path` into `network`, and its input scaling into `card`.

    The weights only mean something on inputs scaled as they were trained, so the file's scale,
    clip, band means and stds replace the ones measured on this run's data. A jem_wide_resnet
    file's weights go into a jem_hybrid's classifier, whose energy starts fresh.

    Returns:
        The training record's `weights_from` entry: the file, its weights' sha256 and the command that made it.

    Raises:
        NaturalExplainError: when the file is missing or corrupt, or is another network, bands or classes.
    """
    loaded = load_model(path)
    theirs, ours = loaded.card, card
    target, architecture, shape = network, ours.architecture, ours.arch_args
    if (theirs.architecture, ours.architecture) == ("jem_wide_resnet", "jem_hybrid"):  # its classifier half
        target, architecture = network.classifier, theirs.architecture
        shape = {key: value for key, value in ours.arch_args.items() if key in theirs.arch_args}
    for what, a, b in (("architecture", theirs.architecture, architecture),
                       ("network shape (--width, --blocks)", theirs.arch_args, shape),
                       ("bands", theirs.bands, ours.bands), ("classes", theirs.classes, ours.classes)):
        if a != b:
            raise NaturalExplainError(f"--weights {path} has {what} {a}, this run {b}: fine-tuning needs the same")
    target.load_state_dict(loaded.network.state_dict())
    card.scale, card.clip, card.mean, card.std = theirs.scale, theirs.clip, theirs.mean, theirs.std
    return {"weights_from": {"path": str(path), "weights_sha256": loaded.weights_sha256,
                             "command": theirs.training.get("command")}}


def informative_starts(settings: JEMSettings, train: Dataset, space: UnitSpace, classes: list[str],
                       batch_size: int) -> CoarseGaussian | None:
    """The per-class coarse Gaussians of the training patches the chains start from; None for uniform noise."""
    if settings.init == "uniform":
        return None
    device = space.mean.device
    batches = [(space.from_input(x.to(device)).cpu(), y) for x, y in DataLoader(train, batch_size=batch_size)]
    return CoarseGaussian.fit(torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches]), classes)


def check_buffer(settings: JEMSettings, shape: tuple[int, ...], batch_size: int) -> None:
    """Fail before training when the replay buffer of `shape` patches cannot feed a batch or fit in memory.

    Raises:
        NaturalExplainError: when it holds fewer chains than a batch, or would take more than MAX_BUFFER_BYTES.
    """
    if settings.buffer_size < batch_size:
        raise NaturalExplainError(f"--buffer-size {settings.buffer_size} is smaller than --batch-size {batch_size}: "
                                  "each step draws a batch of distinct chains, so raise --buffer-size")
    size = settings.buffer_size * torch.Size(shape).numel() * torch.finfo(STORAGE).bits // 8
    if size > MAX_BUFFER_BYTES:
        raise NaturalExplainError(f"a replay buffer of {settings.buffer_size} patches of {'x'.join(map(str, shape))} "
                                  f"takes {size / 2 ** 30:.1f} GiB: lower --buffer-size or --patch-size")


def inpainting_chain(network: nn.Module, space: UnitSpace, train: Dataset, args: argparse.Namespace,
                     device: torch.device) -> dict[str, Any]:
    """For a JEM trained with the inpainting term, the chain `core inpaint` should run: its reach measured on `train`."""
    if not args.inpaint_weight:
        return {}
    network.eval()
    batches = (space.from_input(x.to(device)) for x, _ in DataLoader(train, batch_size=args.batch_size))
    return inpainting_card_entry(ring_gains(network, space, batches, args.seed))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path:
    """Train the JEM and write the model file, with the training log p(x) histogram in its sidecar.

    Args:
        args: the parsed options.
        parser: this command's parser, from which the reproducible command is rebuilt.

    Returns:
        The model's JSON sidecar path.

    Raises:
        NaturalExplainError: for bad input, before training wherever it can be detected, and when training diverges.
    """
    check_objective(args)
    run_ = classifier.prepare(args)
    dataset, split, card, train = run_.dataset, run_.split, run_.card, run_.train
    shape = tuple(train[0][0].shape)
    network = jem_network(args, card, run_.network, shape[-2] * shape[-1])
    base = start_from_weights(args.weights, card, network) if args.weights else {}
    if args.freeze_classifier:
        network.classifier.requires_grad_(False)
    settings = jem_settings(args)
    if settings.contrastive:
        check_buffer(settings, shape, args.batch_size)
    device = world_device(current_world(), run_.options.device)  # under torchrun on CUDA, this rank's GPU
    space = UnitSpace(card, device)
    starts = informative_starts(settings, train, space, dataset.classes, args.batch_size)
    trainer = JEMTrainer(network, dataset.classes, space, shape, run_.options, settings,
                         run_fingerprint(args, run_.digest), starts)
    if trainer.world.main:
        discard_earlier_run(args.workdir, args.resume)
    history = trainer.fit(train, run_.val, train.labels)
    if not trainer.world.main:  # under torchrun rank 0 writes the model
        return model_base(args.out).with_suffix(".json")
    logpx = LogPxHistogram.of(tile_log_px(network, train, args.batch_size, device))
    card.jem = {"logpx": logpx.to_json(), "patch_size": shape[-1], **settings.card_entry(),
                **inpainting_chain(network, space, train, args, device),
                "init": starts.to_json() if starts else {"kind": "uniform"}}
    card.training = {"command": command_line(PROG, parser, args), "data_hash": run_.digest,
                     "metrics": classifier.summarize(history, dataset, split, args), **classifier.camat_record(args), **base}
    sidecar = save_model(network.cpu(), card, model_base(args.out))
    print(f"wrote {sidecar}: val accuracy {history[-1]['val_accuracy']:.3f} on {len(split.val)} held-out "
          f"samples ({split.mode}), F1 {history[-1]['val_f1']}; training log p(x) median {logpx.percentiles['p50']:.2f}, "
          f"1st percentile {logpx.percentiles['p1']:.2f}", file=sys.stderr)
    return sidecar
