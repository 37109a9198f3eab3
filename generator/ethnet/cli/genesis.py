"""``ethnet genesis``: the genesis.json of one environment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ethnet.cli.common import (
    EXIT_OK,
    add_directory,
    add_environment,
    info,
    layout,
    load,
    network_file,
)
from ethnet.errors import EthnetError, InvalidAddressError, RepositoryError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    genesis = commands.add_parser(
        "genesis",
        help="print the genesis.json of one environment",
        description="Build the genesis of one environment from network.yaml and its "
        "validators' addresses: from overlays/ENV/generated/keys.yaml, or given with "
        "--validator. Deterministic: same inputs, same bytes.",
    )
    add_environment(genesis)
    add_directory(genesis)
    genesis.add_argument(
        "-f", "--file", type=Path, help="network.yaml to read (default: DIR/network.yaml)"
    )
    genesis.add_argument(
        "--validator",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a validator's (QBFT) or signer's (Clique) address, once per validator; "
        "default: the addresses in keys.yaml",
    )
    genesis.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of stdout (atomically)"
    )
    genesis.set_defaults(handler=_genesis)


def _genesis(args: argparse.Namespace) -> int:
    from ethnet.chain.genesis import genesis_json
    from ethnet.repo.files import write_atomically
    from ethnet.spec.genesis import environment_genesis

    network = load(network_file(args, args.file)).network
    network.require_environment(args.env)
    validators = _validators(args) if args.validator else _validators_from_keys(args)
    text = genesis_json(environment_genesis(network, args.env, validators))
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, text)
        info(f"wrote {args.output}")
    return EXIT_OK


def _validators(args: argparse.Namespace) -> list[bytes]:
    from ethnet.chain.address import parse_address

    validators = []
    for text in args.validator:
        try:
            validators.append(parse_address(text))
        except InvalidAddressError as exc:
            raise EthnetError(f"--validator {text}: {exc.message}", hint=exc.hint) from None
    return validators


def _validators_from_keys(args: argparse.Namespace) -> list[bytes]:
    from ethnet.repo.environment import read_yaml_file
    from ethnet.repo.keys import KeyMaterial

    repo = layout(args)
    path = repo.keys_file(args.env)
    if not path.is_file():
        raise RepositoryError(
            f"{repo.relative(path)} not found: no validator keys for {args.env!r} yet",
            hint=f"run ethnet keys generate --env {args.env}, or pass --validator ADDRESS",
        )
    material = KeyMaterial.from_document(
        read_yaml_file(path, what="keys.yaml"), source=repo.relative(path)
    )
    return material.validator_addresses()
