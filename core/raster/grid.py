"""Pixel grids as (CRS, transform, size): the unit every read and write is addressed in."""
import dataclasses
import math

from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

# Metres per degree of latitude; good to 0.5 % for sizing a model grid in a geographic CRS.
METRES_PER_DEGREE = 111_320.0


@dataclasses.dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: CRS, affine transform and size in pixels."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size (x, y) in CRS units, both positive."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in CRS units."""
        x0, y0 = self.transform.c, self.transform.f
        x1 = x0 + self.transform.a * self.width
        y1 = y0 + self.transform.e * self.height
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def window(self, window: Window) -> "Grid":
        """The sub-grid a window of this grid covers (it may reach outside the grid)."""
        return Grid(self.crs, self.transform * Affine.translation(window.col_off, window.row_off),
                    int(window.width), int(window.height))

    def full_window(self) -> Window:
        """The window covering the whole grid."""
        return Window(0, 0, self.width, self.height)

    def same_as(self, other: "Grid", tol: float = 1e-6) -> bool:
        """True when both grids have the same CRS, size and (to `tol` pixels) transform."""
        return (self.crs == other.crs and self.width == other.width and self.height == other.height
                and self.transform.almost_equals(other.transform, precision=tol * min(self.res)))


def metres_per_unit(grid: Grid) -> tuple[float, float]:
    """How many metres one CRS unit spans along x and y at the grid's centre."""
    if grid.crs.is_geographic:
        xmin, ymin, xmax, ymax = grid.bounds
        lat = math.radians((ymin + ymax) / 2)
        return METRES_PER_DEGREE * max(math.cos(lat), 1e-6), METRES_PER_DEGREE
    factor = grid.crs.linear_units_factor[1]
    return factor, factor


def pixel_size_m(grid: Grid) -> float:
    """The grid's mean pixel size in metres."""
    mx, my = metres_per_unit(grid)
    return (grid.res[0] * mx + grid.res[1] * my) / 2


def model_grid(reference: Grid, resolution_m: float) -> Grid:
    """A grid over the same area as `reference` at the model's resolution.

    The reference itself is returned when it is already within 1 % of the model's
    resolution, so the common case reads and writes without any resampling.
    """
    if abs(pixel_size_m(reference) / resolution_m - 1) < 0.01:
        return reference
    mx, my = metres_per_unit(reference)
    rx, ry = resolution_m / mx, resolution_m / my
    t = reference.transform
    width = max(1, math.ceil(reference.width * reference.res[0] / rx))
    height = max(1, math.ceil(reference.height * reference.res[1] / ry))
    return Grid(reference.crs, Affine(math.copysign(rx, t.a), 0, t.c, 0, math.copysign(ry, t.e), t.f), width, height)
