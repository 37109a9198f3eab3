"""Day-2 node operations end to end: node add/remove and keys rotate, each one commit that
``ethnet check`` accepts, with comments in network.yaml kept."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ethnet.chain.genesis import genesis_validators
from tests.e2e.helpers import ETHNET, Workspace, load_yaml

pytestmark = pytest.mark.slow


@pytest.fixture
def network(tmp_path) -> Workspace:
    ws = Workspace(tmp_path, tmp_path / "net", tmp_path / "home", tmp_path / "tmp", [])
    ws.tmp.mkdir()
    proc = subprocess.run(
        [
            str(ETHNET),
            "new",
            str(ws.repo),
            "--no-input",
            "--set",
            "environments=dev,prod",
            "--set",
            "live_environments=prod",
            "--set",
            "rpc_nodes=1",
        ],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return ws


def _committed(ws: Workspace) -> list[str]:
    return ws.git("show", "--name-only", "--format=", "HEAD").split()


def _keys(ws: Workspace, env: str) -> dict[str, dict[str, str]]:
    doc = load_yaml((ws.repo / "overlays" / env / "generated" / "keys.yaml").read_text())
    return {node["name"]: node for node in doc["nodes"]}


def _tree_text(ws: Workspace) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in ws.repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(ws.repo).parts
    )


def test_node_add_is_one_commit_that_check_accepts_and_keeps_comments(network):
    ws = network
    comments = [line for line in (ws.repo / "network.yaml").read_text().splitlines() if "#" in line]

    ws.run("node", "add", "--role", "rpc", "--env", "dev")

    assert ws.git("log", "-1", "--format=%s") == "ethnet node add: dev rpc 1 -> 2\n"
    assert sorted(_committed(ws)) == sorted(
        [
            "network.yaml",
            "overlays/dev/generated/keys.yaml",
            "overlays/dev/generated/kustomization.yaml",
            "overlays/dev/generated/sealedsecret-rpc-keys.yaml",
            "rendered/dev/sealedsecret-rpc-keys.yaml",
            "rendered/dev/statefulset-rpc.yaml",
        ]
    )
    text = (ws.repo / "network.yaml").read_text()
    assert all(line in text.splitlines() for line in comments)
    assert "rpc-1" in _keys(ws, "dev")
    assert ws.run("check").stdout == "ethnet check: ok\n"
    diff = ws.run("diff", "--base", "HEAD~1").stdout
    assert "#### dev: 2 changed" in diff and "prod" not in diff


def test_removing_a_validator_of_a_dev_chain_rebuilds_its_genesis(network):
    ws = network
    before = genesis_validators(
        "besu-qbft", json.loads((ws.repo / "overlays/dev/generated/genesis.json").read_text())
    )

    ws.run("node", "remove", "--role", "validator", "--env", "dev")

    after = genesis_validators(
        "besu-qbft", json.loads((ws.repo / "overlays/dev/generated/genesis.json").read_text())
    )
    removed = _keys(ws, "dev")["validator-3"]["address"].lower()
    assert len(after) == len(before) - 1
    assert removed not in {"0x" + a.hex() for a in after}
    assert ws.run("check").stdout == "ethnet check: ok\n"
    assert "validators: 3" in (ws.repo / "network.yaml").read_text()


def test_a_removal_that_breaks_consensus_is_refused(network):
    ws = network
    text = (ws.repo / "network.yaml").read_text()
    head = ws.git("rev-parse", "HEAD").strip()
    (ws.repo / "network.yaml").write_text(text.replace("validators: 4", "validators: 2"))
    ws.run("sync")

    refused = ws.run("node", "remove", "--role", "validator", "--env", "prod", ok=False)

    assert refused.returncode == 1
    assert "the 1 that would remain are not a majority" in refused.stderr
    assert ws.git("status", "--porcelain") == ""
    none_left = ws.run("node", "remove", "--role", "bootnode", "--env", "dev")
    assert none_left.returncode == 0
    again = ws.run("node", "remove", "--role", "bootnode", "--env", "dev", ok=False)
    assert "dev has no bootnode node to remove" in again.stderr
    assert ws.git("rev-list", "--count", f"{head}..HEAD").strip() == "2"


@pytest.mark.parametrize("node", ["rpc-0", "validator-1"])
def test_key_rotation_replaces_the_enode_everywhere(network, node):
    ws = network
    old = _keys(ws, "dev")[node]
    assert old["publicKey"] in _tree_text(ws)

    ws.run("keys", "rotate", node, "--env", "dev")

    new = _keys(ws, "dev")[node]
    assert new["publicKey"] != old["publicKey"]
    assert old["publicKey"] not in _tree_text(ws)
    if node.startswith("validator"):
        assert new["address"] != old["address"]
        genesis = json.loads((ws.repo / "overlays/dev/generated/genesis.json").read_text())
        in_genesis = {"0x" + a.hex() for a in genesis_validators("besu-qbft", genesis)}
        assert new["address"].lower() in in_genesis and old["address"].lower() not in in_genesis
    changed = _committed(ws)
    assert "overlays/dev/generated/keys.yaml" in changed
    assert not any(path.startswith("rendered/prod/") for path in changed)
    assert ws.run("check").stdout == "ethnet check: ok\n"


def test_rotating_an_unknown_node_changes_nothing(network):
    ws = network
    failed = ws.run("keys", "rotate", "validator-9", "--env", "dev", ok=False)
    assert failed.returncode == 1
    assert "no node 'validator-9' in keys.yaml" in failed.stderr
    assert ws.git("status", "--porcelain") == ""


def test_live_genesis_stays_when_validators_change(network):
    ws = network
    genesis = (ws.repo / "overlays/prod/generated/genesis.json").read_bytes()

    ws.run("node", "add", "--role", "validator", "--env", "prod")

    assert (ws.repo / "overlays/prod/generated/genesis.json").read_bytes() == genesis
    assert "validator-4" in _keys(ws, "prod")
    assert ws.run("check").stdout == "ethnet check: ok\n"
    assert (
        Path(ws.repo / "rendered/prod/statefulset-validator.yaml").read_text().count("replicas: 5")
        == 1
    )
    [job] = (ws.repo / "rendered/prod").glob("job-validator-votes-*.yaml")
    container = load_yaml(job.read_text())["spec"]["template"]["spec"]["containers"][0]
    desired = next(env["value"] for env in container["env"] if env["name"] == "DESIRED")
    addresses = {node["address"] for node in _keys(ws, "prod").values() if "address" in node}
    assert set(desired.split(",")) == addresses and len(addresses) == 5
