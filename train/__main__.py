"""python -m train {classifier,...}: train models the plugin and `python -m core` load.

Mistakes a user can fix end with one line on stderr and exit status 2, never a traceback;
anything else is a bug and keeps its traceback. Ctrl+C and SIGTERM (the plugin's Cancel, a
cluster's pre-emption, `kill`) both stop at once and keep the checkpoints of finished epochs:
SIGTERM matters because a child started from a non-interactive background job (CI, a script's
`&`) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt for it. Every
command also trains on several processes under `torchrun --nproc_per_node=N` (train/distributed.py).
"""
import signal
import sys
from types import FrameType

from core.cli.options import EXIT_USER_ERROR, OneLineParser
from core.errors import NaturalExplainError
from train.commands import COMMANDS


def build_parsers() -> tuple[OneLineParser, dict[str, OneLineParser]]:
    """The top-level parser, and each command's sub-parser by name (the command line is rebuilt from it)."""
    parser = OneLineParser(prog="python -m train", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    commands = {}
    for name, module in COMMANDS.items():
        commands[name] = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(commands[name])
    return parser, commands


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into the KeyboardInterrupt that Ctrl+C raises, so both take the same way out."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    parser, commands = build_parsers()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        COMMANDS[args.command].run(args, commands[args.command])
    except NaturalExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; rerun with --resume to continue from the last checkpoint", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
