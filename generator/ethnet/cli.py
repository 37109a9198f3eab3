"""The ``ethnet`` command line: parse arguments, call the library, print, set the exit code.

Exit codes: 0 success, 1 a problem the user must fix (message on stderr), 2 usage error.
Any exception that is not an ``EthnetError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ethnet import __version__
from ethnet.chain.address import parse_address
from ethnet.chain.genesis import genesis_json
from ethnet.errors import EthnetError, InvalidAddressError, Problem, SpecError
from ethnet.spec.genesis import environment_genesis
from ethnet.spec.loader import FILENAME, LoadedNetwork, load_network
from ethnet.spec.schema import shipped_schema_text

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2


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
        _print_problems(exc.problems, sys.stderr)
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

    spec = commands.add_parser(
        "spec",
        help="validate network.yaml, print its JSON Schema",
        description="Work with network.yaml, the single source of truth of a network.",
    )
    spec_commands = spec.add_subparsers(title="commands", metavar="COMMAND")
    check = spec_commands.add_parser(
        "check",
        help="validate network.yaml and report every problem with its location",
        description="Validate network.yaml: structure, values and cross-field rules. "
        "Every problem is reported at once as FILE:LINE:COLUMN: FIELD: MESSAGE.",
    )
    check.add_argument("file", nargs="?", type=Path, help="the file (default: DIR/network.yaml)")
    _add_directory(check)
    check.set_defaults(handler=_spec_check)
    schema = spec_commands.add_parser(
        "schema",
        help="print the JSON Schema of network.yaml",
        description="Print the JSON Schema of network.yaml, e.g. for an editor's YAML plugin.",
    )
    schema.set_defaults(handler=_spec_schema)

    genesis = commands.add_parser(
        "genesis",
        help="print the genesis.json of one environment",
        description="Build the genesis of one environment from network.yaml and the "
        "validators' addresses. Output is deterministic: same inputs, same bytes.",
    )
    genesis.add_argument("--env", required=True, metavar="ENV", help="environment name")
    _add_directory(genesis)
    genesis.add_argument(
        "-f", "--file", type=Path, help="network.yaml to read (default: DIR/network.yaml)"
    )
    genesis.add_argument(
        "--validator",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a validator's (QBFT) or signer's (Clique) address; repeat once per validator",
    )
    genesis.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of stdout (atomically)"
    )
    genesis.set_defaults(handler=_genesis)
    return parser


def _add_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the network repository (default: the current directory)",
    )


def _network_file(args: argparse.Namespace, file: Path | None) -> Path:
    if file is not None:
        return file
    return Path(args.directory) / FILENAME if str(args.directory) != "." else Path(FILENAME)


def _load(path: Path) -> LoadedNetwork:
    loaded = load_network(path)
    _print_problems(loaded.warnings, sys.stderr)
    return loaded


def _spec_check(args: argparse.Namespace) -> int:
    loaded = _load(_network_file(args, args.file))
    network = loaded.network
    envs = ", ".join(
        f"{name} (chainId {network.environment(name).chain_id})"
        for name in network.environment_names
    )
    print(f"{loaded.source}: ok: {network.name}, {network.spec.profile}; environments: {envs}")
    return EXIT_OK


def _spec_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(shipped_schema_text())
    return EXIT_OK


def _genesis(args: argparse.Namespace) -> int:
    loaded = _load(_network_file(args, args.file))
    if not args.validator:
        raise EthnetError(
            "no validator addresses given",
            hint="pass --validator ADDRESS once per validator",
        )
    validators = []
    for text in args.validator:
        try:
            validators.append(parse_address(text))
        except InvalidAddressError as exc:
            raise EthnetError(f"--validator {text}: {exc.message}", hint=exc.hint) from None
    text = genesis_json(environment_genesis(loaded.network, args.env, validators))
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise EthnetError(f"{path}: directory {directory} does not exist")
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _print_problems(problems: Sequence[Problem], stream: TextIO) -> None:
    for problem in problems:
        print(problem, file=stream)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
