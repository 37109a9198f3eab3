"""Objects around the nodes, the same for both profiles: Services, PodDisruptionBudgets,
NetworkPolicies and the nodes' ServiceAccount."""

from __future__ import annotations

from ethnet.manifests.common import (
    NODE_LABEL,
    P2P_PORT,
    PART_OF,
    RPC_HTTP_PORT,
    RPC_WS_PORT,
    VALIDATOR_RPC_CLIENT,
    Obj,
    labels,
    metadata,
    selector,
    service_port,
)
from ethnet.spec.names import workload_name

SERVICE_ACCOUNT = "ethnet-node"
JSON_RPC = "json-rpc"


def service_account(network: str) -> Obj:
    """The nodes' ServiceAccount: they never talk to the Kubernetes API, so no token."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(SERVICE_ACCOUNT, labels(network, "node")),
        "automountServiceAccountToken": False,
    }


def headless_service(network: str, role: str, protocols: tuple[str, ...] = ("TCP", "UDP")) -> Obj:
    """Stable DNS names for a role's pods: ``validator-0.validator.<ns>.svc.<domain>``.

    Addresses are published before pods are Ready, so peers can resolve each other while
    they start (a starting node needs its peers to become ready).
    """
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(workload_name(role), labels(network, role)),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector(network, role),
            "ports": [
                service_port(name, P2P_PORT, protocol)
                for name, protocol in (("p2p", "TCP"), ("discovery", "UDP"))
                if protocol in protocols
            ],
        },
    }


def json_rpc_service(network: str, service_type: str) -> Obj:
    """The users' JSON-RPC endpoint: RPC nodes only, ClusterIP unless network.yaml asks."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(JSON_RPC, labels(network, JSON_RPC)),
        "spec": {
            "type": service_type,
            "selector": selector(network, "rpc"),
            "ports": [
                service_port("rpc-http", RPC_HTTP_PORT),
                service_port("rpc-ws", RPC_WS_PORT),
            ],
        },
    }


def max_unavailable(profile: str, role: str, replicas: int) -> int:
    """How many pods of a role may be down at once without losing consensus.

    QBFT keeps producing blocks with at most floor((n-1)/3) faulty validators; Clique needs
    a majority of signers online, so floor(n/2)+1 must stay. RPC nodes and bootnodes
    are redundant: one at a time.
    """
    if role != "validator":
        return 1
    if profile == "besu-qbft":
        return max(0, (replicas - 1) // 3)
    return replicas - (replicas // 2 + 1)


def disruption_budget(network: str, role: str, maximum: int) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(workload_name(role), labels(network, role)),
        "spec": {
            "maxUnavailable": maximum,
            "selector": {"matchLabels": selector(network, role)},
        },
    }


def network_policies(network: str, allowed_namespaces: list[str]) -> list[Obj]:
    """Deny all ingress, then open exactly: p2p between the network's nodes, JSON-RPC to RPC
    nodes from this namespace and the listed ones, validators' RPC to labelled clients."""
    nodes = {PART_OF: network, NODE_LABEL: "true"}
    rpc_sources: list[Obj] = [{"podSelector": {}}]
    if allowed_namespaces:
        rpc_sources.append(
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "In",
                            "values": sorted(allowed_namespaces),
                        }
                    ]
                }
            }
        )
    return [
        _policy(network, "default-deny-ingress", {}, []),
        _policy(
            network,
            "node-p2p",
            nodes,
            [
                {
                    "from": [{"podSelector": {"matchLabels": nodes}}],
                    "ports": [
                        {"protocol": "TCP", "port": P2P_PORT},
                        {"protocol": "UDP", "port": P2P_PORT},
                    ],
                }
            ],
        ),
        _policy(
            network,
            JSON_RPC,
            selector(network, "rpc"),
            [
                {
                    "from": rpc_sources,
                    "ports": [
                        {"protocol": "TCP", "port": RPC_HTTP_PORT},
                        {"protocol": "TCP", "port": RPC_WS_PORT},
                    ],
                }
            ],
        ),
        _policy(
            network,
            "validator-rpc",
            selector(network, "validator"),
            [
                {
                    "from": [{"podSelector": {"matchLabels": {VALIDATOR_RPC_CLIENT: "true"}}}],
                    "ports": [{"protocol": "TCP", "port": RPC_HTTP_PORT}],
                }
            ],
        ),
    ]


def _policy(network: str, name: str, pods: dict[str, str], ingress: list[Obj]) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, labels(network, "network-policy")),
        "spec": {
            "podSelector": {"matchLabels": pods} if pods else {},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }
