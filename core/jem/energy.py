"""log p(x) up to a constant: logsumexp of the classifier's logits (JEM's energy is its negative).

A tile's value comes from its tile logits, as in training; a pixel's from its dense logits,
so a confidence map costs one forward pass and no sampling.
"""
import torch
from torch import nn


def log_px(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(B,) unnormalised log p(x) of whole tiles: logsumexp of the tile logits.

    Args:
        network: a classifier returning (B, K) tile logits.
        x: (B, C, H, W) standardised model input.
    """
    return torch.logsumexp(network(x), dim=1)


def log_px_map(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) unnormalised log p(x) per pixel: logsumexp of the dense logits.

    Args:
        network: a NaturalnessFCN (it offers dense_logits).
        x: (B, C, H, W) standardised model input.
    """
    return log_px_of_logits(network.dense_logits(x))


def log_px_of_logits(logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, ...) log p(x) of logits already computed (B, K, ...), so a map that needs them too pays one pass."""
    return torch.logsumexp(logits, dim=1, keepdim=True)
