"""`python -m core quicklook`: one PNG of the input beside every map of a run."""
import argparse

from core.cli.options import path_value

HELP = "a PNG of the input beside its naturalness map"


def add_arguments(q: argparse.ArgumentParser) -> None:
    """Declare the quicklook command's options."""
    q.add_argument("input")
    q.add_argument("run_dir", help="the folder `explain` wrote")
    q.add_argument("--out", required=True, type=path_value, help="the PNG to write")


def run(args: argparse.Namespace) -> None:
    """Draw the quick-look and print its path."""
    from core.quicklook import quicklook
    from core.run_outputs import writable_file

    writable_file(args.out)
    print(f"quick-look: {quicklook(args.input, args.run_dir, args.out)}")
