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
# Components shipped so far (directories under overlays/, documented in docs/components.md);
# a component named in network.yaml but missing here is accepted and not rendered.
AVAILABLE_COMPONENTS: tuple[str, ...] = ("ethstats", "blockscout", "monitoring", "rpc-ingress")


def enabled_components(network: Network) -> list[str]:
    """Directories of the components network.yaml enables, in a fixed order."""
    enabled = network.spec.components.model_dump()
    return [
        directory
        for field, directory in COMPONENT_DIRECTORIES.items()
        if enabled.get(field) and directory in AVAILABLE_COMPONENTS
    ]
