"""Turn raw pixel values into what a model was trained on, as its card says."""
import numpy as np

from core.models.model_file import ModelCard


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
