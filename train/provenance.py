"""What a model card records about its making: the exact command and a hash of the data.

The command lists every effective option, defaults included, so rerunning it reproduces
the model even after the CLI's defaults change; the data hash says whether the inputs are
the same files.
"""
import argparse
import hashlib
import shlex
from pathlib import Path
from typing import Iterable

from core.checksum import file_sha256

# Options that change how a run proceeds but not what it produces.
NOT_REPRODUCING = {"help", "resume", "fresh"}


def data_hash(files: Iterable[Path]) -> str:
    """sha256 over the names and contents of the input files, independent of their order.

    Args:
        files: every file the training read.

    Returns:
        A hex digest.
    """
    digest = hashlib.sha256()
    for name, content in sorted((f"{path.parent.name}/{path.name}", file_sha256(path)) for path in set(files)):
        digest.update(f"{name}\0{content}\n".encode())
    return digest.hexdigest()


def _render(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def command_line(prog: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The command that reproduces a run: `prog` plus every option with its effective value.

    Args:
        prog: the command prefix, e.g. "python -m train classifier".
        parser: the sub-command's parser, whose options are listed.
        args: the parsed arguments with every default already resolved.

    Returns:
        A shell-quoted command line.
    """
    words = shlex.split(prog)
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest in NOT_REPRODUCING or not action.option_strings or value is None or value is False:
            continue
        words.append(action.option_strings[-1])
        if action.nargs != 0:
            words.append(_render(value))
    return shlex.join(words)
