"""Fixtures for the sealing tests: RSA keys made at run time (none is ever committed) and a
pinned random source, so ciphertext can be compared byte for byte."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


class RecordingRng:
    """A deterministic ``rng``: SHA-256 of a seed and a counter; remembers every draw."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.draws: list[bytes] = []
        self._counter = 0

    def __call__(self, count: int) -> bytes:
        out = b""
        while len(out) < count:
            out += hashlib.sha256(self.seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        self.draws.append(out[:count])
        return out[:count]


@pytest.fixture(scope="session")
def rsa_key_2048() -> rsa.RSAPrivateKey:
    """The sealing key most tests use (2048 bits, for speed; the controller uses 4096)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key_2048() -> rsa.RSAPrivateKey:
    """A second, unrelated key: it must never decrypt what the first one sealed."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
