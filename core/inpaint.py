"""inpaint(raster, mask) -> the masked pixels filled by a JEM's SGLD, the known pixels untouched.

JEM inpainting (Grathwohl et al.; Castillo-Navarro et al., Fig. 4): Langevin dynamics on
log p(x) move only the masked pixels, with every known pixel clamped, so the fill is drawn
to be familiar to the model *given* its surroundings. A JEM trained with the inpainting term
(train/inpainting_term.py) has its gradient fitted to carry the smooth start to the truth on
holes with known pixels around them; its card gives the chain that was fitted for, and only the
pixels it reaches move, on patches that hold a known pixel. The raster is worked tile by tile with
the same overlapping tiles and row blender as `explain`, so memory stays flat; tiles with
nothing to fill cost one read. The output is the input's grid, bands and dtype, and its
known pixels are the input's own values, copied, never converted and back.
"""
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from rasterio.fill import fillnodata
from rasterio.windows import Window
from scipy import ndimage

from core.blend import RowBlender
from core.errors import NaturalExplainError, RunCanceled
from core.explain.metrics import gaussian_blur
from core.jem.energy import log_px
from core.jem.sgld import SGLDSettings, sgld
from core.models.choice import given_or_bundled
from core.models.model_file import LoadedModel
from core.models.preprocess import UnitSpace
from core.raster.fill_mask import FillMask
from core.raster.grid import pixel_size_m
from core.raster.originals import OriginalValues
from core.raster.read import BandReader, nonfinite_warning
from core.raster.write import open_geotiff
from core.resources import DEFAULT_JEM
from core.run_outputs import writable_file
from core.scan import IsCanceled, Progress, Scan, prepare, scan_batches
from core.tiling import Tile, blend_weights

# The chain for a JEM whose card does not say how it was trained to inpaint (jem.inpaint_step,
# inpaint_steps, inpaint_noise, inpaint_reach_px, written by `train jem --inpaint-weight`), chosen by
# bench/measure_inpaint.py on held-out pixels with known truth. With the JEM bundled before the
# inpainting term the gradient of log p(x) did not lower the error of the blurred start (noise
# alone scored as well), and its training settings (20 steps of 1, noise 0.01) more than doubled
# the RMSE and made the holes ~9x grainier than real pixels. A step of 0.1 kept the error near the
# start's (+1%), and noise 0.001 over 10 steps gave the holes about the fine texture real pixels
# have; longer chains, larger steps or more noise only added error.
DEFAULT_STEPS = 10
DEFAULT_STEP_SIZE = 0.1
DEFAULT_NOISE = 0.001
TILE_SIZE = 256
# Tiles whose holes share one SGLD run: their patches go through the network as one batch.
TILES_PER_BATCH = 8
# Twice the JEM patch (32 px) at most, so a hole near a tile edge still gets a whole patch of
# context in the neighbouring tile, whose blend weight dominates there.
OVERLAP = 64
# How a hole starts: "blur" spreads the known pixels inward (normalised Gaussian convolution),
# "idw" is GDAL's FillNodata (inverse-distance weights from the hole's edge, band by band),
# "mean" is the tile's per-band mean of its known pixels (measured: its RMSE is ~1.7x blur's).
# All get the SGLD noise on top, so the chain does not start from a flat plateau.
INITS = ("blur", "idw", "mean")
DEFAULT_INIT = "blur"
BLUR_SIGMA_PX = 8.0


@dataclasses.dataclass
class InpaintResult:
    """What a run wrote and what it cost.

    Attributes:
        path: the inpainted GeoTIFF.
        filled_pixels: pixels whose values were drawn (mask or input nodata).
        seconds: wall time of the whole run.
        tiles_filled: tiles that held something to fill (SGLD ran on them).
        settings: the SGLD settings used.
        init: how holes were started.
        sgld_seconds: time spent in SGLD.
        network_megapixel_steps: megapixels passed through the network, summed over SGLD steps,
            so sgld_seconds / network_megapixel_steps is the cost per step per megapixel.
        warnings: lines for the user.
    """

    path: Path
    filled_pixels: int
    seconds: float
    tiles_filled: int
    settings: SGLDSettings
    init: str
    sgld_seconds: float
    network_megapixel_steps: float
    warnings: list[str]


@dataclasses.dataclass(frozen=True)
class TrainedChain:
    """The chain a JEM's card says it was fitted to inpaint with, or the measured defaults for one that says nothing.

    Attributes:
        steps: SGLD steps.
        step_size: SGLD step size.
        noise: SGLD noise std.
        reach_px: only pixels this close to a known pixel move; None moves every pixel to fill.
    """

    steps: int
    step_size: float
    noise: float
    reach_px: float | None


def trained_chain(jem: dict) -> TrainedChain:
    """The chain of a JEM's card `jem` block (its inpaint_steps, inpaint_step, inpaint_noise, inpaint_reach_px),
    defaults elsewhere."""
    return TrainedChain(int(jem.get("inpaint_steps", DEFAULT_STEPS)), float(jem.get("inpaint_step", DEFAULT_STEP_SIZE)),
                        float(jem.get("inpaint_noise", DEFAULT_NOISE)), jem.get("inpaint_reach_px"))


def within_reach(hole: np.ndarray, reach_px: float | None) -> np.ndarray:
    """The pixels of the (H, W) bool `hole` at most reach_px from a known pixel (all of them when None)."""
    return hole if reach_px is None else hole & (ndimage.distance_transform_edt(hole) <= reach_px)


def _patch_starts(length: int, size: int, shift: int) -> list[int]:
    """Starts of `size` patches tiling [0, length) on a grid shifted by `shift`, clamped inside."""
    return sorted({min(max(start, 0), length - size) for start in range(-shift, length, size)})


def _has_context(fill: torch.Tensor) -> bool:
    """Whether a patch's (H, W) fill mask has both a pixel to fill and a known pixel."""
    return bool(fill.any()) and not bool(fill.all())


class _TileLogDensity:
    """log p(x) of each tile of a batch as the sum of the JEM's log p(x) over training-size patches.

    The JEM models patches of card.jem["patch_size"]; summing over patches that tile the tile
    keeps each pixel's gradient at the scale SGLD's step size was trained for. The patch grid
    moves at random every step, so no seam stays where it was, and only patches touching a
    pixel to fill are computed: the others give those pixels no gradient. The patches of all
    tiles go through the network together, since a few small patches use a CPU poorly.
    """

    def __init__(self, loaded: LoadedModel, unit: UnitSpace, fill: torch.Tensor, patch: int,
                 generator: torch.Generator, is_canceled: IsCanceled | None) -> None:
        self.network, self.unit, self.fill, self.patch = loaded.network, unit, fill, patch
        self.generator, self.is_canceled = generator, is_canceled
        self.pixel_steps = 0

    def __call__(self, u: torch.Tensor) -> torch.Tensor:
        if self.is_canceled and self.is_canceled():
            raise RunCanceled("canceled")
        p = self.patch
        dy, dx = (int(v) for v in torch.randint(0, p, (2,), generator=self.generator))
        rows, cols = _patch_starts(u.shape[-2], p, dy), _patch_starts(u.shape[-1], p, dx)
        corners = [(b, r, c) for b in range(len(u)) for r in rows for c in cols
                   if _has_context(self.fill[b, r:r + p, c:c + p])]
        if not corners:  # no patch holds both a pixel to fill and a known one: nothing to condition on this step
            return u.sum(dim=(1, 2, 3)) * 0.0
        owner, top, left = torch.tensor(corners, device=u.device).T
        offsets = torch.arange(p, device=u.device)
        # One gather, not a slice per patch: each slice's backward would allocate a whole batch of zeros.
        patches = u[owner[:, None, None], :, (top[:, None] + offsets)[:, :, None], (left[:, None] + offsets)[:, None, :]]
        values = log_px(self.network, self.unit.to_input(patches.permute(0, 3, 1, 2)))
        self.pixel_steps += len(corners) * p * p
        return torch.zeros(len(u), dtype=values.dtype, device=u.device).index_add(0, owner, values)


def initial_fill(u: torch.Tensor, known: torch.Tensor, how: str, fallback: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) start values for the holes of the unit-space tiles `u`.

    Args:
        u: (B, C, H, W) tiles in unit space; only their `known` pixels are used.
        known: (B, H, W) bool, True where the pixel is known.
        how: "mean" (each tile's per-band mean of known pixels), "blur" (known pixels spread
            by a normalised Gaussian, the mean where none is near) or "idw" (GDAL's FillNodata).
        fallback: (1, C, 1, 1) start for a tile with no known pixel (the training mean).
    """
    weight = known.to(u.dtype)[:, None]
    count = weight.sum(dim=(2, 3), keepdim=True)
    mean = torch.where(count > 0, (u * weight).sum(dim=(2, 3), keepdim=True) / count.clamp_min(1), fallback)
    if how == "mean":
        return mean.expand_as(u).clone()
    if how == "idw":
        return torch.where(count > 0, _inverse_distance(u, known), mean)
    spread_weight = gaussian_blur(weight, BLUR_SIGMA_PX)
    spread = gaussian_blur(u * weight, BLUR_SIGMA_PX) / spread_weight.clamp_min(1e-6)
    return torch.where(spread_weight > 1e-3, spread, mean)


def _inverse_distance(u: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """GDAL's FillNodata of every band of every tile (tiles with no known pixel are left as they are)."""
    values, valid = u.detach().cpu().numpy().copy(), known.cpu().numpy().astype(np.uint8)
    for tile, tile_valid in zip(values, valid):
        if tile_valid.any():
            for band in tile:
                band[:] = fillnodata(band, mask=tile_valid, max_search_distance=max(band.shape), smoothing_iterations=0)
    return torch.from_numpy(values).to(u.device)


@dataclasses.dataclass
class _Pending:
    """A tile read and waiting for its batch: where it lies, its (C, H, W) model input and what to fill."""

    tile: Tile
    x: torch.Tensor
    fill: np.ndarray


@dataclasses.dataclass
class _Run:
    """One run's fixed parts."""

    loaded: LoadedModel
    unit: UnitSpace
    settings: SGLDSettings
    init: str
    patch: int
    reach_px: float | None
    device: torch.device
    generator: torch.Generator
    is_canceled: IsCanceled | None
    sgld_seconds: float = 0.0
    pixel_steps: int = 0

    def fill_tiles(self, tiles: list[_Pending]) -> np.ndarray:
        """(B, C, H, W) raw values of the tiles with their `fill` pixels drawn by SGLD."""
        x = torch.stack([t.x for t in tiles])
        u = self.unit.from_input(x)
        holes = np.stack([t.fill for t in tiles])
        fill = torch.from_numpy(holes).to(self.device)
        fallback = self.unit.from_input(torch.zeros_like(x[:1, :, :1, :1]))
        start = initial_fill(u, ~fill, self.init, fallback)
        start = start + self.settings.noise * torch.randn(start.shape, generator=self.generator).to(self.device)
        start = torch.where(fill[:, None], start.clamp(0.0, 1.0), u)
        density = _TileLogDensity(self.loaded, self.unit, fill, self.patch, self.generator, self.is_canceled)
        t = time.perf_counter()
        out = sgld(density, start, self.settings, mask=self._movable(holes)[:, None], generator=self.generator)
        self.sgld_seconds += time.perf_counter() - t
        self.pixel_steps += density.pixel_steps
        return self.unit.to_raw(out).cpu().numpy()

    def _movable(self, holes: np.ndarray) -> torch.Tensor:
        """(B, H, W) pixels the chain moves: those of the (B, H, W) `holes` within its reach."""
        return torch.from_numpy(np.stack([within_reach(h, self.reach_px) for h in holes])).to(self.device)


def _check_inputs(scan: Scan, input_path: Path, out_path: Path) -> int:
    """The JEM's patch size, after checking model, resolution, size and output folder.

    Raises:
        NaturalExplainError: naming what the user should change.
    """
    card, grid = scan.loaded.card, scan.grids.model
    if not card.jem:
        raise NaturalExplainError(f"model {scan.choice.path} is not a JEM, so it has no log p(x) to inpaint with: "
                                  "leave out --model for the bundled JEM, or train one with `python -m train jem`")
    if card.jem.get("score"):
        raise NaturalExplainError(f"model {scan.choice.path} was trained for `core sample`'s annealed chain (`train jem "
                                  "--score-weight`), and its gradient is not fitted to this chain's steps: leave out "
                                  "--model for the bundled JEM")
    if scan.grids.resampled:
        raise NaturalExplainError(
            f"the input's {pixel_size_m(grid):.3g} m pixels differ from the model's {card.resolution_m:g} m, and "
            f"inpainting keeps every known pixel as it is: resample the input first (gdalwarp -tr {card.resolution_m:g} "
            f"{card.resolution_m:g} -r average)")
    patch = int(card.jem.get("patch_size") or card.tile_size)
    if grid.width < patch or grid.height < patch:
        raise NaturalExplainError(f"the input is {grid.width}x{grid.height} px, smaller than the model's {patch} px "
                                  "patch: give a larger raster")
    if out_path.resolve() == input_path.resolve():
        raise NaturalExplainError(f"--out {out_path} is the input itself: write the result to another file")
    if not out_path.parent.is_dir():
        raise NaturalExplainError(f"folder {out_path.parent} does not exist: create it or choose another --out")
    return patch


def inpaint(input_path: str | Path, out_path: str | Path, *, mask: str | Path, model: str | Path | None = None,
            bands: dict[str, int] | None = None, steps: int | None = None, step_size: float | None = None,
            noise: float | None = None, init: str = DEFAULT_INIT, device: str = "auto", seed: int = 0,
            progress: Progress | None = None, is_canceled: IsCanceled | None = None) -> InpaintResult:
    """Fill the masked and the nodata pixels of a raster by SGLD on a JEM's log p(x).

    Args:
        input_path: a raster file or a folder of band files, at the model's resolution.
        out_path: the GeoTIFF to write: the input's grid, the model's bands (described by
            name), the input's dtype; known pixels are the input's values bit for bit.
        mask: a raster on the input's grid (nonzero = fill) or a polygon file in any CRS.
            Input nodata pixels are filled as well.
        model: a JEM model file; the bundled DEFAULT_JEM when None.
        bands: optional model band name -> 1-based input band number.
        steps: SGLD steps; None takes the chain length the JEM was trained to inpaint with (its card's
            jem.inpaint_steps), else DEFAULT_STEPS.
        step_size: SGLD step size (unit space; 0 leaves only the noise); None takes the step the JEM was
            trained to inpaint with (its card's jem.inpaint_step), else DEFAULT_STEP_SIZE.
        noise: SGLD noise std (unit space), also added to the start; None takes the JEM's trained chain's
            (its card's jem.inpaint_noise), else DEFAULT_NOISE.
        init: how holes start, one of INITS.
        device: "auto", "cpu" or "cuda".
        seed: fixes the initial noise, the SGLD noise and the patch grid shifts.
        progress: called with percent done after each tile.
        is_canceled: polled before every SGLD step.

    Returns:
        The written path, how many pixels were filled, timings and warnings.

    Raises:
        NaturalExplainError: for input the user can fix; RunCanceled when canceled.
    """
    started = time.perf_counter()
    input_path, out_path = Path(input_path), Path(out_path)
    if init not in INITS:
        raise NaturalExplainError(f"unknown init '{init}': use one of {', '.join(INITS)}")
    wrong = [f"--steps {steps} (at least 1)"] if steps is not None and steps < 1 else []
    wrong += [f"--step-size {step_size} (at least 0)"] if step_size is not None and step_size < 0 else []
    wrong += [f"--noise {noise} (at least 0)"] if noise is not None and noise < 0 else []
    if wrong:
        raise NaturalExplainError(f"out of range: {', '.join(wrong)}")
    # tiled and blended as explain tiles its maps, on the input's own grid (_check_inputs refuses a resampled one)
    scan = prepare(input_path, given_or_bundled(model, DEFAULT_JEM, "JEM"), bands=bands, device=device,
                   overlap=OVERLAP, tile_size=TILE_SIZE)
    writable_file(out_path, [*scan.raster.files, Path(mask)])  # before the fill, not after it
    loaded = scan.loaded
    for parameter in loaded.network.parameters():
        parameter.requires_grad_(False)
    patch = _check_inputs(scan, input_path, out_path)
    trained = trained_chain(loaded.card.jem)
    settings = SGLDSettings(steps=trained.steps if steps is None else steps,
                            step_size=trained.step_size if step_size is None else step_size,
                            noise=trained.noise if noise is None else noise)
    generator = torch.Generator().manual_seed(seed)
    run = _Run(loaded, UnitSpace(loaded.card, scan.device), settings, init, patch, trained.reach_px, scan.device,
               generator, is_canceled)
    user_mask = FillMask(mask, scan.grids.model)
    try:
        user_mask.check_selects_pixels()
        with BandReader(scan.band_refs) as reader:
            originals = OriginalValues(scan.band_refs, scan.grids.model, reader)
            try:
                filled, tiles_filled, unknown_tiles = _fill_raster(run, scan, reader, originals, user_mask, out_path,
                                                                   progress)
            finally:
                originals.close()
            infinite = nonfinite_warning(reader.nonfinite_pixels)
    finally:
        user_mask.close()
    warnings = [f"{infinite}: they were filled"] if infinite else []
    if unknown_tiles:
        warnings.append(f"{unknown_tiles} tile(s) held no known pixel: their fill starts from the model's training "
                        "mean and is conditioned on nothing")
    return InpaintResult(out_path, filled, time.perf_counter() - started, tiles_filled, settings, init,
                         run.sgld_seconds, run.pixel_steps / 1e6, warnings)


def _fill_raster(run: _Run, scan: Scan, reader: BandReader, originals: OriginalValues, user_mask: FillMask,
                 out_path: Path, progress: Progress | None) -> tuple[int, int, int]:
    """Fill the scan's tiles, tile by tile (those with no data too), and write row blocks as they finish.

    Returns:
        (pixels filled, tiles filled, tiles that had no known pixel).
    """
    grid, tiles = scan.grids.model, scan.tiles
    weights = blend_weights(tiles[0].window.height, tiles[0].window.width, OVERLAP)
    channels = len(run.loaded.card.bands)
    filled = tiles_filled = unknown_tiles = 0
    with open_geotiff(out_path, grid, bands=channels, descriptions=list(run.loaded.card.bands),
                      dtype=np.dtype(originals.dtype).name, nodata=None) as dst:
        def sink(row0: int, values: np.ndarray, covered: np.ndarray) -> None:
            nonlocal filled
            window = Window(0, row0, grid.width, values.shape[1])
            dst.write(np.where(covered[None], originals.cast(values), originals.read(window)), window=window)
            filled += int(covered.sum())

        blender = RowBlender(grid.height, grid.width, channels, sink)
        batch: list[_Pending] = []
        for read in scan_batches(reader, grid, tiles, run.loaded, run.device, 1, progress=progress,
                                 is_canceled=run.is_canceled, keep_empty=True):
            tile = read.tiles[0]
            if batch and batch[0].tile.row != tile.row:  # one row of tiles at a time keeps the blender's strip short
                tiles_filled += _fill_batch(run, blender, batch, weights)
                batch = []
            fill = user_mask.read(tile.window) | ~read.valid[0]
            if fill.any():
                batch.append(_Pending(tile, read.x[0], fill))
                unknown_tiles += int(fill.all())
            if len(batch) == TILES_PER_BATCH:
                tiles_filled += _fill_batch(run, blender, batch, weights)
                batch = []
            if not batch:
                blender.release_until(int(tile.window.row_off))
        if batch:
            tiles_filled += _fill_batch(run, blender, batch, weights)
        blender.close()
    return filled, tiles_filled, unknown_tiles


def _fill_batch(run: _Run, blender: RowBlender, batch: list[_Pending], weights: np.ndarray) -> int:
    """Fill a batch of tiles of one tile row and hand them to the blender; returns how many."""
    blender.release_until(int(batch[0].tile.window.row_off))
    for pending, values in zip(batch, run.fill_tiles(batch)):
        blender.add(pending.tile.window, values, weights * pending.fill)
    return len(batch)
