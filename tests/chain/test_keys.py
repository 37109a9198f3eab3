"""secp256k1 key pairs: published vectors and a cross-check against eth-keys."""

from __future__ import annotations

import random

import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey as EthKeysPrivateKey

from ethnet.chain.address import to_checksum_address
from ethnet.chain.keys import SECP256K1_ORDER, PrivateKey, PublicKey
from ethnet.errors import InvalidKeyError

# go-ethereum crypto/crypto_test.go: testPrivHex, testAddrHex, and the public key of that
# key (the enode ID used across go-ethereum's p2p tests).
GETH_PRIV = "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032"
GETH_ADDR = "970e8128ab834e8eac17ab8e3812f010678cf791"
GETH_PUB = (
    "7db227d7094ce215c3a0f57e1bcc732551fe351f94249471934567e0f5dc1bf7"
    "95962b8cccb87a2eb56b29fbe37d614e2f4c3c45b789ae4f1f51f4cb21972ffd"
)


def test_geth_crypto_test_vector() -> None:
    key = PrivateKey.from_hex(GETH_PRIV)
    assert key.address.hex() == GETH_ADDR
    assert key.public_key.hex == GETH_PUB
    assert key.public_key.address.hex() == GETH_ADDR


def test_from_hex_accepts_0x_and_upper_case() -> None:
    key = PrivateKey.from_hex(GETH_PRIV)
    assert PrivateKey.from_hex("0x" + GETH_PRIV) == key
    assert PrivateKey.from_hex(GETH_PRIV.upper()) == key
    assert PrivateKey.from_bytes(bytes.fromhex(GETH_PRIV)) == key


@pytest.mark.parametrize(
    "text",
    [
        GETH_PRIV[:-1],
        GETH_PRIV + "0",
        "0x" + GETH_PRIV[:-2],
        GETH_PRIV[:-1] + "g",
        GETH_PRIV + "\n",
        " " + GETH_PRIV,
        "0X" + GETH_PRIV,
        "",
    ],
)
def test_from_hex_rejects_malformed_text_without_echoing_it(text: str) -> None:
    with pytest.raises(InvalidKeyError, match="64 hex digits") as caught:
        PrivateKey.from_hex(text)
    assert GETH_PRIV[:16] not in str(caught.value)


@pytest.mark.parametrize(
    "scalar",
    [0, SECP256K1_ORDER, SECP256K1_ORDER + 1, 2**256 - 1],
)
def test_from_bytes_rejects_scalars_out_of_range(scalar: int) -> None:
    with pytest.raises(InvalidKeyError, match="group order"):
        PrivateKey.from_bytes(scalar.to_bytes(32, "big"))


@pytest.mark.parametrize("scalar", [1, SECP256K1_ORDER - 1])
def test_from_bytes_accepts_the_ends_of_the_range(scalar: int) -> None:
    key = PrivateKey.from_bytes(scalar.to_bytes(32, "big"))
    assert len(key.public_key.raw) == 64


@pytest.mark.parametrize("length", [0, 31, 33])
def test_from_bytes_rejects_wrong_length(length: int) -> None:
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        PrivateKey.from_bytes(b"\x01" * length)


def test_repr_and_str_never_show_the_secret() -> None:
    key = PrivateKey.from_hex(GETH_PRIV)
    expected = f"PrivateKey(address={to_checksum_address(bytes.fromhex(GETH_ADDR))})"
    assert repr(key) == expected
    assert str(key) == expected
    for text in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert GETH_PRIV not in text.lower()
        assert GETH_PRIV[:8] not in text.lower()


def test_generate_rejection_samples_until_in_range() -> None:
    draws = iter([b"\xff" * 32, b"\x00" * 32, SECP256K1_ORDER.to_bytes(32, "big")])
    valid = bytes.fromhex(GETH_PRIV)

    def rng(n: int) -> bytes:
        assert n == 32
        return next(draws, valid)

    assert PrivateKey.generate(rng).secret == valid


def test_generate_with_pinned_rng_is_reproducible() -> None:
    first = PrivateKey.generate(random.Random(1234).randbytes)
    second = PrivateKey.generate(random.Random(1234).randbytes)
    assert first == second
    assert PrivateKey.generate(random.Random(1235).randbytes) != first


def test_generate_with_default_rng_gives_distinct_keys() -> None:
    assert PrivateKey.generate() != PrivateKey.generate()


def test_generate_rejects_short_rng_output() -> None:
    with pytest.raises(ValueError, match="returned 31 bytes"):
        PrivateKey.generate(lambda n: b"\x01" * (n - 1))


def test_public_key_from_bytes_accepts_64_and_prefixed_65() -> None:
    raw = bytes.fromhex(GETH_PUB)
    assert PublicKey.from_bytes(raw).raw == raw
    assert PublicKey.from_bytes(b"\x04" + raw).raw == raw
    assert PublicKey.from_bytes(raw).hex == GETH_PUB


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x02" + bytes.fromhex(GETH_PUB), "0x04"),
        (bytes.fromhex(GETH_PUB)[:33], "64 bytes"),
        (b"\x00" * 64, "not a point"),
        (bytes.fromhex(GETH_PUB)[:63] + b"\x00", "not a point"),
    ],
)
def test_public_key_rejects_bad_encodings_and_points_off_the_curve(
    data: bytes, message: str
) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        PublicKey.from_bytes(data)


def test_addresses_agree_with_eth_keys_for_300_random_keys() -> None:
    # Independent implementation: eth-keys (coincurve or its pure-Python backend).
    rng = random.Random(20240501)
    for _ in range(300):
        key = PrivateKey.generate(rng.randbytes)
        reference = EthKeysPrivateKey(key.secret)
        assert key.public_key.raw == reference.public_key.to_bytes()
        assert key.address == reference.public_key.to_canonical_address()


def test_checksum_address_agrees_with_eth_account() -> None:
    rng = random.Random(7)
    for _ in range(10):
        key = PrivateKey.generate(rng.randbytes)
        assert to_checksum_address(key.address) == Account.from_key(key.secret).address
