"""Random crops of one raster window, balanced between the classes a classifier sees in them.

The generative JEM's energy learns what imagery looks like, which needs no labels: every pixel of
the training window serves (the north half of the bundled scene: ~28,000 crop positions, where its
labelled patches are ~3,900). Drawn uniformly, crops would follow the window's land cover, and in
the bundled scene open water would crowd out fields; so the window's crops are sorted by the class
a classifier gives them, on a grid every CELL px, and each batch takes its crops from the classes
in turn. A crop starts at a random offset inside its cell and gets one of the 8 rotations and
flips, so no two batches repeat.
"""
import dataclasses
from typing import Callable

import numpy as np
import torch

from core.errors import NaturalExplainError

# The side of the grid cells the classifier sorts (px): a crop's corner lies in its cell.
CELL = 8
# (N, C, size, size) standardised crops -> (N, K) class probabilities.
Verdict = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class BalancedCrops:
    """The crops of a standardised image, by class.

    Attributes:
        image: (C, H, W) standardised pixels.
        cells: (N, 2) the grid cells whose crops are whole and valid, (row, column) in cells, row-major.
        pools: per class, indices into `cells` of those the classifier gives that class.
        size: the crop side (px).
    """

    image: torch.Tensor
    cells: np.ndarray
    pools: list[np.ndarray]
    size: int

    @classmethod
    def sort(cls, image: torch.Tensor, valid: np.ndarray, size: int, verdict: Verdict,
             batch_rows: int = 1) -> "BalancedCrops":
        """Sort the image's crops (every CELL px) by the class `verdict` gives each.

        Args:
            image: (C, H, W) standardised pixels.
            valid: (H, W) True where every band holds data; a cell's crops must be valid wherever its offsets reach.
            size: the crop side (px).
            verdict: class probabilities of a batch of crops.
            batch_rows: grid rows per call of `verdict`.

        Raises:
            NaturalExplainError: when no class gets a crop, or the window is smaller than one.
        """
        height, width = image.shape[-2:]
        rows, columns = range(0, height - size + 1, CELL), range(0, width - size + 1, CELL)
        if not rows or not columns:
            raise NaturalExplainError(f"the training window ({width} x {height} px) is smaller than one {size} px crop")
        whole = np.array([[valid[r:r + size + CELL - 1, c:c + size + CELL - 1].all() for c in columns] for r in rows])
        classes = []
        with torch.no_grad():
            for first in range(0, len(rows), batch_rows):
                crops = [image[:, r:r + size, c:c + size] for r in rows[first:first + batch_rows] for c in columns]
                classes.append(verdict(torch.stack(crops)).argmax(dim=1).numpy())
        classes = np.concatenate(classes).reshape(whole.shape)
        cells = np.argwhere(whole)
        picked = classes[whole]
        pools = [np.flatnonzero(picked == k) for k in range(int(classes.max()) + 1)]
        if not cells.size or any(not len(pool) for pool in pools):
            raise NaturalExplainError("the classifier gives some class no valid crop of the training window: widen "
                                      "the window (--polygons) so that every class is in it")
        return cls(image, cells, pools, size)

    def batch(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, C, size, size) crops, the classes in turn, each at a random offset, rotation and flip, and (n,) the
        class the classifier gave each one's cell."""
        height, width = self.image.shape[-2:]
        crops = []
        for k in range(n):
            pool = self.pools[k % len(self.pools)]
            cell = self.cells[pool[rng.integers(len(pool))]]
            r = min(int(cell[0]) * CELL + int(rng.integers(0, CELL)), height - self.size)
            c = min(int(cell[1]) * CELL + int(rng.integers(0, CELL)), width - self.size)
            crop = torch.rot90(self.image[:, r:r + self.size, c:c + self.size], int(rng.integers(4)), (1, 2))
            crops.append(crop.flip(2) if rng.integers(2) else crop)
        return torch.stack(crops), torch.arange(n) % len(self.pools)
