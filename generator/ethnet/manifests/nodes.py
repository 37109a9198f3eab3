"""What node workloads of both profiles share: the StatefulSet around a client's pod,
volumes for genesis, static nodes and keys, the init container that hands a pod its key.

A role's Secret (``validator-keys``...) holds the keys of every pod of the role, as items
``<pod>.<file>``. Only the short-lived init container mounts it, and copies the pod's own
files into a memory-backed volume; the client, which faces the network, never sees the keys
of other nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ethnet.manifests.common import (
    NODE_LABEL,
    P2P_PORT,
    RPC_HTTP_PORT,
    RPC_WS_PORT,
    TERMINATION_GRACE_SECONDS,
    Obj,
    container_security_context,
    empty_dir,
    labels,
    metadata,
    pod_env,
    pod_security_context,
    port,
    selector,
    small_resources,
)
from ethnet.spec.names import keys_secret_name, workload_name

CONFIG_DIR = "/etc/ethnet"
GENESIS_FILE = f"{CONFIG_DIR}/genesis/genesis.json"
STATIC_NODES_DIR = f"{CONFIG_DIR}/static-nodes"
KEYS_DIR = "/keys"  # the role's Secret, in the init container only
NODE_KEY_DIR = "/run/ethnet/key"  # this pod's own key files
DATA_DIR = "/data"

GENESIS_CONFIGMAP = "genesis"
STATIC_NODES_CONFIGMAP = "static-nodes"


@dataclass(frozen=True)
class NodeSettings:
    """What a node StatefulSet needs from the environment (defaults go to base/)."""

    network: str
    role: str
    replicas: int
    image: str
    storage_size: str
    storage_class_name: str | None
    requests: dict[str, str]
    limits: dict[str, str]
    persistent: bool = True  # False: a role that keeps no chain data gets no volume


def node_labels(network: str, role: str, client: str) -> dict[str, str]:
    return {**labels(network, role, client), NODE_LABEL: "true"}


def key_init_container(image: str, files: list[str]) -> Obj:
    """Copies this pod's ``<pod>.<file>`` items from the role Secret into its key volume."""
    copies = " && ".join(
        f'cp "{KEYS_DIR}/${{POD_NAME}}.{name}" "{NODE_KEY_DIR}/{name}"' for name in files
    )
    script = (
        f'if [ ! -f "{KEYS_DIR}/${{POD_NAME}}.{files[0]}" ]; then '
        f'echo "no key for ${{POD_NAME}} in its role Secret: run ethnet sync" >&2; exit 1; fi; '
        f"{copies} && chmod 0400 {NODE_KEY_DIR}/*"
    )
    return {
        "name": "node-key",
        "image": image,
        "imagePullPolicy": "Always",
        "command": ["/bin/sh", "-c", script],
        "env": pod_env()[:1],
        "resources": small_resources(),
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "keys", "mountPath": KEYS_DIR, "readOnly": True},
            {"name": "node-key", "mountPath": NODE_KEY_DIR},
        ],
    }


def node_volumes(role: str, extra: list[Obj]) -> list[Obj]:
    return [
        {"name": "genesis", "configMap": {"name": GENESIS_CONFIGMAP}},
        {"name": "static-nodes", "configMap": {"name": STATIC_NODES_CONFIGMAP}},
        *extra,
        {"name": "keys", "secret": {"secretName": keys_secret_name(role), "defaultMode": 0o400}},
        empty_dir("node-key", medium="Memory"),
        empty_dir("tmp"),
    ]


def statefulset(
    settings: NodeSettings,
    client: str,
    *,
    init_containers: list[Obj],
    container: Obj,
    volumes: list[Obj],
) -> Obj:
    """A role's StatefulSet: stable names, one volume per pod, parallel start.

    Pods start in parallel: ordered start would wait for validator-0 to be Ready, which needs
    peers, which are the pods not started yet. Rolling updates still go one pod at a time.
    """
    name = workload_name(settings.role)
    pod_labels = node_labels(settings.network, settings.role, client)
    pvc_spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": settings.storage_size}},
    }
    if settings.storage_class_name:
        pvc_spec["storageClassName"] = settings.storage_class_name
    result: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(name, pod_labels),
        "spec": {
            "serviceName": name,
            "replicas": settings.replicas,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": selector(settings.network, settings.role)},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": "ethnet-node",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                    "securityContext": pod_security_context(),
                    "affinity": _spread(settings.network, settings.role),
                    "initContainers": init_containers,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
    if settings.persistent:
        result["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": pvc_spec}]
    return result


def _spread(network: str, role: str) -> Obj:
    """Prefer one node of a role per Kubernetes node: losing a machine loses one validator."""
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": selector(network, role)},
                    },
                }
            ]
        }
    }


def client_resources(settings: NodeSettings) -> Obj:
    return {"requests": dict(settings.requests), "limits": dict(settings.limits)}


def client_ports(role: str, metrics_port: int) -> list[Obj]:
    """A client's container ports: p2p (TCP and UDP discovery), JSON-RPC over HTTP,
    WebSocket on RPC nodes only, and metrics."""
    ports = [
        port("p2p", P2P_PORT),
        port("discovery", P2P_PORT, "UDP"),
        port("rpc-http", RPC_HTTP_PORT),
    ]
    if role == "rpc":
        ports.append(port("rpc-ws", RPC_WS_PORT))
    ports.append(port("metrics", metrics_port))
    return ports


def client_container_base(name: str, image: str) -> Obj:
    """Fields every client container starts with."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "Always",
        "securityContext": container_security_context(),
    }
