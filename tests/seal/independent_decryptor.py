"""A second, minimal SealedSecret decryptor, written from the format description alone.

It deliberately imports nothing from ethnet, so a shared misreading of the format cannot hide:

- label: strict ``"<namespace>/<name>"``, namespace-wide ``"<namespace>"``, cluster-wide
  ``""``, picked from the SealedSecret's own annotations ``sealedsecrets.bitnami.com/
  cluster-wide`` / ``namespace-wide`` (value ``"true"``; cluster-wide first);
- each ``spec.encryptedData`` value: standard base64 of
  ``uint16 big-endian n || RSA-OAEP(SHA-256, MGF1-SHA256, label)(session key) [n bytes] ||
  AES-256-GCM(zero 12-byte nonce, no AAD)(value) || 16-byte tag``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def label_of(metadata: Mapping[str, Any]) -> bytes:
    """The OAEP label the controller would use for a SealedSecret with this metadata."""
    annotations = metadata.get("annotations") or {}
    if annotations.get("sealedsecrets.bitnami.com/cluster-wide") == "true":
        return b""
    if annotations.get("sealedsecrets.bitnami.com/namespace-wide") == "true":
        return str(metadata["namespace"]).encode()
    return f"{metadata['namespace']}/{metadata['name']}".encode()


def decrypt_blob(private_key: rsa.RSAPrivateKey, label: bytes, blob: bytes) -> bytes:
    """Open one decoded encryptedData value; raises on any mismatch."""
    size = int.from_bytes(blob[:2], "big")
    wrapped, sealed = blob[2 : 2 + size], blob[2 + size :]
    oaep = padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=label if label else None,
    )
    session_key = private_key.decrypt(wrapped, oaep)
    return AESGCM(session_key).decrypt(bytes(12), sealed, None)


def decrypt_sealed_secret(
    doc: Mapping[str, Any], private_key: rsa.RSAPrivateKey
) -> dict[str, bytes]:
    """Every item of a SealedSecret, decrypted."""
    label = label_of(doc["metadata"])
    return {
        key: decrypt_blob(private_key, label, base64.b64decode(value))
        for key, value in doc["spec"]["encryptedData"].items()
    }
