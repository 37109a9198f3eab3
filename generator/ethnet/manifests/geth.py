"""go-ethereum v1.13.15 nodes for the geth-clique profile: Clique signers, RPC nodes and
``bootnode`` discovery nodes.

v1.13.15 is the last geth that seals Clique blocks (1.14.0 dropped it, go-ethereum#29169)
and among the last that ship ``bootnode`` (removed in 1.15.0, #30813). Flags were checked
against its ``cmd/utils/flags.go`` and ``cmd/bootnode``. Settings that differ per environment
(network ID, static nodes, bootstrap nodes) come from ``config.toml`` in the ``geth-config``
ConfigMap: geth 1.13 ignores ``static-nodes.json``, so the ``static-nodes`` ConfigMap is not
mounted. The network ID is the environment's chain ID (geth 1.13.15 would also default to
the genesis chainId, go-ethereum#28250).

Peers' DNS names. geth resolves the host of every enode in its config file once, when it
parses the file, and a name that does not resolve is fatal (the TOML does not load). Pods of
a headless Service have DNS names from the moment they have an IP, not before, so a peer
that is not scheduled yet, or is being rescheduled, has no name. Every time geth starts,
its wrapper script therefore copies config.toml to ``/tmp``, leaving out each enode whose
host does not resolve; it first waits for all of them, up to about a minute
(``PEER_WAIT_ATTEMPTS`` tries, two seconds apart), so that pods started together see each
other. Failure modes:

- A peer still unresolvable after the wait is left out of this start. Signers list each
  other, so when that peer starts it dials this node; an RPC node finds it through
  discovery. Nothing is lost but the time until the connection forms.
- geth re-resolves nothing: a peer that comes back with a new IP is found again through
  discovery (a static dial that fails asks discovery for the node's new endpoint) or dials
  this node itself. For discovery to work without a bootnode, the bootstrap list is the
  bootnodes followed by every signer.
- If no enode at all resolves, the script exits non-zero instead of starting geth: with an
  empty bootstrap list geth 1.13 would fall back to the mainnet bootnodes (an empty TOML
  array decodes to nil). The kubelet restarts the container with back-off until a peer
  has a name.

Signers. The role Secret holds each pod's ``<pod>.nodekey``, ``<pod>.keystore`` and
``<pod>.password``. The init container copies the pod's own files into memory-backed
emptyDirs; the keystore goes to a directory of its own as a regular file, because geth's
keystore scanner skips symlinks and every file of a mounted Secret is one. The same init
container reads the signer address from the keystore's ``address`` field into a file, and
the wrapper passes it to ``--unlock`` and ``--miner.etherbase``, so the address always is
the one of the key the pod actually holds. ``--allow-insecure-unlock`` is needed because
HTTP is on; HTTP binds 0.0.0.0, NetworkPolicy decides who reaches it, and no node serves
admin, debug, txpool or personal APIs over HTTP or WebSocket.

Archive mode is not used: Clique needs no historical state, and full sync keeps every
block, so ``--gcmode`` stays at its default (full).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethnet.manifests.common import (
    GETH_METRICS_PORT,
    P2P_PORT,
    RPC_HTTP_PORT,
    RPC_WS_PORT,
    Obj,
    container_security_context,
    empty_dir,
    pod_env,
    port,
)
from ethnet.manifests.nodes import (
    CONFIG_DIR,
    DATA_DIR,
    GENESIS_FILE,
    KEYS_DIR,
    NODE_KEY_DIR,
    NodeSettings,
    client_container_base,
    client_ports,
    client_resources,
    key_init_container,
    node_volumes,
    statefulset,
)
from ethnet.repo.keys import GETH_NODE_KEY, KEYSTORE, PASSWORD

if TYPE_CHECKING:
    from ethnet.manifests.profiles import Peers
    from ethnet.spec.model import Network

CLIENT = "geth"
BOOTNODE = "bootnode"
CONFIG_MAP = "geth-config"
CONFIG_FILE = f"{CONFIG_DIR}/geth/config.toml"  # from the ConfigMap, every peer listed
RUNTIME_CONFIG = "/tmp/geth-config.toml"  # what geth reads: the peers that resolve
NODE_KEY_FILE = f"{NODE_KEY_DIR}/{GETH_NODE_KEY}"
PASSWORD_FILE = f"{NODE_KEY_DIR}/{PASSWORD}"
ADDRESS_FILE = f"{NODE_KEY_DIR}/address"  # the signer address, 0x-prefixed
KEYSTORE_DIR = "/run/ethnet/keystore"
KEYSTORE_FILE = f"{KEYSTORE_DIR}/signer.json"
PEER_WAIT_ATTEMPTS = 30
PEER_WAIT_SECONDS = 2

# JSON-RPC APIs per role. Never admin, debug, txpool or personal on any node.
RPC_APIS = {
    "validator": "eth,net,web3,clique",  # clique: signer votes (ethnet node add/remove)
    "rpc": "eth,net,web3",
}
# geth init opens the database with its default caches; a small genesis needs little.
INIT_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}


def geth_statefulset(settings: NodeSettings) -> Obj:
    """The StatefulSet of one geth-clique role (validator, rpc or bootnode)."""
    if settings.role == "bootnode":
        return _bootnode_statefulset(settings)
    role = settings.role
    container = client_container_base(CLIENT, settings.image)
    mounts = [
        {"name": "data", "mountPath": DATA_DIR},
        {"name": CONFIG_MAP, "mountPath": f"{CONFIG_DIR}/geth", "readOnly": True},
        {"name": "node-key", "mountPath": NODE_KEY_DIR, "readOnly": True},
    ]
    if role == "validator":
        mounts.append({"name": "keystore", "mountPath": KEYSTORE_DIR, "readOnly": True})
    mounts.append({"name": "tmp", "mountPath": "/tmp"})
    container.update(
        {
            "command": ["/bin/sh", "-c", start_script(role), CLIENT],
            "args": geth_args(role),
            "env": pod_env(),
            "ports": geth_ports(role),
            "startupProbe": _tcp_probe(period=10, failures=60),
            "livenessProbe": _tcp_probe(period=30, failures=3),
            "readinessProbe": _tcp_probe(period=15, failures=3),
            "resources": client_resources(settings),
            "volumeMounts": mounts,
        }
    )
    extra: list[Obj] = [{"name": CONFIG_MAP, "configMap": {"name": CONFIG_MAP}}]
    if role == "validator":
        extra.append(empty_dir("keystore", medium="Memory"))
    volumes = [v for v in node_volumes(role, extra) if v["name"] != "static-nodes"]
    return statefulset(
        settings,
        CLIENT,
        init_containers=[_key_init(settings), _genesis_init(settings.image)],
        container=container,
        volumes=volumes,
    )


def geth_args(role: str) -> list[str]:
    """geth's flags for ``role``; the wrapper adds the signer address before them."""
    args = [
        f"--config={RUNTIME_CONFIG}",
        f"--datadir={DATA_DIR}",
        f"--nodekey={NODE_KEY_FILE}",
        "--syncmode=full",
        f"--port={P2P_PORT}",
        "--nat=extip:$(POD_IP)",
        "--http",
        "--http.addr=0.0.0.0",
        f"--http.port={RPC_HTTP_PORT}",
        f"--http.api={RPC_APIS[role]}",
        "--http.vhosts=*",  # reachability is decided by NetworkPolicy, not Host headers
    ]
    if role == "rpc":
        args += [
            "--ws",
            "--ws.addr=0.0.0.0",
            f"--ws.port={RPC_WS_PORT}",
            f"--ws.api={RPC_APIS[role]}",
        ]
    if role == "validator":
        args += [
            f"--keystore={KEYSTORE_DIR}",
            f"--password={PASSWORD_FILE}",
            "--allow-insecure-unlock",
            "--mine",
        ]
    args += [
        "--metrics",
        "--metrics.addr=0.0.0.0",
        f"--metrics.port={GETH_METRICS_PORT}",
        "--verbosity=3",
    ]
    return args


def start_script(role: str) -> str:
    """The client container's POSIX sh wrapper: keep the peers that resolve (see the module
    docstring), then ``exec geth`` with the signer address, if any, and the container's args.

    It avoids ``$(...)``, which Kubernetes would try to expand as a variable reference.
    """
    lines = [
        f"for attempt in `seq {PEER_WAIT_ATTEMPTS}`; do",
        "  missing=; found=",
        "  while IFS= read -r line; do",
        "    case $line in *'\"enode://'*@*)",
        "      host=${line#*@}; host=${host%%:*}",
        '      if getent hosts "$host" >/dev/null; then found=1;'
        ' else missing="$missing $host"; continue; fi;;',
        "    esac",
        "    printf '%s\\n' \"$line\"",
        f"  done < {CONFIG_FILE} > {RUNTIME_CONFIG}",
        '  [ -z "$missing" ] && break',
        f"  sleep {PEER_WAIT_SECONDS}",
        "done",
        '[ -z "$missing" ] || echo "ethnet: starting without unresolvable peers:$missing" >&2',
        '[ -n "$found" ] || { echo "ethnet: no peer resolves yet; exiting to retry" >&2; exit 1; }',
    ]
    if role == "validator":
        lines += [
            f"read -r address < {ADDRESS_FILE}",
            'exec geth --unlock="$address" --miner.etherbase="$address" "$@"',
        ]
    else:
        lines.append('exec geth "$@"')
    return "\n".join(lines) + "\n"


def geth_ports(role: str) -> list[Obj]:
    return client_ports(role, GETH_METRICS_PORT)


def _key_init(settings: NodeSettings) -> Obj:
    """The pod's node key; for a signer also its password, its keystore (copied as a regular
    file into its own directory) and its address, read from the keystore JSON."""
    if settings.role != "validator":
        return key_init_container(settings.image, [GETH_NODE_KEY])
    container = key_init_container(settings.image, [GETH_NODE_KEY, PASSWORD])
    address = r's/.*"address" *: *"\(0x\)\{0,1\}\([0-9a-fA-F]\{40\}\)".*/0x\2/p'
    signer = (
        f'cp "{KEYS_DIR}/${{POD_NAME}}.{KEYSTORE}" {KEYSTORE_FILE} && chmod 0400 {KEYSTORE_FILE}'
        f" && sed -n '{address}' {KEYSTORE_FILE} > {ADDRESS_FILE}"
        f" && grep -q '^0x[0-9a-fA-F]\\{{40\\}}$' {ADDRESS_FILE}"
        ' || { echo "no signer address in the keystore of ${POD_NAME}" >&2; exit 1; }'
    )
    shell, flag, script = container["command"]
    container["command"] = [shell, flag, f"{script} && {{ {signer}; }}"]
    container["volumeMounts"].append({"name": "keystore", "mountPath": KEYSTORE_DIR})
    return container


def _genesis_init(image: str) -> Obj:
    """``geth init``: writes the genesis block to a new datadir; on a datadir that holds the
    same genesis it changes nothing, on one with another genesis it fails (and so the pod)."""
    return {
        "name": "genesis",
        "image": image,
        "imagePullPolicy": "Always",
        "args": ["init", f"--datadir={DATA_DIR}", GENESIS_FILE],
        "resources": {key: dict(value) for key, value in INIT_RESOURCES.items()},
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "genesis", "mountPath": f"{CONFIG_DIR}/genesis", "readOnly": True},
        ],
    }


# A discovery-only bootnode needs little: it is sized here, not by network.yaml resources.
BOOTNODE_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


def _bootnode_statefulset(settings: NodeSettings) -> Obj:
    """A discovery-only node with a fixed key, so its enode never changes. The alltools image
    has no entrypoint; ``bootnode`` listens on UDP only and has no RPC."""
    container = client_container_base(BOOTNODE, settings.image)
    container.update(
        {
            "command": [BOOTNODE],
            "args": [
                f"-nodekey={NODE_KEY_FILE}",
                f"-addr=:{P2P_PORT}",
                "-verbosity=3",
            ],
            "ports": [port("discovery", P2P_PORT, "UDP")],
            "livenessProbe": _udp_listening_probe(period=30, failures=3),
            "readinessProbe": _udp_listening_probe(period=15, failures=3),
            "resources": {key: dict(value) for key, value in BOOTNODE_RESOURCES.items()},
            "volumeMounts": [
                {"name": "node-key", "mountPath": NODE_KEY_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
    )
    unused = {"genesis", "static-nodes"}
    return statefulset(
        settings,
        BOOTNODE,
        init_containers=[key_init_container(settings.image, [GETH_NODE_KEY])],
        container=container,
        volumes=[v for v in node_volumes("bootnode", []) if v["name"] not in unused],
    )


def config_maps(network: Network, peers: Peers) -> dict[str, dict[str, str]]:
    """The geth-config ConfigMap of one environment."""
    return {
        CONFIG_MAP: {
            "config.toml": geth_config_toml(peers.chain_id, peers.static_nodes, peers.bootnodes)
        }
    }


def geth_config_toml(chain_id: int, static_nodes: list[str], bootnodes: list[str]) -> str:
    """geth's config.toml for one environment, one enode per line (the wrapper filters
    lines). Bootstrap nodes: the bootnodes, then every signer, so discovery works while the
    bootnodes are down or when there are none."""
    bootstrap = list(dict.fromkeys([*bootnodes, *static_nodes]))
    lines = [
        "# Generated by ethnet: settings of this environment's geth nodes.",
        "# At each start, geth's pod leaves out the enodes whose names do not resolve yet.",
        "",
        "[Eth]",
    ]
    lines.append(f"NetworkId = {chain_id}")
    lines += ["", "[Node.P2P]", *_toml_array("StaticNodes", static_nodes)]
    lines += _toml_array("BootstrapNodes", bootstrap)
    return "\n".join(lines) + "\n"


def _toml_array(key: str, values: list[str]) -> list[str]:
    return [f"{key} = [", *(f'  "{value}",' for value in values), "]"]


def _tcp_probe(*, period: int, failures: int) -> Obj:
    """geth 1.13 has no health endpoint: its HTTP server accepting connections is the sign."""
    return {
        "tcpSocket": {"port": "rpc-http"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _udp_listening_probe(*, period: int, failures: int) -> Obj:
    """The bootnode's UDP socket is bound: its port, in hex, in the pod's socket tables."""
    script = f"cat /proc/net/udp /proc/net/udp6 2>/dev/null | grep -qi ':{P2P_PORT:04X} '"
    return {
        "exec": {"command": ["/bin/sh", "-c", script]},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }
