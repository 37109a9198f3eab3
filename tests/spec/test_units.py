"""Balance and integer parsing (ethnet.spec.units)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethnet.spec.units import UINT256_MAX, QuantityError, parse_uint, parse_wei


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("1000000 ether", 10**24),
        ("5 gwei", 5_000_000_000),
        ("5gwei", 5_000_000_000),
        ("1 finney", 10**15),
        ("2 szabo", 2 * 10**12),
        ("3 mwei", 3 * 10**6),
        ("4 kwei", 4000),
        ("7 wei", 7),
        ("0.000000001 ether", 10**9),
        ("1_000 ether", 10**21),
        ("123", 123),
        ("0x0", 0),
        ("0xDE0B6B3A7640000", 10**18),
        (42, 42),
    ],
)
def test_balances_parse_to_wei(text, wei):
    assert parse_wei(text) == wei


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1.5 wei", "not a whole number of wei"),
        ("0.1 gwei", "not a whole number"),  # 10^8 wei is whole: check the sub-wei case below
        ("5 gwie", "unknown unit 'gwie'"),
        ("ether", "balance must be wei"),
        ("-1", "balance must be wei"),
        ("0x", "balance must be wei"),
        (True, "balance must be wei"),
        (1.5, "balance must be wei"),
        (f"{UINT256_MAX + 1}", "balance must be wei"),
        ("200000000000000000000000000000000000000000000000000000000000 ether", "exceeds 2^256-1"),
    ],
)
def test_bad_balances_say_what_is_expected(text, fragment):
    if text == "0.1 gwei":
        assert parse_wei(text) == 10**8
        text, fragment = "0.0000000001 gwei", "not a whole number of wei"
    with pytest.raises(QuantityError, match=re.escape(fragment)):
        parse_wei(text)


@given(st.integers(min_value=0, max_value=UINT256_MAX))
def test_every_uint256_round_trips_through_decimal_and_hex(value):
    assert parse_wei(str(value)) == value
    assert parse_wei(hex(value)) == value
    assert parse_wei(value) == value


def test_parse_uint_bounds():
    assert parse_uint("0x10", maximum=16, what="x") == 16
    with pytest.raises(QuantityError, match="too large"):
        parse_uint(17, maximum=16, what="x")


@given(st.integers(min_value=0, max_value=UINT256_MAX // 10**18))
def test_large_ether_amounts_are_exact(ether):
    # Decimal's default 28-digit precision would round these; wei must be exact.
    assert parse_wei(f"{ether} ether") == ether * 10**18
