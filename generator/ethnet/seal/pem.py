"""PEM parsing shared by certificates and recovery keys: blocks, key kinds, short names.

No message here ever quotes key material: only labels, line numbers and key algorithms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from ethnet.errors import Location, SealingError

PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
PEM_ENCRYPTED_HEADER = re.compile(rb"^Proc-Type:[ \t]*4,[ \t]*ENCRYPTED", re.MULTILINE)


@dataclass(frozen=True)
class PemBlock:
    """One PEM block of a file."""

    label: str
    text: bytes  # the whole block, BEGIN and END lines included
    line: int  # 1-based line of the BEGIN marker


def pem_blocks(data: bytes, source: str, where: str = "") -> list[PemBlock]:
    """The PEM blocks in ``data``, in order; a BEGIN with no END is a truncated file."""
    blocks: list[PemBlock] = []
    position = 0
    while match := PEM_BEGIN.search(data, position):
        label = match.group(1).decode("ascii")
        end_marker = b"-----END " + match.group(1) + b"-----"
        end = data.find(end_marker, match.end())
        following = PEM_BEGIN.search(data, match.end())
        line = data.count(b"\n", 0, match.start()) + 1
        if end < 0 or (following is not None and following.start() < end):
            raise SealingError(
                f"{where}the PEM {label!r} block has no END line: the file is truncated",
                location=Location(source, None if where else line),
            )
        position = end + len(end_marker)
        blocks.append(PemBlock(label, data[match.start() : position] + b"\n", line))
    return blocks


def key_kind(key: PublicKeyTypes | PrivateKeyTypes) -> str:
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


def short(value: object, limit: int = 80) -> str:
    """A user-given name or kind for a message, cut to ``limit`` characters."""
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
