"""The secret scanner can fail: keys planted in a work tree, only in an old commit, in a pack,
in a bare remote, in command output or in $TMPDIR are each reported, by place and kind,
without the report quoting them; and the automatic scan after each flow (conftest.py) fails
a test that leaks."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ethnet.chain.keystore import decrypt_keystore
from ethnet.chain.nodekey import parse_besu_node_key
from ethnet.seal.recovery import load_private_keys
from ethnet.seal.sealedsecret import unseal
from tests.e2e.conftest import CommandLog
from tests.e2e.helpers import ETHNET, Workspace, load_yaml, secret_items
from tests.e2e.secret_scan import (
    KEYSTORE_KEY,
    NODE_KEY,
    SEALED_KINDS,
    SEALING_KEY,
    Output,
    ScanReport,
    home_mode_problems,
    scan,
    scan_network,
)

pytestmark = [pytest.mark.slow, pytest.mark.plants_leaks]

ROOT = Path(__file__).resolve().parents[2]
NETWORK = "net"
VALIDATOR_KEYS = "overlays/dev/generated/sealedsecret-validator-keys.yaml"


def _new(root: Path, *settings: str) -> Workspace:
    ws = Workspace(root, root / NETWORK, root / "home", root / "tmp", [])
    ws.tmp.mkdir(parents=True)
    proc = subprocess.run(
        [str(ETHNET), "new", str(ws.repo), "--no-input", "--set", "environments=dev", *settings],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ws.outputs += [proc.stdout, proc.stderr]
    return ws


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A besu network with one environment, pushed to a bare remote beside it."""
    ws = _new(tmp_path_factory.mktemp("scan"), "--set", "validators=4", "--set", "rpc_nodes=1")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(ws.root / "remote.git")])
    ws.git("remote", "add", "origin", "../remote.git")
    ws.git("push", "-q", "origin", "main")
    return ws


@pytest.fixture
def ws(template: Workspace, tmp_path: Path) -> Workspace:
    copy = Workspace(tmp_path, tmp_path / NETWORK, tmp_path / "home", tmp_path / "tmp", [])
    for name in (NETWORK, "home", "tmp", "remote.git"):
        shutil.copytree(template.root / name, tmp_path / name, symlinks=True)
    copy.outputs += template.outputs
    return copy


def _scan(ws: Workspace, *outputs: str) -> ScanReport:
    return scan_network(
        ws.repo,
        ws.home,
        [*ws.outputs, *outputs],
        tmp_dir=ws.tmp,
        remote=ws.root / "remote.git",
    )


def _node_key(ws: Workspace, node: str = "validator-0") -> bytes:
    """A node's private key, unsealed with ethnet's own code."""
    [key] = load_private_keys(ws.key_path(NETWORK, "dev").read_bytes(), source="key")
    role = node.rsplit("-", 1)[0]
    sealed = ws.repo / "overlays" / "dev" / "generated" / f"sealedsecret-{role}-keys.yaml"
    secret = unseal(load_yaml(sealed.read_text()), [key])
    return parse_besu_node_key(secret_items(secret)[f"{node}.key"].decode()).secret


def _sealing_key(ws: Workspace) -> rsa.RSAPrivateKey:
    [key] = load_private_keys(ws.key_path(NETWORK, "dev").read_bytes(), source="key")
    return key


def _commit(ws: Workspace, path: str, data: bytes, message: str) -> None:
    (ws.repo / path).write_bytes(data)
    ws.git("add", path)
    ws.git("commit", "-q", "-m", message)


def _leaks(report: ScanReport) -> dict[str, dict[str, tuple[str, ...]]]:
    """place -> "kind name" -> forms found there."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for leak in report.leaks:
        found.setdefault(leak.where, {})[f"{leak.kind} {leak.name}"] = leak.forms
    return found


def _assert_not_quoted(report: ScanReport, *values: bytes) -> None:
    text = "\n".join(report.problems()).encode()
    for value in values:
        for form in (value, value.hex().encode(), base64.b64encode(value).rstrip(b"=")):
            assert form not in text


def _blobs(leaks: dict[str, dict[str, tuple[str, ...]]], repository: Path) -> list[str]:
    return [where for where in leaks if where.startswith(f"{repository}: git blob ")]


def test_a_clean_network_scans_clean(ws: Workspace):
    report = _scan(ws)

    assert report.problems() == []
    # 6 node keys and the ethstats secret in several forms each, and the sealing key's forms
    assert report.secrets > 7 * 6 + 40
    assert report.places > 200


def test_a_key_committed_to_the_work_tree_is_reported_in_the_file_and_its_object(ws):
    key = _node_key(ws)

    _commit(ws, "notes.txt", f"validator key: {key.hex()}\n".encode(), "notes")
    report = _scan(ws)

    leaks = _leaks(report)
    name = f"{NODE_KEY} net-dev/validator-keys[validator-0.key]"
    assert leaks[f"{ws.repo}/notes.txt"] == {name: ("decoded hex",)}
    [blob] = _blobs(leaks, ws.repo)
    assert "path notes.txt; added or removed in commit" in blob
    assert leaks[blob] == {name: ("decoded hex",)}
    assert len(leaks) == 2  # not pushed: the remote is clean
    _assert_not_quoted(report, key)
    with pytest.raises(AssertionError, match="secret hygiene"):
        report.assert_clean()


def test_a_key_only_in_an_old_commit_is_reported_even_when_packed_and_pushed(ws):
    key = _node_key(ws, "rpc-0")
    _commit(ws, "debug.yaml", b"nodekey: " + base64.b64encode(key) + b"\n", "debug")
    ws.git("rm", "-q", "debug.yaml")
    ws.git("commit", "-q", "-m", "remove the debug file")
    ws.git("push", "-q", "origin", "main")
    ws.git("gc", "-q")
    assert not list((ws.repo / ".git" / "objects").glob("??/*"))  # every object is packed

    report = _scan(ws)

    leaks = _leaks(report)
    expected = {f"{NODE_KEY} net-dev/rpc-keys[rpc-0.key]": ("decoded base64",)}
    [here] = _blobs(leaks, ws.repo)
    [remote] = _blobs(leaks, ws.root / "remote.git")
    assert leaks == {here: expected, remote: expected}
    assert "path debug.yaml" in here and "path debug.yaml" in remote
    _assert_not_quoted(report, key)


def test_a_key_in_a_commit_no_ref_reaches_any_more_is_reported(ws):
    """A commit dropped with reset is in no branch's history, but its objects are still in
    the repository (and in anyone's copy of it until garbage collection)."""
    key = _node_key(ws)
    _commit(ws, "oops.txt", key.hex().encode(), "oops")
    ws.git("reset", "-q", "--hard", "HEAD~1")

    leaks = _leaks(_scan(ws))

    [blob] = _blobs(leaks, ws.repo)
    assert blob.endswith("(unreachable from every ref)")
    assert leaks == {
        blob: {f"{NODE_KEY} net-dev/validator-keys[validator-0.key]": ("decoded hex",)}
    }


def test_a_key_rotated_away_still_counts_in_history(ws):
    old = _node_key(ws, "validator-1")
    proc = ws.run("keys", "rotate", "validator-1", "--env", "dev")
    ws.outputs += [proc.stdout, proc.stderr]
    assert _node_key(ws, "validator-1") != old
    assert _scan(ws).problems() == []

    _commit(ws, "old-key.txt", old.hex().upper().encode(), "the old key")
    report = _scan(ws)

    assert _leaks(report)[f"{ws.repo}/old-key.txt"] == {
        f"{NODE_KEY} net-dev/validator-keys[validator-1.key]": ("decoded HEX",)
    }


def test_a_key_only_in_command_output_is_reported(ws):
    key = _node_key(ws)

    report = _scan(ws, f"debug: 0x{key.hex()}\n")

    [(where, found)] = _leaks(report).items()
    assert where == f"command output #{len(ws.outputs)}"
    assert found == {
        f"{NODE_KEY} net-dev/validator-keys[validator-0.key]": (
            "raw",
            "decoded hex",
            "decoded 0x hex",
        )
    }
    _assert_not_quoted(report, key)


def test_an_output_may_show_only_the_kinds_it_is_allowed_to(ws):
    key = _node_key(ws)
    pem = ws.key_path(NETWORK, "dev").read_text()
    unseal_stdout = Output("stdout of `ethnet unseal`", f"{key.hex()}\n{pem}", SEALED_KINDS)

    report = scan(repositories=[ws.repo], homes=[ws.home], outputs=[unseal_stdout])

    [(where, found)] = _leaks(report).items()
    assert where == "stdout of `ethnet unseal`"
    assert {name.split(" #")[0] for name in found} == {SEALING_KEY}


def test_a_key_left_in_tmpdir_is_reported(ws):
    key = _node_key(ws, "bootnode-0")
    (ws.tmp / "ethnet-stage-1").mkdir()
    (ws.tmp / "ethnet-stage-1" / "bootnode.key").write_bytes(key)

    report = _scan(ws)

    assert _leaks(report) == {
        f"$TMPDIR {ws.tmp}/ethnet-stage-1/bootnode.key": {
            f"{NODE_KEY} net-dev/bootnode-keys[bootnode-0.key]": ("decoded raw",)
        }
    }


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _private_exponent(key: rsa.RSAPrivateKey) -> bytes:
    return f"{key.private_numbers().d:x}".encode()


def _pem_line(key: rsa.RSAPrivateKey) -> bytes:
    return b"    " + _pem(key).splitlines()[-3] + b"\n"  # one body line, indented as in YAML


def _tls_key(key: rsa.RSAPrivateKey) -> bytes:
    return b"  tls.key: " + base64.b64encode(_pem(key)) + b"\n"


@pytest.mark.parametrize(
    ("form", "planted"),
    [
        ("private exponent hex", _private_exponent),
        ("PKCS#1 PEM body line", _pem_line),
        ("base64 of the PKCS#1 PEM", _tls_key),
    ],
)
def test_the_sealing_key_is_reported_in_each_of_its_forms(ws, form, planted):
    key = _sealing_key(ws)

    _commit(ws, "backup.yaml", planted(key), "backup")
    report = _scan(ws)

    found = _leaks(report)[f"{ws.repo}/backup.yaml"]
    [(name, forms)] = found.items()
    assert name.startswith(f"{SEALING_KEY} #")
    assert any(f.startswith(form) for f in forms), forms
    _assert_not_quoted(report, planted(key).strip())


def test_the_public_modulus_is_not_taken_for_a_leak(ws):
    """The certificate in the repository holds the modulus; only the key's body lines that
    carry private bytes are searched, so a public key never matches."""
    key = _sealing_key(ws)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    _commit(ws, "public.pem", public, "the public key")

    assert _scan(ws).problems() == []


def test_a_sealed_secret_no_known_key_opens_is_reported(ws):
    report = scan_network(ws.repo, ws.home.parent / "elsewhere")

    assert report.leaks == []
    assert report.unopened
    assert all("does not open" in problem for problem in report.unopened)
    assert any("net-dev/validator-keys[validator-0.key]" in p for p in report.unopened)


def test_ethnet_home_modes(ws):
    assert home_mode_problems(ws.home) == []
    key = ws.key_path(NETWORK, "dev")
    key.chmod(0o640)
    key.parent.chmod(0o750)

    assert set(home_mode_problems(ws.home)) == {
        f"{key.parent}: directory mode 0750, not 0700",
        f"{key}: file mode 0640, not 0600",
    }


def test_the_keystore_private_key_is_reported(tmp_path: Path):
    """geth-clique: the signer's key is only inside its keystore; the password opens it."""
    ws = _new(tmp_path, "--set", "profile=geth-clique", "--set", "validators=1")
    secret = unseal(load_yaml((ws.repo / VALIDATOR_KEYS).read_text()), [_sealing_key(ws)])
    items = secret_items(secret)
    keystore = json.loads(items["validator-0.keystore"])
    signer = decrypt_keystore(keystore, items["validator-0.password"])

    _commit(ws, "signer.txt", signer.secret.hex().encode(), "the signer key")
    report = scan_network(ws.repo, ws.home, ws.outputs, tmp_dir=ws.tmp)

    assert _leaks(report)[f"{ws.repo}/signer.txt"] == {
        f"{KEYSTORE_KEY} net-dev/validator-keys[validator-0.keystore]": ("hex",)
    }
    _assert_not_quoted(report, signer.secret)


# --- the automatic scan after every flow (conftest.py) -------------------------------------

FLOW_TESTS = """
import os, shutil
from pathlib import Path
from tests.e2e.helpers import Workspace

def _copy(tmp_path):
    source = Path(os.environ["SCAN_TEMPLATE"])
    ws = Workspace(tmp_path, tmp_path / "net", tmp_path / "home", tmp_path / "tmp", [])
    for name in ("net", "home", "tmp"):
        shutil.copytree(source / name, tmp_path / name, symlinks=True)
    return ws

def test_clean(tmp_path):
    _copy(tmp_path).run("check")

def test_a_key_file_made_readable_by_the_test_itself(tmp_path):
    ws = _copy(tmp_path)
    ws.run("check")
    ws.key_path("net", "dev").chmod(0o644)

def test_leaks_into_a_commit(tmp_path):
    ws = _copy(tmp_path)
    (ws.repo / "leak.txt").write_text(os.environ["SCAN_PLANT"])
    ws.git("add", "leak.txt")
    ws.git("commit", "-q", "-m", "leak")

def test_prints_a_key(tmp_path):
    _copy(tmp_path)
    print("key:", os.environ["SCAN_PLANT"])

def test_commits_a_new_sealing_key_then_deletes_it(tmp_path):
    ws = _copy(tmp_path)
    ws.run("check")  # the old key is seen in $ETHNET_HOME before it goes
    key = ws.key_path("net", "dev")
    (ws.repo / "overlays/dev/sealing-cert.pem").unlink()
    key.unlink()
    key.with_name("sealing-key-secret.yaml").unlink()
    out = tmp_path / "controller.yaml"
    ws.run("sealing-key", "init", "--env", "dev", "--out", out)
    (ws.repo / "controller.yaml").write_bytes(out.read_bytes())
    ws.git("add", "controller.yaml")
    ws.git("commit", "-q", "-m", "leak")
    out.unlink()
    key.unlink()
"""


def test_the_automatic_scan_fails_a_flow_that_leaks(template: Workspace, tmp_path: Path):
    key = _node_key(template)
    (tmp_path / "test_flows.py").write_text(FLOW_TESTS)
    (tmp_path / "conftest.py").write_text(
        "from tests.e2e.conftest import (  # noqa: F401\n"
        "    _command_log, _secret_hygiene, pytest_configure, pytest_runtest_makereport,\n"
        ")\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--show-capture=no",  # pytest's own echo of what a failing test printed
            "--rootdir",
            tmp_path,
            "-c",
            tmp_path / "pytest.ini",
            tmp_path / "test_flows.py",
            "--basetemp",
            tmp_path / "t",
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SCAN_TEMPLATE": str(template.root),
            "SCAN_PLANT": key.hex(),
        },
        capture_output=True,
        text=True,
        check=False,
    )

    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "5 passed, 3 errors" in out, out
    assert "ERROR test_flows.py::test_leaks_into_a_commit" in out
    assert "ERROR test_flows.py::test_prints_a_key" in out
    assert "ERROR test_flows.py::test_commits_a_new_sealing_key_then_deletes_it" in out
    assert "(base64 of the PKCS#1 PEM) found in " in out and "/controller.yaml\n" in out
    assert "/leak.txt" in out and ": git blob " in out and "in test's captured stdout" in out
    assert "node private key net-dev/validator-keys[validator-0.key] (decoded hex) found" in out
    assert out.count(key.hex()) == 0


def test_the_command_log_flags_a_mode_an_ethnet_command_set(tmp_path: Path):
    """A stand-in ``ethnet`` that loosens a mode in $ETHNET_HOME: the log names it; a mode
    the test set itself before the command is not the command's doing."""
    home = tmp_path / "home"
    (home / "net").mkdir(parents=True, mode=0o700)
    home.chmod(0o700)
    (home / "net" / "own.pem").write_text("x")
    (home / "net" / "own.pem").chmod(0o644)  # the test's own doing
    fake = tmp_path / "bin" / "ethnet"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/sh\ntouch "$ETHNET_HOME/net/new.pem"\nchmod 644 "$ETHNET_HOME/net/new.pem"\n'
    )
    fake.chmod(0o755)
    log = CommandLog()

    log.wrap(subprocess.run)(
        [str(fake), "sealing-key", "init", "--env", "dev"],
        env={**os.environ, "ETHNET_HOME": str(home)},
        check=True,
    )
    commands, problems = log.take()

    assert [c.words for c in commands] == ["ethnet sealing-key init"]
    assert problems == [
        f"`ethnet sealing-key init` (command 1) left {home}/net/new.pem: file mode 0644, not 0600"
    ]
    assert commands[0].stdout_allowed == frozenset({SEALING_KEY})
