"""inpaint(raster, mask) -> the masked pixels filled by a JEM's SGLD, the known pixels untouched.

JEM inpainting (Grathwohl et al.; Castillo-Navarro et al., Fig. 4): Langevin dynamics on
log p(x) move only the masked pixels, with every known pixel clamped, so the fill is drawn
to be familiar to the model *given* its surroundings. The raster is worked tile by tile with
the same overlapping tiles and row blender as `explain`, so memory stays flat; tiles with
nothing to fill cost one read. The output is the input's grid, bands and dtype, and its
known pixels are the input's own values, copied, never converted and back.
"""
import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Callable

import numpy as np
import rasterio
import torch
from rasterio.errors import RasterioIOError
from rasterio.fill import fillnodata
from rasterio.windows import Window

from core.aoi import AOI
from core.blend import RowBlender
from core.device import resolve_device
from core.errors import NaturalExplainError, RunCanceled
from core.explain.metrics import gaussian_blur
from core.jem.energy import log_px
from core.jem.sgld import SGLDSettings, sgld
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace, to_model_input
from core.raster.bands import match_bands
from core.raster.grid import Grid, model_grid, pixel_size_m
from core.raster.read import BandReader, nonfinite_warning, read_checked
from core.raster.sources import BandRef, open_input, open_raster, undecodable_gdal_messages_silenced
from core.raster.write import open_geotiff
from core.resources import DEFAULT_JEM
from core.run_outputs import writable_file
from core.tiling import Tile, blend_weights, tile_grid

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]

# SGLD settings chosen by bench/measure_inpaint.py on held-out pixels with known truth. With the
# bundled JEM the gradient of log p(x) does not lower the error of the blurred start (noise
# alone scores as well), and the JEM's own training settings (20 steps of 1, noise 0.01) more
# than double the RMSE and make the holes ~9x grainier than real pixels. A step of 0.1 keeps
# the error near the start's (+1%), and noise 0.001 over 10 steps gives the holes about the fine
# texture real pixels have; longer chains, larger steps or more noise only add error.
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


class _Mask:
    """The user's mask on the input grid: a raster on that grid (nonzero = fill) or polygons in any CRS."""

    def __init__(self, path: str | Path, grid: Grid) -> None:
        self.path, self.grid = Path(path), grid
        self.aoi: AOI | None = None
        self.dataset: rasterio.DatasetReader | None = None
        if not self.path.exists():
            raise NaturalExplainError(f"mask {self.path} does not exist")
        try:
            with undecodable_gdal_messages_silenced():
                self.dataset = rasterio.open(self.path)
        except RasterioIOError:
            self.aoi = AOI.from_vector(self.path)  # its own one-line errors for unreadable files
            return
        ds = self.dataset
        if ds.crs is None or not Grid(ds.crs, ds.transform, ds.width, ds.height).same_as(grid):
            ds.close()
            xmin, ymin, xmax, ymax = grid.bounds
            raise NaturalExplainError(
                f"mask {self.path} is not on the input's grid ({grid.width}x{grid.height} px, {grid.crs.to_string()}): "
                f"warp it onto it (gdalwarp -t_srs {grid.crs.to_string()} -te {xmin} {ymin} {xmax} {ymax} "
                f"-ts {grid.width} {grid.height} -r near) or give polygons instead")

    def close(self) -> None:
        if self.dataset is not None:
            self.dataset.close()

    def read(self, window: Window) -> np.ndarray:
        """Bool (h, w): True where the mask asks for a fill (a raster's nodata and NaN never do).

        Raises:
            NaturalExplainError: naming the mask and the window when its file is damaged.
        """
        if self.dataset is not None:
            values = read_checked(self.dataset, 1, window, masked=True)
            return np.ma.filled((values != 0) & ~np.isnan(values), False)
        return self.aoi.inside_mask(self.grid.window(window))  # never None: polygons are no box

    def check_selects_pixels(self, rows_per_strip: int = 512) -> None:
        """Strip by strip, so a continent-sized mask costs no memory.

        Raises:
            NaturalExplainError: when the mask selects no pixel of the input.
        """
        for row in range(0, self.grid.height, rows_per_strip):
            if self.read(Window(0, row, self.grid.width, min(rows_per_strip, self.grid.height - row))).any():
                return
        xmin, ymin, xmax, ymax = self.grid.bounds
        raise NaturalExplainError(
            f"mask {self.path} selects no pixel of the input (its raster is all zero, or its polygons lie outside "
            f"the input's bounds {xmin:.6g}, {ymin:.6g}, {xmax:.6g}, {ymax:.6g} in {self.grid.crs.to_string()}): "
            "mark the pixels to fill")


def _patch_starts(length: int, size: int, shift: int) -> list[int]:
    """Starts of `size` patches tiling [0, length) on a grid shifted by `shift`, clamped inside."""
    return sorted({min(max(start, 0), length - size) for start in range(-shift, length, size)})


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
        corners = [(b, r, c) for b in range(len(u)) for r in rows for c in cols if self.fill[b, r:r + p, c:c + p].any()]
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
    """A tile read and waiting for its batch: where it lies, its raw values and what to fill."""

    tile: Tile
    raw: np.ndarray
    valid: np.ndarray
    fill: np.ndarray


@dataclasses.dataclass
class _Run:
    """One run's fixed parts."""

    loaded: LoadedModel
    unit: UnitSpace
    settings: SGLDSettings
    init: str
    patch: int
    device: torch.device
    generator: torch.Generator
    is_canceled: IsCanceled | None
    sgld_seconds: float = 0.0
    pixel_steps: int = 0

    def fill_tiles(self, tiles: list[_Pending]) -> np.ndarray:
        """(B, C, H, W) raw values of the tiles with their `fill` pixels drawn by SGLD."""
        card = self.loaded.card
        x = torch.from_numpy(np.stack([to_model_input(t.raw, t.valid, card) for t in tiles])).to(self.device)
        u = self.unit.from_input(x)
        fill = torch.from_numpy(np.stack([t.fill for t in tiles])).to(self.device)
        fallback = self.unit.from_input(torch.zeros_like(x[:1, :, :1, :1]))
        start = initial_fill(u, ~fill, self.init, fallback)
        start = start + self.settings.noise * torch.randn(start.shape, generator=self.generator).to(self.device)
        start = torch.where(fill[:, None], start.clamp(0.0, 1.0), u)
        density = _TileLogDensity(self.loaded, self.unit, fill, self.patch, self.generator, self.is_canceled)
        t = time.perf_counter()
        out = sgld(density, start, self.settings, mask=fill[:, None], generator=self.generator)
        self.sgld_seconds += time.perf_counter() - t
        self.pixel_steps += density.pixel_steps
        return self.unit.to_raw(out).cpu().numpy()


class _Originals:
    """The input's own values on its grid, in its own dtype: what known pixels are written as.

    Bands stored on the output grid are copied from their files; a coarser band (a 20 m
    Sentinel-2 band in a 10 m stack) has no value of its own there, so its resampled value,
    rounded to the dtype, stands in.
    """

    def __init__(self, refs: list[BandRef], grid: Grid, reader: BandReader) -> None:
        self.refs, self.grid, self.reader = refs, grid, reader
        self._stack = contextlib.ExitStack()
        try:
            self.datasets = {path: self._stack.enter_context(open_raster(path))
                             for path in dict.fromkeys(r.path for r in refs)}
        except BaseException:
            self._stack.close()
            raise
        self.dtype = np.result_type(*(self.datasets[r.path].dtypes[r.index - 1] for r in refs))

    def close(self) -> None:
        self._stack.close()

    def cast(self, values: np.ndarray) -> np.ndarray:
        """Values in the output dtype: rounded and clipped to its range for integers."""
        if np.issubdtype(self.dtype, np.integer):
            info = np.iinfo(self.dtype)
            values = np.clip(np.rint(np.nan_to_num(values)), info.min, info.max)
        return values.astype(self.dtype)

    def read(self, window: Window) -> np.ndarray:
        """(C, h, w) original values of a window of the grid (a known pixel is never ±inf: those are filled).

        Raises:
            NaturalExplainError: naming the file and the window when a block is damaged.
        """
        resampled = None
        bands = []
        for ref in self.refs:
            if ref.grid.same_as(self.grid):
                bands.append(read_checked(self.datasets[ref.path], ref.index, window).astype(self.dtype, copy=False))
                continue
            if resampled is None:
                resampled, _ = self.reader.read(self.grid.window(window))
            bands.append(self.cast(resampled[len(bands)]))
        return np.stack(bands)


def _check_inputs(grid: Grid, loaded: LoadedModel, model: str | Path, input_path: Path, out_path: Path) -> int:
    """The JEM's patch size, after checking model, resolution, size and output folder.

    Raises:
        NaturalExplainError: naming what the user should change.
    """
    card = loaded.card
    if not card.jem:
        raise NaturalExplainError(f"model {model} is not a JEM, so it has no log p(x) to inpaint with: "
                                  "leave out --model for the bundled JEM, or train one with `python -m train jem`")
    if model_grid(grid, card.resolution_m) is not grid:
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
            bands: dict[str, int] | None = None, steps: int = DEFAULT_STEPS, step_size: float = DEFAULT_STEP_SIZE,
            noise: float = DEFAULT_NOISE, init: str = DEFAULT_INIT, device: str = "auto", seed: int = 0,
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
        steps: SGLD steps.
        step_size: SGLD step size (unit space; 0 leaves only the noise).
        noise: SGLD noise std (unit space), also added to the start.
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
    if steps < 1 or step_size < 0 or noise < 0:
        raise NaturalExplainError(f"--steps {steps} must be at least 1 and --step-size {step_size} and --noise {noise} "
                                  "at least 0")
    raster = open_input(input_path)
    writable_file(out_path, [*raster.files, Path(mask)])  # before the fill, not after it
    torch_device = resolve_device(device)
    model = model or DEFAULT_JEM
    loaded = load_model(model, torch_device)
    for parameter in loaded.network.parameters():
        parameter.requires_grad_(False)
    refs = match_bands(raster, loaded.card.bands, bands)
    grid = raster.grid
    patch = _check_inputs(grid, loaded, model, input_path, out_path)
    settings = SGLDSettings(steps=steps, step_size=step_size, noise=noise)
    generator = torch.Generator().manual_seed(seed)
    run = _Run(loaded, UnitSpace(loaded.card, torch_device), settings, init, patch, torch_device, generator, is_canceled)
    user_mask = _Mask(mask, grid)
    try:
        user_mask.check_selects_pixels()
        with BandReader(refs) as reader:
            originals = _Originals(refs, grid, reader)
            try:
                filled, tiles_filled, unknown_tiles = _fill_raster(run, reader, originals, user_mask, grid,
                                                                   out_path, progress)
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


def _fill_raster(run: _Run, reader: BandReader, originals: _Originals, user_mask: _Mask, grid: Grid, out_path: Path,
                 progress: Progress | None) -> tuple[int, int, int]:
    """Fill tile by tile and write row blocks as they finish.

    Returns:
        (pixels filled, tiles filled, tiles that had no known pixel).
    """
    tiles = tile_grid(grid.height, grid.width, TILE_SIZE, min(OVERLAP, TILE_SIZE // 2))
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
        for done, tile in enumerate(tiles, start=1):
            if run.is_canceled and run.is_canceled():
                raise RunCanceled("canceled")
            if batch and batch[0].tile.row != tile.row:  # one row of tiles at a time keeps the blender's strip short
                tiles_filled += _fill_batch(run, blender, batch, weights)
                batch = []
            raw, valid = reader.read(grid.window(tile.window))
            fill = user_mask.read(tile.window) | ~valid
            if fill.any():
                batch.append(_Pending(tile, raw, valid, fill))
                unknown_tiles += int(fill.all())
            if len(batch) == TILES_PER_BATCH:
                tiles_filled += _fill_batch(run, blender, batch, weights)
                batch = []
            if not batch:
                blender.release_until(int(tile.window.row_off))
            if progress:
                progress(100.0 * done / len(tiles))
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
