"""Sealed Secrets controller keys: the sealing certificate, new key pairs, recovery keys.

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
- ``kubeseal --recovery-unseal --recovery-private-key`` reads PEM private keys, or a backed-up
  key Secret, or a ``v1`` List of them, and uses ``data["tls.key"]``.

Everything here works on bytes: callers read the files and pass a ``source`` name, which every
error and warning names. No message ever quotes private key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtensionOID, NameOID
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ethnet.errors import Location, SealingError

MIN_RSA_BITS = 2048
EXPIRY_WARNING = timedelta(days=30)  # the controller's default --key-renew-period
KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
FETCH_HINT = "fetch the controller's current certificate with kubeseal --fetch-cert"

# Go's x509.KeyUsageEncipherOnly as x509.CreateCertificate writes it: a BIT STRING with only
# bit 7 set (03 02 00 01). cryptography's KeyUsage class refuses encipher_only without
# key_agreement, so the extension is added as raw DER.
_KEY_USAGE_ENCIPHER_ONLY_DER = b"\x03\x02\x00\x01"
_SERIAL_LIMIT = 1 << 128  # rand.Int(r, 2^128) in SignKey

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_ENCRYPTED_HEADER = re.compile(rb"^Proc-Type:[ \t]*4,[ \t]*ENCRYPTED", re.MULTILINE)
_CERTIFICATE_LABEL = "CERTIFICATE"
_PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")
_LOADABLE_PRIVATE_KEY_LABELS = ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY")
_SECRET_LIST_KINDS = ("List", "SecretList")


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


@dataclass(frozen=True)
class _PemBlock:
    label: str
    text: bytes  # the whole block, BEGIN and END lines included
    line: int  # 1-based line of the BEGIN marker


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
    blocks = _pem_blocks(pem, source)
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


def _from_certificate(block: _PemBlock, source: str, now: datetime) -> SealingCertificate:
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


def _from_public_key(block: _PemBlock, source: str) -> SealingCertificate:
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
            f"the key is {_key_kind(key)}; Sealed Secrets seals with RSA keys only",
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


# --- recovery keys --------------------------------------------------------------------------


def load_private_keys(data: bytes, *, source: str) -> list[rsa.RSAPrivateKey]:
    """Controller private keys for offline unsealing, as ``--recovery-private-key`` reads them.

    Accepts PEM with one or more unencrypted RSA keys (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
    "PRIVATE KEY"; certificates beside them are skipped), or YAML: a backed-up key Secret, a
    ``v1`` List of them (``kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
    -o yaml``), or several such documents. A key given twice is returned once.
    """
    if not data.strip():
        raise SealingError("the private key file is empty", location=Location(source))
    if _PEM_BEGIN.search(data):
        keys = _private_keys_from_pem(data, source, "")
    else:
        keys = _private_keys_from_yaml(data, source)
    if not keys:
        raise SealingError(
            "the file holds no private key",
            hint="give the controller keys backed up with kubectl get secret -n kube-system "
            f"-l {KEY_LABEL} -o yaml",
            location=Location(source),
        )
    unique: dict[str, rsa.RSAPrivateKey] = {}
    for key in keys:
        unique.setdefault(fingerprint(key.public_key()), key)
    return list(unique.values())


def _private_keys_from_pem(data: bytes, source: str, where: str) -> list[rsa.RSAPrivateKey]:
    """Every private key block in ``data``; ``where`` places it inside a YAML file."""
    keys: list[rsa.RSAPrivateKey] = []
    for block in _pem_blocks(data, source, where):
        if not block.label.endswith("PRIVATE KEY"):
            continue
        location = Location(source, None if where else block.line)
        what = f"{where}private key" if where else "the private key"
        if block.label == "ENCRYPTED PRIVATE KEY" or _PEM_ENCRYPTED_HEADER.search(block.text):
            raise SealingError(
                f"{what} is encrypted with a password",
                hint="give the unencrypted key, as the controller stores it in tls.key",
                location=location,
            )
        if block.label not in _LOADABLE_PRIVATE_KEY_LABELS:
            raise SealingError(
                f"{what} is a {block.label!r} block",
                hint='give the PEM key from the controller Secret ("RSA PRIVATE KEY")',
                location=location,
            )
        try:
            key = serialization.load_pem_private_key(block.text, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise SealingError(
                f"{what} is damaged: its content does not parse (truncated or edited?)",
                location=location,
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SealingError(
                f"{what} is {_key_kind(key)}; Sealed Secrets keys are RSA",
                location=location,
            )
        keys.append(key)
    return keys


def _private_keys_from_yaml(data: bytes, source: str) -> list[rsa.RSAPrivateKey]:
    hint = f"give PEM private keys, or the YAML of kubectl get secret -l {KEY_LABEL} -o yaml"
    try:
        text = data.decode("utf-8-sig")
        documents = [d for d in YAML(typ="safe").load_all(text) if d is not None]
    except UnicodeDecodeError:
        raise SealingError(
            "the file is neither PEM private keys nor YAML (not UTF-8 text)",
            hint=hint,
            location=Location(source),
        ) from None
    except YAMLError as exc:
        # Only the position: YAML messages may quote the text, which may be a key.
        mark = exc.problem_mark if isinstance(exc, MarkedYAMLError) else None
        location = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        raise SealingError(
            "the file is neither PEM private keys nor valid YAML", hint=hint, location=location
        ) from None

    keys: list[rsa.RSAPrivateKey] = []
    for number, document in enumerate(documents, start=1):
        prefix = f"document {number}: " if len(documents) > 1 else ""
        subject = f"document {number}" if len(documents) > 1 else "the file"
        if not isinstance(document, dict):
            raise SealingError(
                f"{subject} is neither PEM private keys nor a Secret or List",
                hint=hint,
                location=Location(source),
            )
        kind = document.get("kind")
        if kind in _SECRET_LIST_KINDS:
            items = document.get("items")
            if not isinstance(items, list):
                raise SealingError(
                    f"{subject}: the {kind} has no items list", location=Location(source)
                )
            for index, item in enumerate(items):
                keys.append(_key_from_secret(item, source, f"{prefix}items[{index}]"))
        elif kind == "Secret":
            keys.append(_key_from_secret(document, source, prefix.rstrip(": ")))
        else:
            raise SealingError(
                f"{subject} is a {_short(kind)}, not a Secret or List of Secrets",
                hint=hint,
                location=Location(source),
            )
    return keys


def _key_from_secret(item: object, source: str, where: str) -> rsa.RSAPrivateKey:
    """The key in one Secret's ``data["tls.key"]``; ``where`` names the item in messages."""
    location = Location(source)
    if not isinstance(item, dict) or item.get("kind", "Secret") != "Secret":
        kind = item.get("kind") if isinstance(item, dict) else type(item).__name__
        raise SealingError(f"{where} is a {_short(kind)}, not a Secret", location=location)
    metadata = item.get("metadata")
    if isinstance(metadata, dict) and metadata.get("name"):
        namespace = metadata.get("namespace")
        full = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
        where = f"{where} (Secret {_short(full)})".lstrip()
    label = f"{where}: " if where else ""
    secret_data = item.get("data")
    encoded = secret_data.get("tls.key") if isinstance(secret_data, dict) else None
    if not isinstance(encoded, str):
        raise SealingError(
            f"{label}the Secret has no data['tls.key']",
            hint="back up the controller's key Secrets, which are of type kubernetes.io/tls",
            location=location,
        )
    try:
        pem = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SealingError(
            f"{label}data['tls.key'] is not valid base64", location=location
        ) from None
    keys = _private_keys_from_pem(pem, source, f"{label}data['tls.key']: ")
    if not keys:
        raise SealingError(f"{label}data['tls.key'] holds no PEM private key", location=location)
    if len(keys) > 1:
        raise SealingError(
            f"{label}data['tls.key'] holds {len(keys)} private keys, not one",
            location=location,
        )
    return keys[0]


# --- helpers --------------------------------------------------------------------------------


def _pem_blocks(data: bytes, source: str, where: str = "") -> list[_PemBlock]:
    """The PEM blocks in ``data``, in order; a BEGIN with no END is a truncated file."""
    blocks: list[_PemBlock] = []
    position = 0
    while match := _PEM_BEGIN.search(data, position):
        label = match.group(1).decode("ascii")
        end_marker = b"-----END " + match.group(1) + b"-----"
        end = data.find(end_marker, match.end())
        following = _PEM_BEGIN.search(data, match.end())
        line = data.count(b"\n", 0, match.start()) + 1
        if end < 0 or (following is not None and following.start() < end):
            raise SealingError(
                f"{where}the PEM {label!r} block has no END line: the file is truncated",
                location=Location(source, None if where else line),
            )
        position = end + len(end_marker)
        blocks.append(_PemBlock(label, data[match.start() : position] + b"\n", line))
    return blocks


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


def _key_kind(key: PublicKeyTypes | PrivateKeyTypes) -> str:
    """A key's algorithm in words, for messages: "an EC (secp256r1) key"."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"an EC ({key.curve.name}) key"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "an Ed25519 key"
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "an Ed448 key"
    if isinstance(key, x25519.X25519PublicKey | x25519.X25519PrivateKey):
        return "an X25519 key"
    if isinstance(key, x448.X448PublicKey | x448.X448PrivateKey):
        return "an X448 key"
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "a DSA key"
    return f"a {type(key).__name__.lstrip('_')}"


def _date(moment: datetime | None) -> str:
    return (
        "(unknown)" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )


def _short(value: object, limit: int = 80) -> str:
    """A user-given name or kind for a message, cut to ``limit`` characters."""
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
