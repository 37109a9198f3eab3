"""Kubernetes names of a network's objects, and the limits the derived ones must respect.

Each environment runs in a namespace of its own, so objects inside it have short fixed names
(``validator``, ``rpc-0``'s StatefulSet ``rpc``, the Secret ``validator-keys``...), which the
reusable components can refer to. The network's name appears where names are shared across
namespaces or clusters: the default namespace ``<network>-<env>``, the Argo CD Application or
Flux Kustomization ``<network>-<env>``, and the ``app.kubernetes.io/instance`` label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 1123 label (namespaces, most names) and RFC 1035 label (Services: must start with a letter).
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_MAX = 63

ROLES = ("validator", "rpc", "bootnode")


@dataclass(frozen=True)
class DerivedName:
    """A name ethnet will derive, with what it is and how long it may be."""

    name: str
    kind: str
    limit: int


def workload_name(role: str) -> str:
    """StatefulSet (and headless Service) of one node role: ``validator``."""
    return role


def pod_name(role: str, index: int) -> str:
    """Stable pod name of node ``index`` of a role: ``validator-0``."""
    return f"{workload_name(role)}-{index}"


def keys_secret_name(role: str) -> str:
    """The Secret (sealed) holding every key of one role: ``validator-keys``."""
    return f"{workload_name(role)}-keys"


def instance_name(network: str, environment: str) -> str:
    """One environment of a network, across clusters: the default namespace, the Argo CD
    Application or Flux Kustomization, the ``app.kubernetes.io/instance`` label."""
    return f"{network}-{environment}"


def derived_names(network: str, environment: str, namespace_given: bool) -> list[DerivedName]:
    """Every name derived from the network's and the environment's names."""
    instance = instance_name(network, environment)
    names = [DerivedName(instance, "Application and instance label", LABEL_MAX)]
    if not namespace_given:
        names.append(DerivedName(instance, "default namespace", LABEL_MAX))
    return names
