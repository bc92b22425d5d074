"""`python -m core ood`: does a raster look like the JEM's training imagery? ood.json and ood.png."""
import argparse

from core.cli.options import (
    add_aoi_arguments,
    add_bands_argument,
    add_dask_argument,
    add_model_arguments,
    aoi,
    band_mapping,
    path_value,
    progress_bar,
)

HELP = ("say whether a raster looks like a JEM's training imagery: its patch log p(x) against the training "
        "histogram (KL divergence, share below the training 1st percentile) and the input statistics log p(x) "
        "cannot see (band means, band order, fine detail, value range), in one verdict with its reasons; "
        "writes ood.json and the histogram plot ood.png")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the ood command's options."""
    p.add_argument("input", help="a raster file, or a folder of single-band files")
    p.add_argument("--out", required=True, type=path_value, help="output folder (created if missing)")
    add_bands_argument(p)
    add_aoi_arguments(p)
    add_model_arguments(p, default="the bundled Sentinel-2 JEM")
    add_dask_argument(p, "read the tiles and gather the checks on a Dask cluster: N worker processes on this machine, "
                      "or the workers of a running `dask scheduler` (each loads the model once; the report equals a "
                      "plain run's)")


def run(args: argparse.Namespace) -> None:
    """Run the report and print its verdict."""
    import sys

    from core.ood import ood_report

    with progress_bar("log p(x)", args.quiet) as progress:
        report = ood_report(args.input, args.out, model=args.model, aoi=aoi(args), device=args.device,
                            bands=band_mapping(args), progress=progress, dask=args.dask)
    print(f"{report.patches} patches: KL divergence {report.kl_divergence:.3f}, "
          f"{report.share_below_p1:.1%} below the training 1st percentile of log p(x); "
          f"out of distribution: {'yes' if report.out_of_distribution else 'no'}")
    if report.warning:
        print(f"warning: {report.warning}", file=sys.stderr)
    for path in (report.json_path, report.figure_path):
        print(f"written: {path}")
