"""The sealed-secrets hybrid encryption: RSA-OAEP wraps a session key, AES-256-GCM the data.

Byte for byte the controller's ``HybridEncrypt`` / ``HybridDecrypt`` (``pkg/crypto/crypto.go``):

    uint16 big-endian len(rsa_ciphertext) || rsa_ciphertext || AES-GCM(plaintext) || tag

- session key: ``SESSION_KEY_BYTES`` (32) random bytes, so AES-256;
- key wrap: RSA-OAEP with SHA-256 and MGF1-SHA256, the scope label as the OAEP label;
- data: AES-GCM with a 12-byte zero nonce (each session key is used once) and no AAD.

Encryption is deterministic given ``rng``: it draws the session key first, ``rng(32)``, then
the OAEP seed, ``rng(32)`` (the order Go's ``HybridEncrypt`` reads them). The public-key side
is therefore written out here (RFC 8017 section 7.1.1, EME-OAEP then RSAEP), because the
``cryptography`` package draws the OAEP seed from OpenSSL where it cannot be pinned. Only
public values are involved. Decryption uses ``cryptography``'s constant-time OAEP.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import struct
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ethnet.errors import SealingError, UnsealError

SESSION_KEY_BYTES = 32
HASH_LEN = hashlib.sha256().digest_size  # hLen in RFC 8017, for SHA-256
GCM_NONCE = bytes(12)  # the controller's zeroNonce
GCM_TAG_BYTES = 16
LENGTH_PREFIX = struct.Struct(">H")

Rng = Callable[[int], bytes]

_NO_KEY_HINT = (
    "the SealedSecret's name, namespace or scope annotation may differ from when it was "
    "sealed, or it was sealed with a key that was not given"
)


def hybrid_encrypt(
    public_key: rsa.RSAPublicKey,
    label: bytes,
    plaintext: bytes,
    rng: Rng = secrets.token_bytes,
) -> bytes:
    """Seal ``plaintext`` for ``public_key`` under ``label``, as the controller's HybridEncrypt.

    ``rng`` is called twice: 32 bytes of session key, then the 32-byte OAEP seed.
    """
    session_key = _draw(rng, SESSION_KEY_BYTES)
    rsa_ciphertext = rsa_oaep_encrypt(public_key, label, session_key, rng)
    aes_ciphertext = AESGCM(session_key).encrypt(GCM_NONCE, plaintext, None)
    return LENGTH_PREFIX.pack(len(rsa_ciphertext)) + rsa_ciphertext + aes_ciphertext


def hybrid_decrypt(
    private_keys: Sequence[rsa.RSAPrivateKey], label: bytes, ciphertext: bytes
) -> bytes:
    """Open a HybridEncrypt blob, trying every key in turn (the blob names no key).

    As in the controller, a key whose OAEP unwrap succeeds is the key: a failing AES-GCM tag
    after that means the data was altered, and no further key is tried.
    """
    rsa_ciphertext, aes_ciphertext = _split(ciphertext)
    for private_key in private_keys:
        session_key = _unwrap_session_key(private_key, label, rsa_ciphertext)
        if session_key is None:
            continue
        return _open_gcm(session_key, aes_ciphertext)
    raise UnsealError(
        f"no key could decrypt secret (tried {len(private_keys)} key(s))", hint=_NO_KEY_HINT
    )


def seal_value(
    public_key: rsa.RSAPublicKey,
    label: bytes,
    plaintext: bytes,
    rng: Rng = secrets.token_bytes,
) -> str:
    """``hybrid_encrypt`` written as standard padded base64, the form of an encryptedData value."""
    return base64.b64encode(hybrid_encrypt(public_key, label, plaintext, rng)).decode("ascii")


def unseal_value(private_keys: Sequence[rsa.RSAPrivateKey], label: bytes, b64: str) -> bytes:
    """Decode one base64 encryptedData value and ``hybrid_decrypt`` it."""
    return hybrid_decrypt(private_keys, label, decode_base64(b64))


def decode_base64(text: str) -> bytes:
    """Standard padded base64, as Go's ``base64.StdEncoding`` (which skips CR and LF)."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnsealError(
            f"encrypted value is not valid base64: {exc}",
            hint="encryptedData values are standard base64 with '=' padding",
        ) from exc


def rsa_oaep_encrypt(
    public_key: rsa.RSAPublicKey, label: bytes, message: bytes, rng: Rng = secrets.token_bytes
) -> bytes:
    """RSAES-OAEP-ENCRYPT (RFC 8017 7.1.1) with SHA-256 and MGF1-SHA256; seed from ``rng(32)``."""
    numbers = public_key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    encoded = eme_oaep_encode(message, label, k, _draw(rng, HASH_LEN))
    c = pow(int.from_bytes(encoded, "big"), numbers.e, numbers.n)
    return c.to_bytes(k, "big")


def eme_oaep_encode(message: bytes, label: bytes, k: int, seed: bytes) -> bytes:
    """EME-OAEP encoding (RFC 8017 7.1.1 step 2) into ``k`` bytes with SHA-256."""
    max_length = k - 2 * HASH_LEN - 2
    if len(message) > max_length:
        raise SealingError(
            f"message too long for RSA-OAEP-SHA256: {len(message)} bytes, but a {k * 8}-bit "
            f"key takes at most k-2*{HASH_LEN}-2 = {max_length}",
            hint="use an RSA key of at least 2048 bits, as the controller does",
        )
    if len(seed) != HASH_LEN:
        raise ValueError(f"the OAEP seed has {HASH_LEN} bytes, got {len(seed)}")
    l_hash = hashlib.sha256(label).digest()
    ps = bytes(max_length - len(message))
    db = l_hash + ps + b"\x01" + message
    masked_db = _xor(db, mgf1_sha256(seed, k - HASH_LEN - 1))
    masked_seed = _xor(seed, mgf1_sha256(masked_db, HASH_LEN))
    return b"\x00" + masked_seed + masked_db


def mgf1_sha256(seed: bytes, length: int) -> bytes:
    """MGF1 (RFC 8017 B.2.1) with SHA-256."""
    blocks = (length + HASH_LEN - 1) // HASH_LEN
    output = b"".join(
        hashlib.sha256(seed + counter.to_bytes(4, "big")).digest() for counter in range(blocks)
    )
    return output[:length]


def oaep_padding(label: bytes) -> padding.OAEP:
    """The controller's OAEP parameters for ``cryptography``: SHA-256, MGF1-SHA256, label."""
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None
    )


def _split(ciphertext: bytes) -> tuple[bytes, bytes]:
    if len(ciphertext) < LENGTH_PREFIX.size:
        raise UnsealError("SealedSecret data is too short")
    (rsa_length,) = LENGTH_PREFIX.unpack_from(ciphertext)
    end = LENGTH_PREFIX.size + rsa_length
    if len(ciphertext) < end:
        raise UnsealError("SealedSecret data is too short")
    return ciphertext[LENGTH_PREFIX.size : end], ciphertext[end:]


def _unwrap_session_key(
    private_key: rsa.RSAPrivateKey, label: bytes, rsa_ciphertext: bytes
) -> bytes | None:
    try:
        return private_key.decrypt(rsa_ciphertext, oaep_padding(label))
    except ValueError:
        return None


def _open_gcm(session_key: bytes, aes_ciphertext: bytes) -> bytes:
    # Like Go's aes.NewCipher, any AES key size is accepted; ours are always 32 bytes.
    if len(session_key) not in (16, 24, 32):
        raise UnsealError(f"the wrapped session key has {len(session_key)} bytes, not an AES key")
    try:
        return AESGCM(session_key).decrypt(GCM_NONCE, aes_ciphertext, None)
    except InvalidTag as exc:
        raise UnsealError(
            "SealedSecret data is corrupted: the AES-GCM authentication tag does not match",
            hint="the encrypted value was altered or truncated; seal it again",
        ) from exc


def _draw(rng: Rng, count: int) -> bytes:
    drawn = rng(count)
    if len(drawn) != count:
        raise ValueError(f"rng({count}) returned {len(drawn)} bytes")
    return drawn


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))
