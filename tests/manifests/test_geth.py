"""The geth-clique profile as rendered: a generated small-clique repository, built with the
real kustomize, schema-checked, and its shell scripts run for real with /bin/sh.

The sealing key is made at run time, so the tests can open the role Secrets and feed each
pod's own key files to the init container's script, exactly as the cluster would.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ethnet.manifests import geth
from ethnet.manifests.nodes import KEYS_DIR, NODE_KEY_DIR
from ethnet.repo.keys import KeyMaterial
from ethnet.repo.layout import RepoLayout
from ethnet.seal.certs import certificate_pem, generate_sealing_key
from ethnet.seal.sealedsecret import unseal
from ethnet.spec.loader import load_network
from tests.manifests.helpers import NETWORKS, NOW, generate_repo, make_repo, render

NETWORK = "small-clique"
CHAIN_IDS = {"dev": 1337101, "prod": 1337102}
GETH_IMAGE = "ethereum/client-go:v1.13.15"
BOOTNODE_IMAGE = "ethereum/client-go:alltools-v1.13.15"
FORBIDDEN_APIS = {"admin", "debug", "txpool", "personal"}
KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"  # the venv's


@dataclass
class Rendered:
    repo: Path
    private_key: Any
    docs: dict[str, list[dict[str, Any]]]
    text: dict[str, str]

    def keys(self, env: str) -> KeyMaterial:
        path = RepoLayout(self.repo).keys_file(env)
        return KeyMaterial.from_document(YAML(typ="safe").load(path), source=str(path))

    def object(self, env: str, kind: str, name: str) -> dict[str, Any]:
        for doc in self.docs[env]:
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                return doc
        raise AssertionError(f"{env}: no {kind} {name}")

    def config_toml(self, env: str) -> dict[str, Any]:
        maps = [
            doc
            for doc in self.docs[env]
            if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("geth-config-")
        ]
        assert len(maps) == 1
        return tomllib.loads(maps[0]["data"]["config.toml"])

    def secret_items(self, env: str, name: str) -> dict[str, bytes]:
        path = RepoLayout(self.repo).sealed_secret_file(env, name)
        secret = unseal(YAML(typ="safe").load(path), [self.private_key])
        return {item: base64.b64decode(value) for item, value in secret["data"].items()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp("clique")
    key, certificate = generate_sealing_key(now=NOW - timedelta(days=1), bits=2048)
    cert = tmp / "sealing-cert.pem"
    cert.write_bytes(certificate_pem(certificate))
    repo = make_repo(tmp, NETWORKS / f"{NETWORK}.yaml", cert=cert)
    generate_repo(repo)
    envs = load_network(repo / "network.yaml").network.environment_names
    assert set(envs) == set(CHAIN_IDS)
    text = {env: render(repo, env) for env in envs}
    docs = {env: [d for d in YAML(typ="safe").load_all(text[env]) if d] for env in envs}
    return Rendered(repo, key, docs, text)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in containers(workload) if c["name"] == name)


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in ("StatefulSet", "Deployment")]


# --- the whole rendering ------------------------------------------------------------------


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_rendered_environment_passes_strict_schema_validation(rendered, env):
    proc = subprocess.run(
        [str(KUBERNETES_VALIDATE), "--strict", "-k", "1.32.0", "-"],
        input=rendered.text[env],
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_image_placeholders_are_pinned_to_geth_1_13_15(rendered, env):
    expected = {"validator": GETH_IMAGE, "rpc": GETH_IMAGE, "bootnode": BOOTNODE_IMAGE}
    for role, image in expected.items():
        workload = rendered.object(env, "StatefulSet", role)
        assert {c["image"] for c in containers(workload)} == {image}, role
    assert "image: geth\n" not in rendered.text[env]
    assert "image: bootnode\n" not in rendered.text[env]


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_no_container_exposes_admin_debug_txpool_or_personal_apis(rendered, env):
    seen = 0
    for workload in workloads(rendered.docs[env]):
        for c in containers(workload):
            words = [*c.get("command", []), *c.get("args", [])]
            for word in words:
                for flag in ("--http.api=", "--ws.api=", "--rpcapi=", "--wsapi="):
                    for line in word.splitlines():
                        for part in line.split():
                            if part.startswith(flag):
                                seen += 1
                                apis = set(part.removeprefix(flag).lower().split(","))
                                assert not apis & FORBIDDEN_APIS, (workload, part)
    assert seen == 3  # validators' HTTP, RPC nodes' HTTP and WebSocket


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_every_container_is_unprivileged_and_bounded(rendered, env):
    for role in ("validator", "rpc", "bootnode"):
        workload = rendered.object(env, "StatefulSet", role)
        spec = pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsUser"] == 1000
        for c in containers(workload):
            security = c["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, c["name"]
            assert security["runAsNonRoot"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}
            assert set(c["resources"]) == {"requests", "limits"}, (role, c["name"])
        client = spec["containers"][0]
        assert {"name": "tmp", "mountPath": "/tmp"} in client["volumeMounts"]


# --- configuration per environment --------------------------------------------------------


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_config_toml_lists_the_signers_by_dns_name_and_the_chain_id(rendered, env):
    keys = rendered.keys(env)
    namespace = f"{NETWORK}-{env}"

    def enode(role: str, name: str) -> str:
        key = keys.node(name)
        assert key is not None
        return f"enode://{key.public_key}@{name}.{role}.{namespace}.svc.cluster.local:30303"

    config = rendered.config_toml(env)

    signers = [enode("validator", f"validator-{i}") for i in range(3)]
    assert config["Node"]["P2P"]["StaticNodes"] == signers
    assert config["Node"]["P2P"]["BootstrapNodes"] == [enode("bootnode", "bootnode-0"), *signers]
    assert config["Eth"] == {"NetworkId": CHAIN_IDS[env]}


def test_config_toml_sets_the_network_id_and_falls_back_to_signers_for_bootstrap():
    text = geth.geth_config_toml(4242, ["enode://a@x:30303"], [])

    assert tomllib.loads(text)["Eth"]["NetworkId"] == 4242
    assert text.count('"enode://a@x:30303",') == 2  # static, and bootstrap in its place


# --- signers ------------------------------------------------------------------------------


def test_signers_copy_the_keystore_into_a_memory_volume_not_the_secret(rendered):
    workload = rendered.object("dev", "StatefulSet", "validator")
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    client = container(workload, "geth")
    mounts = {m["mountPath"]: m["name"] for m in client["volumeMounts"]}

    assert f"--keystore={geth.KEYSTORE_DIR}" in client["args"]
    assert volumes[mounts[geth.KEYSTORE_DIR]]["emptyDir"] == {
        "medium": "Memory",
        "sizeLimit": "64Mi",
    }
    assert "keys" not in mounts.values()  # only the init container sees the role Secret
    init = container(workload, "node-key")
    assert f'cp "{KEYS_DIR}/${{POD_NAME}}.keystore" {geth.KEYSTORE_FILE}' in init["command"][2]


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_each_signer_unlocks_and_mines_with_its_address_from_keys_yaml(rendered, env, tmp_path):
    workload = rendered.object(env, "StatefulSet", "validator")
    items = rendered.secret_items(env, "validator-keys")
    signers = [n for n in rendered.keys(env).nodes if n.role == "validator"]
    assert len(signers) == 3

    for signer in signers:
        root = tmp_path / signer.name
        _mount_secret(root / "keys", items)
        init = _localize(container(workload, "node-key")["command"][2], root)
        proc = subprocess.run(
            ["/bin/sh", "-c", init],
            env={"POD_NAME": signer.name, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr

        keystore = root / "keystore" / Path(geth.KEYSTORE_FILE).name
        assert keystore.is_file() and not keystore.is_symlink()
        assert stat.S_IMODE(keystore.stat().st_mode) == 0o400
        assert keystore.read_bytes() == items[f"{signer.name}.keystore"]
        assert signer.address is not None
        client = container(workload, "geth")
        argv = _run_start_script(client, root, peers=["localhost"])
        assert argv[:2] == [
            f"--unlock={signer.address.lower()}",
            f"--miner.etherbase={signer.address.lower()}",
        ]
        assert argv[2:] == client["args"]  # extra args (ethstats...) reach geth too


def test_a_signer_without_a_keystore_address_fails_its_init(rendered, tmp_path):
    workload = rendered.object("dev", "StatefulSet", "validator")
    items = dict(rendered.secret_items("dev", "validator-keys"))
    items["validator-0.keystore"] = b'{"crypto":{}}'
    _mount_secret(tmp_path / "keys", items)
    init = _localize(container(workload, "node-key")["command"][2], tmp_path)

    proc = subprocess.run(
        ["/bin/sh", "-c", init],
        env={"POD_NAME": "validator-0", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode == 1
    assert "no signer address" in proc.stderr


@pytest.mark.parametrize("env", sorted(CHAIN_IDS))
def test_signers_initialise_their_datadir_from_the_genesis_first(rendered, env):
    workload = rendered.object(env, "StatefulSet", "validator")
    names = [c["name"] for c in pod_spec(workload)["initContainers"]]
    init = container(workload, "genesis")

    assert names == ["node-key", "genesis"]
    assert init["args"] == ["init", "--datadir=/data", "/etc/ethnet/genesis/genesis.json"]
    client = container(workload, "geth")
    for flag in ("--mine", "--allow-insecure-unlock", "--syncmode=full", "--datadir=/data"):
        assert flag in client["args"]
    assert "--http.api=eth,net,web3,clique" in client["args"]


# --- RPC nodes and bootnodes --------------------------------------------------------------


def test_rpc_nodes_unlock_nothing_and_do_not_mine(rendered, tmp_path):
    workload = rendered.object("dev", "StatefulSet", "rpc")
    client = container(workload, "geth")
    words = " ".join([*client["command"], *client["args"]])

    for flag in ("--mine", "--unlock", "--miner.etherbase", "--keystore", "--password"):
        assert flag not in words
    assert "keystore" not in {v["name"] for v in pod_spec(workload)["volumes"]}
    assert "--ws" in client["args"] and "--http.api=eth,net,web3" in client["args"]
    assert _run_start_script(client, tmp_path, peers=["localhost"]) == client["args"]


def test_bootnode_runs_bootnode_with_its_fixed_key(rendered):
    workload = rendered.object("prod", "StatefulSet", "bootnode")
    client = container(workload, "bootnode")

    assert client["command"] == ["bootnode"]
    assert client["args"][:2] == [f"-nodekey={NODE_KEY_DIR}/nodekey", "-addr=:30303"]
    assert client["ports"] == [{"containerPort": 30303, "name": "discovery", "protocol": "UDP"}]
    assert "exec" in client["livenessProbe"] and "exec" in client["readinessProbe"]
    init = container(workload, "node-key")
    assert f'cp "{KEYS_DIR}/${{POD_NAME}}.nodekey" "{NODE_KEY_DIR}/nodekey"' in init["command"][2]
    volumes = {v["name"] for v in pod_spec(workload)["volumes"]}
    assert "genesis" not in volumes and "static-nodes" not in volumes
    secret = next(v for v in pod_spec(workload)["volumes"] if v["name"] == "keys")
    assert secret["secret"]["secretName"] == "bootnode-keys"


def test_bootnode_probe_recognises_its_udp_socket(rendered, tmp_path):
    probe = container(rendered.object("dev", "StatefulSet", "bootnode"), "bootnode")
    script = probe["livenessProbe"]["exec"]["command"][2]
    line = "   0: 00000000000000000000000000000000:765F 00000000000000000000000000000000:0000 07"
    (tmp_path / "udp6").write_text(f"  sl  local_address rem_address\n{line}\n")
    (tmp_path / "udp").write_text("  sl  local_address rem_address\n")

    def probe_with(directory: Path) -> int:
        local = script.replace("/proc/net/", f"{directory}/")
        return subprocess.run(["/bin/sh", "-c", local], check=False).returncode

    assert probe_with(tmp_path) == 0
    (tmp_path / "udp6").unlink()
    assert probe_with(tmp_path) == 1


# --- the start script's DNS handling ------------------------------------------------------


def test_start_script_leaves_out_peers_that_do_not_resolve(rendered, tmp_path):
    client = container(rendered.object("dev", "StatefulSet", "rpc"), "geth")

    argv = _run_start_script(client, tmp_path, peers=["localhost", "no-such-peer.invalid"])

    assert argv == client["args"]
    config = tomllib.loads((tmp_path / "runtime.toml").read_text())
    hosts = [url.split("@")[1] for url in config["Node"]["P2P"]["StaticNodes"]]
    assert hosts == ["localhost:30303"]
    assert len(config["Node"]["P2P"]["BootstrapNodes"]) == 1


def test_start_script_exits_without_starting_geth_when_no_peer_resolves(rendered, tmp_path):
    client = container(rendered.object("dev", "StatefulSet", "rpc"), "geth")

    with pytest.raises(AssertionError, match="no peer resolves"):
        _run_start_script(client, tmp_path, peers=["no-such-peer.invalid"])


# --- running the scripts locally ----------------------------------------------------------


def _mount_secret(directory: Path, items: dict[str, bytes]) -> None:
    """Lay items out as the kubelet does: files under ``..data``, symlinks beside it."""
    data = directory / "..data"
    data.mkdir(parents=True)
    for name, value in items.items():
        (data / name).write_bytes(value)
        (directory / name).symlink_to(Path("..data") / name)


def _localize(script: str, root: Path) -> str:
    """The script with the pod's paths moved under ``root`` (longest paths first)."""
    for path, local in (
        (geth.KEYSTORE_DIR, root / "keystore"),
        (NODE_KEY_DIR, root / "key"),
        (KEYS_DIR + "/", f"{root / 'keys'}/"),
        (geth.CONFIG_FILE, root / "config.toml"),
        (geth.RUNTIME_CONFIG, root / "runtime.toml"),
    ):
        script = script.replace(path, str(local))
    for directory in ("keystore", "key"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    return script


def _run_start_script(client: dict[str, Any], root: Path, *, peers: list[str]) -> list[str]:
    """Run the client container's wrapper with a stand-in ``geth`` that prints its argv, and
    a config.toml whose enodes point at ``peers``; one try instead of the full wait."""
    shell, flag, script, name = client["command"]
    assert (shell, flag, name) == ("/bin/sh", "-c", "geth")
    node_id = "ab" * 64
    enodes = [f"enode://{node_id}@{host}:30303" for host in peers]
    (root / "config.toml").write_text(geth.geth_config_toml(1, enodes, []))
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "geth"
    fake.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    fake.chmod(0o755)
    local = _localize(script, root).replace(f"seq {geth.PEER_WAIT_ATTEMPTS}", "seq 1")
    local = local.replace(f"sleep {geth.PEER_WAIT_SECONDS}", "sleep 0")
    proc = subprocess.run(
        ["/bin/sh", "-c", local, name, *client["args"]],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()
