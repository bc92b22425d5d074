"""FCN classifier vs U-Net segmenter on the held-out labelled pixels of the north half (JSON + a table).

Both bundled models map a GeoTIFF of the scene's north half (its ten bands) through their
engine commands: the classifier with core.pipeline.explain (naturalness.tif, thresholded at
0.5), the segmenter with core.segment.segment (segmentation.tif band 1, at 0.5). They are
scored on the labelled pixels of the classifiers' validation blocks, minus any block the
segmenter's own split trained on (train.heldout): pixel IoU and F1 of natural, boundary F1 (the
labelled pixels within 2 px of an edge between classes), polygon F1 at IoU >= 0.5 after
vectorizing both the map and the labels inside those blocks, and seconds per megapixel of the
whole run (run.json's total; CPU threads as given by --threads).

    PYTHONPATH=. .venv/bin/python bench/measure_segmentation.py --out out/bench/segmentation.json
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
import torch

from core.models.model_file import load_model
from core.pipeline import explain
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.resources import DEFAULT_MODEL
from core.segment import DEFAULT_SEGMENTER, segment
from core.segment_metrics import edge_zone, map_polygons, pixel_scores, polygon_f1
from train.__main__ import build_parsers
from train.datasets.raster_masks import RasterPolygonMasks
from train.fetch import sentinel2_band_files
from train.heldout import HeldOutPixels, held_out_pixels, north_grid
from train.reproduce import segmenter_arguments
from train.split import split_samples


def segmenter_train_blocks(scene: Path, bands: list[str]) -> set:
    """The blocks the bundled segmenter's split trained on (its recorded reproduce options)."""
    _, commands = build_parsers()
    args = commands["segmenter"].parse_args(segmenter_arguments(Path("resources/models"))[1:])
    dataset = RasterPolygonMasks(scene, args.polygons, args.label_field, bands, args.resolution_m, args.patch_size,
                                 args.stride or args.patch_size // 2, args.block_size_m, args.min_labelled)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, args.val_fraction, args.seed)
    return {dataset.groups[i] for i in split.train}


def _write(path: Path, values: np.ndarray, held: HeldOutPixels, dtype: str, nodata: float,
           names: list[str] | None = None) -> Path:
    profile = dict(driver="GTiff", width=values.shape[-1], height=values.shape[-2], count=1 if values.ndim == 2 else
                   values.shape[0], dtype=dtype, nodata=nodata, crs=held.grid.crs, transform=held.grid.transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values if values.ndim == 3 else values[None])
        for i, name in enumerate(names or [], start=1):
            dst.set_band_description(i, name)
    return path


def score(map_path: Path, held: HeldOutPixels, natural: int, work: Path) -> dict:
    """Every score of one map's band 1 against the held-out labels."""
    with rasterio.open(map_path) as ds:
        values = ds.read(1)
    valid = (held.labels >= 0) & (values != NODATA)
    predicted, truth = values >= 0.5, held.labels == natural
    edges = edge_zone(held.all_labels) & valid
    masked = _write(work / f"{map_path.parent.name}_held_out.tif", np.where(valid, values, NODATA).astype("float32"),
                    held, "float32", NODATA)
    truth_map = _write(work / "labels_held_out.tif", np.where(valid, truth.astype("float32"), NODATA).astype("float32"),
                       held, "float32", NODATA)
    pixels = pixel_scores(predicted[valid], truth[valid])
    return {"pixel_iou": pixels["iou"], "pixel_f1": pixels["f1"], "pixel_accuracy": pixels["accuracy"],
            "boundary_f1": pixel_scores(predicted[edges], truth[edges])["f1"],
            "boundary_accuracy": pixel_scores(predicted[edges], truth[edges])["accuracy"],
            "polygons": polygon_f1(map_polygons(masked), map_polygons(truth_map)),
            "pixels": int(valid.sum()), "edge_pixels": int(edges.sum())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/segmentation.json"))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    scene = sentinel2_band_files(["B02"])["B02"].parent
    work = args.out.parent / "segmentation_work"
    work.mkdir(parents=True, exist_ok=True)
    classifier, segmenter = load_model(DEFAULT_MODEL).card, load_model(DEFAULT_SEGMENTER, expect="segmenter").card
    assert classifier.bands == segmenter.bands
    held = held_out_pixels(scene, trained_elsewhere=segmenter_train_blocks(scene, segmenter.bands))
    north = north_grid(scene)
    raw, _ = read_window(match_bands(open_input(scene), classifier.bands), north)
    stack = _write(work / "north.tif", np.nan_to_num(raw).round().astype("uint16"), held, "uint16", 0, classifier.bands)
    natural = held.classes.index("natural")
    results = {"held_out": {"blocks": len(held.blocks), "pixels": held.pixels}, "device": args.device,
               "threads": args.threads, "models": {}}
    runs = {"naturalness_s2 (FCN, explain)": lambda: explain(stack, work / "fcn", model=DEFAULT_MODEL, device=args.device)
            .outputs["naturalness"],
            "segmenter_s2 (U-Net, segment)": lambda: segment(stack, work / "unet", device=args.device).segmentation}
    for name, run in runs.items():
        started = time.perf_counter()
        path = run()
        seconds = time.perf_counter() - started
        record = json.loads((path.parent / "run.json").read_text())
        results["models"][name] = {**score(path, held, natural, work),
                                   "s_per_megapixel": round(record["timings"]["total_s"] / record["timings"]["megapixels"], 3),
                                   "wall_s": round(seconds, 2), "megapixels": record["timings"]["megapixels"]}
    args.out.write_text(json.dumps(results, indent=1))
    print(f"held out: {held.pixels} labelled pixels in {len(held.blocks)} blocks; {args.device}, {args.threads} thread(s)")
    print("| model | pixel IoU | pixel F1 | boundary F1 | polygon F1@0.5 (TP/pred/truth) | s/Mpx |")
    print("|---|---|---|---|---|---|")
    for name, m in results["models"].items():
        p = m["polygons"]
        print(f"| {name} | {m['pixel_iou']:.3f} | {m['pixel_f1']:.3f} | {m['boundary_f1']:.3f} | "
              f"{p['f1']:.3f} ({p['tp']}/{p['predicted']}/{p['truth']}) | {m['s_per_megapixel']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
