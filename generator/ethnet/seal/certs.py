"""Sealed Secrets controller keys: the sealing certificate and new key pairs.

What the upstream code does, and what we copy (bitnami-labs/sealed-secrets):

- ``kubeseal --fetch-cert`` prints the controller's current certificate as PEM.
  ``kubeseal.ParseKey`` takes the first certificate, wants an RSA key and refuses an expired
  certificate (``time.Now().After(NotAfter)``). We also refuse a certificate that is not yet
  valid and RSA keys under 2048 bits, and we accept a bare ``PUBLIC KEY`` with a warning
  (kubeseal itself only takes certificates; the ciphertext depends on the key alone).
- ``crypto.GeneratePrivateKeyAndCert`` / ``SignKey`` make the controller's key pair; see
  ``generate_sealing_key`` for the certificate fields, field by field.
- ``controller.writeKey`` stores each key as a ``kubernetes.io/tls`` Secret labelled
  ``sealedsecrets.bitnami.com/sealed-secrets-key: active``, with ``tls.key`` as PKCS#1 PEM.
- ``crypto.PublicKeyFingerprint`` names a key by ``ssh.FingerprintSHA256``.
- ``kubeseal --recovery-unseal`` keys (PEM, or backed-up key Secrets) are read by
  ``ethnet.seal.recovery``.

Everything here works on bytes: callers read the files and pass a ``source`` name, which every
error and warning names. No message ever quotes private key material.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtensionOID, NameOID

from ethnet.errors import Location, SealingError
from ethnet.seal.pem import PemBlock, key_kind, pem_blocks

MIN_RSA_BITS = 2048
EXPIRY_WARNING = timedelta(days=30)  # the controller's default --key-renew-period
KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
FETCH_HINT = "fetch the controller's current certificate with kubeseal --fetch-cert"

# Go's x509.KeyUsageEncipherOnly as x509.CreateCertificate writes it: a BIT STRING with only
# bit 7 set (03 02 00 01). cryptography's KeyUsage class refuses encipher_only without
# key_agreement, so the extension is added as raw DER.
_KEY_USAGE_ENCIPHER_ONLY_DER = b"\x03\x02\x00\x01"
_SERIAL_LIMIT = 1 << 128  # rand.Int(r, 2^128) in SignKey

_CERTIFICATE_LABEL = "CERTIFICATE"
_PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")


@dataclass(frozen=True)
class SealingCertificate:
    """The public half of a controller key, as given to ethnet to seal with."""

    public_key: rsa.RSAPublicKey
    not_before: datetime | None  # None when a bare public key was given
    not_after: datetime | None  # None when a bare public key was given
    fingerprint: str  # the controller's name for the key: "SHA256:..."
    source: str  # where it came from, for messages

    def days_left(self, now: datetime) -> int | None:
        """Whole days until the certificate expires (negative after); None if unknown."""
        if self.not_after is None:
            return None
        return (self.not_after - now).days


# --- the sealing certificate ----------------------------------------------------------------


def load_sealing_certificate(
    pem: bytes, *, source: str, now: datetime
) -> tuple[SealingCertificate, list[str]]:
    """Read the certificate (or bare public key) that secrets will be sealed with.

    Returns the certificate and warnings: several certificates, a private key in the same
    file, no expiry known, fewer than 30 days left. Raises ``SealingError`` for anything
    kubeseal would refuse and for keys too weak or of the wrong type.
    """
    _require_aware(now)
    blocks = pem_blocks(pem, source)
    if not blocks:
        raise _not_pem(pem, source, "the certificate that kubeseal --fetch-cert prints")

    certificates = [b for b in blocks if b.label == _CERTIFICATE_LABEL]
    public_keys = [b for b in blocks if b.label in _PUBLIC_KEY_LABELS]
    private_keys = [b for b in blocks if b.label.endswith("PRIVATE KEY")]
    warnings: list[str] = []
    if private_keys and (certificates or public_keys):
        warnings.append(
            f"{source}: the file also holds a private key, which ethnet ignores; "
            "keep controller private keys out of the repository"
        )

    if certificates:
        if len(certificates) > 1:
            warnings.append(
                f"{source}: the file holds {len(certificates)} certificates; using the first "
                f"(line {certificates[0].line})"
            )
        sealing = _from_certificate(certificates[0], source, now)
    elif public_keys:
        sealing = _from_public_key(public_keys[0], source)
        warnings.append(
            f"{source}: a bare public key has no expiry date, so ethnet cannot warn before "
            "the controller's certificate expires; prefer the output of kubeseal --fetch-cert"
        )
    elif private_keys:
        raise SealingError(
            "this is a private key; give the certificate",
            hint=FETCH_HINT,
            location=Location(source, private_keys[0].line),
        )
    else:
        raise SealingError(
            f"the file holds a PEM {blocks[0].label!r} block, not a certificate",
            hint=FETCH_HINT,
            location=Location(source, blocks[0].line),
        )

    remaining = None if sealing.not_after is None else sealing.not_after - now
    if remaining is not None and remaining < EXPIRY_WARNING:
        warnings.append(
            f"{source}: the sealing certificate expires in {remaining.days} days, on "
            f"{_date(sealing.not_after)}; kubeseal refuses expired certificates, so renew "
            "the controller key and fetch its new certificate soon"
        )
    return sealing, warnings


def _from_certificate(block: PemBlock, source: str, now: datetime) -> SealingCertificate:
    location = Location(source, block.line)
    try:
        certificate = x509.load_pem_x509_certificate(block.text)
    except ValueError:
        raise SealingError(
            "the certificate is damaged: its content does not parse (truncated or edited?)",
            hint=FETCH_HINT,
            location=location,
        ) from None
    # Only the key and the validity are read: cryptography cannot represent the KeyUsage
    # the controller writes (encipher only), so certificate.extensions would raise.
    public_key = _sealing_public_key(certificate.public_key(), location)
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    if now > not_after:
        raise SealingError(
            f"the sealing certificate expired on {_date(not_after)}; {FETCH_HINT}",
            location=location,
        )
    if now < not_before:
        raise SealingError(
            f"the sealing certificate is not valid until {_date(not_before)} (now is {_date(now)})",
            hint="check this machine's clock, or " + FETCH_HINT,
            location=location,
        )
    return SealingCertificate(public_key, not_before, not_after, fingerprint(public_key), source)


def _from_public_key(block: PemBlock, source: str) -> SealingCertificate:
    location = Location(source, block.line)
    try:
        loaded = serialization.load_pem_public_key(block.text)
    except (ValueError, UnsupportedAlgorithm):
        raise SealingError(
            "the public key is damaged: its content does not parse (truncated or edited?)",
            hint=FETCH_HINT,
            location=location,
        ) from None
    public_key = _sealing_public_key(loaded, location)
    return SealingCertificate(public_key, None, None, fingerprint(public_key), source)


def _sealing_public_key(key: PublicKeyTypes, location: Location) -> rsa.RSAPublicKey:
    if not isinstance(key, rsa.RSAPublicKey):
        raise SealingError(
            f"the key is {key_kind(key)}; Sealed Secrets seals with RSA keys only",
            hint=FETCH_HINT,
            location=location,
        )
    if key.key_size < MIN_RSA_BITS:
        raise SealingError(
            f"the key is a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are "
            "needed (the controller makes 4096-bit keys)",
            hint=FETCH_HINT,
            location=location,
        )
    return key


def fingerprint(public_key: rsa.RSAPublicKey) -> str:
    """The controller's name for a key: ``ssh.FingerprintSHA256(ssh.NewPublicKey(pub))``.

    "SHA256:" + unpadded standard base64 of SHA-256 over the SSH wire encoding
    (string "ssh-rsa", mpint e, mpint n), which is the blob of an OpenSSH public key line.
    """
    line = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    wire = base64.b64decode(line.split()[1])
    digest = hashlib.sha256(wire).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


# --- a new controller key -------------------------------------------------------------------


def generate_sealing_key(
    *,
    now: datetime,
    bits: int = 4096,
    validity: timedelta = timedelta(days=3650),
    common_name: str = "",
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A key pair and self-signed certificate like the controller's GeneratePrivateKeyAndCert.

    Field by field, as ``crypto.SignKey`` asks Go's ``x509.CreateCertificate`` for them:

    - key: RSA, ``bits`` (controller ``--key-size``, default 4096), exponent 65537 as Go uses;
    - serial: uniform random in [1, 2^128) (Go: ``rand.Int(r, 2^128)``, which may give 0;
      cryptography wants a positive serial);
    - subject = issuer: CN ``common_name`` (``--my-cn``, default empty); an empty name gives
      an empty subject, as Go's ``pkix.Name`` omits an empty CN;
    - NotBefore ``now``, NotAfter ``now + validity`` (``--key-ttl``, default 87600h = 3650
      days), both UTC and to the second;
    - BasicConstraints CA:TRUE, no path length, critical (``IsCA``,
      ``BasicConstraintsValid``);
    - KeyUsage encipherOnly alone, critical (``x509.KeyUsageEncipherOnly``), written as raw DER
      since cryptography's KeyUsage class refuses that combination: ``.extensions`` of the
      returned certificate raises ValueError, as it does for a real controller certificate;
    - SubjectKeyIdentifier: the first 160 bits of SHA-256 over the subjectPublicKey bits, which
      Go 1.25+ adds to a CA certificate that has none (golang/go#71746; earlier Go used
      SHA-1, and certificates from before Go 1.15 have none; nothing checks it);
    - signature: SHA256-RSA (PKCS#1 v1.5), what Go picks for an RSA key.
    """
    _require_aware(now)
    if bits < MIN_RSA_BITS:
        raise SealingError(f"a sealing key needs at least {MIN_RSA_BITS} bits, not {bits}")
    if validity <= timedelta(0):
        raise SealingError(f"a sealing key's validity must be positive, not {validity}")

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    not_before = now.astimezone(UTC).replace(microsecond=0)
    key_id = hashlib.sha256(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    ).digest()[:20]
    certificate = (
        x509.CertificateBuilder()
        .serial_number(secrets.randbelow(_SERIAL_LIMIT - 1) + 1)
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .not_valid_before(not_before)
        .not_valid_after(not_before + validity)
        .add_extension(
            x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, _KEY_USAGE_ENCIPHER_ONLY_DER),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(key_id), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#1 "RSA PRIVATE KEY" PEM, unencrypted, as the controller writes ``tls.key``."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    """The "CERTIFICATE" PEM block, as in ``tls.crt`` and ``kubeseal --fetch-cert``."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def public_key_pem(key: rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo "PUBLIC KEY" PEM."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def controller_key_secret(
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    namespace: str = "kube-system",
    name: str,
) -> dict[str, Any]:
    """The Secret that installs ``key`` into a controller, shaped like ``controller.writeKey``.

    The controller names its own keys ``sealed-secrets-key<random>`` through ``generateName``;
    here the caller picks a fixed name. The controller reads new key Secrets at start-up (or
    at once with ``--watch-for-secrets``).
    """
    if certificate.public_key() != key.public_key():
        raise ValueError("the certificate does not belong to the private key")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {KEY_LABEL: "active"},
        },
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(certificate_pem(certificate)).decode("ascii"),
            "tls.key": base64.b64encode(private_key_pem(key)).decode("ascii"),
        },
    }


# --- helpers --------------------------------------------------------------------------------


def _not_pem(data: bytes, source: str, wanted: str) -> SealingError:
    content = data.strip()
    if not content:
        return SealingError("the file is empty", hint=FETCH_HINT, location=Location(source))
    if content[:1] == b"\x30":  # an ASN.1 SEQUENCE: DER, not PEM
        return SealingError(
            f"the file looks like binary DER, not PEM; give {wanted}",
            hint="convert it with openssl x509 -inform DER, or " + FETCH_HINT,
            location=Location(source),
        )
    return SealingError(
        f"the file holds no PEM block; expected {wanted} (-----BEGIN CERTIFICATE-----)",
        hint=FETCH_HINT,
        location=Location(source),
    )


def _date(moment: datetime | None) -> str:
    return (
        "(unknown)" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
