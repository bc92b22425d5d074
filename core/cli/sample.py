"""`python -m core sample`: patches a JEM draws for one class, as a PNG grid plus a JSON record with their KID."""
import argparse

from core.cli.options import add_model_arguments, non_negative_float, path_value, positive_float, seed, text_value, whole_number

HELP = ("draw patches of one class from a JEM (annealed Langevin or SGLD); writes a PNG grid and a JSON "
        "record with KID and fine detail")
MAX_SAMPLES = 1024
MAX_STEPS = 100_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the sample command's options."""
    p.add_argument("--class", dest="class_name", required=True, type=text_value("a class name"),
                   help="the class to draw, e.g. natural")
    p.add_argument("--n", type=whole_number(2, MAX_SAMPLES), default=16,
                   help="how many patches (at least 2: KID compares pairs)")
    p.add_argument("--out", required=True, type=path_value, help="the PNG to write; the JSON record goes beside it")
    p.add_argument("--init", type=text_value("a start"),
                   help="'annealed': Langevin dynamics down the noise ladder of a JEM trained with --score-weight, from "
                        "the class's Gaussian of coarse training patches drowned in noise, or from pure noise for one "
                        "fitted by `train energy` (its default); 'data': SGLD "
                        "from that Gaussian (any other JEM's default); 'uniform': SGLD from uniform noise")
    p.add_argument("--steps", type=whole_number(0, MAX_STEPS),
                   help="SGLD steps, whose size and noise are the JEM's own (default: the JEM's training chain "
                        "length); with --init annealed, the levels of the ladder (default: 100)")
    p.add_argument("--guidance", type=non_negative_float,
                   help="how strongly the annealed chain of a JEM fitted by `train energy` is steered toward the "
                        "class, by its U-Net told the class or else its classifier (default: the model card's; 0 "
                        "draws from log p(x) alone)")
    p.add_argument("--start-sigma", type=positive_float,
                   help="the noise level the annealed chain starts at, from pure noise for a JEM fitted by `train "
                        "energy` (default: the model card's, 10 for the bundled one; 80 draws more open fields, at a "
                        "higher KID: README)")
    p.add_argument("--reference", type=path_value, help="a raster whose real patches (outside the training labels) KID "
                   "compares with (default: the bundled sample)")
    p.add_argument("--seed", type=seed, default=0, help="fixes the starts and the noise")
    add_model_arguments(p, default="the bundled Sentinel-2 JEM")


def run(args: argparse.Namespace) -> None:
    """Sample and print what was measured."""
    from core.cli.options import progress_bar
    from core.errors import NaturalExplainError
    from core.run_outputs import writable_file
    from core.sample import sample

    if args.out.suffix.lower() != ".png":
        raise NaturalExplainError(f"--out {args.out} must end in .png")
    writable_file(args.out)
    with progress_bar("sample", args.quiet) as progress:
        given = {k: v for k, v in (("steps", args.steps), ("reference", args.reference), ("init", args.init),
                                             ("guidance", args.guidance), ("start_sigma", args.start_sigma))
                 if v is not None}
        result = sample(args.out, class_name=args.class_name, n=args.n, model=args.model, seed=args.seed,
                        device=args.device, progress=progress, **given)
    print(f"{result.n} samples of '{result.class_name}': mean probability {result.jem_probability:.3f} (JEM), "
          f"{result.reference_probability:.3f} (independent classifier); KID {result.kid['samples']:.4g} "
          f"(uniform noise {result.kid['uniform_noise']:.4g}, real other class {result.kid['real_other_class']:.4g}, "
          f"real same class {result.kid['real_same_class']:.4g}); fine detail {result.fine_detail['samples']:.3g} of "
          "real patches'")
    print(f"written: {result.png}")
    print(f"written: {result.json}")
