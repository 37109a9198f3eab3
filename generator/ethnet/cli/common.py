"""What every command shares: the -C option, loading network.yaml, printing, time."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ethnet.errors import Problem
from ethnet.repo.layout import NETWORK_FILE, RepoLayout

if TYPE_CHECKING:
    from ethnet.spec.loader import LoadedNetwork

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2


def add_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the network repository (default: the current directory)",
    )


def add_environment(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--env", required=required, metavar="ENV", help="environment name from network.yaml"
    )


def layout(args: argparse.Namespace) -> RepoLayout:
    return RepoLayout(Path(args.directory))


def network_file(args: argparse.Namespace, file: Path | None = None) -> Path:
    """FILE if given, else DIR/network.yaml (shown as just network.yaml in the current dir)."""
    if file is not None:
        return file
    directory = Path(args.directory)
    return directory / NETWORK_FILE if str(directory) != "." else Path(NETWORK_FILE)


def load(path: Path) -> LoadedNetwork:
    """Load and validate network.yaml, printing its warnings."""
    from ethnet.spec.loader import load_network

    loaded = load_network(path)
    print_problems(loaded.warnings, sys.stderr)
    return loaded


def print_problems(problems: Sequence[Problem], stream: TextIO) -> None:
    for problem in problems:
        print(problem, file=stream)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def info(message: str) -> None:
    print(message, file=sys.stderr)


def progress(message: str) -> None:
    """One line of progress on stderr: on a terminal it overwrites itself."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
    else:
        print(message, file=sys.stderr, flush=True)


def end_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def now() -> datetime:
    """The current time, in UTC; the one place the CLI reads the clock."""
    return datetime.now(UTC)
