"""The optional components ethnet ships (top-level overlays/ of the generator, copied into
each network repository's components/) and which ones network.yaml turns on."""

from __future__ import annotations

from ethnet.spec.model import Network

# network.yaml's components field -> the component's directory
COMPONENT_DIRECTORIES = {
    "ethstats": "ethstats",
    "blockscout": "blockscout",
    "monitoring": "monitoring",
    "rpc_ingress": "rpc-ingress",
}
# Components that exist so far; the others are accepted in network.yaml but not rendered yet.
AVAILABLE_COMPONENTS: tuple[str, ...] = ()


def enabled_components(network: Network) -> list[str]:
    """Directories of the components network.yaml enables, in a fixed order."""
    enabled = network.spec.components.model_dump()
    return [
        directory
        for field, directory in COMPONENT_DIRECTORIES.items()
        if enabled.get(field) and directory in AVAILABLE_COMPONENTS
    ]
