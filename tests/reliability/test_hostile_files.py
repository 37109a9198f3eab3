"""Hostile inputs: YAML bombs, huge and deeply nested files, bad certificates, tampered
SealedSecrets, and overlays that reach outside the repository. Each must end with exit 1
and a clear message, never a traceback, and must not change the repository."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.e2e.helpers import ETHNET, Workspace
from tests.reliability.conftest import make_workspace, no_traceback, snapshot

LOCATED = re.compile(r"^\S+:(\d+:\d+:)? ", re.MULTILINE)


def _ethnet(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [str(ETHNET), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _timed_spec_check(tmp_path: Path, text: str, timeout: float = 10):
    path = tmp_path / "network.yaml"
    path.write_text(text)
    start = time.monotonic()
    try:
        proc = _ethnet(tmp_path, "spec", "check", str(path), timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ethnet spec check still running after {timeout} s")
    return proc, time.monotonic() - start


# --- network.yaml -----------------------------------------------------------------------------


def _alias_bomb(levels: int = 9) -> str:
    lines = ["apiVersion: ethnet/v1alpha1", "kind: Network", 'a0: &a0 ["lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_rejected_quickly_with_a_located_message(tmp_path):
    proc, elapsed = _timed_spec_check(tmp_path, _alias_bomb())
    assert elapsed < 2, elapsed
    assert proc.returncode == 1
    no_traceback(proc)
    assert "network.yaml:4:" in proc.stderr  # the first alias, with line and column
    assert "aliases" in proc.stderr


def test_a_merge_key_bomb_is_rejected_too(tmp_path):
    text = "base: &b {x: 1}\nspec:\n  <<: *b\n"
    proc, elapsed = _timed_spec_check(tmp_path, text)
    assert elapsed < 2
    assert proc.returncode == 1
    no_traceback(proc)
    assert "network.yaml:3:" in proc.stderr


def test_a_5_mb_file_is_rejected_quickly_with_its_size(tmp_path):
    body = "apiVersion: ethnet/v1alpha1\nkind: Network\n" + "# padding\n" * (500 * 1024)
    proc, elapsed = _timed_spec_check(tmp_path, body)
    assert elapsed < 2, elapsed
    assert proc.returncode == 1
    no_traceback(proc)
    assert "network.yaml: file is" in proc.stderr
    assert "at most 1 MiB" in proc.stderr


def test_a_5_mb_document_is_rejected_by_parse_network_without_parsing():
    from ethnet.errors import SpecError
    from ethnet.spec.loader import parse_network

    start = time.monotonic()
    with pytest.raises(SpecError) as info:
        parse_network("x: [" + "1," * (2_600_000) + "1]\n")
    assert time.monotonic() - start < 2
    assert "over 1 MiB" in str(info.value.problems[0])


@pytest.mark.parametrize("shape", ["flow-10k", "block-500"])
def test_deeply_nested_yaml_is_rejected_cleanly(tmp_path, shape):
    if shape == "flow-10k":
        text = "apiVersion: " + "[" * 10_000 + "]" * 10_000 + "\n"
    else:  # 500 levels of one-space block indentation: 125 kB, under the size limit
        text = "".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "v\n"
    proc, elapsed = _timed_spec_check(tmp_path, text, timeout=3)
    assert elapsed < 2, elapsed
    assert proc.returncode == 1
    no_traceback(proc)
    assert LOCATED.search(proc.stderr)


def test_nesting_within_the_limit_is_read_and_deeper_is_refused_where_it_starts(tmp_path):
    # 30 levels are read (and fail the schema at the top); the 33rd level is refused there
    for levels, expected in ((30, "network.yaml:1:1:"), (200, "network.yaml:33:33: nested deeper")):
        text = "".join(" " * i + f"k{i}:\n" for i in range(levels)) + " " * levels + "v\n"
        proc, elapsed = _timed_spec_check(tmp_path, text)
        assert elapsed < 2
        assert proc.returncode == 1
        no_traceback(proc)
        assert expected in proc.stderr


# --- certificates -----------------------------------------------------------------------------

NOW = dt.datetime.now(dt.UTC)


def _self_signed(key, *, not_before: dt.datetime, not_after: dt.datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _bad_certificates(rsa_key) -> dict[str, tuple[bytes, str]]:
    """name -> (PEM bytes, a word the error message must contain)."""
    valid = _self_signed(
        rsa_key, not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=365)
    )
    return {
        "malformed": (
            b"-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n",
            "certificate",
        ),
        "garbage": (b"hello, I am not a PEM file\n", "PEM"),
        "expired": (
            _self_signed(
                rsa_key,
                not_before=NOW - dt.timedelta(days=400),
                not_after=NOW - dt.timedelta(days=35),
            ),
            "expired",
        ),
        "ec": (
            _self_signed(
                ec.generate_private_key(ec.SECP256R1()),
                not_before=NOW - dt.timedelta(days=1),
                not_after=NOW + dt.timedelta(days=365),
            ),
            "RSA",
        ),
        "truncated": (valid[: len(valid) // 2], "certificate"),
        "empty": (b"", "PEM"),
    }


CERT_CASES = ["malformed", "garbage", "expired", "ec", "truncated", "empty"]


@pytest.mark.parametrize("case", CERT_CASES)
def test_seal_with_a_bad_certificate_exits_1_clearly(tmp_path, rsa_key, case, cli):
    pem, word = _bad_certificates(rsa_key)[case]
    cert = tmp_path / "cert.pem"
    cert.write_bytes(pem)
    out = tmp_path / "out.yaml"
    proc = cli(
        make_workspace(tmp_path),
        "seal", "--cert", str(cert), "--name", "s", "--namespace", "ns",
        "--from-literal", "a=b", "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    assert proc.stderr.startswith("error: "), proc.stderr
    assert str(cert) in proc.stderr
    assert word.lower() in proc.stderr.lower(), proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("case", CERT_CASES)
def test_keys_generate_with_a_bad_certificate_exits_1_and_changes_nothing(
    network: Workspace, rsa_key, case, cli
):
    pem, word = _bad_certificates(rsa_key)[case]
    (network.repo / "overlays" / "dev" / "sealing-cert.pem").write_bytes(pem)
    spec = network.repo / "network.yaml"
    spec.write_text(spec.read_text().replace("validators: 4", "validators: 5"))
    before = snapshot(network)
    proc = cli(network, "keys", "generate", "--env", "dev")
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    assert "sealing-cert.pem" in proc.stderr
    assert word.lower() in proc.stderr.lower(), proc.stderr
    assert snapshot(network) == before


# --- SealedSecrets ----------------------------------------------------------------------------


def _sealed_secret(ws: Workspace) -> Path:
    return ws.repo / "overlays" / "dev" / "generated" / "sealedsecret-rpc-keys.yaml"


def test_unseal_works_on_the_untouched_file(network: Workspace, cli):
    proc = cli(network, "unseal", _sealed_secret(network), "--key", network.key_path("net", "dev"))
    assert proc.returncode == 0, proc.stderr
    assert "kind: Secret" in proc.stdout


def _flip_base64(text: str) -> str:
    match = re.search(r"(\.key: )([A-Za-z0-9+/=]{40})", text)
    assert match
    start = match.start(2) + 20
    char = text[start]
    replacement = "A" if char != "A" else "B"
    return text[:start] + replacement + text[start + 1 :]


@pytest.mark.parametrize("damage", ["flip-base64", "cut-in-half", "not-base64", "empty-value"])
def test_unseal_of_a_damaged_sealed_secret_exits_1_clearly(network: Workspace, damage, cli):
    path = _sealed_secret(network)
    text = path.read_text()
    if damage == "flip-base64":
        damaged = _flip_base64(text)
    elif damage == "cut-in-half":
        damaged = text[: len(text) // 2]
    elif damage == "not-base64":
        damaged = re.sub(r"(\.key: )\S+", r"\1***not base64***", text, count=1)
    else:
        damaged = re.sub(r"(\.key: )\S+", r"\1''", text, count=1)
    assert damaged != text
    target = network.root / "damaged.yaml"
    target.write_text(damaged)
    proc = cli(network, "unseal", target, "--key", network.key_path("net", "dev"))
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    assert proc.stderr.startswith("error: "), proc.stderr
    assert str(target) in proc.stderr
    assert "kind: Secret" not in proc.stdout


def test_unseal_of_a_base64_flip_in_the_ciphertext_names_the_item(network: Workspace, cli):
    target = network.root / "damaged.yaml"
    target.write_text(_flip_base64(_sealed_secret(network).read_text()))
    proc = cli(network, "unseal", target, "--key", network.key_path("net", "dev"))
    assert proc.returncode == 1
    assert "rpc-0.key" in proc.stderr, proc.stderr


# --- overlays reaching outside the repository -------------------------------------------------

OUTSIDE_CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: stolen
data:
  secret: outside-content
"""


def _outside_kustomization(root: Path) -> Path:
    directory = root / "outside-dir"
    directory.mkdir()
    (directory / "cm.yaml").write_text(OUTSIDE_CM)
    (directory / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (root / "outside.yaml").write_text(OUTSIDE_CM)
    return directory


def _add_resource(ws: Workspace, resource: str) -> None:
    overlay = ws.repo / "overlays" / "dev" / "kustomization.yaml"
    overlay.write_text(overlay.read_text() + f"- {resource}\n")


def _assert_refused(ws: Workspace, before) -> None:
    head, _, _ = before
    proc = ws.run("sync", ok=False)
    no_traceback(proc)
    assert proc.returncode == 1, f"sync succeeded:\n{proc.stderr}"
    assert proc.stderr.count("error: ") == 1, proc.stderr
    assert ws.git("rev-parse", "HEAD") == head
    assert snapshot(ws) == before
    assert not any("outside-content" in p.read_text() for p in ws.repo.rglob("rendered/**/*.yaml"))


@pytest.mark.parametrize("target", ["/etc/passwd", "outside.yaml"])
def test_sync_refuses_a_symlinked_file_pointing_outside_the_repository(network, target):
    _outside_kustomization(network.root)
    link = network.repo / "overlays" / "dev" / "evil.yaml"
    link.symlink_to(target if target.startswith("/") else network.root / target)
    _add_resource(network, "evil.yaml")
    _assert_refused(network, snapshot(network))


def test_sync_refuses_a_dotdot_file_resource_escaping_the_repository(network):
    _outside_kustomization(network.root)
    _add_resource(network, "../../../outside.yaml")  # from overlays/dev: next to the repo
    _assert_refused(network, snapshot(network))


def test_sync_refuses_an_absolute_directory_resource(network):
    outside = _outside_kustomization(network.root)
    _add_resource(network, str(outside))
    _assert_refused(network, snapshot(network))


def test_sync_refuses_a_symlinked_directory_pointing_outside_the_repository(network):
    outside = _outside_kustomization(network.root)
    (network.repo / "overlays" / "dev" / "ext").symlink_to(outside)
    _add_resource(network, "ext")
    _assert_refused(network, snapshot(network))


def test_sync_refuses_a_dotdot_directory_resource_escaping_the_repository(network):
    _outside_kustomization(network.root)
    # network.root holds the repo ("net"), so from .git/ethnet/ethnet-stage-X/overlays/dev
    # six levels up is network.root
    _add_resource(network, "../../../../../../outside-dir")
    _assert_refused(network, snapshot(network))


def test_symlink_to_etc_passwd_never_reaches_rendered(network):
    os.symlink("/etc/passwd", network.repo / "overlays" / "dev" / "passwd.yaml")
    _add_resource(network, "passwd.yaml")
    proc = network.run("sync", ok=False)
    assert proc.returncode == 1
    no_traceback(proc)
    assert "root:" not in "".join(
        p.read_text() for p in (network.repo / "rendered").rglob("*.yaml")
    )
    assert "root:x:" not in network.git("log", "-p")
