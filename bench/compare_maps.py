"""FCN classifier, SSC (MLP, random forest) and U-Net segmenter on the same held-out labelled pixels: one table.

All four maps are made in one run from one GeoTIFF of the scene's labelled north half (its ten
bands; the south half, rows 980 and below, has no labels and is never read for scoring):

- FCN: core.pipeline.explain with naturalness_s2 (naturalness.tif),
- SSC mlp / SSC rf: core.ssc.ssc with naturalness_s2 as phase 1 and the default features
  (naturalness_ssc.tif; its time includes its own phase 1 and its figure),
- U-Net: core.segment.segment with segmenter_s2 (segmentation.tif band 1),

each thresholded at 0.5, and scored on exactly the same pixels: the labelled pixels of the
blocks held out by every model's split (train.heldout: the classifiers' validation blocks minus
the blocks the segmenter's own split trained on; SSC learns from the image's own pixels, labelled
by its phase 1, never from the labels), where no map has nodata. Scores: per-class and
pixel-weighted F1 (core.ssc.f1_report), pixel IoU of natural and its mean with the other class
(core.segment_metrics.pixel_scores), boundary F1 on the labelled pixels within 2 px of a label
edge (core.segment_metrics.edge_zone, over every north-half label so a block's border is no
edge), polygon F1 at IoU >= 0.5 (map_polygons + polygon_f1 inside the held-out blocks), and
seconds per megapixel of each command's own record (run.json / ssc.json total_s). The maps are
made --repeats times, interleaved, and the median time is reported with its ratio to the FCN's
median in the same run: the machine's load moves absolute times 2-4x, the ratios much less.

    PYTHONPATH=. .venv/bin/python bench/compare_maps.py --out out/bench/compare_maps.json
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
import torch
from scipy import ndimage
from threadpoolctl import threadpool_limits

from bench.measure_segmentation import _write, segmenter_train_blocks
from core.models.model_file import load_model
from core.pipeline import explain
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.resources import DEFAULT_MODEL
from core.segment import DEFAULT_SEGMENTER, segment
from core.segment_metrics import EDGE_WIDTH_PX, edge_zone, map_polygons, pixel_scores, polygon_f1
from core.ssc import confusion, f1_report, ssc
from train.fetch import sentinel2_band_files
from train.heldout import HeldOutPixels, classifier_val_blocks, held_out_pixels, north_grid

FCN, SSC_MLP, SSC_RF, UNET = ("FCN classifier (explain, naturalness_s2)", "SSC, MLP (ssc --learner mlp)",
                              "SSC, random forest (ssc --learner rf)", "U-Net segmenter (segment, segmenter_s2)")


def make_maps(stack: Path, work: Path, device: str) -> dict[str, tuple[Path, dict]]:
    """Each map's path and its command's timings record, in a fixed order (FCN first)."""
    fcn = explain(stack, work / "fcn", model=DEFAULT_MODEL, device=device)
    mlp = ssc(stack, work / "ssc_mlp", model=DEFAULT_MODEL, learner="mlp", device=device)
    rf = ssc(stack, work / "ssc_rf", model=DEFAULT_MODEL, learner="rf", device=device)
    unet = segment(stack, work / "unet", device=device)
    timings = lambda path: json.loads(path.read_text())["timings"]  # noqa: E731
    return {FCN: (fcn.outputs["naturalness"], timings(fcn.run_json)),
            SSC_MLP: (mlp.probability, timings(mlp.json_path)),
            SSC_RF: (rf.probability, timings(rf.json_path)),
            UNET: (unet.segmentation, timings(unet.run_json))}


def read_map(path: Path, held: HeldOutPixels) -> np.ndarray:
    with rasterio.open(path) as ds:
        values = ds.read(1)
    assert values.shape == held.labels.shape, (path, values.shape, held.labels.shape)
    return values


def class_names(held: HeldOutPixels) -> tuple[str, str]:
    """(the other class, natural): f1_report's order for truth 0 / 1."""
    return "/".join(c for c in held.classes if c != "natural"), "natural"


def score(values: np.ndarray, held: HeldOutPixels, scored: np.ndarray, edges: np.ndarray, truth_polygons: list,
          path: Path) -> dict:
    """Every score of one map (probability of natural, threshold 0.5) on the `scored` pixels."""
    natural = held.classes.index("natural")
    predicted, truth = values >= 0.5, held.labels == natural
    names = class_names(held)
    report = f1_report(confusion(truth[scored].astype(np.int8), predicted[scored]), names)
    positive = pixel_scores(predicted[scored], truth[scored])
    negative = pixel_scores(~predicted[scored], ~truth[scored])
    near = f1_report(confusion(truth[edges].astype(np.int8), predicted[edges]), names)
    masked = _write(path, np.where(scored, values, NODATA).astype("float32"), held, "float32", NODATA)
    return {"pixel_weighted_f1": report["pixel_weighted_f1"],
            "per_class_f1": {name: c["f1"] for name, c in report["per_class"].items()},
            "iou_natural": positive["iou"], "iou_mean": round((positive["iou"] + negative["iou"]) / 2, 4),
            "accuracy": positive["accuracy"], "natural": positive,
            "boundary": {"pixel_weighted_f1": near["pixel_weighted_f1"],
                         "per_class_f1": {name: c["f1"] for name, c in near["per_class"].items()},
                         "natural": pixel_scores(predicted[edges], truth[edges]), "pixels": near["pixels"]},
            "polygons": polygon_f1(map_polygons(masked), truth_polygons),
            "pixels": report["pixels"]}


def markdown(results: dict) -> list[str]:
    other = results["classes"][0]
    lines = [f"| map | pixel-weighted F1 | F1 natural / {other} | IoU natural / mean | boundary F1 "
             f"(±{EDGE_WIDTH_PX} px, {results['pixels']['edge']} px) | polygon F1 @ IoU 0.5 (TP/pred/truth) "
             "| s/Mpx | time ÷ FCN's (median; range over rounds) |", "|---|---|---|---|---|---|---|---|"]
    for name, m in results["maps"].items():
        p, b, ratios = m["polygons"], m["boundary"], m["time_ratio_to_fcn_per_round"]
        lines.append(f"| {name} | {m['pixel_weighted_f1']:.3f} | {m['per_class_f1']['natural']:.3f} / "
                     f"{m['per_class_f1'][other]:.3f} | {m['iou_natural']:.3f} / {m['iou_mean']:.3f} | "
                     f"{b['pixel_weighted_f1']:.3f} | {p['f1']:.3f} ({p['tp']}/{p['predicted']}/{p['truth']}) | "
                     f"{m['s_per_megapixel']:.2f} | {m['time_ratio_to_fcn']:.2f}× "
                     f"({min(ratios):.1f}–{max(ratios):.1f}) |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/compare_maps.json"))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS/OpenMP threads (default: 1; the random forest's n_jobs=2 is core.ssc's)")
    parser.add_argument("--repeats", type=int, default=3, help="times every map is made, interleaved (median time)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    scene = sentinel2_band_files(["B02"])["B02"].parent
    work = args.out.parent / "compare_maps_work"
    work.mkdir(parents=True, exist_ok=True)
    classifier, segmenter = load_model(DEFAULT_MODEL).card, load_model(DEFAULT_SEGMENTER, expect="segmenter").card
    assert classifier.bands == segmenter.bands
    val_blocks = classifier_val_blocks(scene)
    segmenter_trained = segmenter_train_blocks(scene, segmenter.bands)
    held = held_out_pixels(scene, trained_elsewhere=segmenter_trained)
    raw, _ = read_window(match_bands(open_input(scene), classifier.bands), north_grid(scene))
    stack = _write(work / "north.tif", np.nan_to_num(raw).round().astype("uint16"), held, "uint16", 0, classifier.bands)

    rounds = []
    with threadpool_limits(args.threads):
        for i in range(args.repeats):
            rounds.append(make_maps(stack, work / f"round{i}", args.device))
            print(f"round {i}: " + ", ".join(f"{name.split(' (')[0]} {t['total_s']:.1f} s"
                                            for name, (_, t) in rounds[-1].items()), flush=True)
    values = {name: read_map(path, held) for name, (path, _) in rounds[0].items()}
    # exactly the same pixels for every map: held-out labelled pixels where no map has nodata
    scored = (held.labels >= 0) & np.logical_and.reduce([v != NODATA for v in values.values()])
    edges = edge_zone(held.all_labels) & scored
    natural = held.classes.index("natural")
    truth_map = _write(work / "labels_held_out.tif",
                       np.where(scored, (held.labels == natural).astype("float32"), NODATA).astype("float32"),
                       held, "float32", NODATA)
    truth_polygons = map_polygons(truth_map)
    phase1 = read_map(rounds[0][SSC_MLP][0].parent / "naturalness.tif", held)
    edge_blocks = [int(edges[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width].sum())
                   for w in held.blocks]
    # edge pixels within the zone's width of another class's label (the rest border unlabelled gaps only)
    square = np.ones((2 * EDGE_WIDTH_PX + 1,) * 2, bool)
    between = edges & np.logical_or.reduce([ndimage.binary_dilation(held.all_labels == k, square)
                                            & (held.all_labels != k) for k in range(len(held.classes))])
    results = {"held_out": {"classifier_val_blocks": len(val_blocks),
                            "left_out_segmenter_trained": len(val_blocks & segmenter_trained),
                            "blocks": len(held.blocks),
                            "edge_pixels_per_block": sorted((n for n in edge_blocks if n), reverse=True)},
               "pixels": {"labelled_held_out": held.pixels, "scored": int(scored.sum()), "edge": int(edges.sum()),
                          "edge_between_classes": int(between.sum()),
                          "edge_width_px": EDGE_WIDTH_PX},
               "classes": list(class_names(held)), "threshold": 0.5, "device": args.device, "threads": args.threads,
               "repeats": args.repeats, "megapixels": rounds[0][FCN][1]["megapixels"],
               "ssc_phase1_equals_fcn_map": bool(np.array_equal(phase1, values[FCN])), "maps": {}}
    fcn_median = statistics.median(r[FCN][1]["total_s"] for r in rounds)
    for name, v in values.items():
        seconds = [r[name][1]["total_s"] for r in rounds]
        extra = {}
        if "phase1_s" in rounds[0][name][1]:
            extra = {"phase1_s": [r[name][1]["phase1_s"] for r in rounds],
                     "figure_s": [r[name][1]["figure_s"] for r in rounds]}
        median = statistics.median(seconds)
        masked = work / f"{rounds[0][name][0].parent.name}_held_out.tif"
        results["maps"][name] = {**score(v, held, scored, edges, truth_polygons, masked),
                                 "seconds": seconds, **extra,
                                 "s_per_megapixel": round(median / results["megapixels"], 3),
                                 "time_ratio_to_fcn": round(median / fcn_median, 3),
                                 "time_ratio_to_fcn_per_round": [round(r[name][1]["total_s"] / r[FCN][1]["total_s"], 3)
                                                                 for r in rounds]}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"held out: {results['pixels']['scored']} labelled pixels in {len(held.blocks)} blocks "
          f"({results['held_out']['left_out_segmenter_trained']} of the classifiers' {len(val_blocks)} validation "
          f"blocks left out: the segmenter trained on them); {results['pixels']['edge']} within "
          f"{EDGE_WIDTH_PX} px of a label edge ({results['pixels']['edge_between_classes']} of them near the other "
          f"class's label, the rest near unlabelled gaps), in {sum(n > 0 for n in edge_blocks)} blocks; "
          f"{results['megapixels']} Mpx mapped, {args.device}, {args.threads} thread(s), median of {args.repeats}")
    print("\n".join(markdown(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
