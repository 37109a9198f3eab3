"""End to end through the ethnet executable: sealing keys, node keys, genesis, unseal.

Covers the sealed-secrets acceptance: a dev network unseals completely with the dev key and
is consistent (node keys give keys.yaml's public keys, validator keys give the genesis'
addresses, keystores open with their sealed passwords), and no secret leaks into the
repository, its history, the command output or the temporary directory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
import subprocess
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ethnet.chain import rlp
from ethnet.chain.keystore import decrypt_keystore
from ethnet.chain.nodekey import parse_besu_node_key, parse_geth_node_key
from ethnet.seal.recovery import load_private_keys
from ethnet.seal.sealedsecret import unseal
from tests.e2e.helpers import Workspace, load_all_yaml, load_yaml, secret_items, workspace

pytestmark = pytest.mark.slow

BESU = (
    "  nodes: {validators: 4, rpc: 1, bootnodes: 1}\n"
    "  environments:\n"
    "    dev: {chainId: 1337001}\n"
    "    staging: {chainId: 1337002}\n"
    "    prod: {chainId: 1337003, live: true}\n"
)
CLIQUE = (
    "  profile: geth-clique\n"
    "  nodes: {validators: 2, rpc: 1, bootnodes: 1}\n"
    "  components: {ethstats: true, blockscout: true}\n"
    "  environments:\n"
    "    dev: {chainId: 4242001}\n"
    "    prod: {chainId: 4242002}\n"
)


def _init_environments(ws: Workspace, environments: list[str]) -> None:
    for env in environments:
        ws.run("sealing-key", "init", "--env", env, "--out", ws.root / f"{env}-controller-key.yaml")
        ws.run("keys", "generate", "--env", env)


def _unsealed(ws: Workspace, env: str) -> dict[str, dict[str, bytes]]:
    """Every SealedSecret of an environment, decrypted through `ethnet unseal`."""
    secrets = {}
    generated = ws.repo / "overlays" / env / "generated"
    for path in sorted(generated.glob("sealedsecret-*.yaml")):
        proc = ws.run("unseal", path, "--key", ws.key_path("acme", env))
        [secret] = load_all_yaml(proc.stdout)
        secrets[secret["metadata"]["name"]] = secret_items(secret)
    return secrets


def _genesis_validators(ws: Workspace, env: str, profile: str) -> list[str]:
    genesis = json.loads(ws.run("genesis", "--env", env).stdout)
    extra = bytes.fromhex(genesis["extraData"][2:])
    if profile == "besu-qbft":
        addresses = rlp.decode(extra)[1]
    else:
        signers = extra[32:-65]
        addresses = [signers[i : i + 20] for i in range(0, len(signers), 20)]
    return sorted("0x" + a.hex() for a in addresses)


@pytest.mark.parametrize(("profile", "body"), [("besu-qbft", BESU), ("geth-clique", CLIQUE)])
def test_dev_network_unseals_completely_and_consistently(tmp_path, profile, body):
    ws = workspace(tmp_path, body)
    _init_environments(ws, ["dev"])

    keys = load_yaml((ws.repo / "overlays/dev/generated/keys.yaml").read_text())
    secrets = _unsealed(ws, "dev")
    validators = []
    for node in keys["nodes"]:
        role_secret = secrets[f"{node['role']}-keys"]
        if profile == "besu-qbft":
            node_key = parse_besu_node_key(role_secret[f"{node['name']}.key"].decode())
        else:
            node_key = parse_geth_node_key(role_secret[f"{node['name']}.nodekey"].decode())
        assert node_key.public_key.hex == node["publicKey"]
        if node["role"] != "validator":
            continue
        if profile == "besu-qbft":
            signer = node_key
        else:
            keystore = json.loads(role_secret[f"{node['name']}.keystore"])
            signer = decrypt_keystore(keystore, role_secret[f"{node['name']}.password"])
        assert "0x" + signer.address.hex() == node["address"].lower()
        validators.append("0x" + signer.address.hex())
    assert sorted(validators) == _genesis_validators(ws, "dev", profile)
    assert len(validators) == (4 if profile == "besu-qbft" else 2)
    assert "WS_SECRET" in secrets["ethstats"]
    if profile == "geth-clique":
        assert "POSTGRES_PASSWORD" in secrets["blockscout-postgres"]


def test_sealing_key_files_are_private_and_never_replaced(tmp_path):
    ws = workspace(tmp_path, BESU)
    proc = ws.run("sealing-key", "init", "--env", "dev")

    key = ws.key_path("acme", "dev")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for directory in (ws.home, ws.home / "acme", ws.home / "acme" / "dev"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    secret = load_yaml(proc.stdout)
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["metadata"]["labels"] == {
        "sealedsecrets.bitnami.com/sealed-secrets-key": "active"
    }
    assert load_private_keys(base64.b64decode(secret["data"]["tls.key"]), source="s")
    assert "BEGIN CERTIFICATE" in (ws.repo / "overlays/dev/sealing-cert.pem").read_text()

    again = ws.run("sealing-key", "init", "--env", "dev", ok=False)
    assert again.returncode == 1
    assert "already exists; refusing to replace a sealing key" in again.stderr
    key.unlink()
    cert_only = ws.run("sealing-key", "init", "--env", "dev", ok=False)
    assert "already has a sealing certificate" in cert_only.stderr

    inside = ws.run("sealing-key", "init", "--env", "prod", "--out", "controller.yaml", ok=False)
    assert inside.returncode == 1
    assert "is inside the repository" in inside.stderr
    assert not (ws.repo / "overlays" / "prod").exists()


def test_keys_generate_needs_a_certificate_and_refuses_a_readable_key(tmp_path):
    ws = workspace(tmp_path, BESU)
    missing = ws.run("keys", "generate", "--env", "dev", ok=False)
    assert missing.returncode == 1
    assert "no sealing certificate for environment 'dev'" in missing.stderr
    assert "kubeseal --fetch-cert" in missing.stderr
    ws.run("sealing-key", "init", "--env", "prod", "--out", ws.root / "p.yaml")
    partial = ws.run("keys", "generate", "--all", ok=False)
    assert "no sealing certificate for environment 'dev'" in partial.stderr
    assert not (ws.repo / "overlays/prod/generated").exists()  # checked before any work

    ws.run("sealing-key", "init", "--env", "dev", "--out", ws.root / "k.yaml")
    ws.run("keys", "generate", "--env", "dev")
    key = ws.key_path("acme", "dev")
    os.chmod(key, 0o644)
    sealed = ws.repo / "overlays/dev/generated/sealedsecret-rpc-keys.yaml"
    refused = ws.run("unseal", sealed, "--key", key, ok=False)
    assert refused.returncode == 1
    assert "is accessible by other users (mode 0644)" in refused.stderr


def test_seal_merge_and_unseal_a_users_own_secret(tmp_path):
    ws = workspace(tmp_path, BESU)
    ws.run("sealing-key", "init", "--env", "staging", "--out", ws.root / "k.yaml")
    (ws.root / "token.txt").write_bytes(b"s3cret-token\n")
    target = ws.repo / "overlays/staging/api-credentials.yaml"

    ws.run(
        "seal",
        "--env",
        "staging",
        "--name",
        "api-credentials",
        "--from-literal",
        "user=alice",
        "--from-file",
        f"token={ws.root / 'token.txt'}",
        "-o",
        target,
    )
    sealed = load_yaml(target.read_text())
    assert sealed["metadata"]["namespace"] == "acme-staging"
    before = dict(sealed["spec"]["encryptedData"])

    ws.run("seal", "--env", "staging", "--merge-into", target, "--from-literal", "user=bob")
    merged = load_yaml(target.read_text())["spec"]["encryptedData"]
    assert merged["token"] == before["token"]  # untouched item: byte-identical
    assert merged["user"] != before["user"]

    [secret] = load_all_yaml(
        ws.run("unseal", target, "--key", ws.key_path("acme", "staging")).stdout
    )
    assert secret_items(secret) == {"token": b"s3cret-token\n", "user": b"bob"}

    renamed = target.read_text().replace("name: api-credentials", "name: renamed", 1)
    (ws.root / "renamed.yaml").write_text(renamed)
    failed = ws.run(
        "unseal", ws.root / "renamed.yaml", "--key", ws.key_path("acme", "staging"), ok=False
    )
    assert failed.returncode == 1
    assert "no key could decrypt" in failed.stderr

    wide = ws.run(
        "seal",
        "--env",
        "staging",
        "--name",
        "shared",
        "--scope",
        "namespace-wide",
        "--from-literal",
        "k=v",
    )
    assert "sealedsecrets.bitnami.com/namespace-wide" in wide.stdout
    mismatch = ws.run(
        "seal",
        "--env",
        "staging",
        "--merge-into",
        target,
        "--name",
        "other",
        "--from-literal",
        "k=v",
        ok=False,
    )
    assert "does not match" in mismatch.stderr


def _secret_forms(value: bytes) -> set[bytes]:
    """The ways a secret could show up in a file: raw, hex, base64."""
    forms = {value, value.hex().encode(), value.hex().upper().encode(), base64.b64encode(value)}
    return {form for form in forms if len(form) >= 16}


def _needles(ws: Workspace, environments: list[str]) -> set[bytes]:
    needles: set[bytes] = set()
    for env in environments:
        pem = ws.key_path("acme", env).read_bytes()
        [key] = load_private_keys(pem, source="k")
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        needles |= {pem, der} | {line for line in pem.splitlines() if len(line) >= 40}
        generated = ws.repo / "overlays" / env / "generated"
        for path in generated.glob("sealedsecret-*.yaml"):
            secret = unseal(load_yaml(path.read_text()), [key])
            for name, value in secret_items(secret).items():
                needles |= _secret_forms(value)
                text = value.decode()
                if name.endswith((".key", ".nodekey")):
                    needles |= _secret_forms(bytes.fromhex(text.strip().removeprefix("0x")))
                if name.endswith(".keystore"):
                    password = secret_items(secret)[name.replace(".keystore", ".password")]
                    account = decrypt_keystore(json.loads(text), password)
                    needles |= _secret_forms(account.secret)
    return needles


def _git_objects(repo: Path) -> list[bytes]:
    proc = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    return [proc.stdout]


@pytest.mark.parametrize(
    ("profile", "body", "envs"),
    [
        ("besu-qbft", BESU, ["dev", "staging", "prod"]),
        ("geth-clique", CLIQUE, ["dev", "prod"]),
    ],
)
def test_no_secret_leaks_into_the_repository_history_output_or_temp_files(
    tmp_path, profile, body, envs
):
    ws = workspace(tmp_path, body)
    ws.git("init", "-q", "-b", "main")
    _init_environments(ws, envs)
    ws.git("add", "-A")
    ws.git("commit", "-q", "-m", "network")
    text = (ws.repo / "network.yaml").read_text()
    grown = text.replace("validators: 4", "validators: 5").replace("validators: 2", "validators: 3")
    (ws.repo / "network.yaml").write_text(grown)
    ws.run("keys", "generate", "--all")
    ws.git("add", "-A")
    ws.git("commit", "-q", "-m", "more validators")
    ws.run("genesis", "--env", envs[0])

    needles = _needles(ws, envs)
    assert len(needles) > 50
    haystacks: dict[str, bytes] = {}
    for path in ws.repo.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            haystacks[str(path)] = data
            if "/.git/objects/" in str(path):
                with contextlib.suppress(zlib.error):  # pack files are read through cat-file
                    haystacks[f"{path} (inflated)"] = zlib.decompress(data)
    for index, blob in enumerate(_git_objects(ws.repo)):
        haystacks[f"git objects #{index}"] = blob
    for index, output in enumerate(ws.outputs):
        haystacks[f"command output #{index}"] = output.encode()
    leftovers = [p for p in ws.tmp.rglob("*")]
    assert leftovers == [], f"files left in TMPDIR: {leftovers}"

    for where, data in haystacks.items():
        for needle in needles:
            assert needle not in data, f"a secret appears in {where}"
