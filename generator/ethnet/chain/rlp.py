"""Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B).

An item is ``bytes`` or a list of items. Integers are encoded as their minimal big-endian
bytes (zero is the empty string), as Ethereum's scalars are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from ethnet.errors import EncodingError

# Sequence (covariant) so a decoded item can be encoded again without a cast.
Item: TypeAlias = bytes | int | Sequence["Item"]
Decoded: TypeAlias = bytes | list["Decoded"]

_SHORT = 55


def encode(item: Item) -> bytes:
    """Encode an item (bytes, non-negative int, or nested list) as RLP."""
    if isinstance(item, bool):
        raise TypeError("RLP has no booleans; encode 0 or 1 explicitly")
    if isinstance(item, int):
        if item < 0:
            raise ValueError(f"RLP encodes non-negative integers only, got {item}")
        return encode(item.to_bytes((item.bit_length() + 7) // 8, "big"))
    if isinstance(item, bytes | bytearray):
        data = bytes(item)
        if len(data) == 1 and data[0] < 0x80:
            return data
        return _length_prefix(len(data), 0x80) + data
    if isinstance(item, list | tuple):
        payload = b"".join(encode(child) for child in item)
        return _length_prefix(len(payload), 0xC0) + payload
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


def _length_prefix(length: int, offset: int) -> bytes:
    if length <= _SHORT:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + _SHORT + len(size)]) + size


def decode(data: bytes) -> Decoded:
    """Decode exactly one RLP item; trailing bytes or non-canonical forms are errors."""
    item, end = _decode_at(data, 0)
    if end != len(data):
        raise EncodingError(f"RLP: {len(data) - end} trailing bytes after the item")
    return item


def _decode_at(data: bytes, pos: int) -> tuple[Decoded, int]:
    if pos >= len(data):
        raise EncodingError("RLP: input ends before the item does")
    prefix = data[pos]
    if prefix < 0x80:
        return data[pos : pos + 1], pos + 1
    if prefix < 0xC0:
        start, length = _read_length(data, pos, 0x80)
        value = data[start : start + length]
        if length == 1 and value[0] < 0x80:
            raise EncodingError("RLP: single byte below 0x80 must encode itself")
        return value, start + length
    start, length = _read_length(data, pos, 0xC0)
    end = start + length
    items: list[Decoded] = []
    cursor = start
    while cursor < end:
        child, cursor = _decode_at(data[:end], cursor)
        items.append(child)
    return items, end


def _read_length(data: bytes, pos: int, offset: int) -> tuple[int, int]:
    prefix = data[pos]
    if prefix - offset <= _SHORT:
        start, length = pos + 1, prefix - offset
    else:
        size = prefix - offset - _SHORT
        raw = data[pos + 1 : pos + 1 + size]
        if len(raw) != size or raw[0] == 0:
            raise EncodingError("RLP: truncated or non-canonical length")
        length = int.from_bytes(raw, "big")
        if length <= _SHORT:
            raise EncodingError("RLP: long form used for a short length")
        start = pos + 1 + size
    if start + length > len(data):
        raise EncodingError("RLP: item is longer than the input")
    return start, length
