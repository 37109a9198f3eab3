"""Parsing of the quantities network.yaml writes as text: balances, gas, timestamps.

Balances accept what people write in genesis files: ``"1000000 ether"``, ``"5 gwei"``,
``"1.5 ether"``, decimal wei (``"1000"`` or ``1000``) and hex wei (``"0x3e8"``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

UINT256_MAX = 2**256 - 1
UINT64_MAX = 2**64 - 1

# Ethereum's denominations, as named in the Solidity docs and web3 libraries.
UNITS: dict[str, int] = {
    "wei": 1,
    "kwei": 10**3,
    "mwei": 10**6,
    "gwei": 10**9,
    "szabo": 10**12,
    "finney": 10**15,
    "ether": 10**18,
}

_MAX_DIGITS = 100  # uint256 has 78 decimal digits; anything longer is too large anyway
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_DECIMAL = re.compile(r"^[0-9][0-9_]*$")
_AMOUNT = re.compile(r"^(?P<number>[0-9][0-9_]*(\.[0-9_]+)?)\s*(?P<unit>[A-Za-z]+)$")


class QuantityError(ValueError):
    """A quantity that does not parse; the message says what form was expected."""


def parse_uint(value: object, *, maximum: int, what: str) -> int:
    """Parse a non-negative integer given as a YAML int, decimal text or 0x-hex text."""
    if isinstance(value, bool):
        raise QuantityError(f"{what} must be a number, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _HEX.fullmatch(value):
        number = int(value, 16)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value.replace("_", ""))
    else:
        raise QuantityError(f"{what} must be a decimal or 0x-hex integer, got {value!r}")
    if number < 0:
        raise QuantityError(f"{what} must not be negative, got {value!r}")
    if number > maximum:
        raise QuantityError(f"{what} is too large (at most {maximum}), got {value!r}")
    return number


def parse_wei(value: object) -> int:
    """Parse a balance into wei: an integer (decimal or 0x-hex) or ``<amount> <unit>``."""
    text = value.strip() if isinstance(value, str) else ""
    if not text.lower().startswith("0x") and (match := _AMOUNT.fullmatch(text)):
        unit = match["unit"].lower()
        if unit not in UNITS:
            known = ", ".join(UNITS)
            raise QuantityError(f"unknown unit {match['unit']!r} in {value!r} (known: {known})")
        digits = match["number"].replace("_", "")
        if len(digits) > _MAX_DIGITS:
            raise QuantityError(f"balance {value!r} exceeds 2^256-1 wei")
        # Exact decimal arithmetic: the default 28-digit context would round large balances.
        with localcontext(prec=2 * _MAX_DIGITS):
            try:
                amount = Decimal(digits) * UNITS[unit]
            except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
                raise QuantityError(f"not a number: {value!r}") from exc
        if amount != amount.to_integral_value():
            raise QuantityError(f"{value!r} is not a whole number of wei")
        wei = int(amount)
        if wei > UINT256_MAX:
            raise QuantityError(f"balance {value!r} exceeds 2^256-1 wei")
        return wei
    try:
        return parse_uint(value, maximum=UINT256_MAX, what="balance")
    except QuantityError as exc:
        raise QuantityError(
            f"balance must be wei (decimal or 0x-hex) or '<amount> <unit>' such as "
            f"'1000 ether' or '5 gwei', got {value!r}"
        ) from exc
