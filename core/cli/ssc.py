"""`python -m core ssc`: Self-Supervised Classification (the CNN's confident pixels train a per-pixel learner)."""
import argparse

from core.cli.options import (
    add_aoi_arguments,
    add_bands_argument,
    add_model_arguments,
    add_scale_out_arguments,
    aoi,
    band_mapping,
    path_value,
    positive_int,
    progress_bar,
    real_number,
    seed,
    text_value,
)

HELP = ("self-supervised classification: phase 1 runs the classifier (naturalness.tif, run.json), phase 2 fits a "
        "shallow learner on this image's confident pixels and predicts every pixel (naturalness_ssc.tif, ssc.json, "
        "ssc.png)")


def features_text(text: str) -> tuple[str, ...]:
    """--features 'bands,indices,texture', checked."""
    from core.cli.options import _as_argument_error
    from core.ssc import parse_features

    return _as_argument_error(parse_features, text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the ssc command's options."""
    p.add_argument("input", help="a raster file, or a folder of single-band files")
    p.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    add_model_arguments(p, default="the richest bundled classifier whose bands the input has")
    p.add_argument("--learner", choices=["mlp", "rf"], default=argparse.SUPPRESS,
                   help="phase 2's learner: a multilayer perceptron (default, the seed's choice) or a random forest")
    add_aoi_arguments(p)
    add_bands_argument(p)
    add_scale_out_arguments(p)
    p.add_argument("--labels", type=path_value, help="label polygons to score both phases against (F1) and draw")
    p.add_argument("--label-field", type=text_value("a field name"), default="label",
                   help="the labels' class field; values naming a natural class of the model count as natural")
    p.add_argument("--figure", type=path_value, help="also write the 4-part figure here (always written as DIR/ssc.png)")
    # The defaults are core.ssc's (not imported here, so --help stays fast): options left out are not passed.
    p.add_argument("--features", type=features_text, default=argparse.SUPPRESS,
                   help="phase 2's pixel features, comma separated, from bands, indices, texture (default: all three)")
    p.add_argument("--confidence", type=real_number(0.5, 1, low_open=True, high_open=True), default=argparse.SUPPRESS,
                   help="phase-1 probability from which a pixel trains phase 2 as natural, and 1 minus which as "
                        "anthropogenic (default 0.9)")
    p.add_argument("--samples-per-class", type=positive_int, default=argparse.SUPPRESS,
                   help="training pixels sampled per class (default 20000)")
    p.add_argument("--seed", type=seed, default=argparse.SUPPRESS,
                   help="seeds the sampling, the balancing and the learner (default 0)")


def run(args: argparse.Namespace) -> None:
    """Run both phases and print the agreement, the scores and what was written."""
    import sys

    from tqdm import tqdm

    from core.ssc import ssc, summary_lines

    area = aoi(args)
    with progress_bar("ssc", args.quiet) as progress:
        given = {k: getattr(args, k) for k in ("learner", "features", "confidence", "samples_per_class", "seed")
                 if hasattr(args, k)}
        result = ssc(args.input, args.out, model=args.model, aoi=area, bands=band_mapping(args), device=args.device,
                     labels=args.labels, label_field=args.label_field, figure=args.figure, progress=progress,
                     dask=args.dask, cog=args.cog,
                     report=lambda line: tqdm.write(line, file=sys.stderr), **given)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for line in summary_lines(result):
        print(line)
    print(f"naturalness_ssc: {result.probability}")
    print(f"figure: {result.figure}")
    print(f"phase 1 record: {result.phase1_run}")
    print(f"record: {result.json_path}")
