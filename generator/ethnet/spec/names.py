"""Kubernetes names derived from network.yaml, and the limits they must respect.

Every object ethnet creates is named here, so validation can check the longest name a
network will produce before anything is rendered, and manifests use the same functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 1123 label (namespaces, most names) and RFC 1035 label (Services: must start with a letter).
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_MAX = 63
# The StatefulSet controller labels each pod with controller-revision-hash=<name>-<10 chars>,
# and a label value has at most 63 characters: so a StatefulSet name has at most 52.
STATEFULSET_MAX = LABEL_MAX - 11

ROLES = ("validator", "rpc", "bootnode")


@dataclass(frozen=True)
class DerivedName:
    """A name ethnet will give an object, with what it is and how long it may be."""

    name: str
    kind: str
    limit: int


def workload_name(network: str, role: str) -> str:
    """StatefulSet (and its headless Service) of one node role: ``acme-validator``."""
    return f"{network}-{role}"


def pod_name(network: str, role: str, index: int) -> str:
    """Stable pod name of node ``index`` of a role: ``acme-validator-0``."""
    return f"{workload_name(network, role)}-{index}"


def component_name(network: str, component: str) -> str:
    """Workload of an optional component: ``acme-ethstats``, ``acme-blockscout-postgres``."""
    return f"{network}-{component}"


def application_name(network: str, environment: str) -> str:
    """Argo CD Application or Flux Kustomization of one environment: ``acme-prod``."""
    return f"{network}-{environment}"


COMPONENT_WORKLOADS: dict[str, tuple[str, ...]] = {
    "ethstats": ("ethstats",),
    "blockscout": ("blockscout", "blockscout-postgres"),
}


def derived_names(
    network: str,
    environment: str,
    node_counts: dict[str, int],
    components: tuple[str, ...],
) -> list[DerivedName]:
    """Every name one environment of the network produces, with its limit."""
    names = [DerivedName(application_name(network, environment), "Application", LABEL_MAX)]
    for role in ROLES:
        count = node_counts.get(role, 0)
        if count == 0:
            continue
        names.append(DerivedName(workload_name(network, role), "StatefulSet", STATEFULSET_MAX))
        names.append(DerivedName(pod_name(network, role, count - 1), "Pod", LABEL_MAX))
    for component in components:
        for part in COMPONENT_WORKLOADS.get(component, ()):
            names.append(DerivedName(component_name(network, part), "StatefulSet", STATEFULSET_MAX))
    return names
