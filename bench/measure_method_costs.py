"""What each map costs in a real run, the figures behind the dock's estimates (natural_explain_plugin/dock/cost_estimate.py).

The dock predicts start-up plus a rate per computed (tiled) megapixel, calibrated by the machine's
own last runs; the rates it starts from must come from runs: `explain` on
the bundled sample, one method at a time, through the tiler with its overlap and blending,
read from run.json's `s_per_megapixel`. (evaluate's s/Mpx times attribute() on single tiles
without overlap; it under-estimated gradcam several times over.) Each run also reports its
ratio to the naturalness map of the same run, which is steadier than seconds on a noisy machine.

    .venv/bin/python bench/measure_method_costs.py [--out out/bench/method_costs.json] [--aoi-px 400]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.aoi import AOI  # noqa: E402
from core.atomic import write_json  # noqa: E402
from core.explain.registry import METHODS  # noqa: E402
from core.pipeline import explain  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from core.resources import SAMPLE  # noqa: E402


def centre_aoi(size_px: int) -> AOI:
    """A square of `size_px` input pixels in the middle of the sample."""
    grid = open_input(SAMPLE).grid
    x0, y0 = grid.transform * ((grid.width - size_px) / 2, (grid.height - size_px) / 2)
    x1, y1 = grid.transform * ((grid.width + size_px) / 2, (grid.height + size_px) / 2)
    return AOI.from_bounds(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), grid.crs.to_wkt())


def measure(method: str | None, aoi: AOI, workdir: Path) -> dict[str, float]:
    """One run of naturalness plus `method` (None: naturalness alone) on the CPU; its per-megapixel seconds."""
    out = workdir / (method or "naturalness")
    timings = explain(SAMPLE, out, methods=[method] if method else [], aoi=aoi, device="cpu").run_json
    return json.loads(timings.read_text())["timings"]["s_per_megapixel"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/method_costs.json"))
    parser.add_argument("--aoi-px", type=int, default=400, help="edge of the square AOI in the middle of the sample")
    args = parser.parse_args(argv)
    aoi = centre_aoi(args.aoi_px)
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        for method in [None, *METHODS]:
            rates = measure(method, aoi, Path(scratch))
            name = method or "naturalness"
            rate = rates[name]
            rows[name] = {"s_per_megapixel": round(rate, 2),
                          "ratio_to_naturalness_same_run": round(rate / rates["naturalness"], 2)}
            print(f"{name:>15}: {rate:8.2f} s/Mpx ({rows[name]['ratio_to_naturalness_same_run']}x naturalness)",
                  flush=True)
    write_json(args.out, {"aoi_px": args.aoi_px, "device": "cpu", "threads": os.cpu_count(),
                          "machine": platform.platform(), "load_average": os.getloadavg(), "methods": rows})
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
