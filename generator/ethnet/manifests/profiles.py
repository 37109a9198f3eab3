"""What differs per consensus profile: the client, its images, its StatefulSets, its
per-environment configuration files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ethnet.manifests import besu, geth
from ethnet.manifests.common import BESU_METRICS_PORT, GETH_METRICS_PORT, Obj
from ethnet.manifests.nodes import NodeSettings
from ethnet.spec.model import Network


@dataclass(frozen=True)
class Peers:
    """What an environment's client configuration needs: its chain ID, and the enode URLs
    of its static nodes (every validator) and bootnodes."""

    chain_id: int
    static_nodes: list[str]
    bootnodes: list[str]


@dataclass(frozen=True)
class Profile:
    """How one profile turns node settings into objects."""

    name: str
    # placeholder image name in base/ -> the network.yaml images key that pins it, per role
    image_keys: dict[str, str]
    statefulset: Callable[[NodeSettings], Obj]
    metrics_port: int
    # the per-environment client configuration: ConfigMap name -> {file name: text}
    config_maps: Callable[[Network, Peers], dict[str, dict[str, str]]]
    # the client container's name, per role
    containers: dict[str, str]
    # roles that keep no chain data: no volume, small fixed resources
    stateless_roles: frozenset[str] = frozenset()
    # the protocols each role's p2p port speaks, if not both TCP and UDP
    p2p_protocols: dict[str, tuple[str, ...]] = field(default_factory=dict)


BESU_QBFT = Profile(
    name="besu-qbft",
    image_keys={"validator": "besu", "rpc": "besu", "bootnode": "besu"},
    statefulset=besu.besu_statefulset,
    metrics_port=BESU_METRICS_PORT,
    config_maps=besu.config_maps,
    containers={"validator": besu.CLIENT, "rpc": besu.CLIENT, "bootnode": besu.CLIENT},
)

GETH_CLIQUE = Profile(
    name="geth-clique",
    image_keys={"validator": "geth", "rpc": "geth", "bootnode": "bootnode"},
    statefulset=geth.geth_statefulset,
    metrics_port=GETH_METRICS_PORT,
    config_maps=geth.config_maps,
    containers={"validator": geth.CLIENT, "rpc": geth.CLIENT, "bootnode": geth.BOOTNODE},
    stateless_roles=frozenset({"bootnode"}),  # discovery only: keeps no chain data
    p2p_protocols={"bootnode": ("UDP",)},  # the bootnode has no TCP listener
)

PROFILES: dict[str, Profile] = {BESU_QBFT.name: BESU_QBFT, GETH_CLIQUE.name: GETH_CLIQUE}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"no manifests for profile {name!r}") from None
