"""The headless CLI: python -m core {explain,evaluate,vectorize,quicklook,...} ...

User mistakes, bad options included, print one line on stderr and exit 2; a cancel (Ctrl-C) exits 130 and leaves
no final-named output. Any other exception is a bug and keeps its traceback.
"""
import argparse
import sys

from core.cli import COMMANDS
from core.cli.options import EXIT_USER_ERROR, OneLineParser
from core.errors import NaturalExplainError, RunCanceled


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments, one sub-parser per module in core.cli; the contract is in DESIGN.md."""
    parser = OneLineParser(prog="python -m core", description="Natural Explain, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command].run(args)
    except NaturalExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (RunCanceled, KeyboardInterrupt):
        print("canceled: no outputs were written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
