"""The sample command's PNG: patches in true colour on one fixed reflectance stretch, in a grid.

The stretch is the same for every image and run, so samples of two runs, or samples and real
patches, compare by eye; core.sample records it in its JSON ("display").
"""
import math
from pathlib import Path

import numpy as np
import torch

from core.atomic import atomic_path
from core.quicklook import TRUE_COLOUR

# True colour shown linearly from 0 to this reflectance, the same for every image and run.
DISPLAY_MAX_REFLECTANCE = 0.2
DISPLAY_ZOOM = 4
GAP = 2


def write_grid(path: Path, physical: torch.Tensor, bands: list[str]) -> Path:
    """A PNG of the patches in true colour (B04/B03/B02) on a fixed reflectance stretch, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rgb = (physical[:, [bands.index(b) for b in TRUE_COLOUR]] / DISPLAY_MAX_REFLECTANCE).clamp(0, 1).numpy()
    rgb = rgb.repeat(DISPLAY_ZOOM, axis=2).repeat(DISPLAY_ZOOM, axis=3).transpose(0, 2, 3, 1)
    n, size = len(rgb), rgb.shape[1]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (size + GAP) - GAP, cols * (size + GAP) - GAP, 3))
    for i, image in enumerate(rgb):
        r, c = divmod(i, cols)
        grid[r * (size + GAP):r * (size + GAP) + size, c * (size + GAP):c * (size + GAP) + size] = image
    with atomic_path(path) as tmp:
        plt.imsave(tmp, grid, format="png")
    return path
