"""Choosing the torch device from the user's `auto|cpu|cuda` word.

torch is imported only when a device is resolved, so the plugin can list the choices
without slowing QGIS's start-up.
"""
from typing import TYPE_CHECKING

from core.errors import NaturalExplainError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> "torch.device":
    """Return the device to run on: CUDA when present under `auto`, else the CPU.

    Raises:
        NaturalExplainError: for an unknown name, or `cuda` on a machine without CUDA.
    """
    import torch

    if name not in DEVICE_CHOICES:
        raise NaturalExplainError(f"unknown device '{name}': use one of {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NaturalExplainError("--device cuda was asked for but torch sees no CUDA GPU; use --device auto or cpu")
    return torch.device(name)
