"""``ethnet spec check`` and ``ethnet spec schema``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ethnet.cli.common import EXIT_OK, add_directory, load, network_file


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_directory(check)
    check.set_defaults(handler=_check)
    schema = spec_commands.add_parser(
        "schema",
        help="print the JSON Schema of network.yaml",
        description="Print the JSON Schema of network.yaml, e.g. for an editor's YAML plugin.",
    )
    schema.set_defaults(handler=_schema)


def _check(args: argparse.Namespace) -> int:
    loaded = load(network_file(args, args.file))
    network = loaded.network
    envs = ", ".join(
        f"{name} (chainId {network.environment(name).chain_id})"
        for name in network.environment_names
    )
    print(f"{loaded.source}: ok: {network.name}, {network.spec.profile}; environments: {envs}")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from ethnet.spec.schema import shipped_schema_text

    sys.stdout.write(shipped_schema_text())
    return EXIT_OK
