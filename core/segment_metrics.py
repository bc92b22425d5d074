"""SpaceNet-style scores of a natural/not-natural map against labelled pixels.

Pixel IoU and F1 score every labelled pixel; boundary F1 scores only the labelled pixels
within a few pixels of a label edge (a polygon's outline), where a 1/4-resolution map's
soft edges and a U-Net's sharp ones differ; polygon F1 is SpaceNet's: the map and the labels
are both vectorized (core.raster.vectorize.vectorize), and a predicted polygon is a true
positive when it overlaps an unmatched label polygon with IoU >= 0.5 (greedy, best pair
first, each polygon matched at most once). Natural is the positive class throughout.
"""
import tempfile
from pathlib import Path

import numpy as np
from osgeo import ogr
from scipy import ndimage

from core.raster.vectorize import vectorize

# Labelled pixels this close (in pixels, any direction) to a pixel labelled with another class form the edge zone.
EDGE_WIDTH_PX = 2
POLYGON_IOU = 0.5


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def pixel_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """IoU, F1, precision, recall and accuracy of the positive class over paired pixels.

    Args:
        predicted: bool array, True where the map says natural.
        truth: bool array of the same shape, True where the labels say natural.

    Returns:
        The scores (0 where undefined) and the counts tp, fp, fn, tn.
    """
    predicted, truth = np.asarray(predicted, bool), np.asarray(truth, bool)
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    tn = int((~predicted & ~truth).sum())
    return {"iou": round(_ratio(tp, tp + fp + fn), 4), "f1": round(_ratio(2 * tp, 2 * tp + fp + fn), 4),
            "precision": round(_ratio(tp, tp + fp), 4), "recall": round(_ratio(tp, tp + fn), 4),
            "accuracy": round(_ratio(tp + tn, tp + fp + fn + tn), 4), "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def edge_zone(labels: np.ndarray, width: int = EDGE_WIDTH_PX) -> np.ndarray:
    """Labelled pixels within `width` pixels (a (2w+1)-square) of a label edge: a pixel of another label or none.

    Region labels leave gaps between classes' polygons, so a label edge is any polygon outline;
    the raster's own border is not an edge.

    Args:
        labels: (H, W) class indices, negative where unlabelled.
        width: the zone's half-width in pixels.

    Returns:
        A bool (H, W) mask.
    """
    size = 2 * width + 1
    values = np.where(labels >= 0, labels, -1).astype(np.int32)
    differs = (ndimage.maximum_filter(values, size=size, mode="nearest")
               != ndimage.minimum_filter(values, size=size, mode="nearest"))
    return differs & (values >= 0)


def polygon_f1(predicted: list[ogr.Geometry], truth: list[ogr.Geometry],
               threshold: float = POLYGON_IOU) -> dict[str, float]:
    """SpaceNet's F1: predicted polygons matched one-to-one to truth polygons at IoU >= `threshold`.

    Pairs are matched greedily, the highest IoU first; every unmatched prediction is a false
    positive and every unmatched truth polygon a false negative.

    Returns:
        tp, the polygon counts, precision, recall and F1.
    """
    truth_boxes = [g.GetEnvelope() for g in truth]
    pairs = []
    for i, p in enumerate(predicted):
        px0, px1, py0, py1 = p.GetEnvelope()
        p_area = p.GetArea()
        for j, (tx0, tx1, ty0, ty1) in enumerate(truth_boxes):
            if px0 >= tx1 or tx0 >= px1 or py0 >= ty1 or ty0 >= py1:
                continue
            inter = p.Intersection(truth[j])
            shared = inter.GetArea() if inter is not None else 0.0
            iou = _ratio(shared, p_area + truth[j].GetArea() - shared)
            if iou >= threshold:
                pairs.append((iou, i, j))
    used_p, used_t = set(), set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
    tp = len(used_p)
    return {"tp": tp, "predicted": len(predicted), "truth": len(truth),
            "precision": round(_ratio(tp, len(predicted)), 4), "recall": round(_ratio(tp, len(truth)), 4),
            "f1": round(_ratio(2 * tp, len(predicted) + len(truth)), 4)}


def map_polygons(raster: str | Path, threshold: float = 0.5) -> list[ogr.Geometry]:
    """The polygons of `raster`'s first band >= `threshold` (nodata left out), via core.raster.vectorize."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "polygons.gpkg"
        vectorize(raster, threshold, out)
        source = ogr.Open(str(out))
        layer = source.GetLayer(0)
        geometries = [feature.GetGeometryRef().Clone() for feature in layer]
        source = None
    return geometries
