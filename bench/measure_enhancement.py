"""How far the pattern generators move the classifier, and how far they leave real imagery behind.

SpacEX judges its maximizer and minimizer by the classifier's mean natural score on enhanced
images against the inputs'. A generator can reach any score by leaving the data, so this also
counts the share of enhanced pixels outside the classifier's training value range (per band,
the 0.1-99.9 percentiles of its training pixels, which 0.2 % of those pixels fall outside; the
held-out inputs here fall 5 % outside, mostly in the near infrared). Tiles: every complete, gap-free 64 px tile (the generators'
training patch) of the scene's south half, which no model trained on. Writes JSON (default
out/bench/enhancement.json).

    .venv/bin/python bench/measure_enhancement.py [--generators G.json] [--out FILE]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.atomic import write_json  # noqa: E402
from core.explain.base import NaturalLogit  # noqa: E402
from core.models.card import ModelCard  # noqa: E402
from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import UnitSpace, to_model_input  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.resources import DEFAULT_GENERATORS, DEFAULT_MODEL  # noqa: E402
from core.value_range import ValueRangeCheck  # noqa: E402
from measure_ood import south_grid  # noqa: E402

TILE = 64
BATCH = 32


def south_tiles(tile: int) -> tuple[torch.Tensor, int]:
    """The south half's complete gap-free tiles as standardised model input, and how many tiles there were."""
    classifier = load_model(DEFAULT_MODEL)
    raster, grid = south_grid(classifier)
    raw, valid = read_window(match_bands(raster, classifier.card.bands), grid)
    x = to_model_input(raw, valid, classifier.card)
    corners = [(r, c) for r in range(0, grid.height - tile + 1, tile) for c in range(0, grid.width - tile + 1, tile)]
    kept = [(r, c) for r, c in corners if valid[r:r + tile, c:c + tile].all()]
    return torch.from_numpy(np.stack([x[:, r:r + tile, c:c + tile] for r, c in kept])), len(corners)


def describe(images: torch.Tensor, score: NaturalLogit, space: UnitSpace, card: ModelCard) -> dict:
    """Mean natural probability, and the share of pixels outside the training range (mean and worst band)."""
    seen = space.to_input(images)
    check = ValueRangeCheck(card, seen.device)
    check.add(seen)
    outside = check.shares()
    return {"mean_natural_probability": round(torch.sigmoid(score(seen)).mean().item(), 4),
            "outside_training_range_mean": round(float(outside.mean()), 4),
            "outside_training_range_worst_band": round(float(outside.max()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", type=Path, default=DEFAULT_GENERATORS)
    parser.add_argument("--out", type=Path, default=Path("out/bench/enhancement.json"))
    args = parser.parse_args()
    classifier, generators = load_model(DEFAULT_MODEL), load_model(args.generators)
    card = classifier.card
    score = NaturalLogit(classifier.network, card.natural_indices, len(card.classes)).eval()
    space = UnitSpace(card)
    x, corners = south_tiles(TILE)
    images = {"input": [], "maximized": [], "minimized": []}
    with torch.inference_mode():
        for start in range(0, len(x), BATCH):
            u = space.from_input(x[start:start + BATCH])
            images["input"].append(u)
            images["maximized"].append(generators.network.maximizer(u))
            images["minimized"].append(generators.network.minimizer(u))
        result = {"generators": str(args.generators), "classifier": str(DEFAULT_MODEL),
                  "tiles": {"size_px": TILE, "used": len(x), "of": corners},
                  **{name: describe(torch.cat(parts), score, space, card) for name, parts in images.items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
