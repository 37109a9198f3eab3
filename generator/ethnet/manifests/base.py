"""base/: the objects every environment shares, with the values written under ``spec``.

Each environment's generated kustomization then sets what differs: namespace, replica
counts, pinned images, storage, resources, disruption budgets, and removes roles it does not
run. Containers name placeholder images (``besu``, ``geth``, ``bootnode``) that only those
kustomizations pin, so nothing in base/ runs by accident.
"""

from __future__ import annotations

from ethnet.manifests.common import Obj
from ethnet.manifests.network import (
    disruption_budget,
    headless_service,
    json_rpc_service,
    max_unavailable,
    network_policies,
    service_account,
)
from ethnet.manifests.nodes import NodeSettings
from ethnet.manifests.profiles import profile
from ethnet.spec.model import Network, ResolvedEnvironment
from ethnet.spec.names import ROLES


def node_settings(network: Network, env: ResolvedEnvironment, role: str) -> NodeSettings:
    """The StatefulSet settings of ``role`` under ``env`` (placeholder image)."""
    return NodeSettings(
        network=network.name,
        role=role,
        replicas=env.count(role),
        image=profile(network.spec.profile).image_keys[role],
        storage_size=env.storage_size,
        storage_class_name=env.storage_class_name,
        requests=env.requests,
        limits=env.limits,
        persistent=role not in profile(network.spec.profile).stateless_roles,
    )


def base_objects(network: Network) -> list[Obj]:
    """Every object of base/, in a fixed order."""
    spec_level = network.spec_defaults()
    prof = profile(network.spec.profile)
    objects: list[Obj] = [service_account(network.name)]
    for role in ROLES:
        replicas = spec_level.count(role)
        objects += [
            prof.statefulset(node_settings(network, spec_level, role)),
            headless_service(network.name, role, prof.p2p_protocols.get(role, ("TCP", "UDP"))),
            disruption_budget(
                network.name, role, max_unavailable(network.spec.profile, role, replicas)
            ),
        ]
    objects.append(json_rpc_service(network.name, network.spec.rpc.service_type))
    objects += network_policies(network.name, list(network.spec.rpc.allowed_namespaces))
    return objects


def object_file(obj: Obj) -> str:
    """The file an object is written to: ``<kind>-<name>.yaml``, lowercase."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def kustomization(resources: list[str], **fields: object) -> Obj:
    """A Kustomization listing ``resources``, then any other fields in the given order."""
    doc: Obj = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    doc.update({key: value for key, value in fields.items() if value})
    doc["resources"] = resources
    return doc
