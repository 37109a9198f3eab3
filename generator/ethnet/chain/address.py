"""Ethereum addresses: 20 bytes, written as 0x-hex with the EIP-55 mixed-case checksum."""

from __future__ import annotations

import re

from ethnet.chain.keccak import keccak256
from ethnet.errors import InvalidAddressError

ADDRESS_LENGTH = 20
_ADDRESS_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{40}$")


def to_checksum_address(address: bytes) -> str:
    """Write 20 address bytes in EIP-55 form: hex letter i upper-cased when nibble i of
    keccak256(lowercase hex) is 8 or more."""
    if len(address) != ADDRESS_LENGTH:
        raise InvalidAddressError(f"an address has 20 bytes, got {len(address)}")
    lower = address.hex()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


def parse_address(text: str) -> bytes:
    """Parse a 0x-prefixed (or bare) hex address.

    All-lowercase and all-uppercase forms carry no checksum and are accepted as they are;
    a mixed-case form must match its EIP-55 checksum, since a mismatch means a typo.
    """
    if not isinstance(text, str) or not _ADDRESS_HEX.fullmatch(text):
        raise InvalidAddressError(f"not an address (0x followed by 40 hex digits): {text!r}")
    digits = text[2:] if text.startswith("0x") else text
    raw = bytes.fromhex(digits)
    if digits != digits.lower() and digits != digits.upper():
        expected = to_checksum_address(raw)
        if expected[2:] != digits:
            raise InvalidAddressError(
                f"EIP-55 checksum mismatch in {text!r}: expected {expected}",
                hint="a mixed-case address must match its checksum; check for a typo",
            )
    return raw


def is_checksum_address(text: str) -> bool:
    """True when ``text`` is exactly the EIP-55 form of an address."""
    try:
        return to_checksum_address(parse_address(text)) == text
    except InvalidAddressError:
        return False
