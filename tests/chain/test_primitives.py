"""Keccak-256, EIP-55 addresses and RLP against their published vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethnet.chain import rlp
from ethnet.chain.address import is_checksum_address, parse_address, to_checksum_address
from ethnet.chain.keccak import keccak256
from ethnet.errors import EncodingError, InvalidAddressError

# --- Keccak-256 -------------------------------------------------------------------------
# go-ethereum crypto/keccak/sha3_test.go, TestKeccak.


@pytest.mark.parametrize(
    ("data", "digest"),
    [
        (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    ],
)
def test_keccak256_vectors(data: bytes, digest: str) -> None:
    assert keccak256(data).hex() == digest


def test_keccak256_is_not_nist_sha3() -> None:
    nist = hashlib.sha3_256(b"abc").hexdigest()
    assert nist.startswith("3a985da7") and nist.endswith("1532")
    assert keccak256(b"abc").hex() != nist


# --- EIP-55 -----------------------------------------------------------------------------
# ethereum/EIPs EIPS/eip-55.md test cases (also go-ethereum common/types_test.go).
EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("checksummed", EIP55_VECTORS)
def test_eip55_checksum_vectors(checksummed: str) -> None:
    raw = bytes.fromhex(checksummed[2:])
    assert to_checksum_address(raw) == checksummed
    assert parse_address(checksummed) == raw
    assert is_checksum_address(checksummed)


@pytest.mark.parametrize("checksummed", EIP55_VECTORS)
def test_parse_address_accepts_lower_and_upper_case(checksummed: str) -> None:
    raw = bytes.fromhex(checksummed[2:])
    assert parse_address(checksummed.lower()) == raw
    assert parse_address("0x" + checksummed[2:].upper()) == raw
    assert parse_address(checksummed[2:].lower()) == raw


def test_parse_address_rejects_mixed_case_typo() -> None:
    good = EIP55_VECTORS[0]
    typo = good[:3] + good[3].swapcase() + good[4:]  # "0x5aA..." -> "0x5aa..."
    assert typo != good and typo.lower() != typo
    with pytest.raises(InvalidAddressError, match="checksum"):
        parse_address(typo)
    assert not is_checksum_address(typo)


@pytest.mark.parametrize("text", ["", "0x", "0x1234", "0x" + "g" * 40, "0x" + "00" * 21])
def test_parse_address_rejects_non_addresses(text: str) -> None:
    with pytest.raises(InvalidAddressError):
        parse_address(text)


# --- RLP --------------------------------------------------------------------------------
# Examples of ethereum.org docs "Recursive-length prefix (RLP) serialization" and
# ethereum/tests RLPTests/rlptest.json.
LOREM = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"  # 56 bytes

RLP_VECTORS: list[tuple[rlp.Item, str]] = [
    (b"dog", "83646f67"),
    ([b"cat", b"dog"], "c88363617483646f67"),
    (b"", "80"),
    ([], "c0"),
    (0, "80"),
    (b"\x00", "00"),
    (b"\x0f", "0f"),
    (15, "0f"),
    (1024, "820400"),
    (b"\x04\x00", "820400"),
    ([[], [[]], [[], [[]]]], "c7c0c1c0c3c0c1c0"),
    (LOREM, "b838" + LOREM.hex()),
]


@pytest.mark.parametrize(("item", "encoded"), RLP_VECTORS)
def test_rlp_known_encodings(item: rlp.Item, encoded: str) -> None:
    assert rlp.encode(item).hex() == encoded


def test_rlp_long_list() -> None:
    # rlptest.json "longList1"-style: a list whose payload passes 55 bytes uses f8 <len>.
    items = [b"asdf", b"qwer", b"zxcv"] * 5
    payload = b"".join(rlp.encode(i) for i in items)
    assert len(payload) == 75
    assert rlp.encode(list(items)) == bytes([0xF8, 75]) + payload


@pytest.mark.parametrize(
    ("item", "encoded"),
    [(item, encoded) for item, encoded in RLP_VECTORS if not isinstance(item, int)],
)
def test_rlp_decodes_known_encodings(item: rlp.Item, encoded: str) -> None:
    assert rlp.decode(bytes.fromhex(encoded)) == item


nested_bytes = st.recursive(
    st.binary(max_size=70),
    lambda children: st.lists(children, max_size=6),
    max_leaves=25,
)


@given(nested_bytes)
def test_rlp_round_trip(item: rlp.Item) -> None:
    assert rlp.decode(rlp.encode(item)) == item


@pytest.mark.parametrize(
    ("encoded", "why"),
    [
        ("8100", "single byte below 0x80 wrapped in a string prefix"),
        ("b800", "long form with a zero-length length"),
        ("b80100", "long form for a length that fits the short form"),
        ("b9000100", "length with a leading zero byte"),
        ("f800", "list long form with a zero length"),
        ("83646f", "string shorter than its prefix says"),
        ("c3836361", "list shorter than its prefix says"),
        ("c18200", "child runs past the end of its list"),
        ("8000", "trailing byte after the item"),
        ("", "empty input"),
    ],
)
def test_rlp_rejects_non_canonical_or_truncated(encoded: str, why: str) -> None:
    with pytest.raises(EncodingError):
        rlp.decode(bytes.fromhex(encoded))
