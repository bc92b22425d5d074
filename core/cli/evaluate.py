"""`python -m core evaluate`: how faithful each method's attribution is to the model, against two controls."""
import argparse

from core.cli.explain import AUTOMATIC_MODEL
from core.cli.options import (
    MAX_TILE_SIZE,
    MIN_TILE_SIZE,
    add_aoi_arguments,
    add_bands_argument,
    add_method_option_arguments,
    add_model_arguments,
    aoi,
    band_mapping,
    method_options,
    methods_text,
    path_value,
    percentage,
    progress_bar,
    seed,
    text_value,
    whole_number,
)
from core.explain.registry import METHODS

HELP = ("score the methods' attributions: deletion/insertion and ROAD AUC, IoU with a reference class, cost, and "
        "whether the maps change when the model is randomised; writes evaluation.json, evaluation.md and comparison.png")
MAX_TILES, MAX_DRAWS = 10_000, 100


def add_arguments(e: argparse.ArgumentParser) -> None:
    """Declare the evaluate command's options."""
    e.add_argument("input", help="a raster file, or a folder of single-band files")
    e.add_argument("--labels", required=True, type=path_value, help="a polygon file holding the reference class")
    e.add_argument("--label-field", required=True, type=text_value("a field name"),
                   help="the attribute naming each polygon's class")
    e.add_argument("--reference-class", type=text_value("a class name"), help="the class the top pixels are compared "
                   "with (default: the model's natural class, when the labels hold it)")
    e.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    e.add_argument("--methods", default=",".join(METHODS), type=methods_text, help=f"methods to score, comma separated, "
                   f"from: {', '.join(METHODS)} (the controls random and brightness are always added)")
    e.add_argument("--q", type=percentage, default=10.0, help="percent of top-attributed pixels compared with the class")
    e.add_argument("--tiles", type=whole_number(1, MAX_TILES), default=16, help="how many tiles to sample per draw")
    e.add_argument("--draws", type=whole_number(1, MAX_DRAWS), default=1, help="how many draws of tiles (seed, seed+1, "
                   "...); the table gives the mean ± standard deviation over them and how often each method beats the controls")
    e.add_argument("--tile-size", type=whole_number(MIN_TILE_SIZE, MAX_TILE_SIZE), default=128,
                   help="tile edge in model pixels; the area must hold at least one tile")
    e.add_argument("--fill", default="blur", choices=["mean", "blur"],
                   help="what deleted pixels become: the model's band means, or a Gaussian blur of the tile")
    add_aoi_arguments(e)
    add_model_arguments(e, default=AUTOMATIC_MODEL)
    add_bands_argument(e)
    add_method_option_arguments(e)
    e.add_argument("--randomization", action=argparse.BooleanOptionalAction, default=True,
                   help="check that each method's maps change when the classifier's layers are randomised "
                   "(recomputes every map once per layer)")
    e.add_argument("--seed", type=seed, default=0, help="fixes the tiles, the random control and the randomised weights")


def run(args: argparse.Namespace) -> None:
    """Run the evaluation and print its table."""
    import sys

    from tqdm import tqdm

    from core.evaluate import evaluate
    from core.explain.registry import parse_methods

    with progress_bar("evaluate", args.quiet) as progress:
        result = evaluate(args.input, args.out, labels=args.labels, label_field=args.label_field,
                          reference_class=args.reference_class, methods=parse_methods(args.methods), model=args.model,
                          aoi=aoi(args), bands=band_mapping(args), q=args.q, tiles=args.tiles, tile_size=args.tile_size, device=args.device,
                          seed=args.seed, draws=args.draws, randomization=args.randomization, fill=args.fill,
                          method_options=method_options(args), progress=progress, report=lambda line: tqdm.write(line, file=sys.stderr))
    print(result.markdown_path.read_text())
    for path in (result.json_path, result.markdown_path, result.figure_path):
        print(f"written: {path}")
