"""The classic baselines through Captum: GradCAM, occlusion, DeepLIFT, integrated gradients.

Thin wrappers: each builds its Captum object from the classifier and turns Captum's answer
into the shared (B, 1, H, W) non-negative importance map. Per-band methods are reduced by
the mean of absolute values over bands, as the CycleGAN attribution is.
"""
import torch
from captum.attr import DeepLift, IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion
from torch import nn

from core.explain.base import Explainer


class CaptumExplainer(Explainer):
    """Shared plumbing: what to differentiate and how to reduce Captum's output."""

    def _forward(self, x: torch.Tensor, target: torch.Tensor | None) -> tuple[nn.Module, torch.Tensor]:
        """The class logits and the class to explain: `target`, or each tile's predicted class."""
        return self.model.network, self.explained_class(x, target)

    @staticmethod
    def _per_band(attribution: torch.Tensor) -> torch.Tensor:
        return attribution.abs().mean(dim=1, keepdim=True)


def gradcam(network: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) non-negative GradCAM of class `target` on the network's `cam_layer`, upsampled bilinearly.

    One function, so the map the explainer shows is the very map CAMAT training occludes (train/camat.py).
    """
    cam = LayerGradCam(network, network.cam_layer).attribute(x, target=target, relu_attributions=True)
    return LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear").clamp_min(0)


class GradCAMExplainer(CaptumExplainer):
    name = "gradcam"
    description = "GradCAM on the last feature map, upsampled bilinearly"

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        forward, target = self._forward(x, target)
        return gradcam(forward, x, target)


class OcclusionExplainer(CaptumExplainer):
    """Occlusion sensitivity: windows replaced by the band means (0 after standardisation)."""

    name = "occlusion"
    description = "occlusion sensitivity, 16 px windows every 8 px (occlusion.window, .stride), filled with the band means"

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        forward, target = self._forward(x, target)
        c = x.shape[1]
        window, stride = min(self.options.window, *x.shape[-2:]), min(self.options.stride, *x.shape[-2:])
        result = Occlusion(forward).attribute(x, target=target, sliding_window_shapes=(c, window, window),
                                              strides=(c, stride, stride), baselines=0.0, perturbations_per_eval=16)
        return result.sum(dim=1, keepdim=True).clamp_min(0) / c


class DeepLiftExplainer(CaptumExplainer):
    name = "deeplift"
    description = "DeepLIFT (rescale rule) against the band-mean baseline"

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        forward, target = self._forward(x, target)
        return self._per_band(DeepLift(forward).attribute(x, target=target, baselines=0.0))


class IntegratedGradientsExplainer(CaptumExplainer):
    name = "ig"
    description = "integrated gradients from the band-mean baseline, 32 steps (ig.steps)"

    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        forward, target = self._forward(x, target)
        ig = IntegratedGradients(forward)
        return self._per_band(ig.attribute(x, target=target, baselines=0.0, n_steps=self.options.steps,
                                           internal_batch_size=max(1, 2 * len(x))))
