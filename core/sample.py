"""sample(class) -> patches a JEM draws for one class, as a PNG grid plus a JSON record with their KID.

A JEM's logit f(x)[y] is log p(x, y) up to a constant, so SGLD on that logit alone draws
patches of class y (Grathwohl et al.; Castillo-Navarro et al., Fig. 1). The patches have the
JEM's training patch size. How good they are is measured, not eyeballed: their KID (core.jem.kid)
against real held-out patches of the class, next to the KID of uniform noise (the worst a
sampler should do), of real patches of the other class, and of more real patches of the same
class (the best it can do).
"""
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.atomic import write_json
from core.errors import NaturalExplainError, RunCanceled
from core.fine_detail import detail_ratio
from core.jem.annealed import AnnealedSettings, Slope, annealed_langevin, energy_slope
from core.jem.init import CoarseGaussian
from core.jem.kid import feature_scale, features, kid
from core.jem.sgld import SGLDSettings, sgld
from core.models.card import ModelCard
from core.models.choice import given_or_bundled
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace, scale_and_clip
from core.quicklook import TRUE_COLOUR
from core.raster.read import BandReader
from core.resources import DEFAULT_MODEL, DEFAULT_SAMPLING_JEM, RESOURCES, SAMPLE
from core.sample_figure import DISPLAY_MAX_REFLECTANCE, write_grid
from core.scan import IsCanceled, Progress, Scan, prepare, scan_batches
from core.tiling import Tile

# The JEM's training chain length (bench/measure_samples.py, step size and noise being the JEM's
# own). From the class's Gaussian ("data" starts) the bundled JEM (--init mixed) draws samples with
# a KID at the floor of two real sets of the class for 0, 20 and 100 steps alike (natural -0.022,
# -0.006, 0.047; anthropogenic -0.052, -0.053, -0.047; class gaps 7.2 and 2500): the start carries
# the class, the chain adds grain, not edges. From uniform noise they stay as far as the noise itself.
DEFAULT_STEPS = 20
# A JEM trained with the score term (train/score_term.py) walks down its noise ladder instead
# (core.jem.annealed): this many levels, two gradient evaluations each.
DEFAULT_LEVELS = 100
# Where that walk starts for a JEM trained with the score term whose card records no chain: the
# class's Gaussian of coarse training patches ("data"'s start) drowned in noise of this std, in
# standardised units (the band values' own std is 1). The first generative JEM (not told the noise
# level) fitted the score well at 0.8 (residual 0.14 on held-out patches, bench/measure_samples.py) but
# hardly at the top of its ladder, 2 (0.92), and its chains from pure noise there painted worm-like
# stripes over every patch, of both classes alike. A JEM whose energy `train energy` fitted longer
# records its chain in its card instead: pure noise at a level above the data's own spread, no class
# start, the class coming from guidance (_slope).
ANNEALED_START_SIGMA = 0.8
# "uniform": JEM's restart distribution, noise over the whole unit cube. "data": the class's
# Gaussian of coarse training patches that the JEM's own chains started from (core.jem.init), or
# for a JEM trained from uniform noise, per-band Gaussians with the training mean and std. Both
# run SGLD. "annealed": annealed Langevin dynamics from "data"'s start drowned in noise (from pure
# noise for a JEM fitted by `train energy`), for a JEM trained with the score term, and its default
# ("data" for any other).
INITS = ("uniform", "data", "annealed")
# Real patches come from a raster (the bundled sample unless told), outside every training
# label of the bundled models: held out. More than MAX_REFERENCE_PATCHES are subsampled.
TRAINING_LABELS = RESOURCES / "labels" / "virginia_s2_train.geojson"
MAX_REFERENCE_PATCHES = 2000
# A held-out patch counts as a class when the independent classifier gives it at least this.
REFERENCE_CONFIDENCE = 0.9


@dataclasses.dataclass
class SampleResult:
    """What a sampling run wrote and measured.

    Attributes:
        png: the image grid.
        json: the record: settings, probabilities and KIDs.
        class_name: the class sampled.
        n: how many samples.
        jem_probability: mean probability of the class under the JEM's own classifier.
        reference_probability: the same under the independent plain classifier.
        kid: KID of the samples and of the yardsticks against the held-out real patches.
        fine_detail: the samples' fine detail (core.fine_detail) relative to the held-out real patches of the class,
            and the other class's beside it.
        seconds: wall time.
    """

    png: Path
    json: Path
    class_name: str
    n: int
    jem_probability: float
    reference_probability: float
    kid: dict[str, float]
    fine_detail: dict[str, float]
    seconds: float


def start_batch(n: int, loaded: LoadedModel, patch: int, how: str, generator: torch.Generator,
                class_name: str) -> torch.Tensor:
    """(n, C, patch, patch) unit-space starting points for the chains of class `class_name`."""
    shape = (n, len(loaded.card.bands), patch, patch)
    if how == "uniform":
        return torch.rand(shape, generator=generator)
    init = loaded.card.jem.get("init") or {}
    if init.get("kind") == "coarse_gaussian":
        gaussian = CoarseGaussian.from_json(init)
        return gaussian.draw(n, generator, gaussian.classes.index(class_name))
    unit = UnitSpace(loaded.card)
    return unit.from_input(torch.randn(shape, generator=generator))


@dataclasses.dataclass
class ReferencePatches:
    """Held-out real patches (physical units) as the independent classifier sees them: KID features and class probabilities."""

    patches: torch.Tensor
    features: np.ndarray
    probabilities: np.ndarray
    classes: list[str]

    def confident(self, name: str) -> np.ndarray:
        """Bool (N,): the patches the classifier gives class `name` with at least REFERENCE_CONFIDENCE."""
        return self.probabilities[:, self.classes.index(name)] >= REFERENCE_CONFIDENCE

    def of_class(self, name: str) -> np.ndarray:
        """Features of the patches of class `name` (see `confident`)."""
        return self.features[self.confident(name)]

    def patches_of(self, name: str) -> np.ndarray:
        """(N, C, H, W) the patches of class `name` themselves, in physical units."""
        return self.patches[torch.from_numpy(self.confident(name))].numpy()


def reference_patches(scan: Scan, extractor: LoadedModel, patch: int, generator: torch.Generator) -> ReferencePatches:
    """Nodata-free patches of a raster outside the training labels, half-overlapping, row strip by row strip.

    Args:
        scan: the raster prepared for the JEM, whose bands and scaling decide how pixels are read.
        extractor: the independent classifier that labels the patches.
        patch: the patch side in pixels.
        generator: picks MAX_REFERENCE_PATCHES at random when there are more.

    Raises:
        NaturalExplainError: when the raster holds no such patch.
    """
    grid, card = scan.grids.model, scan.loaded.card
    training = AOI.from_vector(TRAINING_LABELS)
    strips = [Tile(i, Window(0, row, grid.width, patch))
              for i, row in enumerate(range(0, grid.height - patch + 1, patch // 2))]
    patches = []
    with BandReader(scan.band_refs) as reader:
        for strip in scan_batches(reader, grid, strips, scan.loaded, scan.device, 1):
            usable = strip.valid[0] & ~training.inside_mask(grid.window(strip.tiles[0].window))
            physical = torch.from_numpy(scale_and_clip(strip.raw[0], card.scale, card.clip))
            patches += [physical[:, :, c:c + patch] for c in range(0, grid.width - patch + 1, patch // 2)
                        if usable[:, c:c + patch].all()]
    if not patches:
        raise NaturalExplainError(f"{scan.raster.path} holds no nodata-free {patch} px patch outside the training "
                                  "labels: give another --reference raster")
    picked = torch.stack(patches)
    if len(picked) > MAX_REFERENCE_PATCHES:
        picked = picked[torch.randperm(len(picked), generator=generator)[:MAX_REFERENCE_PATCHES]]
    pooled = features(extractor, picked, card.bands)
    with torch.no_grad():  # NaturalnessFCN's tile logits are its linear 1x1 head on the pooled features
        logits = extractor.network.head(torch.from_numpy(pooled).float()[:, :, None, None]).flatten(1)
    return ReferencePatches(picked, pooled, torch.softmax(logits, dim=1).double().numpy(), extractor.card.classes)


@torch.no_grad()
def _probabilities(model: LoadedModel, physical: torch.Tensor, bands: list[str]) -> np.ndarray:
    """(B, K) class probabilities of `model` for patches in physical units with the named bands."""
    order = [bands.index(b) for b in model.card.bands]
    unit = UnitSpace(model.card)
    x = unit.to_input(((physical[:, order] - unit.low) / (unit.high - unit.low)).clamp(0.0, 1.0))
    return torch.softmax(model.network(x), dim=1).double().numpy()


def default_init(card: ModelCard) -> str:
    """The chain `core sample` runs unless told: annealed for a JEM trained with the score term, else SGLD from "data"."""
    return "annealed" if card.jem.get("score") else "data"


def default_steps(init: str) -> int:
    """The chain length `core sample` uses for `init` unless told: ladder levels for "annealed", else SGLD steps."""
    return DEFAULT_LEVELS if init == "annealed" else DEFAULT_STEPS


def _ticker(evaluations: int, progress: Progress | None, is_canceled: IsCanceled | None) -> Callable[[], None]:
    """Call before each of a chain's `evaluations`: reports progress (to 90 %) and polls cancel."""
    done = 0

    def tick() -> None:
        nonlocal done
        if is_canceled and is_canceled():
            raise RunCanceled("canceled")
        if progress:
            progress(90.0 * done / max(evaluations, 1))
        done += 1

    return tick


def _class_logit(loaded: LoadedModel, class_index: int, evaluations: int, progress: Progress | None,
                 is_canceled: IsCanceled | None, of_classifier: bool = False) -> Callable[..., torch.Tensor]:
    """f(x)[y] of a standardised batch, log p(x, y) up to a constant (at noise level sigma, for a JEM told the level),
    or log p(y|x) by a generative JEM's classifier alone; reports progress and polls cancel at every call."""
    tick = _ticker(evaluations, progress, is_canceled)
    network = loaded.network.classifier if of_classifier else loaded.network

    def logit(x: torch.Tensor, sigma: float | None = None) -> torch.Tensor:
        tick()
        if of_classifier:
            return torch.log_softmax(network(x), dim=1)[:, class_index]
        return (network(x) if sigma is None else network(x, sigma))[:, class_index]

    return logit


def _slope(loaded: LoadedModel, class_index: int, evaluations: int, progress: Progress | None,
           is_canceled: IsCanceled | None, guidance: float | None) -> Slope:
    """Sigma times the class's score at a noise level: the gradient of f(x, sigma)[y] where the energy's gradient
    was fitted; for a U-Net fitted as a denoiser, Tweedie's (r'(x, sigma) - x) / sigma, with r' = r + w sigma^2
    grad log p(y | r(x, sigma)): classifier guidance (Dhariwal & Nichol 2021) with the JEM's own classifier, which
    judges the denoised estimate r, the clean patches it was trained on, not the noisy x (train/score_term.py); w is
    `guidance` (None for the energy's gradient, see _guidance). A U-Net told the class is guided by it instead,
    classifier-free (Ho & Salimans 2022): r' = r + w (r_y - r), r_y the denoised estimate told class y."""
    if guidance is None:
        return energy_slope(_class_logit(loaded, class_index, evaluations, progress, is_canceled))
    if loaded.network.energy_classes:
        return _class_free_slope(loaded.network, class_index, guidance, _ticker(evaluations, progress, is_canceled))
    log_posterior = _class_logit(loaded, class_index, evaluations, progress, is_canceled, of_classifier=True)

    def slope(x: torch.Tensor, sigma: float) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        denoised = loaded.network.denoised(x, sigma)
        grad, = torch.autograd.grad(log_posterior(denoised).sum(), x)
        return (denoised.detach() + guidance * sigma ** 2 * grad - x.detach()) / sigma

    return slope


def _class_free_slope(network: torch.nn.Module, class_index: int, guidance: float, tick: Callable[[], None]) -> Slope:
    """(r + w (r_y - r) - x) / sigma of a U-Net told the class: two passes, one told y and one told none."""
    @torch.no_grad()
    def slope(x: torch.Tensor, sigma: float) -> torch.Tensor:
        tick()
        label = torch.full((len(x),), class_index, device=x.device)
        both = network.denoised(torch.cat([x, x]), sigma, torch.cat([label, torch.full_like(label, -1)]))
        told, plain = both.chunk(2)
        return (plain + guidance * (told - plain) - x) / sigma

    return slope


def _guidance(card: ModelCard, init: str, given: float | None) -> float | None:
    """The classifier guidance of the chain: `given`, else the card's (1 when it has none), for the annealed chain of a
    JEM whose energy is a denoiser; None for any other chain.

    Raises:
        NaturalExplainError: when a weight is given for any other chain.
    """
    score = card.jem.get("score") or {}
    if init == "annealed" and score.get("form", "energy") == "denoiser":
        return float(score.get("chain", {}).get("guidance", 1.0)) if given is None else given
    if given is not None:
        raise NaturalExplainError("--guidance steers the annealed chain of a JEM whose energy was fitted as a denoiser "
                                  "(`train energy`): use --init annealed with such a JEM, or drop --guidance")
    return None


def _draw(loaded: LoadedModel, class_index: int, shape: tuple[int, ...], init: str, steps: int, device: torch.device,
          generator: torch.Generator, progress: Progress | None, is_canceled: IsCanceled | None,
          guidance: float | None = None, start_sigma: float | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
    """(n, C, H, W) unit-space samples of the class (annealed Langevin, or SGLD from `init`'s starts) and the record
    of the chain's settings; `start_sigma` overrides the top of the annealed chain's ladder.

    Raises:
        NaturalExplainError: for "annealed" with a JEM trained without the score term, SGLD steps with one trained
            with it, or a guidance weight or start level for a chain that takes none.
    """
    card = loaded.card
    guidance = _guidance(card, init, guidance)
    unit = UnitSpace(card, device)
    name = card.classes[class_index]
    if init == "annealed":
        score = card.jem.get("score")
        if not score:
            raise NaturalExplainError("this JEM was not trained with the score term (`train jem --score-weight`), so it "
                                      "cannot run the annealed chain: use --init data or uniform")
        chain = score.get("chain")
        if start_sigma is not None and start_sigma <= float(score["sigma_min"]):
            raise NaturalExplainError(f"--start-sigma {start_sigma:g} must be above the bottom of the model's noise "
                                      f"ladder, {float(score['sigma_min']):g}")
        top = start_sigma if start_sigma is not None else \
            float(chain["sigma_max"]) if chain else min(float(score["sigma_max"]), ANNEALED_START_SIGMA)
        settings = AnnealedSettings(top, float(score["sigma_min"]), steps)
        slope = _slope(loaded, class_index, settings.evaluations, progress, is_canceled, guidance)
        start = None if chain else unit.to_input(start_batch(shape[0], loaded, shape[-1], "data", generator, name).to(device))
        samples = unit.from_input(annealed_langevin(slope, shape, settings, generator, device, start))
        return samples.cpu(), {"annealed": dataclasses.asdict(settings),
                               **({} if guidance is None else {"guidance": guidance})}
    if start_sigma is not None:
        raise NaturalExplainError("--start-sigma sets where the annealed chain starts: use --init annealed with a JEM "
                                  "trained with the score term, or drop --start-sigma")
    if card.jem.get("score") and steps:
        raise NaturalExplainError("this JEM's gradient is fitted to its noise ladder, and SGLD at its card's step size "
                                  "runs away: use --init annealed (or --steps 0 to see the starts)")
    sgld_card = card.jem.get("sgld", {})
    settings = SGLDSettings(steps=steps, step_size=float(sgld_card.get("step_size", 1.0)),
                            noise=float(sgld_card.get("noise", 0.01)))
    logit = _class_logit(loaded, class_index, steps, progress, is_canceled)
    start = start_batch(shape[0], loaded, shape[-1], init, generator, name)
    samples = sgld(lambda u: logit(unit.to_input(u)), start.to(device), settings, generator=generator)
    return samples.cpu(), {"sgld": dataclasses.asdict(settings)}


def _kids(extractor: LoadedModel, samples: torch.Tensor, noise: torch.Tensor, reference: ReferencePatches,
          class_name: str, other_name: str, bands: list[str], generator: torch.Generator) -> dict[str, float]:
    """KID against held-out real patches of the class: of the samples, and of three yardsticks of the same size."""
    n = len(samples)
    same, other = reference.of_class(class_name), reference.of_class(other_name)
    if len(same) < n + 2 or len(other) < n:
        raise NaturalExplainError(f"the reference raster holds too few confident held-out patches ({len(same)} of the "
                                  f"class, {len(other)} of the other) for KID with --n {n}: ask for fewer samples "
                                  "or give a larger --reference")
    order = torch.randperm(len(same), generator=generator).numpy()
    real_same, target = same[order[:n]], same[order[n:]]
    real_other = other[torch.randperm(len(other), generator=generator)[:n].numpy()]
    scale = feature_scale(target)
    sets = {"samples": features(extractor, samples, bands), "uniform_noise": features(extractor, noise, bands),
            "real_other_class": real_other, "real_same_class": real_same}
    return {name: round(kid(values / scale, target / scale), 5) for name, values in sets.items()}


def _check_extractor(extractor: LoadedModel, classes: list[str]) -> None:
    """The independent classifier must know the JEM's classes to pick reference patches of them.

    Raises:
        NaturalExplainError: when it does not.
    """
    if sorted(extractor.card.classes) != sorted(classes):
        raise NaturalExplainError(f"KID picks real patches with {DEFAULT_MODEL.name}, whose classes "
                                  f"({', '.join(extractor.card.classes)}) differ from the model's ({', '.join(classes)})")


def _check_request(out: Path, n: int, steps: int | None, init: str | None) -> None:
    """Raises NaturalExplainError for an output or option the user must change."""
    if out.suffix.lower() != ".png":
        raise NaturalExplainError(f"--out {out} must end in .png")
    if not out.parent.is_dir():
        raise NaturalExplainError(f"folder {out.parent} does not exist: create it or choose another --out")
    if n < 2:
        raise NaturalExplainError(f"--n {n} must be at least 2 (KID compares pairs of samples)")
    if steps is not None and steps < 0:
        raise NaturalExplainError(f"--steps {steps} must be at least 0 (0 shows the chains' starts)")
    if init is not None and init not in INITS:
        raise NaturalExplainError(f"unknown init '{init}': use one of {', '.join(INITS)}")


def _checked_jem(scan: Scan, class_name: str) -> LoadedModel:
    """The scan's model, frozen, after checking it is a JEM, knows the class and has true-colour bands.

    Raises:
        NaturalExplainError: naming what the user should change.
    """
    loaded = scan.loaded
    card = loaded.card
    if not card.jem:
        raise NaturalExplainError(f"model {scan.choice.path} is not a JEM, so it cannot sample: leave out --model for "
                                  "the bundled JEM, or train one with `python -m train jem`")
    if class_name not in card.classes:
        raise NaturalExplainError(f"unknown class '{class_name}': the model's classes are {', '.join(card.classes)}")
    missing = [b for b in TRUE_COLOUR if b not in card.bands]
    if missing:
        raise NaturalExplainError(f"the model has no {', '.join(missing)}, so its samples cannot be shown in true colour")
    for parameter in loaded.network.parameters():
        parameter.requires_grad_(False)
    return loaded


def sample(out: str | Path, *, class_name: str, n: int = 16, model: str | Path | None = None,
           steps: int | None = None, reference: str | Path = SAMPLE, init: str | None = None, seed: int = 0,
           device: str = "auto", guidance: float | None = None, start_sigma: float | None = None,
           progress: Progress | None = None, is_canceled: IsCanceled | None = None) -> SampleResult:
    """Draw `n` patches of `class_name` from a JEM and write them as a PNG grid plus a JSON record.

    Args:
        out: the PNG path; the record is written beside it with the suffix .json.
        class_name: one of the model's classes.
        n: number of samples (at least 2, for KID).
        model: a JEM model file; the bundled DEFAULT_SAMPLING_JEM when None.
        steps: SGLD steps (DEFAULT_STEPS), whose step size and noise are the JEM's own; for "annealed", the levels
            of the ladder (DEFAULT_LEVELS).
        reference: the raster whose real patches KID compares with (the bundled sample).
        init: where the chains start, one of INITS; default_init(the model's card) when None.
        seed: fixes the starts, the SGLD noise and the yardstick draws.
        device: "auto", "cpu" or "cuda".
        guidance: how hard a denoiser JEM's annealed chain is steered to the class (_slope; the card's when None).
        start_sigma: the noise level the annealed chain starts at (the card's chain's when None).
        progress: called with percent done.
        is_canceled: polled before every gradient evaluation.

    Returns:
        The paths written and the measurements recorded in the JSON.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    out = Path(out)
    _check_request(out, n, steps, init)
    # the reference raster whose real patches KID compares with, read for the JEM as every command reads its input
    scan = prepare(reference, given_or_bundled(model, DEFAULT_SAMPLING_JEM, "JEM"), device=device)
    loaded = _checked_jem(scan, class_name)
    card = loaded.card
    patch = int(card.jem.get("patch_size") or card.tile_size)
    init = init or default_init(card)
    steps = default_steps(init) if steps is None else steps
    generator = torch.Generator().manual_seed(seed)
    unit = UnitSpace(card)
    drawn, chain = _draw(loaded, card.classes.index(class_name), (n, len(card.bands), patch, patch), init, steps,
                         scan.device, generator, progress, is_canceled, guidance, start_sigma)
    samples = unit.to_physical(drawn)
    extractor = load_model(DEFAULT_MODEL, "cpu")
    _check_extractor(extractor, card.classes)
    real = reference_patches(scan, extractor, patch, generator)
    noise = unit.to_physical(torch.rand(samples.shape, generator=generator))
    other_name = next(name for name in card.classes if name != class_name)
    kids = _kids(extractor, samples, noise, real, class_name, other_name, card.bands, generator)
    same = real.patches_of(class_name)
    detail = {"samples": detail_ratio(samples.numpy(), same),
              "real_other_class": detail_ratio(real.patches_of(other_name), same)}
    loaded.network.cpu()
    probability = {"jem": float(_probabilities(loaded, samples, card.bands)[:, card.classes.index(class_name)].mean()),
                   "independent_classifier": float(_probabilities(extractor, samples, card.bands)[
                       :, extractor.card.classes.index(class_name)].mean())}
    write_grid(out, samples, card.bands)
    seconds = time.perf_counter() - started
    json_path = out.with_suffix(".json")
    write_json(json_path, {
        "class": class_name, "n": n, "patch_size": patch, "seed": seed, "init": init,
        **chain, "device": str(scan.device),
        "model": scan.model_record(),
        "mean_probability": {k: round(v, 4) for k, v in probability.items()},
        "kid": {**kids, "feature_network": f"{DEFAULT_MODEL.name}: pooled `features` (not Inception)",
                "reference": f"patches of {Path(reference).resolve()} outside the training labels that the "
                             f"independent classifier gives '{class_name}' with p >= {REFERENCE_CONFIDENCE}",
                "reference_patches": int(len(real.of_class(class_name)) - n)},
        "fine_detail": {**detail, "measure": "std of the 3x3 high-pass relative to the held-out real patches of the "
                                             "class (core.fine_detail): 1 is their texture, 0 flat"},
        "display": {"bands": TRUE_COLOUR, "reflectance_range": [0.0, DISPLAY_MAX_REFLECTANCE]},
        "seconds": round(seconds, 2),
    })
    if progress:
        progress(100.0)
    return SampleResult(out, json_path, class_name, n, probability["jem"], probability["independent_classifier"],
                        kids, detail, seconds)
