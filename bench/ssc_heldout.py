"""CNN vs Self-Supervised Classification (MLP, RF; feature groups) on the bundled models' held-out ground.

Runs `core.ssc.ssc` once on the pinned full Virginia scene (phase 1 + the default phase 2), then
re-runs phase 2 alone on the same phase-1 map for each other learner / feature set, and scores
every map on the labelled pixels of the north half's validation blocks (train.heldout, the
blocks no bundled model trained on): per-class and pixel-weighted F1, the same within 2 px of a
label edge, and seconds per megapixel (phase 1 + phase 2, CPU).

    PYTHONPATH=. .venv/bin/python bench/ssc_heldout.py --out out/ssc_heldout
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import rasterio

from core.raster.bands import match_bands
from core.raster.read import BandReader
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.ssc import (
    UNLABELLED,
    FeatureSpec,
    _predict,
    confusion,
    f1_report,
    fit_learner,
    near_label_edge,
    sample_training_pixels,
    ssc,
)
from train.datasets.raster_polygons import label_raster, read_labelled_polygons
from train.fetch import sentinel2_band_files
from train.heldout import held_out_pixels
from train.reproduce import LABELS

# The default run (core.ssc.DEFAULT_FEATURES) is scored first; these re-run phase 2 only.
VARIANTS = [("mlp", ("bands",)), ("mlp", ("bands", "indices")), ("mlp", ("bands", "texture")),
            ("mlp", ("bands", "indices", "texture")), ("rf", ("bands",)), ("rf", ("bands", "indices")),
            ("rf", ("bands", "indices", "texture"))]


def score(path: Path, held, natural: int, edge: np.ndarray) -> dict:
    """F1 of a probability map (threshold 0.5) over the validation blocks' labelled pixels, and near label edges."""
    with rasterio.open(path) as ds:
        values = ds.read(1, window=((0, held.grid.height), (0, held.grid.width)))
    counts = np.zeros((2, 2), np.int64)
    near = np.zeros((2, 2), np.int64)
    for w in held.blocks:
        rows, cols = slice(w.row_off, w.row_off + w.height), slice(w.col_off, w.col_off + w.width)
        labels = held.labels[rows, cols]
        truth = np.where(labels == UNLABELLED, UNLABELLED, (labels == natural).astype(np.int8))
        v = values[rows, cols]
        truth = np.where(v == NODATA, UNLABELLED, truth)
        counts += confusion(truth, v >= 0.5)
        near += confusion(np.where(edge[rows, cols], truth, UNLABELLED), v >= 0.5)
    return {**f1_report(counts), "boundary": f1_report(near)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("out/ssc_heldout"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds for the phase-2-only variants (spread)")
    args = parser.parse_args()
    scene = sentinel2_band_files(["B02"])["B02"].parent
    held = held_out_pixels(scene)
    natural = held.classes.index("natural")
    # edges from every north-half label (not only the held-out blocks'), so a block's border is no edge
    north_labels = label_raster(read_labelled_polygons(LABELS, "label", held.grid), held.classes, held.grid)
    edge = near_label_edge(np.where(north_labels == UNLABELLED, UNLABELLED, (north_labels == natural).astype(np.int8)))
    first = ssc(scene, args.out / "default", learner="mlp", device=args.device)
    record = json.loads(first.json_path.read_text())
    mpx = record["timings"]["megapixels"]
    phase1_s = record["timings"]["phase1_s"]
    phase1 = first.probability.parent / "naturalness.tif"
    rows = {"cnn": {**score(phase1, held, natural, edge), "s_per_mpx": round(phase1_s / mpx, 2)},
            f"ssc mlp {','.join(record['learner']['feature_groups'])} (default run)": {
                                      **score(first.probability, held, natural, edge),
                                      "s_per_mpx": round(record["timings"]["total_s"] / mpx, 2),
                                      "phase2_s_per_mpx": record["timings"]["phase2_s_per_megapixel"]}}
    raster = open_input(scene)
    card_bands = record["learner"]["features"][:10]
    refs = match_bands(raster, card_bands)
    phase1_ref = open_input(phase1).bands[0]
    seeds = [int(x) for x in args.seeds.split(",")]
    for (learner, groups), seed in [(v, s) for v in VARIANTS for s in seeds]:
        name = f"ssc {learner} {','.join(groups)}" + (f" seed {seed}" if seed else "")
        spec = FeatureSpec(tuple(card_bands), groups)
        t = time.perf_counter()
        with BandReader(refs) as reader, BandReader([phase1_ref]) as p1:
            training = sample_training_pixels(reader, p1, phase1_ref.grid, spec, seed=seed)
        fitted, _ = fit_learner(training, learner, seed)
        out = args.out / name.replace(" ", "_").replace(",", "+")
        out.mkdir(parents=True, exist_ok=True)
        _predict(refs, phase1_ref, phase1_ref.grid, spec, fitted, None, out / "naturalness_ssc.tif", None, None)
        phase2_s = time.perf_counter() - t
        rows[name] = {**score(out / "naturalness_ssc.tif", held, natural, edge),
                      "s_per_mpx": round((phase1_s + phase2_s) / mpx, 2), "phase2_s_per_mpx": round(phase2_s / mpx, 2)}
        print(name, json.dumps(rows[name]), flush=True)
    (args.out / "scores.json").write_text(json.dumps(rows, indent=1))
    print(f"{'map':44s} {'F1':>6s} {'anthro':>7s} {'natural':>7s} {'edge F1':>7s} {'s/Mpx':>6s}")
    for name, r in rows.items():
        pc = r["per_class"]
        print(f"{name:44s} {r['pixel_weighted_f1']:6.4f} {pc['anthropogenic']['f1']:7.4f} {pc['natural']['f1']:7.4f} "
              f"{r['boundary']['pixel_weighted_f1']:7.4f} {r['s_per_mpx']:6.2f}")
    print(f"pixels: {rows['cnn']['pixels']}, near an edge: {rows['cnn']['boundary']['pixels']}")


if __name__ == "__main__":
    main()
