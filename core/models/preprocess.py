"""Turn raw pixel values into what a model was trained on, as its card says."""
import numpy as np
import torch

from core.models.card import ModelCard


def scale_and_clip(raw: np.ndarray, scale: float, clip: tuple[float, float]) -> np.ndarray:
    """Raw digital numbers to physical units (e.g. reflectance), clipped to the trained range."""
    return np.clip(raw.astype(np.float32) * np.float32(scale), clip[0], clip[1])


def to_model_input(raw: np.ndarray, valid: np.ndarray, card: ModelCard) -> np.ndarray:
    """Scale, clip and standardise (C, H, W) raw values; invalid pixels become 0 (the band mean).

    Filling with the mean keeps a nodata hole from looking like a strong pattern to the
    network; those pixels are masked out of every output anyway.
    """
    x = scale_and_clip(raw, card.scale, card.clip)
    mean = np.asarray(card.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(card.std, dtype=np.float32)[:, None, None]
    x = (x - mean) / std
    x[:, ~valid] = 0.0
    return np.nan_to_num(x, nan=0.0)


class UnitSpace:
    """The card's clip range mapped to [0, 1]: the space the pattern generators work in.

    For Sentinel-2 with clip (0, 1) this is reflectance itself. The classifier takes the
    standardised form, QGIS shows the raw one; both conversions live here so the trainer and
    the explainer cannot disagree on them.

    Args:
        card: the classifier's card (scale, clip, mean, std).
        device: where the conversion constants live.
    """

    def __init__(self, card: ModelCard, device: torch.device | str = "cpu") -> None:
        self.low, self.high = (float(v) for v in card.clip)
        self.scale = float(card.scale)
        self.mean = torch.tensor(card.mean, dtype=torch.float32, device=device)[None, :, None, None]
        self.std = torch.tensor(card.std, dtype=torch.float32, device=device)[None, :, None, None]

    def from_input(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised model input (B, C, H, W) -> unit space, clamped to [0, 1]."""
        return ((x * self.std + self.mean - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def to_input(self, u: torch.Tensor) -> torch.Tensor:
        """Unit space -> the standardised input the classifier takes."""
        return (self.to_physical(u) - self.mean) / self.std

    def to_physical(self, u: torch.Tensor) -> torch.Tensor:
        """Unit space -> physical units after scaling (reflectance for Sentinel-2)."""
        return self.low + u * (self.high - self.low)

    def to_raw(self, u: torch.Tensor) -> torch.Tensor:
        """Unit space -> the input's raw units (digital numbers), for styling like the input."""
        return self.to_physical(u) / self.scale
