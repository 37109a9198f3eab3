"""Day-2 changes to a network's nodes: add or remove a node, rotate a node key.

Each edits its inputs (network.yaml through a comment-preserving round trip, or the sealed
keys), then syncs, so the change lands as one ordinary commit that ``ethnet check``
accepts. If the sync fails, the inputs are put back as they were.

On a live environment the genesis is frozen, so a validator joins or leaves through votes:
the environment renders a vote Job that asks the existing validators to vote until the
on-chain set is the one keys.yaml describes (see ``ethnet.manifests.votes``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ethnet.errors import EthnetError
from ethnet.gitops.sync import SyncResult, sync
from ethnet.repo.environment import load_environment_keys, write_key_changes
from ethnet.repo.files import write_files
from ethnet.repo.keys import Progress, Rng, rotate_node_key
from ethnet.repo.layout import RepoLayout
from ethnet.spec.edit import set_field
from ethnet.spec.loader import load_network
from ethnet.spec.model import Network

ROLE_FIELDS = {"validator": "validators", "rpc": "rpc", "bootnode": "bootnodes"}
QBFT_RECOMMENDED = 4


def change_node_count(
    root: Path,
    environment: str,
    role: str,
    delta: int,
    *,
    now: datetime,
    rng: Rng = secrets.token_bytes,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> SyncResult:
    """Add (``delta`` > 0) or remove (< 0) nodes of ``role`` in one environment and sync.
    A StatefulSet always removes its highest ordinal, so removal takes the last node."""
    layout = RepoLayout(root)
    network = load_network(layout.network_file).network
    network.require_environment(environment)
    env = network.environment(environment)
    current = env.count(role)
    count = current + delta
    if count < 0:
        raise EthnetError(f"{environment} has no {role} node to remove")
    if role == "validator":
        _check_validator_change(network, environment, current, count, warn)
    text = layout.network_file.read_text(encoding="utf-8")
    path = ("spec", "environments", environment, "nodes", ROLE_FIELDS[role])
    edited = set_field(text, path, count)
    verb = "add" if delta > 0 else "remove"
    subject = f"ethnet node {verb}: {environment} {role} {current} -> {count}"
    with _restored_on_failure([layout.network_file]):
        write_files({layout.network_file: edited})
        return sync(root, now=now, rng=rng, progress=progress, subject=subject)


def _check_validator_change(
    network: Network,
    environment: str,
    current: int,
    count: int,
    warn: Callable[[str], None] | None,
) -> None:
    if count < 1:
        raise EthnetError(f"{environment}: a chain needs at least one validator")
    live = network.environment(environment).live
    if live and count < current and (current - 1) * 2 <= current:
        raise EthnetError(
            f"{environment} is live with {current} validators: the {current - 1} that would "
            "remain are not a majority, so they cannot vote one out",
            hint="add a validator first, then remove one",
        )
    if network.spec.profile == "besu-qbft" and count < QBFT_RECOMMENDED and warn:
        warn(f"{environment}: {count} QBFT validator(s) tolerate no faulty validator")


def rotate_key(
    root: Path,
    environment: str,
    node: str,
    *,
    now: datetime,
    rng: Rng = secrets.token_bytes,
    progress: Progress | None = None,
) -> SyncResult:
    """A new node key for ``node`` (a new enode everywhere in one commit). For a besu-qbft
    validator the address changes too: on a live chain the vote Job adds the new address
    and removes the old one; elsewhere the genesis is rebuilt with it."""
    layout = RepoLayout(root)
    network = load_network(layout.network_file).network
    network.require_environment(environment)
    state = load_environment_keys(layout, environment, now)
    if state.material is None:
        raise EthnetError(
            f"{environment} has no keys yet", hint="run ethnet sync to generate them first"
        )
    changes = rotate_node_key(
        network,
        environment,
        node,
        existing=state.material,
        sealed=state.sealed,
        public_key=state.certificate.public_key,
        rng=rng,
    )
    touched = [layout.keys_file(environment)] + [
        layout.sealed_secret_file(environment, name) for name in state.sealed
    ]
    with _restored_on_failure(touched):
        write_key_changes(layout, environment, changes, state.sealed, command="ethnet keys rotate")
        subject = f"ethnet keys rotate: {environment} {node}"
        return sync(root, now=now, rng=rng, progress=progress, subject=subject)


@contextmanager
def _restored_on_failure(paths: list[Path]) -> Iterator[None]:
    """Put ``paths`` back as they were if the block fails."""
    saved = {path: path.read_text(encoding="utf-8") for path in paths if path.is_file()}
    try:
        yield
    except BaseException:
        write_files(saved)
        raise
