"""Controller private keys for disaster recovery, as ``kubeseal --recovery-unseal`` reads them.

PEM private keys, or the YAML of backed-up controller key Secrets (a Secret, a ``v1`` List,
or several documents). No message ever quotes key material.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ethnet.errors import Location, SealingError
from ethnet.seal.certs import KEY_LABEL, fingerprint
from ethnet.seal.pem import PEM_BEGIN, PEM_ENCRYPTED_HEADER, key_kind, pem_blocks, short

_LOADABLE_PRIVATE_KEY_LABELS = ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY")
_SECRET_LIST_KINDS = ("List", "SecretList")


def load_private_keys(data: bytes, *, source: str) -> list[rsa.RSAPrivateKey]:
    """Controller private keys for offline unsealing, as ``--recovery-private-key`` reads them.

    Accepts PEM with one or more unencrypted RSA keys (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
    "PRIVATE KEY"; certificates beside them are skipped), or YAML: a backed-up key Secret, a
    ``v1`` List of them (``kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
    -o yaml``), or several such documents. A key given twice is returned once.
    """
    if not data.strip():
        raise SealingError("the private key file is empty", location=Location(source))
    if PEM_BEGIN.search(data):
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
    for block in pem_blocks(data, source, where):
        if not block.label.endswith("PRIVATE KEY"):
            continue
        location = Location(source, None if where else block.line)
        what = f"{where}private key" if where else "the private key"
        if block.label == "ENCRYPTED PRIVATE KEY" or PEM_ENCRYPTED_HEADER.search(block.text):
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
                f"{what} is {key_kind(key)}; Sealed Secrets keys are RSA",
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
                f"{subject} is a {short(kind)}, not a Secret or List of Secrets",
                hint=hint,
                location=Location(source),
            )
    return keys


def _key_from_secret(item: object, source: str, where: str) -> rsa.RSAPrivateKey:
    """The key in one Secret's ``data["tls.key"]``; ``where`` names the item in messages."""
    location = Location(source)
    if not isinstance(item, dict) or item.get("kind", "Secret") != "Secret":
        kind = item.get("kind") if isinstance(item, dict) else type(item).__name__
        raise SealingError(f"{where} is a {short(kind)}, not a Secret", location=location)
    metadata = item.get("metadata")
    if isinstance(metadata, dict) and metadata.get("name"):
        namespace = metadata.get("namespace")
        full = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
        where = f"{where} (Secret {short(full)})".lstrip()
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
