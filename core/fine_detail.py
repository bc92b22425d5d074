"""Fine detail: what is left of an image after its 3 x 3 local mean, the texture that blurs and grain get wrong.

KID on the classifier's pooled features cannot tell a blurred patch from a real one (README,
`core sample`), and RMSE rewards blur, so the samplers and the inpainting bench also report the
std of this high-pass relative to real imagery's: 1 is real texture, 0 flat, above 1 grain.
"""
import numpy as np
from scipy import ndimage


def high_pass(images: np.ndarray) -> np.ndarray:
    """`images` (..., H, W) minus their 3 x 3 mean over the last two axes (reflected at the edges), in float64."""
    images = images.astype(np.float64)
    return images - ndimage.uniform_filter(images, (1,) * (images.ndim - 2) + (3, 3))


def detail_ratio(images: np.ndarray, real: np.ndarray) -> float:
    """Std of the high-pass of (N, C, H, W) `images` over that of `real` ones, 1 px in from the patch edges."""
    def spread(x: np.ndarray) -> float:
        return float(high_pass(x)[..., 1:-1, 1:-1].std())

    return round(spread(images) / spread(real), 3)
