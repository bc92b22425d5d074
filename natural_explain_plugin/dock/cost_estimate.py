"""What a run will cost, so a slow choice is seen before Run, and how long the running one has left.

A run's time is a start-up plus a cost per tile. The start-up is importing torch (the first
run of a QGIS session only), loading the classifier, and for the generator methods
(cyclegan, counterfactual) loading the pattern generators; Captum's methods import Captum.
The tiles cover the AOI plus the pipeline's margin, 256 px each, overlapping by 32 px, so a
small AOI computes far more pixels than it holds (a 320 px square: four full tiles, 2.6
times its own pixels); the estimate counts the tiles the engine will run.

The per-megapixel figures are seconds per computed megapixel on the development machine's
2-core CPU (torch CPU build), from `explain` runs on the bundled sample through the tiler
(bench/measure_method_costs.py, and timed runs of 320 and 600 px AOIs from a fresh Python),
then scaled by 0.6 towards what that machine gives idle, which is what an analyst's first run
meets: the walk-through's gradcam + cyclegan run took 5.2 s on the idle machine against 11.7 s
estimated with the unscaled figures (and 35.5 s with a load average of 5 on its 2 cores). Machines
differ several-fold, so every finished run is kept in QgsSettings (settings.remember_run_time)
and the estimate is scaled by the median ratio of measured to estimated time of the
machine's last runs on the same device. No GPU figure has been measured: on CUDA the CPU
figure is an upper bound until the first CUDA runs calibrate it.

The extra maps were timed the same way (explain, segment and ssc in turn from one fresh
Python, on 320 and 600 px AOIs of the sample, the machine loaded by a CI run), and are set
as their ratio to naturalness in the same runs times naturalness's figure above: segment
16.8 s against naturalness 9.4 s per computed megapixel (600 px; 15.2 against 10.7 at 320 px),
so 7.0; SSC's phase 2 (sampling, fitting the MLP, predicting, the figure) 6.2 s per computed
megapixel (600 px; 8.0 at 320 px), so 2.6, on top of its phase 1, which is the naturalness
map computed again in its own folder: 4.0 + 2.6; both then scaled by 0.6 as above.
"""
import math
import sys

from ..i18n import tr

# Seconds per computed megapixel (tiles x 256 x 256) on the development CPU.
CPU_SECONDS_PER_MEGAPIXEL = {
    "naturalness": 2.4,
    "cyclegan": 7.2,
    "counterfactual": 5.7,
    "gradcam": 4.2,
    "deeplift": 11.4,
    "ig": 102.0,
    "occlusion": 3480.0,
    "ssc": 4.0,  # the extra maps (explain_request.EXTRA_MAPS): phase 1 (naturalness again) + phase 2
    "segment": 4.2,
}
IMPORT_S = 0.9  # importing torch and the engine, once per QGIS session
STARTUP_S = 0.3  # reading the model card and weights, opening the input
METHOD_STARTUP_S = {"cyclegan": 2.1, "counterfactual": 2.1, "gradcam": 0.42, "deeplift": 0.42, "ig": 0.42,
                    "occlusion": 0.42,  # loading the generators / importing Captum
                    "ssc": 0.6, "segment": 0.3}  # loading the model again, scikit-learn / loading the segmenter
FINISH_S = 0.6  # committing the files, styling and adding the result layers
TILE_PX, OVERLAP_PX = 256, 32  # the bundled models' tile size and the pipeline's default overlap
LONG_RUN_S = 600.0  # ten minutes: past this, an analyst should choose on purpose


def megapixels(area_m2: float, resolution_m: float) -> float:
    """Model pixels (in millions) an area holds at the model's resolution."""
    return area_m2 / (resolution_m * resolution_m) / 1e6


def _tiles_along(length_px: int, tile: int, overlap: int) -> int:
    """How many tiles the engine's tile grid puts along one axis (core.tiling._offsets)."""
    if length_px <= tile:
        return 1
    return math.ceil((length_px - tile) / (tile - overlap)) + 1


def computed_megapixels(width_px: float, height_px: float, tile: int = TILE_PX, overlap: int = OVERLAP_PX) -> float:
    """Model pixels (millions) the engine computes for an AOI of `width_px` x `height_px` model pixels.

    The engine pads the AOI by `overlap` on every side and covers it with overlapping tiles.
    """
    w, h = round(width_px) + 2 * overlap, round(height_px) + 2 * overlap
    tw, th = min(tile, w), min(tile, h)
    return _tiles_along(w, tile, overlap) * _tiles_along(h, tile, overlap) * tw * th / 1e6


def method_seconds(method: str, computed_mpx: float) -> float | None:
    """Estimated CPU seconds of one method's (or 'naturalness') tile work and start-up; None if never measured."""
    rate = CPU_SECONDS_PER_MEGAPIXEL.get(method)
    return None if rate is None else rate * computed_mpx + METHOD_STARTUP_S.get(method, 0.0)


def run_seconds(methods: list[str], computed_mpx: float, *, engine_imported: bool | None = None,
                calibration: float = 1.0) -> float:
    """Estimated seconds of a whole run, from Run to the result layers.

    `methods` are registry methods and extra maps ('ssc', 'segment'); naturalness is always counted.
    `engine_imported` None asks this Python whether torch is imported already.
    """
    if engine_imported is None:
        engine_imported = "torch" in sys.modules
    work = sum(method_seconds(name, computed_mpx) or 0.0 for name in ["naturalness", *methods])
    return ((0.0 if engine_imported else IMPORT_S) + STARTUP_S + work + FINISH_S) * calibration


def calibration_factor(history: list[dict], device: str) -> float:
    """Median of measured / estimated seconds over the machine's last runs on `device` (1 without any).

    Runs on another device count only when none ran on this one; the factor is kept within 0.2 to 20.
    """
    runs = [r for r in history if r.get("estimate_s", 0) > 0 and r.get("measured_s", 0) > 0]
    same = [r for r in runs if r.get("device") == device] or runs
    if not same:
        return 1.0
    ratios = sorted(r["measured_s"] / r["estimate_s"] for r in same)
    middle = len(ratios) // 2
    median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return min(max(median, 0.2), 20.0)


def duration_text(seconds: float) -> str:
    """'~4 s', '~12 min', '~2.5 h': as precise as an estimate deserves."""
    if seconds < 90:
        return tr("~{0} s").format(f"{max(seconds, 1):.0f}")
    if seconds < 5400:
        return tr("~{0} min").format(f"{seconds / 60:.0f}")
    return tr("~{0} h").format(f"{seconds / 3600:.1f}")


def remaining_seconds(estimate_s: float, elapsed_s: float, percent: float, first: tuple[float, float] | None) -> float:
    """Time left in a run: from the tiles' own pace once two progress reports are in, else from the estimate.

    `first` is (elapsed seconds, percent) at the first tile report; the pace after it leaves start-up out.
    """
    if first is not None and percent > first[1]:
        pace = (elapsed_s - first[0]) / (percent - first[1])
        return max(pace * (100.0 - percent), 0.0) + FINISH_S
    return max(estimate_s - elapsed_s, FINISH_S)


def large_aoi_warning(methods: list[str], computed_mpx: float, device: str, calibration: float = 1.0) -> str | None:
    """One sentence when the run would take long on the CPU; None when it is quick or runs on CUDA.

    `auto` counts as the CPU: without CUDA that is where it runs, and with CUDA the run is only faster.
    """
    seconds = run_seconds(methods, computed_mpx, calibration=calibration)
    if device == "cuda" or seconds <= LONG_RUN_S:
        return None
    slowest = max(["naturalness", *methods], key=lambda name: CPU_SECONDS_PER_MEGAPIXEL.get(name, 0.0))
    return tr("this run would take {0} on the CPU ({1} megapixels computed, {2} costs most): draw a smaller area "
              "of interest, drop the slow methods, or run on a CUDA GPU").format(
        duration_text(seconds), f"{computed_mpx:.1f}", slowest)
