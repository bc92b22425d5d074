"""`python -m core quicklook`: one PNG of the input beside every map of a run."""
import argparse

HELP = "a PNG of the input beside its naturalness map"


def add_arguments(q: argparse.ArgumentParser) -> None:
    """Declare the quicklook command's options."""
    q.add_argument("input")
    q.add_argument("run_dir", help="the folder `explain` wrote")
    q.add_argument("--out", required=True)


def run(args: argparse.Namespace) -> None:
    """Draw the quick-look and print its path."""
    from core.quicklook import quicklook

    print(f"quick-look: {quicklook(args.input, args.run_dir, args.out)}")
