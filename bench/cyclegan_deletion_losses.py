"""Why `cyclegan` loses to `random` on deletion on some draws: the tiles where it does, taken apart.

Reads an evaluation.json of `core evaluate` (with cyclegan and counterfactual among its methods),
takes every tile whose cyclegan deletion AUC is worse than random's, recomputes both generators'
changes on exactly that 128 px tile, and reports which generator the top 10 % of the cyclegan map
comes from. |max - min| is class-agnostic: on a tile judged natural, the pixels the *maximizer*
repaints are the anthropogenic ones, and deleting them (a blur towards their surroundings) does not
lower the natural verdict the deletion curve follows. The script also gives the deletion AUC of
the maximizer's and the minimizer's change alone through evaluate's own curve code.

    .venv/bin/python bench/cyclegan_deletion_losses.py out/eval_draws/evaluation.json --out out/bench/cyclegan_losses.json
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from rasterio.windows import from_bounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.atomic import write_json  # noqa: E402
from core.evaluate import log_odds_score, removal_fill  # noqa: E402
from core.explain.cyclegan import CycleGANExplainer  # noqa: E402
from core.explain.metrics import (  # noqa: E402
    class_log_odds,
    curve_auc,
    pixel_order,
    reveal_curve,
    top_fraction_mask,
    untouched_scale,
)
from core.models.model_file import load_model  # noqa: E402
from core.models.preprocess import to_model_input  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import model_grid  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402

Q = 0.10


def tile_input(evaluation: dict, bounds: list[float], loaded) -> torch.Tensor:  # noqa: ANN001
    """The (1, C, H, W) model input of one evaluated tile, read on the model's grid."""
    raster = open_input(evaluation["input"])
    refs = match_bands(raster, loaded.card.bands, None)
    window = from_bounds(*bounds, transform=raster.grid.transform).round_offsets().round_lengths()
    grid = model_grid(raster.grid.window(window), loaded.card.resolution_m)
    raw, valid = read_window(refs, grid)
    return torch.from_numpy(to_model_input(raw, valid, loaded.card))[None]


def analyse(evaluation: dict, tile: dict, explainer: CycleGANExplainer, steps: int) -> dict:
    """The generators' shares of the cyclegan top 10 % and each generator's own deletion AUC on one tile."""
    x = tile_input(evaluation, tile["bounds"], explainer.model)
    target = torch.tensor([tile["predicted_class"]])
    u = explainer.space.from_input(x)
    u_max, u_min = explainer._enhanced(x)
    physical = explainer.space.to_physical
    change_max = (physical(u_max) - physical(u)).abs().mean(dim=1)[0]
    change_min = (physical(u_min) - physical(u)).abs().mean(dim=1)[0]
    cyclegan = explainer.attribute(x, target)[0, 0]
    tie = torch.rand(cyclegan.shape, generator=torch.Generator().manual_seed(0))
    top = top_fraction_mask(cyclegan, tie, Q)
    network = explainer.model.network
    score = log_odds_score(network, int(target))
    fill = removal_fill(x, evaluation["parameters"]["fill"])

    def deletion(attribution: torch.Tensor) -> float:
        """Deletion AUC as core evaluate computes it: the curve divided by the untouched tile's score."""
        curve = reveal_curve(score, x[0], fill[0], pixel_order(attribution, tie), steps)
        return curve_auc(curve / untouched_scale(curve))

    with torch.no_grad():
        natural = int(tile["predicted_class"])
        log_odds = float(class_log_odds(network(x).float(), natural)[0])
    return {"bounds": tile["bounds"], "draw": tile["draw"], "predicted_class": natural,
            "verdict_log_odds": round(log_odds, 3),
            "deletion_auc": {k: tile["deletion_auc"][k] for k in ("random", "cyclegan", "counterfactual")},
            "top10_share_from_maximizer": round(float((change_max > change_min)[top].float().mean()), 3),
            "deletion_auc_maximizer_change_alone": round(deletion(change_max), 4),
            "deletion_auc_minimizer_change_alone": round(deletion(change_min), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluation", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    evaluation = json.loads(args.evaluation.read_text())
    loaded = load_model(evaluation["model"]["path"], "cpu")
    explainer = CycleGANExplainer(loaded)
    losing = [t for t in evaluation["tiles"] if t["deletion_auc"]["cyclegan"] > t["deletion_auc"]["random"]]
    rows = [analyse(evaluation, t, explainer, evaluation["parameters"]["steps"]) for t in losing]
    per_draw = {}
    for t in evaluation["tiles"]:
        per_draw.setdefault(t["draw"], []).append(t["deletion_auc"]["cyclegan"] - t["deletion_auc"]["random"])
    result = {"evaluation": str(args.evaluation), "tiles": len(evaluation["tiles"]),
              "cyclegan_minus_random_per_draw": {d: round(float(np.mean(v)), 4) for d, v in per_draw.items()},
              "losing_tiles": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
