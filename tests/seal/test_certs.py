"""Controller keys and certificates: loading, refusing, generating, backing up, recovering.

Keys are made at run time (2048 bits for speed; one test makes a 4096-bit key, the
controller's default). The only fixed input is the public certificate from sealed-secrets'
own tests, made by the Go controller code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import NameOID
from ruamel.yaml import YAML

from ethnet.errors import SealingError
from ethnet.seal.certs import (
    SealingCertificate,
    certificate_pem,
    controller_key_secret,
    fingerprint,
    generate_sealing_key,
    load_sealing_certificate,
    private_key_pem,
    public_key_pem,
)
from ethnet.seal.recovery import load_private_keys

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SOURCE = "clusters/prod/sealing-cert.pem"

# bitnami-labs/sealed-secrets, pkg/kubeseal/kubeseal_test.go, `const testCert`: a 4096-bit
# self-signed certificate made by the controller's Go code (empty subject, valid
# 2017-06-20 04:32:45 to 2027-06-18 04:32:45 UTC, KeyUsage encipherOnly). No private key.
UPSTREAM_TEST_CERT = b"""\
-----BEGIN CERTIFICATE-----
MIIErTCCApWgAwIBAgIQBekz48i8NbrzIpIrLMIULTANBgkqhkiG9w0BAQsFADAA
MB4XDTE3MDYyMDA0MzI0NVoXDTI3MDYxODA0MzI0NVowADCCAiIwDQYJKoZIhvcN
AQEBBQADggIPADCCAgoCggIBAL6ISW4MnHAmC6MdmJOwo9C6YYhKYDwPD2tF+j4p
I2duB3y7DLF+zWNHgbUlBZck8CudacJTuxOJFEqr4umqm0f4EGgRPwZgFvFLHKSZ
/hxUFnMcGVhY1qsk55peSghPHarOYyBhhHDtCu7qdMu9MqPZB68y16HdPvwWPadI
dBKSxDLvwYfjDnG/ZHX9rmlDKej7jPGdvqAY5VJteP30w6YHb1Uc4whppNcDSc2l
gOuKAWtQ5WfZbB0NpMhj4framNeXMYwjZytEdC1c/4O45zm5eK4FNPueCfxOlzFQ
D3y34OuQlJwlrPE4KmdMHtE1a8x0ihbglInJrtqcXK3vEdUJ2c/BKWgFtPOTz6Du
jV4j0OMVVGnk5jUmh+yfbgielIkPcpSTWP1cIPwK3eWbrvMziq6sv0x7QoOD3Pzm
GBE8Y9sa5uy+bJZt5MywbamZ3xWaxoQbSN8RPoxRhTe0DEpx6utCXSWpapT7kWZ3
R1PTuVx+Ktyz7MRoDUWvxfpMJ2hsJ71Az0AuUZ4N4fmmGdUcM81GPUOiMZ4uqySQ
A2phgikbJaTzcT85RcNFYSi4eKc5mYFNqr5xVa6uHhZ+OGeGy1yyOEWLgIZV3A/8
4eZshOyYtRlZjCkaGZTfXNft+8QJi8rEZRcJtVhqLzezBVRsL7pt6P/mQj4+XHsE
VSBrAgMBAAGjIzAhMA4GA1UdDwEB/wQEAwIAATAPBgNVHRMBAf8EBTADAQH/MA0G
CSqGSIb3DQEBCwUAA4ICAQCSizqBB3bjHCSGk/8lpqIyHJQR5u4Cf7LRrC9U8mxe
pvC3Fx3/RlVe87Y4cUb37xZc/TmB6Bq10Y6R7ydS3oe8PCh4UQRnEfBgtJ6m59ha
t3iPX0NdQVYz/D+yEiHjpI7gpyFNuGkd4/78JE51SO4yGYvWk/ChHoMvbLcxzfdK
PI2Ymf3MWtGfoF/TQ1jy/Biy+qumDPSz23MynQG39cdUInSK26oemUbTH0koLulN
fNl4TwSEdSm2DRl0la+vkrzu7SvF9SJ2ES6wMWVjYiJLNpApjGuF9/ZOFw9DvSSH
m+UYXn+IC7rTgvXKvXTlG//z/14Lx0GFIY+ZjdENwLH//orBQLg37TZatKEpaWO6
uRzFUxZVw3ic3RxoHfEbRA9vQlQdKnV+BpZe/Pb08RAh82OZyujqqyK7cPPOW5Vi
T9y+NeMwfKH8H4un7mQWkgWFw3LMIspYY5uHWp6jBwU9u/mjoK4+Y219dkaAhAcx
D+YIZRXwxc6ehLCavGF2DIepybzDlJbiCe8JxUDsrE/Xkm6x28uq35oZ3UQznubU
7LfAeRSI99sNvFnq0TqhSlp+CUDs8Z1LvDXzAHX4UeZQl4g+H+w1KudCvjO0mPPp
R9bIjJLIvp7CQPDkdRzJSjvetrKtI0l97VjsjbRB9v6ZekGY9SFI49KzKUTk8fsF
/A==
-----END CERTIFICATE-----
"""
# The extensions Go's x509.CreateCertificate writes for SignKey's template, as DER:
# KeyUsage (2.5.29.15) critical, BIT STRING encipherOnly; BasicConstraints (2.5.29.19)
# critical, CA TRUE, no path length. Both appear verbatim in UPSTREAM_TEST_CERT.
GO_KEY_USAGE_EXTENSION = bytes.fromhex("300e0603551d0f0101ff040403020001")
GO_BASIC_CONSTRAINTS_EXTENSION = bytes.fromhex("300f0603551d130101ff040530030101ff")


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_a() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_b() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def controller_pair() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    return generate_sealing_key(now=NOW, bits=2048, common_name="sealed-secrets")


def make_cert(
    subject_key: CertificateIssuerPublicKeyTypes,
    signer: rsa.RSAPrivateKey,
    *,
    not_before: datetime,
    not_after: datetime,
) -> bytes:
    """A certificate PEM for ``subject_key``, signed by ``signer``, with the given validity."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(signer, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def cert_for(key: rsa.RSAPrivateKey, *, not_before: datetime, not_after: datetime) -> bytes:
    return make_cert(key.public_key(), key, not_before=not_before, not_after=not_after)


def refused(pem: bytes, match: str, *, now: datetime = NOW) -> SealingError:
    with pytest.raises(SealingError, match=match) as caught:
        load_sealing_certificate(pem, source=SOURCE, now=now)
    assert SOURCE in str(caught.value)
    return caught.value


def refused_keys(data: bytes, match: str, source: str = "backup.key") -> SealingError:
    with pytest.raises(SealingError, match=match) as caught:
        load_private_keys(data, source=source)
    assert source in str(caught.value)
    return caught.value


def assert_no_key_material(error: Exception, pem: bytes) -> None:
    """No line of the key's base64 body, nor any 16-character piece of it, is in the message."""
    text = str(error)
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    for start in range(0, len(body) - 16, 8):
        assert body[start : start + 16].decode() not in text


def yaml_text(document: Any) -> bytes:
    stream = io.StringIO()
    YAML().dump(document, stream)
    return stream.getvalue().encode()


def as_backed_up(secret: dict[str, Any], uid: str) -> dict[str, Any]:
    """A key Secret as ``kubectl get -o yaml`` prints it: server fields added."""
    metadata = {
        **secret["metadata"],
        "creationTimestamp": "2026-04-01T10:00:00Z",
        "resourceVersion": "4711",
        "uid": uid,
    }
    return {**secret, "metadata": metadata}


# --- load_sealing_certificate: what is accepted ---------------------------------------------


def test_loads_the_certificate_of_a_generated_key(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    key, certificate = controller_pair
    sealing, warnings = load_sealing_certificate(
        certificate_pem(certificate), source=SOURCE, now=NOW
    )
    assert warnings == []
    assert sealing == SealingCertificate(
        public_key=sealing.public_key,
        not_before=NOW,
        not_after=NOW + timedelta(days=3650),
        fingerprint=fingerprint(key.public_key()),
        source=SOURCE,
    )
    assert sealing.public_key.public_numbers() == key.public_key().public_numbers()
    assert sealing.days_left(NOW) == 3650
    assert sealing.days_left(NOW + timedelta(days=3649, hours=1)) == 0


def test_loads_the_go_made_certificate_from_upstream_tests() -> None:
    # cryptography cannot read this certificate's KeyUsage, so the loader must not touch it.
    now = datetime(2024, 1, 1, tzinfo=UTC)
    sealing, warnings = load_sealing_certificate(UPSTREAM_TEST_CERT, source=SOURCE, now=now)
    assert warnings == []
    assert sealing.public_key.key_size == 4096
    assert sealing.public_key.public_numbers().e == 65537
    assert sealing.not_before == datetime(2017, 6, 20, 4, 32, 45, tzinfo=UTC)
    assert sealing.not_after == datetime(2027, 6, 18, 4, 32, 45, tzinfo=UTC)


def test_several_certificates_use_the_first_and_warn(key_a: rsa.RSAPrivateKey) -> None:
    first = cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(days=400))
    sealing, warnings = load_sealing_certificate(first + UPSTREAM_TEST_CERT, source=SOURCE, now=NOW)
    assert sealing.fingerprint == fingerprint(key_a.public_key())
    assert len(warnings) == 1
    assert SOURCE in warnings[0]
    assert "2 certificates; using the first" in warnings[0]


def test_bare_public_key_is_accepted_with_a_warning(key_a: rsa.RSAPrivateKey) -> None:
    pkcs1 = key_a.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    for pem in (public_key_pem(key_a.public_key()), pkcs1):
        sealing, warnings = load_sealing_certificate(pem, source=SOURCE, now=NOW)
        assert (sealing.not_before, sealing.not_after) == (None, None)
        assert sealing.days_left(NOW) is None
        assert sealing.fingerprint == fingerprint(key_a.public_key())
        assert len(warnings) == 1
        assert SOURCE in warnings[0]
        assert "no expiry" in warnings[0]


def test_certificate_next_to_a_private_key_is_used_with_a_warning(
    key_a: rsa.RSAPrivateKey,
) -> None:
    pem = private_key_pem(key_a) + cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(400))
    sealing, warnings = load_sealing_certificate(pem, source=SOURCE, now=NOW)
    assert sealing.fingerprint == fingerprint(key_a.public_key())
    assert len(warnings) == 1
    assert "private key" in warnings[0]
    assert SOURCE in warnings[0]
    assert_no_key_material(ValueError(warnings[0]), private_key_pem(key_a))


def test_crlf_line_endings_and_surrounding_text_are_accepted(key_a: rsa.RSAPrivateKey) -> None:
    pem = cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(days=400))
    crlf = b"subject=CN = test\r\n" + pem.replace(b"\n", b"\r\n")
    sealing, warnings = load_sealing_certificate(crlf, source=SOURCE, now=NOW)
    assert sealing.fingerprint == fingerprint(key_a.public_key())
    assert warnings == []


# --- load_sealing_certificate: validity and the 30-day warning -------------------------------


def test_expired_certificate_is_refused(key_a: rsa.RSAPrivateKey) -> None:
    not_after = NOW - timedelta(days=2)
    pem = cert_for(key_a, not_before=NOW - timedelta(days=400), not_after=not_after)
    error = refused(pem, "expired on 2026-04-29 12:00:00 UTC")
    assert "kubeseal --fetch-cert" in str(error)


def test_expiry_instant_itself_is_still_valid_like_kubeseal(key_a: rsa.RSAPrivateKey) -> None:
    # kubeseal refuses when time.Now().After(NotAfter): the NotAfter second itself passes.
    pem = cert_for(key_a, not_before=NOW - timedelta(days=400), not_after=NOW)
    sealing, warnings = load_sealing_certificate(pem, source=SOURCE, now=NOW)
    assert sealing.days_left(NOW) == 0
    assert "expires in 0 days" in warnings[0]
    refused(pem, "expired on", now=NOW + timedelta(seconds=1))


def test_not_yet_valid_certificate_is_refused(key_a: rsa.RSAPrivateKey) -> None:
    pem = cert_for(key_a, not_before=NOW + timedelta(hours=1), not_after=NOW + timedelta(400))
    error = refused(pem, "not valid until 2026-05-01 13:00:00 UTC")
    assert "clock" in str(error)
    load_sealing_certificate(pem, source=SOURCE, now=NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    ("left", "warned"),
    [
        (timedelta(days=30), False),
        (timedelta(days=30) - timedelta(seconds=1), True),
        (timedelta(days=1), True),
        (timedelta(days=31), False),
    ],
)
def test_warning_when_fewer_than_30_days_remain(
    key_a: rsa.RSAPrivateKey, left: timedelta, warned: bool
) -> None:
    pem = cert_for(key_a, not_before=NOW - timedelta(days=300), not_after=NOW + left)
    _, warnings = load_sealing_certificate(pem, source=SOURCE, now=NOW)
    assert bool(warnings) is warned
    if warned:
        assert SOURCE in warnings[0]
        assert f"expires in {left.days} days" in warnings[0]


def test_naive_now_is_a_programming_error(key_a: rsa.RSAPrivateKey) -> None:
    pem = cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(days=400))
    with pytest.raises(ValueError, match="timezone-aware"):
        load_sealing_certificate(pem, source=SOURCE, now=datetime(2026, 5, 1))


# --- load_sealing_certificate: hostile and mistaken inputs ----------------------------------


def test_ec_and_ed25519_keys_are_refused_by_name(key_a: rsa.RSAPrivateKey) -> None:
    validity = {"not_before": NOW, "not_after": NOW + timedelta(days=400)}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    refused(make_cert(ec_key.public_key(), key_a, **validity), r"EC \(secp256r1\) key")
    refused(make_cert(ed_key.public_key(), key_a, **validity), "Ed25519 key")
    bare_ec = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    refused(bare_ec, r"EC \(secp256r1\) key.*RSA keys only")


def test_1024_bit_rsa_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    refused(cert_for(small, not_before=NOW, not_after=NOW + timedelta(400)), "1024-bit RSA")
    refused(public_key_pem(small.public_key()), "at least 2048 bits")


@pytest.mark.parametrize("data", [b"", b"  \n\t\n"])
def test_empty_input_is_refused(data: bytes) -> None:
    refused(data, "empty")


def test_truncated_pem_is_refused(key_a: rsa.RSAPrivateKey) -> None:
    pem = cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(days=400))
    error = refused(pem[: len(pem) // 2], "no END line: the file is truncated")
    assert error.location is not None
    assert error.location.line == 1
    # A certificate followed by a cut-off second one: the second is the broken block.
    refused(pem + pem[:100], "truncated")


def test_damaged_pem_body_is_refused(key_a: rsa.RSAPrivateKey) -> None:
    lines = cert_for(key_a, not_before=NOW, not_after=NOW + timedelta(days=400)).splitlines()
    damaged = b"\n".join(lines[:5] + lines[9:]) + b"\n"
    refused(damaged, "damaged")
    refused(public_key_pem(key_a.public_key()).replace(b"A", b"*"), "damaged")


def test_garbage_and_der_are_refused(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    refused(b"hello, this is not a certificate\n", "no PEM block")
    refused(bytes(range(1, 200)), "no PEM block")
    der = controller_pair[1].public_bytes(serialization.Encoding.DER)
    refused(der, "binary DER, not PEM")


def test_private_key_given_as_certificate_is_refused_without_echo(
    key_a: rsa.RSAPrivateKey,
) -> None:
    pkcs8 = key_a.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for pem in (private_key_pem(key_a), pkcs8):
        error = refused(pem, "this is a private key; give the certificate")
        assert_no_key_material(error, pem)


def test_other_pem_blocks_are_refused(key_a: rsa.RSAPrivateKey) -> None:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key_a, hashes.SHA256())
    )
    refused(request.public_bytes(serialization.Encoding.PEM), "'CERTIFICATE REQUEST' block")


# --- fingerprint ----------------------------------------------------------------------------


def _ssh_mpint(value: int) -> bytes:
    """RFC 4251 mpint for a positive integer: big-endian, a zero byte when the top bit is set."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return len(raw).to_bytes(4, "big") + raw


def test_fingerprint_matches_an_independent_computation(key_a: rsa.RSAPrivateKey) -> None:
    numbers = key_a.public_key().public_numbers()
    wire = b"\x00\x00\x00\x07ssh-rsa" + _ssh_mpint(numbers.e) + _ssh_mpint(numbers.n)
    expected = base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")
    assert fingerprint(key_a.public_key()) == "SHA256:" + expected


def test_fingerprint_format(key_a: rsa.RSAPrivateKey, key_b: rsa.RSAPrivateKey) -> None:
    value = fingerprint(key_a.public_key())
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", value)
    assert value != fingerprint(key_b.public_key())


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_fingerprint_matches_ssh_keygen(key_a: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    upstream = x509.load_pem_x509_certificate(UPSTREAM_TEST_CERT).public_key()
    assert isinstance(upstream, rsa.RSAPublicKey)
    for public_key in (key_a.public_key(), upstream):
        line = public_key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        path = tmp_path / "key.pub"
        path.write_bytes(line + b" test\n")
        output = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert output.split()[1] == fingerprint(public_key)


# --- generate_sealing_key -------------------------------------------------------------------


def test_generated_certificate_is_shaped_like_the_controllers(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    key, certificate = controller_pair
    certificate.verify_directly_issued_by(certificate)  # self-signed
    assert certificate.public_key() == key.public_key()
    assert certificate.version == x509.Version.v3
    assert certificate.not_valid_before_utc == NOW
    assert certificate.not_valid_after_utc == NOW + timedelta(days=3650)
    assert 0 < certificate.serial_number < 2**128
    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == "CN=sealed-secrets"
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    tbs = certificate.tbs_certificate_bytes
    assert GO_KEY_USAGE_EXTENSION in tbs
    assert GO_BASIC_CONSTRAINTS_EXTENSION in tbs
    # SubjectKeyIdentifier (2.5.29.14): SHA-256 of PKCS#1 RSAPublicKey DER, cut to 20 bytes.
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    key_id = hashlib.sha256(public_der).digest()[:20]
    assert bytes.fromhex("0603551d0e04160414") + key_id in tbs
    # The same DER as the Go-made certificate from upstream's tests.
    upstream_tbs = x509.load_pem_x509_certificate(UPSTREAM_TEST_CERT).tbs_certificate_bytes
    assert GO_KEY_USAGE_EXTENSION in upstream_tbs
    assert GO_BASIC_CONSTRAINTS_EXTENSION in upstream_tbs


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_reads_the_generated_certificate(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text"],
        input=certificate_pem(controller_pair[1]),
        check=True,
        capture_output=True,
    ).stdout.decode()
    assert re.search(r"Key Usage: critical\s+Encipher Only\s", text)
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE\s", text)
    assert "Subject Key Identifier" in text


def test_generated_certificate_defaults_at_4096_bits() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, 987654, tzinfo=UTC)
    key, certificate = generate_sealing_key(now=now)
    assert key.key_size == 4096
    assert certificate.subject == x509.Name([])  # Go omits an empty CN
    assert certificate.not_valid_before_utc == NOW  # to the second
    assert certificate.not_valid_after_utc == NOW + timedelta(hours=87600)
    sealing, warnings = load_sealing_certificate(certificate_pem(certificate), source="x", now=now)
    assert sealing.public_key.key_size == 4096
    assert warnings == []


def test_generation_refuses_weak_or_empty_parameters() -> None:
    with pytest.raises(SealingError, match="at least 2048 bits"):
        generate_sealing_key(now=NOW, bits=1024)
    with pytest.raises(SealingError, match="validity must be positive"):
        generate_sealing_key(now=NOW, bits=2048, validity=timedelta(0))


def test_generated_serials_differ() -> None:
    first = generate_sealing_key(now=NOW, bits=2048)[1]
    second = generate_sealing_key(now=NOW, bits=2048)[1]
    assert first.serial_number != second.serial_number


# --- PEM helpers and the controller key Secret ----------------------------------------------


def test_pem_helpers(controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate]) -> None:
    key, certificate = controller_pair
    key_pem = private_key_pem(key)
    # the marker is built in two parts so a scan for committed keys does not flag this test
    assert key_pem.startswith(b"-----BEGIN " + b"RSA PRIVATE KEY-----\n")
    loaded = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    assert certificate_pem(certificate).startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert x509.load_pem_x509_certificate(certificate_pem(certificate)) == certificate
    pub = public_key_pem(key.public_key())
    assert pub.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert serialization.load_pem_public_key(pub) == key.public_key()


def test_controller_key_secret_shape(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    key, certificate = controller_pair
    secret = controller_key_secret(key, certificate, name="sealed-secrets-key-ethnet")
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "sealed-secrets-key-ethnet",
            "namespace": "kube-system",
            "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"},
        },
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(certificate_pem(certificate)).decode(),
            "tls.key": base64.b64encode(private_key_pem(key)).decode(),
        },
    }
    assert list(secret) == ["apiVersion", "kind", "metadata", "type", "data"]
    assert list(secret["metadata"]) == ["name", "namespace", "labels"]
    assert list(secret["data"]) == ["tls.crt", "tls.key"]
    other = controller_key_secret(key, certificate, namespace="sealed-secrets", name="k")
    assert other["metadata"]["namespace"] == "sealed-secrets"


def test_controller_key_secret_refuses_a_foreign_certificate(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate], key_b: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(ValueError, match="does not belong"):
        controller_key_secret(key_b, controller_pair[1], name="k")


def test_controller_key_secret_round_trips_through_recovery(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    key, certificate = controller_pair
    text = yaml_text(controller_key_secret(key, certificate, name="sealed-secrets-key-ethnet"))
    (loaded,) = load_private_keys(text, source="backup.yaml")
    assert loaded.private_numbers() == key.private_numbers()


# --- load_private_keys: accepted forms ------------------------------------------------------


def test_pkcs1_and_pkcs8_pem_are_accepted(key_a: rsa.RSAPrivateKey) -> None:
    pkcs8 = key_a.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert pkcs8.startswith(b"-----BEGIN " + b"PRIVATE KEY-----")
    for pem in (private_key_pem(key_a), pkcs8):
        (loaded,) = load_private_keys(pem, source="main.key")
        assert loaded.private_numbers() == key_a.private_numbers()


def test_several_pem_keys_in_one_file(key_a: rsa.RSAPrivateKey, key_b: rsa.RSAPrivateKey) -> None:
    bundle = private_key_pem(key_a) + b"\n" + private_key_pem(key_b)
    loaded = load_private_keys(bundle, source="keys.pem")
    assert [k.private_numbers() for k in loaded] == [
        key_a.private_numbers(),
        key_b.private_numbers(),
    ]
    # The same key twice is returned once; a certificate beside a key is skipped.
    again = private_key_pem(key_a) + private_key_pem(key_a) + UPSTREAM_TEST_CERT
    assert len(load_private_keys(again, source="keys.pem")) == 1


def test_list_of_two_secrets_gives_two_keys(
    key_a: rsa.RSAPrivateKey, key_b: rsa.RSAPrivateKey
) -> None:
    items = []
    for index, key in enumerate((key_a, key_b)):
        certificate = x509.load_pem_x509_certificate(
            cert_for(key, not_before=NOW, not_after=NOW + timedelta(days=3650))
        )
        secret = controller_key_secret(key, certificate, name=f"sealed-secrets-key{index}")
        items.append(as_backed_up(secret, uid=f"uid-{index}"))
    listing = {
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    loaded = load_private_keys(yaml_text(listing), source="main.key")
    assert [k.private_numbers() for k in loaded] == [
        key_a.private_numbers(),
        key_b.private_numbers(),
    ]
    # Two Secret documents in one file, and the JSON form of the List, read the same.
    two_documents = yaml_text(items[0]) + b"---\n" + yaml_text(items[1])
    assert len(load_private_keys(two_documents, source="main.key")) == 2
    assert len(load_private_keys(json.dumps(listing).encode(), source="main.json")) == 2


# --- load_private_keys: refused inputs ------------------------------------------------------


def test_encrypted_keys_are_refused(key_a: rsa.RSAPrivateKey) -> None:
    for private_format in (
        serialization.PrivateFormat.PKCS8,
        serialization.PrivateFormat.TraditionalOpenSSL,
    ):
        pem = key_a.private_bytes(
            serialization.Encoding.PEM,
            private_format,
            serialization.BestAvailableEncryption(b"correct horse"),
        )
        error = refused_keys(pem, "encrypted with a password")
        assert_no_key_material(error, pem)


def test_non_rsa_private_keys_are_refused_by_name() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    no_encryption = serialization.NoEncryption()
    cases = [
        (
            ec_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, no_encryption
            ),
            r"EC \(secp256r1\) key",
        ),
        (
            ec_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                no_encryption,
            ),
            r"EC \(secp256r1\) key",
        ),
        (
            ed_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, no_encryption
            ),
            "Ed25519 key",
        ),
        (
            ed_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, no_encryption
            ),
            "'OPENSSH PRIVATE KEY' block",
        ),
    ]
    for pem, match in cases:
        error = refused_keys(pem, match)
        assert_no_key_material(error, pem)


def test_empty_garbage_and_keyless_inputs_are_refused(key_a: rsa.RSAPrivateKey) -> None:
    refused_keys(b"", "empty")
    refused_keys(b"\n  \n", "empty")
    refused_keys(b"\xff\xfe\x00garbage", "not UTF-8")
    refused_keys(b"just some words\n", "neither PEM private keys nor a Secret or List")
    error = refused_keys(b"kind: Secret\ndata: [unclosed\n", "nor valid YAML")
    assert error.location is not None
    assert error.location.line is not None
    refused_keys(UPSTREAM_TEST_CERT, "holds no private key")
    refused_keys(public_key_pem(key_a.public_key()), "holds no private key")
    refused_keys(yaml_text({"apiVersion": "v1", "kind": "List", "items": []}), "no private key")
    refused_keys(yaml_text({"apiVersion": "v1", "kind": "ConfigMap"}), "is a ConfigMap")


def test_truncated_and_damaged_private_keys_are_refused(key_a: rsa.RSAPrivateKey) -> None:
    pem = private_key_pem(key_a)
    error = refused_keys(pem[: len(pem) // 2], "truncated")
    assert_no_key_material(error, pem)
    lines = pem.splitlines()
    damaged = b"\n".join(lines[:4] + lines[8:]) + b"\n"
    error = refused_keys(damaged, "damaged")
    assert_no_key_material(error, pem)


def test_bad_list_items_are_named(
    controller_pair: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    key, certificate = controller_pair
    good = controller_key_secret(key, certificate, name="sealed-secrets-keyaaaaa")
    no_key = controller_key_secret(key, certificate, name="sealed-secrets-keybbbbb")
    del no_key["data"]["tls.key"]
    not_base64 = controller_key_secret(key, certificate, name="sealed-secrets-keyccccc")
    not_base64["data"]["tls.key"] = "%%% not base64 %%%"
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ec_secret = controller_key_secret(key, certificate, name="sealed-secrets-keyddddd")
    ec_secret["data"]["tls.key"] = base64.b64encode(ec_pem).decode()

    def listing(*items: Any) -> bytes:
        return yaml_text({"apiVersion": "v1", "kind": "List", "items": list(items)})

    refused_keys(
        listing(good, no_key),
        r"items\[1\] \(Secret kube-system/sealed-secrets-keybbbbb\): .*no data\['tls.key'\]",
    )
    refused_keys(listing(not_base64), r"items\[0\] .*not valid base64")
    error = refused_keys(listing(good, good, ec_secret), r"items\[2\] .*EC \(secp256r1\) key")
    assert_no_key_material(error, ec_pem)
    refused_keys(listing({"kind": "ConfigMap"}), r"items\[0\] is a ConfigMap, not a Secret")
    refused_keys(listing("a string"), r"items\[0\] is a str, not a Secret")
