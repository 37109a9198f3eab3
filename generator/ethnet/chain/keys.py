"""secp256k1 key pairs: the private keys behind accounts, validators and node identities.

A private key is a 32-byte scalar ``k`` with ``1 <= k < n`` (the order of the curve). Its
public key is the point ``k * G``, written as 64 bytes ``x || y`` without the ``0x04`` prefix
of the uncompressed SEC 1 form; that is the node ID of an enode URL. The account address is
the last 20 bytes of ``keccak256(x || y)``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ethnet.chain.address import to_checksum_address
from ethnet.chain.keccak import keccak256
from ethnet.errors import InvalidKeyError

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PRIVATE_KEY_LENGTH = 32
PUBLIC_KEY_LENGTH = 64
_UNCOMPRESSED_PREFIX = b"\x04"
_PRIVATE_KEY_HEX = re.compile(r"(0x)?[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class PublicKey:
    """A secp256k1 public key, kept as the 64 bytes ``x || y``."""

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes):
            raise InvalidKeyError(f"a public key is bytes, got {type(self.raw).__name__}")
        if len(self.raw) != PUBLIC_KEY_LENGTH:
            raise InvalidKeyError(
                f"a public key has {PUBLIC_KEY_LENGTH} bytes (x || y), got {len(self.raw)}"
            )
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256K1(), _UNCOMPRESSED_PREFIX + self.raw
            )
        except ValueError:
            raise InvalidKeyError(f"not a point on the secp256k1 curve: {self.raw.hex()}") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Read a public key from 64 bytes ``x || y`` or 65 bytes ``04 || x || y``."""
        if len(data) == PUBLIC_KEY_LENGTH + 1:
            if data[:1] != _UNCOMPRESSED_PREFIX:
                raise InvalidKeyError(
                    f"a 65-byte public key starts with 0x04 (uncompressed), got 0x{data[0]:02x}"
                )
            data = data[1:]
        return cls(raw=bytes(data))

    @property
    def hex(self) -> str:
        """The 128 lowercase hex digits of ``x || y``, as in an enode URL."""
        return self.raw.hex()

    @property
    def address(self) -> bytes:
        """The 20-byte account address: the last 20 bytes of ``keccak256(x || y)``."""
        return keccak256(self.raw)[12:]


@dataclass(frozen=True)
class PrivateKey:
    """A secp256k1 private key. Its repr shows the address, never the secret."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes):
            raise InvalidKeyError(f"a private key is bytes, got {type(self.secret).__name__}")
        if len(self.secret) != PRIVATE_KEY_LENGTH:
            raise InvalidKeyError(
                f"a private key has {PRIVATE_KEY_LENGTH} bytes, got {len(self.secret)}"
            )
        if not _in_range(self.secret):
            raise InvalidKeyError(
                "a private key must be at least 1 and below the secp256k1 group order",
                hint="zero and values >= 0xffff...4141 are not valid keys",
            )

    def __repr__(self) -> str:
        return f"PrivateKey(address={to_checksum_address(self.address)})"

    __str__ = __repr__

    @classmethod
    def from_bytes(cls, data: bytes) -> PrivateKey:
        """Read a private key from its 32 big-endian bytes."""
        return cls(secret=bytes(data))

    @classmethod
    def from_hex(cls, text: str) -> PrivateKey:
        """Read a private key from exactly 64 hex digits, with or without ``0x``."""
        if not isinstance(text, str) or not _PRIVATE_KEY_HEX.fullmatch(text):
            # The text may be a mistyped secret: describe it without echoing it.
            length = len(text) if isinstance(text, str) else 0
            raise InvalidKeyError(
                f"a private key is 64 hex digits, optionally after 0x "
                f"(got {length} characters that do not match)"
            )
        return cls(secret=bytes.fromhex(text.removeprefix("0x")))

    @classmethod
    def generate(cls, rng: Callable[[int], bytes] = secrets.token_bytes) -> PrivateKey:
        """Draw a new key from ``rng``, retrying until the 32 bytes are a valid scalar.

        ``rng(n)`` must return ``n`` uniformly random bytes; pass a seeded one in tests.
        """
        while True:
            candidate = rng(PRIVATE_KEY_LENGTH)
            if len(candidate) != PRIVATE_KEY_LENGTH:
                raise ValueError(f"rng({PRIVATE_KEY_LENGTH}) returned {len(candidate)} bytes")
            if _in_range(candidate):
                return cls(secret=bytes(candidate))

    @property
    def public_key(self) -> PublicKey:
        """The public key ``k * G``."""
        scalar = int.from_bytes(self.secret, "big")
        point = ec.derive_private_key(scalar, ec.SECP256K1()).public_key()
        encoded = point.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return PublicKey(raw=encoded[1:])

    @property
    def address(self) -> bytes:
        """The 20-byte account address of this key."""
        return self.public_key.address


def _in_range(secret: bytes) -> bool:
    return 1 <= int.from_bytes(secret, "big") < SECP256K1_ORDER
