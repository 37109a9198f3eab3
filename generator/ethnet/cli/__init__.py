"""The ``ethnet`` command line: parse arguments, call the library, print, set the exit code.

Exit codes: 0 success, 1 a problem the user must fix (message on stderr), 2 usage error.
Any exception that is not an ``EthnetError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ethnet import __version__
from ethnet.cli import genesis, gitops, keys, nodes, operations, seal, spec
from ethnet.cli.common import EXIT_USAGE, EXIT_USER, print_problems
from ethnet.errors import EthnetError, SpecError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ethnet command; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.handler(args)
        return result
    except SpecError as exc:
        print_problems(exc.problems, sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return EXIT_USER
    except EthnetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ethnet",
        description="GitOps repositories for private Ethereum networks on Kubernetes.",
        epilog="Exit codes: 0 success, 1 a problem to fix (see the message), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"ethnet {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (gitops, nodes, spec, genesis, keys, seal, operations):
        module.register(commands)
    return parser
