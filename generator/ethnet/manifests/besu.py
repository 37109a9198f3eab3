"""Hyperledger Besu nodes for the besu-qbft profile.

Flags follow Besu's own CLI (checked against besu's source): DNS names in enode URLs need
the hidden ``--Xdns-enabled=true``, and ``--Xdns-update-enabled=true`` re-resolves them, so a
peer whose pod restarted with a new IP is found again. Settings that differ per environment
(bootnodes, minimum gas price) come from ``config.toml`` in the ``besu-config`` ConfigMap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethnet.manifests.common import (
    BESU_METRICS_PORT,
    P2P_PORT,
    RPC_HTTP_PORT,
    RPC_WS_PORT,
    Obj,
    pod_env,
)
from ethnet.manifests.nodes import (
    CONFIG_DIR,
    DATA_DIR,
    GENESIS_FILE,
    NODE_KEY_DIR,
    STATIC_NODES_DIR,
    NodeSettings,
    client_container_base,
    client_ports,
    client_resources,
    key_init_container,
    node_volumes,
    statefulset,
)

if TYPE_CHECKING:
    from ethnet.manifests.profiles import Peers
    from ethnet.spec.model import Network

CLIENT = "besu"
IMAGE = "besu"  # placeholder name; each environment's kustomization sets the pinned image
CONFIG_MAP = "besu-config"
CONFIG_FILE = f"{CONFIG_DIR}/besu/config.toml"
NODE_KEY_FILE = "key"

# JSON-RPC APIs per role. Never ADMIN, DEBUG, TXPOOL or personal-style APIs on any node.
RPC_APIS = {
    "validator": "ETH,NET,WEB3,QBFT",  # QBFT: validator votes (ethnet node add/remove)
    "rpc": "ETH,NET,WEB3",
    "bootnode": "ETH,NET,WEB3",
}
# /readiness: validators and bootnodes are ready when up (a lone validator has no peers);
# RPC nodes only once peered and caught up, since the json-rpc Service sends users to them.
READINESS = {
    "validator": "/readiness?minPeers=0&maxBlocksBehind=100",
    "rpc": "/readiness?minPeers=1&maxBlocksBehind=10",
    "bootnode": "/readiness?minPeers=0&maxBlocksBehind=100",
}


def besu_args(role: str) -> list[str]:
    args = [
        f"--config-file={CONFIG_FILE}",
        f"--data-path={DATA_DIR}",
        f"--genesis-file={GENESIS_FILE}",
        f"--node-private-key-file={NODE_KEY_DIR}/{NODE_KEY_FILE}",
        f"--static-nodes-file={STATIC_NODES_DIR}/static-nodes.json",
        "--sync-mode=FULL",
        "--p2p-enabled=true",
        "--p2p-host=$(POD_IP)",
        "--p2p-interface=0.0.0.0",
        f"--p2p-port={P2P_PORT}",
        "--nat-method=NONE",
        "--Xdns-enabled=true",
        "--Xdns-update-enabled=true",
        "--rpc-http-enabled=true",
        "--rpc-http-host=0.0.0.0",
        f"--rpc-http-port={RPC_HTTP_PORT}",
        f"--rpc-http-api={RPC_APIS[role]}",
        "--host-allowlist=*",  # reachability is decided by NetworkPolicy, not Host headers
    ]
    if role == "rpc":
        args += [
            "--rpc-ws-enabled=true",
            "--rpc-ws-host=0.0.0.0",
            f"--rpc-ws-port={RPC_WS_PORT}",
            f"--rpc-ws-api={RPC_APIS[role]}",
        ]
    args += [
        "--metrics-enabled=true",
        "--metrics-host=0.0.0.0",
        f"--metrics-port={BESU_METRICS_PORT}",
        "--logging=INFO",
    ]
    return args


def besu_ports(role: str) -> list[Obj]:
    return client_ports(role, BESU_METRICS_PORT)


def besu_statefulset(settings: NodeSettings) -> Obj:
    """The StatefulSet of one besu-qbft role (validator, rpc or bootnode)."""
    role = settings.role
    container = client_container_base(CLIENT, settings.image)
    container.update(
        {
            "args": besu_args(role),
            "env": [*pod_env(), {"name": "JAVA_OPTS", "value": "-XX:MaxRAMPercentage=75.0"}],
            "ports": besu_ports(role),
            "startupProbe": _probe("/liveness", period=10, failures=60),
            "livenessProbe": _probe("/liveness", period=30, failures=3),
            "readinessProbe": _probe(READINESS[role], period=15, failures=3),
            "resources": client_resources(settings),
            "volumeMounts": [
                {"name": "data", "mountPath": DATA_DIR},
                {"name": "genesis", "mountPath": f"{CONFIG_DIR}/genesis", "readOnly": True},
                {"name": "static-nodes", "mountPath": STATIC_NODES_DIR, "readOnly": True},
                {"name": "besu-config", "mountPath": f"{CONFIG_DIR}/besu", "readOnly": True},
                {"name": "node-key", "mountPath": NODE_KEY_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
    )
    return statefulset(
        settings,
        CLIENT,
        init_containers=[key_init_container(settings.image, [NODE_KEY_FILE])],
        container=container,
        volumes=node_volumes(role, [{"name": "besu-config", "configMap": {"name": CONFIG_MAP}}]),
    )


def config_maps(network: Network, peers: Peers) -> dict[str, dict[str, str]]:
    """The besu-config ConfigMap of one environment (static nodes have their own)."""
    zero_base_fee = bool(network.spec.genesis.zero_base_fee)
    return {
        CONFIG_MAP: {"config.toml": besu_config_toml(peers.bootnodes, zero_base_fee=zero_base_fee)}
    }


def besu_config_toml(bootnodes: list[str], *, zero_base_fee: bool) -> str:
    """Besu's config.toml for one environment: bootnodes, and a zero minimum gas price for
    a free-gas network (Besu needs both zeroBaseFee in genesis and min-gas-price=0)."""
    lines = ["# Generated by ethnet: settings of this environment's Besu nodes."]
    if bootnodes:
        lines.append("bootnodes=[" + ",".join(f'"{enode}"' for enode in bootnodes) + "]")
    if zero_base_fee:
        lines.append("min-gas-price=0")
    return "\n".join(lines) + "\n"


def _probe(path: str, *, period: int, failures: int) -> Obj:
    return {
        "httpGet": {"path": path, "port": "rpc-http"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }
