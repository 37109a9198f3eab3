"""``ethnet node add|remove`` and ``ethnet keys rotate``: day-2 changes to nodes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ethnet.cli.common import (
    EXIT_OK,
    add_directory,
    end_progress,
    info,
    layout,
    now,
    progress,
    warn,
)

if TYPE_CHECKING:
    from ethnet.gitops.sync import SyncResult

ROLES = ["validator", "rpc", "bootnode"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = commands.add_parser(
        "node",
        help="add or remove nodes of an environment",
        description="Grow or shrink one environment by one node of a role: network.yaml is "
        "edited (its comments kept), keys are generated and sealed, static nodes and "
        "bootnodes updated, everything rendered and committed. On a live environment a "
        "validator joins or leaves by votes of the existing validators (a vote Job is "
        "rendered), since its genesis cannot change. Removal takes the highest ordinal.",
    )
    node_commands = node.add_subparsers(title="commands", metavar="COMMAND")
    for verb, delta in (("add", 1), ("remove", -1)):
        sub = node_commands.add_parser(verb, help=f"{verb} one node")
        sub.add_argument("--role", choices=ROLES, required=True)
        sub.add_argument("--env", required=True, metavar="ENV")
        add_directory(sub)
        sub.set_defaults(handler=_node, delta=delta)


def register_rotate(keys_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate = keys_commands.add_parser(
        "rotate",
        help="give one node a new key (a new enode)",
        description="Generate a new node key for NODE (e.g. rpc-0, validator-2) and seal it; "
        "its new enode replaces the old one everywhere in one commit. A besu-qbft "
        "validator's address is its node key's, so it changes too: on a live environment "
        "the vote Job adds the new address and removes the old one. A geth-clique signer "
        "keeps its signing account.",
    )
    rotate.add_argument("node", metavar="NODE")
    rotate.add_argument("--env", required=True, metavar="ENV")
    add_directory(rotate)
    rotate.set_defaults(handler=_rotate)


def _report(result: SyncResult) -> int:
    for message in result.warnings:
        warn(message)
    if result.commit:
        info(f"committed {result.commit[:12]}: {len(result.changed)} file(s) written")
    return EXIT_OK


def _node(args: argparse.Namespace) -> int:
    from ethnet.gitops.nodes import change_node_count

    try:
        result = change_node_count(
            layout(args).root,
            args.env,
            args.role,
            args.delta,
            now=now(),
            progress=progress,
            warn=warn,
        )
    finally:
        end_progress()
    return _report(result)


def _rotate(args: argparse.Namespace) -> int:
    from ethnet.gitops.nodes import rotate_key

    try:
        result = rotate_key(layout(args).root, args.env, args.node, now=now(), progress=progress)
    finally:
        end_progress()
    return _report(result)
