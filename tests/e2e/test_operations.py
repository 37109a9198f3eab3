"""Day-2 operations end to end through the ethnet executable: reseal, promote and status on a
repository made by ``ethnet new``. Each operation ends as one commit that ``ethnet check``
accepts and ``ethnet diff`` explains; bad input changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ethnet.errors import UnsealError
from ethnet.seal.certs import certificate_pem, fingerprint, generate_sealing_key, private_key_pem
from ethnet.seal.recovery import load_private_keys
from ethnet.seal.sealedsecret import unseal
from tests.e2e.helpers import ETHNET, Workspace, load_all_yaml, load_yaml, secret_items

pytestmark = pytest.mark.slow

NETWORK = "net"
SETTINGS = [
    "--set",
    "environments=dev,staging,prod",
    "--set",
    "validators=2",
    "--set",
    "rpc_nodes=1",
]
USER_SECRET = "overlays/dev/app-secret.yaml"
NEW_IMAGE = "hyperledger/besu:26.1.0"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One network made by ethnet new; each test works on its own copy."""
    root = tmp_path_factory.mktemp("operations")
    ws = Workspace(root, root / NETWORK, root / "home", root / "tmp", [])
    ws.tmp.mkdir()
    proc = subprocess.run(
        [str(ETHNET), "new", str(ws.repo), "--no-input", *SETTINGS],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return ws


@pytest.fixture
def ws(template: Workspace, tmp_path: Path) -> Workspace:
    copy = Workspace(tmp_path, tmp_path / NETWORK, tmp_path / "home", tmp_path / "tmp", [])
    shutil.copytree(template.repo, copy.repo, symlinks=True)
    shutil.copytree(template.home, copy.home, symlinks=True)
    copy.tmp.mkdir()
    return copy


def _head(ws: Workspace) -> str:
    return ws.git("rev-parse", "HEAD").strip()


def _work_tree(ws: Workspace) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in ws.repo.rglob("*") if p.is_file() and ".git" not in p.parts}


def _committed(ws: Workspace) -> set[str]:
    return set(ws.git("show", "--name-only", "--format=", "HEAD").split())


def _sealed_documents(ws: Workspace, env: str) -> dict[str, dict[str, Any]]:
    """Every SealedSecret under overlays/<env>/, by file and name."""
    found = {}
    for path in sorted((ws.repo / "overlays" / env).rglob("*.yaml")):
        for doc in load_all_yaml(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "SealedSecret":
                relative = str(path.relative_to(ws.repo))
                found[f"{relative}:{doc['metadata']['name']}"] = doc
    return found


def _unsealed(
    docs: dict[str, dict[str, Any]], keys: list[rsa.RSAPrivateKey]
) -> dict[str, dict[str, bytes]]:
    return {where: secret_items(unseal(doc, keys, source=where)) for where, doc in docs.items()}


# The private keys of the certificates _new_sealing_key wrote: kept in memory only.
_KEYS: dict[Path, rsa.RSAPrivateKey] = {}


def _new_sealing_key(ws: Workspace, *, now: datetime | None = None, days: int = 3650) -> Path:
    """A new controller key pair (2048 bits, to be quick): the certificate on disk, the
    private key only in memory, in _KEYS."""
    key, certificate = generate_sealing_key(
        now=now or datetime.now(UTC), bits=2048, validity=timedelta(days=days)
    )
    path = ws.root / f"new-cert-{len(_KEYS)}.pem"
    path.write_bytes(certificate_pem(certificate))
    _KEYS[path] = key
    return path


def _add_user_secret(ws: Workspace) -> None:
    """A user's own secret sealed with ethnet seal and listed in the user overlay."""
    ws.run(
        "seal",
        "--env",
        "dev",
        "--name",
        "app-secret",
        "--scope",
        "namespace-wide",
        "--from-literal",
        "password=correct horse battery staple",
        "-o",
        USER_SECRET,
    )
    overlay = ws.repo / "overlays" / "dev" / "kustomization.yaml"
    overlay.write_text(overlay.read_text() + "- app-secret.yaml\n")
    ws.run("sync")
    assert (ws.repo / "rendered" / "dev" / "sealedsecret-app-secret.yaml").is_file()


def _without_ciphertext(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "spec": {**doc["spec"], "encryptedData": sorted(doc["spec"]["encryptedData"])}}


def test_reseal_moves_every_sealed_secret_to_the_new_key_in_one_commit(ws):
    _add_user_secret(ws)
    old_key_path = ws.key_path(NETWORK, "dev")
    old_keys = load_private_keys(old_key_path.read_bytes(), source="old")
    before_docs = _sealed_documents(ws, "dev")
    before = _unsealed(before_docs, old_keys)
    assert len(before) == 5 and f"{USER_SECRET}:app-secret" in before
    other_envs = {env: _sealed_documents(ws, env) for env in ("staging", "prod")}
    cert = _new_sealing_key(ws)
    new_key = _KEYS[cert]
    head = _head(ws)

    proc = ws.run("reseal", "--env", "dev", "--cert", cert, "--key", old_key_path)

    assert "re-sealed 6 item(s) of 5 SealedSecret(s)" in proc.stderr
    assert ws.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"
    after_docs = _sealed_documents(ws, "dev")
    assert set(after_docs) == set(before_docs)
    assert _unsealed(after_docs, [new_key]) == before
    for where, doc in after_docs.items():
        with pytest.raises(UnsealError):
            unseal(doc, old_keys, source=where)
        # same name, namespace, scope, labels and template; only the ciphertext changed
        assert _without_ciphertext(doc) == _without_ciphertext(before_docs[where])
        assert doc["spec"]["encryptedData"] != before_docs[where]["spec"]["encryptedData"]
    user = after_docs[f"{USER_SECRET}:app-secret"]
    assert user["metadata"]["annotations"] == {"sealedsecrets.bitnami.com/namespace-wide": "true"}
    assert {env: _sealed_documents(ws, env) for env in ("staging", "prod")} == other_envs

    assert (ws.repo / "overlays/dev/sealing-cert.pem").read_bytes() == cert.read_bytes()
    keys_yaml = load_yaml((ws.repo / "overlays/dev/generated/keys.yaml").read_text())
    assert keys_yaml["sealingCertificate"]["fingerprint"] == fingerprint(new_key.public_key())
    sealed_files = {where.split(":")[0] for where in after_docs}
    rendered = {
        f"rendered/dev/sealedsecret-{doc['metadata']['name']}.yaml" for doc in after_docs.values()
    }
    assert _committed(ws) == sealed_files | rendered | {
        "overlays/dev/generated/keys.yaml",
        "overlays/dev/sealing-cert.pem",
    }
    assert ws.run("check").stdout == "ethnet check: ok\n"
    assert ws.git("status", "--porcelain") == ""
    diff = ws.run("diff", "--base", head).stdout
    assert "#### dev: 5 changed" in diff
    assert "#### staging" not in diff and "#### prod" not in diff
    # plaintext never reached the repository, its history, the output or $TMPDIR
    assert not ws.git("log", "--all", "-p", "-S", "correct horse", "--format=%H").strip()
    assert not any("correct horse" in text for text in ws.outputs)
    assert list(ws.tmp.iterdir()) == []

    # a repeated run has nothing to do
    again = ws.run("reseal", "--env", "dev", "--cert", cert, "--key", old_key_path)
    assert "already sealed" in again.stderr
    assert ws.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"


def test_promote_copies_images_and_resources_in_one_reviewable_commit(ws):
    network = ws.repo / "network.yaml"
    text = network.read_text()
    assert "    staging:\n" in text
    network.write_text(
        text.replace(
            "    staging:\n",
            "    staging:  # release candidates run here first\n"
            f'      images: {{besu: "{NEW_IMAGE}"}}  # the next release\n',
        )
    )
    ws.run("sync")
    comments = [line.strip() for line in network.read_text().splitlines() if "#" in line]
    before_spec = load_yaml(network.read_text())["spec"]
    head = _head(ws)

    proc = ws.run("promote", "--from", "staging", "--to", "prod")

    assert f"images.besu: hyperledger/besu:26.2.0 -> {NEW_IMAGE}" in proc.stderr
    assert ws.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert _committed(ws) == {
        "network.yaml",
        "overlays/prod/generated/kustomization.yaml",
        *(f"rendered/prod/statefulset-{role}.yaml" for role in ("validator", "rpc", "bootnode")),
    }
    after = network.read_text()
    for comment in comments:
        assert comment in after
    spec = load_yaml(after)["spec"]
    prod, before_prod = spec["environments"]["prod"], before_spec["environments"]["prod"]
    assert prod["images"] == {"besu": NEW_IMAGE}
    assert {k: v for k, v in prod.items() if k != "images"} == before_prod
    assert {k: v for k, v in spec.items() if k != "environments"} == {
        k: v for k, v in before_spec.items() if k != "environments"
    }
    assert (
        f"image: {NEW_IMAGE}" in (ws.repo / "rendered/prod/statefulset-validator.yaml").read_text()
    )
    assert ws.run("check").stdout == "ethnet check: ok\n"
    diff = ws.run("diff", "--base", head).stdout
    assert "#### prod: 3 changed" in diff
    assert "#### dev" not in diff and "#### staging" not in diff

    again = ws.run("promote", "--from", "staging", "--to", "prod")
    assert "nothing to promote" in again.stderr
    assert ws.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert ws.git("status", "--porcelain") == ""


def test_status_shows_what_should_run_and_whether_rendered_is_current(ws):
    keys_yaml = load_yaml((ws.repo / "overlays/dev/generated/keys.yaml").read_text())
    validators = [n for n in keys_yaml["nodes"] if n["role"] == "validator"]
    assert len(validators) == 2

    text = ws.run("status", "--env", "dev").stdout
    data = json.loads(ws.run("status", "--env", "dev", "--json").stdout)

    for node in validators:
        assert node["name"] in text and node["address"] in text and node["publicKey"] in text
    assert [(v["name"], v["address"], v["publicKey"]) for v in data["validators"]] == [
        (n["name"], n["address"], n["publicKey"]) for n in validators
    ]
    assert [n["name"] for n in data["rpcNodes"]] == ["rpc-0"]
    assert [n["name"] for n in data["bootnodes"]] == ["bootnode-0"]
    assert data["chainId"] == 1337001 and data["namespace"] == "net-dev" and not data["live"]
    assert data["images"] == {
        "besu": "hyperledger/besu:26.2.0",
        "votes": "python:3.12.8-alpine3.20",
    }
    cert = data["sealingCertificate"]
    assert cert["fingerprint"] == keys_yaml["sealingCertificate"]["fingerprint"]
    assert cert["daysLeft"] > 3000 and cert["notAfter"] and cert["matchesKeys"]
    assert f"expires:     {cert['notAfter'][:10]} ({cert['daysLeft']} days left)" in text
    assert cert["fingerprint"] in text
    assert "rendered: up to date" in text
    assert data["rendered"] == {"upToDate": True, "findings": []}

    network = ws.repo / "network.yaml"
    network.write_text(
        network.read_text().replace("    dev:\n", "    dev:\n      nodes: {rpc: 0}\n", 1)
    )
    head = _head(ws)

    stale_text = ws.run("status", "--env", "dev").stdout
    stale = json.loads(ws.run("status", "--env", "dev", "--json").stdout)

    assert "rendered: stale" in stale_text
    assert "rendered/dev/statefulset-rpc.yaml" in stale_text
    assert not stale["rendered"]["upToDate"]
    assert "rpc-0" in stale_text and "[not in network.yaml: key kept, not deployed]" in stale_text
    assert stale["rpcNodes"][0]["inNetwork"] is False
    assert stale["uncommittedChanges"] == ["network.yaml"]
    # offline and read-only: nothing changed
    assert _head(ws) == head
    assert ws.git("status", "--porcelain") == " M network.yaml\n"


def _expired_cert(ws: Workspace) -> Path:
    return _new_sealing_key(ws, now=datetime.now(UTC) - timedelta(days=10), days=1)


def _group_readable_key(ws: Workspace) -> Path:
    path = ws.root / "readable-key.pem"
    path.write_bytes(ws.key_path(NETWORK, "dev").read_bytes())
    os.chmod(path, 0o644)
    return path


BAD_INPUTS = {
    "reseal unknown env": (
        lambda ws: ["reseal", "--env", "qa", "--cert", _new_sealing_key(ws), "--key", _dev(ws)],
        "no environment 'qa' in network.yaml (known: dev, staging, prod)",
    ),
    "reseal missing cert": (
        lambda ws: ["reseal", "--env", "dev", "--cert", ws.root / "nope.pem", "--key", _dev(ws)],
        "nope.pem: No such file or directory",
    ),
    "reseal expired cert": (
        lambda ws: ["reseal", "--env", "dev", "--cert", _expired_cert(ws), "--key", _dev(ws)],
        "the sealing certificate expired on",
    ),
    "reseal wrong old key": (
        lambda ws: [
            "reseal",
            "--env",
            "dev",
            "--cert",
            _new_sealing_key(ws),
            "--key",
            ws.key_path(NETWORK, "prod"),
        ],
        "SealedSecret(s) do not decrypt with the given key(s)",
    ),
    "reseal missing key file": (
        lambda ws: [
            "reseal",
            "--env",
            "dev",
            "--cert",
            _new_sealing_key(ws),
            "--key",
            ws.root / "gone.pem",
        ],
        "gone.pem: no such file",
    ),
    "reseal key readable by others": (
        lambda ws: [
            "reseal",
            "--env",
            "dev",
            "--cert",
            _new_sealing_key(ws),
            "--key",
            _group_readable_key(ws),
        ],
        "is accessible by other users (mode 0644)",
    ),
    "reseal cert is a private key": (
        lambda ws: ["reseal", "--env", "dev", "--cert", _dev(ws), "--key", _dev(ws)],
        "this is a private key; give the certificate",
    ),
    "promote unknown env": (
        lambda ws: ["promote", "--from", "staging", "--to", "qa"],
        "--to qa: no such environment in network.yaml (known: dev, staging, prod)",
    ),
    "promote to itself": (
        lambda ws: ["promote", "--from", "prod", "--to", "prod"],
        "--from and --to are both 'prod'",
    ),
    "status unknown env": (
        lambda ws: ["status", "--env", "qa"],
        "no environment 'qa' in network.yaml",
    ),
}


def _dev(ws: Workspace) -> Path:
    return ws.key_path(NETWORK, "dev")


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(ws, case):
    arguments, message = BAD_INPUTS[case]
    head = _head(ws)
    tree = _work_tree(ws)

    proc = ws.run(*arguments(ws), ok=False)

    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _head(ws) == head
    assert ws.git("status", "--porcelain") == ""
    assert _work_tree(ws) == tree


def test_operations_refuse_a_dirty_tree(ws):
    network = ws.repo / "network.yaml"
    network.write_text(network.read_text() + "# a note\n")
    head = _head(ws)
    cert = _new_sealing_key(ws)

    for arguments in (
        ["reseal", "--env", "dev", "--cert", cert, "--key", _dev(ws)],
        ["promote", "--from", "staging", "--to", "prod"],
    ):
        proc = ws.run(*arguments, ok=False)
        assert proc.returncode == 1
        assert "uncommitted changes: network.yaml" in proc.stderr
    assert _head(ws) == head
    assert ws.git("status", "--porcelain") == " M network.yaml\n"


def test_reseal_writes_only_the_certificate_from_a_file_that_also_holds_a_key(ws):
    """A certificate file with the new private key beside it: the key never enters the repo."""
    cert = _new_sealing_key(ws)
    mixed = ws.root / "mixed.pem"
    mixed.write_bytes(cert.read_bytes() + private_key_pem(_KEYS[cert]))

    proc = ws.run("reseal", "--env", "prod", "--cert", mixed, "--key", ws.key_path(NETWORK, "prod"))

    assert "also holds a private key" in proc.stderr
    assert (ws.repo / "overlays/prod/sealing-cert.pem").read_bytes() == cert.read_bytes()
    assert "PRIVATE KEY" not in ws.git("show", "HEAD")
    assert ws.git("status", "--porcelain") == ""


def test_a_failed_render_puts_everything_back(ws):
    """A committed overlay that no longer renders: reseal fails after re-sealing in memory,
    and every file it had written is restored."""
    overlay = ws.repo / "overlays" / "dev" / "kustomization.yaml"
    overlay.write_text(overlay.read_text() + "- missing.yaml\n")
    ws.git("commit", "-q", "-am", "a broken overlay")
    head = _head(ws)
    tree = _work_tree(ws)

    proc = ws.run(
        "reseal", "--env", "dev", "--cert", _new_sealing_key(ws), "--key", _dev(ws), ok=False
    )

    assert proc.returncode == 1
    assert "missing.yaml" in proc.stderr
    assert _head(ws) == head
    assert ws.git("status", "--porcelain") == ""
    assert _work_tree(ws) == tree
