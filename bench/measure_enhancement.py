"""How far the pattern generators move the classifier, and whether their images stay real imagery.

SpacEX judges its maximizer and minimizer by the classifier's mean natural score on enhanced
images against the inputs'. A generator can reach any score by leaving the data, so this also
measures, on every complete, gap-free 64 px tile (the generators' training patch) of the
scene's south half, which no model trained on:

- the share of pixels outside the classifier's training value range (per band, the 0.1-99.9
  percentiles of its training pixels);
- the colour cast (core.explain.realism): the mean per-band shift of an enhanced tile from its
  input, in standardised units, also split by the classifier's verdict with each generator's
  mean mask (the share of each pixel it repaints): on tiles it must flip (anthropogenic for the
  maximizer, natural for the minimizer) and on tiles that already have its verdict. Repainting
  where the verdict must change moves the tile's mean colour; a cast would show on both;
- the checkerboard: the share of spectral power at the 2-pixel period, enhanced against real;
- KID (core.jem.kid) in a feature space the generators were NOT trained against: the bundled
  JEM's pooled features (the generators were trained against the plain classifier). The tiles
  are split by the classifier's verdict (the south half's labels are never used) into
  anthropogenic and natural tiles, each halved at random. The floor is KID between the two
  halves of one class, the class gap KID between real anthropogenic and real natural tiles,
  and each generator is scored as KID(G_max(anthropogenic half 1), natural half 2) and
  KID(G_min(natural half 1), anthropogenic half 2): below the class gap means the enhanced
  tiles moved towards the other class in a network that was never asked to be fooled.

Also writes a sample grid (input | maximized | minimized | |max - min|) of south-half tiles, four
of each verdict, next to the JSON. Default out/bench/enhancement.json.

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
from core.explain.realism import colour_cast, enhancement_kid, enhancement_measures  # noqa: E402
from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import UnitSpace, to_model_input  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.resources import DEFAULT_GENERATORS, DEFAULT_JEM, DEFAULT_MODEL  # noqa: E402
from measure_ood import south_grid  # noqa: E402
from train.sample_grid import write_sample_grid  # noqa: E402

TILE = 64
BATCH = 32
GRID_PER_CLASS = 4
SEED = 0


def south_tiles(tile: int) -> tuple[torch.Tensor, int]:
    """The south half's complete gap-free tiles as standardised model input, and how many tiles there were."""
    classifier = load_model(DEFAULT_MODEL)
    raster, grid = south_grid(classifier)
    raw, valid = read_window(match_bands(raster, classifier.card.bands), grid)
    x = to_model_input(raw, valid, classifier.card)
    corners = [(r, c) for r in range(0, grid.height - tile + 1, tile) for c in range(0, grid.width - tile + 1, tile)]
    kept = [(r, c) for r, c in corners if valid[r:r + tile, c:c + tile].all()]
    return torch.from_numpy(np.stack([x[:, r:r + tile, c:c + tile] for r, c in kept])), len(corners)


def kid_table(images: dict[str, torch.Tensor], natural: torch.Tensor, space: UnitSpace, bands: list[str]) -> dict:
    """KID floors, class gap and both generators' KID in the JEM's feature space, tiles split by the verdict."""
    physical = {name: space.to_physical(u) for name, u in images.items()}
    return {"feature_network": str(DEFAULT_JEM), "anthropogenic_tiles": int((~natural).sum()),
            "natural_tiles": int(natural.sum()),
            **enhancement_kid(load_model(DEFAULT_JEM), bands, physical["input"][~natural], physical["input"][natural],
                              physical["maximized"][~natural], physical["minimized"][natural], SEED)}


def by_verdict(x: torch.Tensor, enhanced: torch.Tensor, mask: torch.Tensor, flip: torch.Tensor) -> dict:
    """Colour cast (sd) and mean repainted share of one generator, on the tiles it must flip and on the others."""
    cast = colour_cast(x, enhanced)
    share = mask.mean(dim=(1, 2, 3))
    return {group: {"tiles": int(chosen.sum()), "colour_cast": round(float(cast[chosen].mean()), 4),
                    "repainted_share": round(float(share[chosen].mean()), 4)}
            for group, chosen in (("to_flip", flip), ("already_its_verdict", ~flip))}


def grid_picks(natural: torch.Tensor) -> list[int]:
    """GRID_PER_CLASS tiles of each verdict, spread over the scene."""
    picks = []
    for members in (torch.nonzero(~natural).flatten(), torch.nonzero(natural).flatten()):
        step = max(len(members) // GRID_PER_CLASS, 1)
        picks += members[::step][:GRID_PER_CLASS].tolist()
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", type=Path, default=DEFAULT_GENERATORS)
    parser.add_argument("--out", type=Path, default=Path("out/bench/enhancement.json"))
    args = parser.parse_args()
    classifier, generators = load_model(DEFAULT_MODEL), load_model(args.generators, expect="generators")
    card = classifier.card
    score = NaturalLogit(classifier.network, card.natural_indices, len(card.classes)).eval()
    space = UnitSpace(card)
    x, corners = south_tiles(TILE)
    parts: dict[str, list[torch.Tensor]] = {"input": [], "maximized": [], "minimized": [], "maximized_mask": [],
                                            "minimized_mask": []}
    with torch.inference_mode():
        for start in range(0, len(x), BATCH):
            u = space.from_input(x[start:start + BATCH])
            parts["input"].append(u)
            for name, generator in (("maximized", generators.network.maximizer),
                                    ("minimized", generators.network.minimizer)):
                enhanced, mask = generator.repaint(u)
                parts[name].append(enhanced)
                parts[f"{name}_mask"].append(mask)
        images = {name: torch.cat(p) for name, p in parts.items()}
        masks = {name: images.pop(f"{name}_mask") for name in ("maximized", "minimized")}
        natural = torch.sigmoid(score(x)).flatten() >= 0.5
        result = {"generators": str(args.generators), "classifier": str(DEFAULT_MODEL),
                  "tiles": {"size_px": TILE, "used": len(x), "of": corners, "natural_verdicts": int(natural.sum())},
                  **{name: enhancement_measures(x, space.to_input(u), score, card) for name, u in images.items()},
                  "by_verdict": {name: by_verdict(x, space.to_input(images[name]), masks[name], flip)
                                 for name, flip in (("maximized", ~natural), ("minimized", natural))},
                  "kid": kid_table(images, natural, space, card.bands)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picks = grid_picks(natural)
    grid = write_sample_grid(args.out.with_name(f"{args.out.stem}_grid.png"),
                             *(images[k][picks].numpy() for k in ("input", "maximized", "minimized")), card.bands)
    write_json(args.out, result)
    print(json.dumps(result, indent=2))
    print(f"written: {args.out}, {grid}")


if __name__ == "__main__":
    main()
