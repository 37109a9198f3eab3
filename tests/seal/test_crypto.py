"""The hybrid encryption against the controller's format (pkg/crypto/crypto.go).

sealed-secrets publishes no test vectors (no fixed key + ciphertext pair exists in the
repository), so the checks are: cryptography's own OAEP decrypt accepts our hand-written
OAEP encoding, cryptography-built blobs open with our decrypt, the byte layout, the order of
the rng draws, and, in test_interop.py, an independent decryptor and @linode/kubeseal-encrypt.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethnet.errors import EthnetError, SealingError, UnsealError
from ethnet.seal.crypto import (
    HASH_LEN,
    hybrid_decrypt,
    hybrid_encrypt,
    oaep_padding,
    rsa_oaep_encrypt,
    seal_value,
    unseal_value,
)
from tests.seal.conftest import RecordingRng

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_OAEP_2048 = 256 - 2 * 32 - 2  # k - 2*hLen - 2 = 190 bytes


def _fake_public_key(bits: int) -> rsa.RSAPublicKey:
    """A public key of the given size; only the encrypt side runs, so n need not be a product
    of two primes."""
    n = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    return rsa.RSAPublicNumbers(65537, n).public_key()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


# --- the OAEP encoding ------------------------------------------------------------------------


@FAST
@given(
    message=st.binary(max_size=MAX_OAEP_2048),
    label=st.binary(max_size=100),
    seed=st.binary(min_size=32, max_size=32),
)
def test_cryptography_accepts_our_oaep_encoding(
    rsa_key_2048: rsa.RSAPrivateKey, message: bytes, label: bytes, seed: bytes
) -> None:
    ciphertext = rsa_oaep_encrypt(rsa_key_2048.public_key(), label, message, lambda n: seed)
    assert len(ciphertext) == 256
    assert rsa_key_2048.decrypt(ciphertext, oaep_padding(label)) == message


def test_oaep_with_another_label_is_rejected_by_cryptography(
    rsa_key_2048: rsa.RSAPrivateKey,
) -> None:
    ciphertext = rsa_oaep_encrypt(rsa_key_2048.public_key(), b"ns/a", b"k" * 32)
    with pytest.raises(ValueError):
        rsa_key_2048.decrypt(ciphertext, oaep_padding(b"ns/b"))


def test_oaep_message_length_limit(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    public_key = rsa_key_2048.public_key()
    longest = b"m" * MAX_OAEP_2048
    assert rsa_key_2048.decrypt(rsa_oaep_encrypt(public_key, b"", longest), oaep_padding(b""))
    with pytest.raises(SealingError, match=r"191 bytes.*at most k-2\*32-2 = 190"):
        rsa_oaep_encrypt(public_key, b"", longest + b"m")


def test_too_small_key_is_refused_with_a_clear_error() -> None:
    with pytest.raises(SealingError, match="512-bit key takes at most") as caught:
        hybrid_encrypt(_fake_public_key(512), b"", b"value")
    assert "2048 bits" in str(caught.value)


def test_rng_that_returns_the_wrong_length_is_a_bug(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match=r"rng\(32\) returned 5 bytes"):
        hybrid_encrypt(rsa_key_2048.public_key(), b"", b"x", lambda n: b"short")


# --- the hybrid layout ------------------------------------------------------------------------


@FAST
@given(plaintext=st.binary(max_size=600), label=st.binary(max_size=80))
def test_round_trip(rsa_key_2048: rsa.RSAPrivateKey, plaintext: bytes, label: bytes) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), label, plaintext)
    assert hybrid_decrypt([rsa_key_2048], label, sealed) == plaintext


@pytest.mark.parametrize("plaintext", [b"", b"x", b"p" * 1000])
def test_layout_for_a_2048_bit_key(rsa_key_2048: rsa.RSAPrivateKey, plaintext: bytes) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/name", plaintext)
    assert len(sealed) == 2 + 256 + len(plaintext) + 16
    assert sealed[:2] == b"\x01\x00"
    assert base64.b64encode(sealed).startswith(b"AQ")


def test_base64_prefix_is_aq_then_a_to_d(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    """ "Starts with AQA" holds only when the RSA ciphertext's first byte is below 0x40: the
    third base64 digit carries that byte's top two bits, so it is one of A, B, C, D. A pinned
    rng whose ciphertext starts low gives the familiar ``AQA``."""
    public_key = rsa_key_2048.public_key()
    thirds = {seal_value(public_key, b"", b"x")[:3] for _ in range(40)}
    assert thirds <= {"AQA", "AQB", "AQC", "AQD"}
    pinned = (seal_value(public_key, b"", b"x", RecordingRng(bytes([i]))) for i in range(64))
    assert any(text.startswith("AQA") for text in pinned)


def test_layout_for_a_4096_bit_key() -> None:
    """The controller's default key size: 0x0200, so the base64 starts with ``Ag``."""
    sealed = hybrid_encrypt(_fake_public_key(4096), b"", b"secret")
    assert len(sealed) == 2 + 512 + 6 + 16
    assert sealed[:2] == b"\x02\x00"
    assert base64.b64encode(sealed)[:3] in {b"AgA", b"AgB", b"AgC", b"AgD"}


def test_pinned_rng_gives_identical_bytes(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    public_key = rsa_key_2048.public_key()
    first = hybrid_encrypt(public_key, b"ns/x", b"value", RecordingRng(b"pin"))
    second = hybrid_encrypt(public_key, b"ns/x", b"value", RecordingRng(b"pin"))
    other = hybrid_encrypt(public_key, b"ns/x", b"value", RecordingRng(b"other"))
    assert first == second
    assert first != other
    assert seal_value(public_key, b"ns/x", b"value", RecordingRng(b"pin")) == (
        base64.b64encode(first).decode()
    )


def test_rng_draws_session_key_then_oaep_seed(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    """The documented order: rng(32) is the session key, the next rng(32) the OAEP seed."""
    rng = RecordingRng(b"order")
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/x", b"value", rng)
    session_key, seed = rng.draws
    assert [len(d) for d in rng.draws] == [32, HASH_LEN]
    rsa_part, aes_part = sealed[2:258], sealed[258:]
    assert rsa_key_2048.decrypt(rsa_part, oaep_padding(b"ns/x")) == session_key
    assert aes_part == AESGCM(session_key).encrypt(bytes(12), b"value", None)
    # Undo RSA with the raw private exponent and unmask the seed (RFC 8017 7.1.2 step 3).
    private = rsa_key_2048.private_numbers()
    encoded = pow(int.from_bytes(rsa_part, "big"), private.d, private.public_numbers.n)
    em = encoded.to_bytes(256, "big")
    masked_seed, masked_db = em[1:33], em[33:]
    assert em[0] == 0
    seed_mask = hashlib.sha256(masked_db + bytes(4)).digest()  # MGF1(maskedDB, 32): one block
    assert _xor(masked_seed, seed_mask) == seed


def test_blob_built_with_cryptography_opens(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    """Our decrypt against the format built from cryptography's own OAEP encrypt."""
    session_key = AESGCM.generate_key(bit_length=256)
    oaep = padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=b"ns"
    )
    wrapped = rsa_key_2048.public_key().encrypt(session_key, oaep)
    blob = struct.pack(">H", len(wrapped)) + wrapped
    blob += AESGCM(session_key).encrypt(b"\0" * 12, b"from cryptography", None)
    assert hybrid_decrypt([rsa_key_2048], b"ns", blob) == b"from cryptography"


# --- failures -----------------------------------------------------------------------------------


def test_decrypt_tries_every_key(
    rsa_key_2048: rsa.RSAPrivateKey, other_rsa_key_2048: rsa.RSAPrivateKey
) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value")
    assert hybrid_decrypt([other_rsa_key_2048, rsa_key_2048], b"ns/a", sealed) == b"value"


def test_wrong_key_fails(
    rsa_key_2048: rsa.RSAPrivateKey, other_rsa_key_2048: rsa.RSAPrivateKey
) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value")
    with pytest.raises(UnsealError, match=r"no key could decrypt secret \(tried 1 key") as caught:
        hybrid_decrypt([other_rsa_key_2048], b"ns/a", sealed)
    assert caught.value.hint is not None
    assert "name, namespace or scope" in caught.value.hint
    assert isinstance(caught.value, EthnetError)
    assert isinstance(caught.value, ValueError)


def test_wrong_label_fails(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value")
    for label in (b"ns/b", b"ns", b""):
        with pytest.raises(UnsealError, match="no key could decrypt secret"):
            hybrid_decrypt([rsa_key_2048], label, sealed)


def test_no_keys_fails(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"", b"value")
    with pytest.raises(UnsealError, match=r"tried 0 key"):
        hybrid_decrypt([], b"", sealed)


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x00", b"\x01\x00" + b"\x00" * 255], ids=len)
def test_truncated_data_is_too_short(rsa_key_2048: rsa.RSAPrivateKey, data: bytes) -> None:
    with pytest.raises(UnsealError, match="SealedSecret data is too short"):
        hybrid_decrypt([rsa_key_2048], b"", data)


def test_tampered_aes_part_is_detected(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    sealed = bytearray(hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value"))
    sealed[-1] ^= 0x01
    with pytest.raises(UnsealError, match="authentication tag does not match"):
        hybrid_decrypt([rsa_key_2048], b"ns/a", bytes(sealed))


def test_truncated_aes_part_is_detected(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    sealed = hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value")
    with pytest.raises(UnsealError, match="authentication tag does not match"):
        hybrid_decrypt([rsa_key_2048], b"ns/a", sealed[:-3])


def test_tampered_rsa_part_is_detected(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    sealed = bytearray(hybrid_encrypt(rsa_key_2048.public_key(), b"ns/a", b"value"))
    sealed[10] ^= 0x80
    with pytest.raises(UnsealError, match="no key could decrypt secret"):
        hybrid_decrypt([rsa_key_2048], b"ns/a", bytes(sealed))


def test_seal_value_is_standard_padded_base64(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    for size in range(4):
        text = seal_value(rsa_key_2048.public_key(), b"", b"v" * size)
        assert len(text) % 4 == 0
        assert base64.b64decode(text, validate=True)
        assert unseal_value([rsa_key_2048], b"", text) == b"v" * size


def test_unseal_value_accepts_line_breaks_like_go(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    text = seal_value(rsa_key_2048.public_key(), b"", b"value")
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert unseal_value([rsa_key_2048], b"", wrapped) == b"value"


@pytest.mark.parametrize("text", ["not base64!", "AQA", "AQ-_", "AQA=A"])
def test_bad_base64_is_an_unseal_error(rsa_key_2048: rsa.RSAPrivateKey, text: str) -> None:
    with pytest.raises(UnsealError, match="not valid base64") as caught:
        unseal_value([rsa_key_2048], b"", text)
    assert caught.value.hint is not None
    assert "standard base64" in caught.value.hint
