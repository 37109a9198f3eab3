"""What every workload shares: labels, ports, security context, small object constructors.

Everything returns plain dicts in a fixed key order, so the YAML emitter writes the same
bytes for the same input.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

# Ports: every client listens for peers on 30303 (TCP and UDP discovery).
P2P_PORT = 30303
RPC_HTTP_PORT = 8545
RPC_WS_PORT = 8546
BESU_METRICS_PORT = 9545
GETH_METRICS_PORT = 6060

NODE_USER = 1000  # the uid the Besu image runs as; geth runs as the same uid here
TERMINATION_GRACE_SECONDS = 180  # time to flush the database on shutdown

PART_OF = "app.kubernetes.io/part-of"
COMPONENT = "app.kubernetes.io/component"
NAME = "app.kubernetes.io/name"
MANAGED_BY = "app.kubernetes.io/managed-by"
NODE_LABEL = "ethnet.io/node"  # every Ethereum node pod: the p2p NetworkPolicy's peers
VALIDATOR_RPC_CLIENT = "ethnet.io/validator-rpc-client"  # may call validators' RPC
SYNC_WAVE = "argocd.argoproj.io/sync-wave"

# Argo CD sync waves: namespaces, then secrets and configuration, then workloads.
WAVE_NAMESPACE = "-2"
WAVE_CONFIG = "-1"


def labels(network: str, component: str, name: str | None = None) -> dict[str, str]:
    """Recommended labels of an object of ``component`` (validator, rpc, json-rpc...)."""
    result = {PART_OF: network, COMPONENT: component}
    if name:
        result[NAME] = name
    result[MANAGED_BY] = "ethnet"
    return result


def selector(network: str, component: str) -> dict[str, str]:
    """The immutable selector of a workload: network and component only."""
    return {PART_OF: network, COMPONENT: component}


def metadata(name: str, lbls: dict[str, str], annotations: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name, "labels": dict(lbls)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def pod_security_context() -> Obj:
    return {
        "runAsNonRoot": True,
        "runAsUser": NODE_USER,
        "runAsGroup": NODE_USER,
        "fsGroup": NODE_USER,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> Obj:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": NODE_USER,
        "runAsGroup": NODE_USER,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_env() -> list[Obj]:
    """The pod's own name and IP, from the downward API."""
    return [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]


def small_resources() -> Obj:
    """Requests and limits of short helper containers (init containers)."""
    return {
        "requests": {"cpu": "10m", "memory": "16Mi"},
        "limits": {"cpu": "100m", "memory": "64Mi"},
    }


def empty_dir(name: str, medium: str | None = None) -> Obj:
    spec: Obj = {"sizeLimit": "64Mi"}
    if medium:
        spec["medium"] = medium
    return {"name": name, "emptyDir": spec}


def port(name: str, number: int, protocol: str = "TCP") -> Obj:
    return {"name": name, "containerPort": number, "protocol": protocol}


def service_port(name: str, number: int, protocol: str = "TCP") -> Obj:
    return {"name": name, "port": number, "targetPort": name, "protocol": protocol}
