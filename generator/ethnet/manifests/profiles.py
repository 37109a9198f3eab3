"""What differs per consensus profile: the client, its images, its StatefulSets, its
per-environment configuration files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ethnet.manifests import besu
from ethnet.manifests.common import BESU_METRICS_PORT, Obj
from ethnet.manifests.nodes import NodeSettings
from ethnet.spec.model import Network


@dataclass(frozen=True)
class Peers:
    """The enode URLs of one environment: static nodes (every validator) and bootnodes."""

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


BESU_QBFT = Profile(
    name="besu-qbft",
    image_keys={"validator": "besu", "rpc": "besu", "bootnode": "besu"},
    statefulset=besu.besu_statefulset,
    metrics_port=BESU_METRICS_PORT,
    config_maps=besu.config_maps,
    containers={"validator": besu.CLIENT, "rpc": besu.CLIENT, "bootnode": besu.CLIENT},
)

PROFILES: dict[str, Profile] = {BESU_QBFT.name: BESU_QBFT}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"no manifests for profile {name!r}") from None
