"""CAMAT: class-activation-map-guided occlusion during training (Yang et al., IGARSS 2019).

For each training batch, the GradCAM of each sample's true class is computed with the current
network, the top `share` of its pixels are replaced by a fill, and the network trains on the
partly masked batch: the evidence it leans on most is taken away on purpose, so it has to use
the rest of the patch as well. The map is the one `python -m core explain --methods gradcam`
shows (core.explain.captum_methods.gradcam), so "what CAMAT hid" and "what the analyst sees"
are the same thing. Every random draw (which samples, tie order, noise) comes from the
trainer's checkpointed generator, so a resumed CAMAT run matches an uninterrupted one.
"""
import dataclasses
from typing import Any, Iterable

import torch
from torch import nn

from core.explain.captum_methods import gradcam
from core.explain.metrics import top_fraction_mask

# What occluded pixels become, in the standardised space the network takes:
# "mean": the card's band means (0 after standardisation), as the occlusion explainer fills;
# "batch": each band's mean over the batch; "noise": Gaussian noise with the card's band means and stds.
FILLS = ("mean", "batch", "noise")
# Evidence concentration: the share of a map's total that lies in its top 10 % of pixels
# (0.1 when spread evenly, 1 when all of it sits in one tenth of the patch).
CONCENTRATION_TOP = 0.1


@dataclasses.dataclass(frozen=True)
class CAMATSettings:
    """How CAMAT occludes.

    Attributes:
        share: the share of each occluded sample's pixels hidden: the top of its true-class CAM.
        fill: what hidden pixels become (FILLS); the band means beat the batch means and noise on held-out
            blocks (bench/measure_camat.py, seed 0: 0.969 against 0.965 and 0.962).
        probability: the chance that a sample of a batch is occluded (the others train untouched).
        warmup: epochs of plain training before occlusion starts (an untrained network's CAM is noise).
    """

    share: float = 0.2
    fill: str = "mean"
    probability: float = 0.5
    warmup: int = 1

    def card_entry(self) -> dict[str, Any]:
        """The settings as the model card's `training.camat` record holds them."""
        return dataclasses.asdict(self)


def occlusion_fill(x: torch.Tensor, fill: str, generator: torch.Generator) -> torch.Tensor:
    """(B, C, H, W) values that replace occluded pixels of the standardised batch `x`.

    Args:
        x: the batch.
        fill: one of FILLS.
        generator: draws the noise fill (and nothing else), so resumed runs repeat it.
    """
    if fill == "mean":
        return torch.zeros_like(x)
    if fill == "batch":
        return x.mean(dim=(0, 2, 3), keepdim=True).expand_as(x)
    return torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


def occlude(network: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: CAMATSettings,
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide the top `settings.share` of the true-class CAM of a random part of the batch.

    Args:
        network: the classifier being trained (its `cam_layer` gives the CAM).
        x: (B, C, H, W) standardised, augmented batch on the network's device.
        y: (B,) true classes.
        settings: see CAMATSettings.
        generator: the trainer's seeded generator: which samples, the order of tied CAM values, noise.

    Returns:
        The occluded batch and the (B, 1, H, W) bool mask of hidden pixels.
    """
    b, _, h, w = x.shape
    chosen = (torch.rand(b, generator=generator) < settings.probability).nonzero()[:, 0]
    mask = torch.zeros(b, 1, h, w, dtype=torch.bool)
    if len(chosen):
        cam = gradcam(network, x[chosen.to(x.device)], y[chosen].to(x.device)).detach().cpu()
        ties = torch.rand(len(chosen), h, w, generator=generator)
        for j, i in enumerate(chosen.tolist()):
            mask[i, 0] = top_fraction_mask(cam[j, 0], ties[j], 100.0 * settings.share)
    mask = mask.to(x.device)
    return torch.where(mask, occlusion_fill(x, settings.fill, generator), x), mask


def evidence_concentration(cam: torch.Tensor, top: float = CONCENTRATION_TOP) -> torch.Tensor:
    """(B,) share of each map's evidence in its top `top` of pixels; NaN for a map with no evidence.

    Args:
        cam: (B, 1, H, W) non-negative maps.
        top: the share of pixels counted.
    """
    flat = cam.flatten(1)
    k = max(1, round(flat.shape[1] * top))
    total = flat.sum(dim=1)
    return torch.where(total > 0, flat.topk(k, dim=1).values.sum(dim=1) / total.clamp_min(1e-12),
                       torch.full_like(total, float("nan")))


def validation_concentration(network: nn.Module, batches: Iterable[torch.Tensor], device: torch.device) -> float:
    """Mean evidence concentration of the GradCAM of each validation patch's predicted class.

    The map of the predicted class is what `explain --methods gradcam` shows by default; patches whose
    map is empty are left out. Computed with gradients on, so callers must not be under no_grad.

    Args:
        network: the classifier, in eval mode.
        batches: standardised validation batches.
        device: where the network lives.
    """
    found = []
    for x in batches:
        x = x.to(device)
        with torch.no_grad():
            predicted = network(x).argmax(dim=1)
        found.append(evidence_concentration(gradcam(network, x, predicted).detach().cpu()))
    values = torch.cat(found)
    values = values[~values.isnan()]
    return round(float(values.mean()), 4) if len(values) else float("nan")
