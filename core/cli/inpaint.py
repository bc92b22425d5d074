"""`python -m core inpaint`: fill masked and nodata pixels with a JEM's SGLD, known pixels untouched."""
import argparse

from core.cli.options import (
    add_bands_argument,
    add_model_arguments,
    band_mapping,
    non_negative_float,
    path_value,
    seed,
    whole_number,
)

HELP = "fill the masked (and nodata) pixels of a raster by SGLD on a JEM; writes a GeoTIFF on the input's grid"
MAX_STEPS = 100_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the inpaint command's options."""
    p.add_argument("input", help="a raster file, or a folder of single-band files, at the model's resolution")
    p.add_argument("--mask", required=True, type=path_value,
                   help="pixels to fill: a raster on the input's grid (nonzero = fill) "
                   "or a polygon file in any CRS; the input's nodata pixels are always filled too")
    p.add_argument("--out", required=True, type=path_value, help="the GeoTIFF to write (the input's grid and dtype)")
    add_bands_argument(p)
    p.add_argument("--steps", type=whole_number(1, MAX_STEPS),
                   help="SGLD steps (default: the chain a JEM trained with --inpaint-weight was fitted for, else "
                   "measured, see bench/measure_inpaint.py)")
    p.add_argument("--step-size", type=non_negative_float, help="SGLD step size in unit space, 0 or more "
                   "(default: the step a JEM trained with --inpaint-weight was fitted for, else measured)")
    p.add_argument("--noise", type=non_negative_float, help="SGLD noise std in unit space, 0 or more (default: the "
                   "chain's a JEM trained with --inpaint-weight was fitted for, none, else measured)")
    p.add_argument("--init", help="how holes start: blur (default; best on wide holes and edges), idw (GDAL's "
                   "FillNodata; best on small holes, stripes and clouds, see bench/measure_inpaint.py) or mean")
    p.add_argument("--seed", type=seed, default=0, help="fixes the noise, so a run can be repeated exactly")
    add_model_arguments(p, default="the bundled Sentinel-2 JEM")


def run(args: argparse.Namespace) -> None:
    """Inpaint and say what was written."""
    import sys

    from core.cli.options import progress_bar
    from core.inpaint import inpaint

    with progress_bar("inpaint", args.quiet) as progress:
        given = (("steps", args.steps), ("step_size", args.step_size), ("noise", args.noise), ("init", args.init))
        sgld = {k: v for k, v in given if v is not None}
        result = inpaint(args.input, args.out, mask=args.mask, model=args.model,
                         bands=band_mapping(args), device=args.device,
                         seed=args.seed, progress=progress, **sgld)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    steps = result.settings.steps
    print(f"{result.filled_pixels} pixels filled by {steps} SGLD step{'s' * (steps != 1)} in {result.seconds:.1f} s: "
          f"{result.path}")
