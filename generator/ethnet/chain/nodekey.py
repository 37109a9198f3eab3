"""Node key files: the private key behind a node's enode ID, in each client's own format.

What each client's loader accepts (checked against the sources):

- go-ethereum, ``crypto.LoadECDSA`` (``crypto/crypto.go``): ``readASCII`` reads exactly 64
  characters, stopping early at any byte below ``!`` (so no leading whitespace), then
  ``checkKeyFileEnd`` allows at most two more bytes, each ``\\n`` or ``\\r``; the 64 characters
  go to ``HexToECDSA``, so there is no ``0x`` prefix. ``SaveECDSA`` writes the 64 hex digits
  with no newline.
- Besu, ``KeyPairUtil.loadPrivateKey``: ``Files.readAllLines`` must give exactly one line (so
  one trailing line break is fine, an empty second line is not), parsed by Tuweni's
  ``Bytes32.fromHexString``, which takes an optional ``0x``. ``storeKeyPair`` writes
  ``0x`` + 64 lowercase hex digits with no newline.

Both loaders accept one trailing ``\\n``, so ethnet ends both files with one: they are then
ordinary text files in the repository and in Kubernetes Secrets. Our parsers accept what the
client accepts, except that the Besu parser wants exactly 64 hex digits (Tuweni also takes
shorter values and left-pads them, which here would hide a truncated key).
"""

from __future__ import annotations

import re

from ethnet.chain.keys import PrivateKey
from ethnet.errors import InvalidKeyError

_KEY_HEX_DIGITS = 64
_GETH_MAX_TRAILING_NEWLINES = 2
_HEX = re.compile(r"[0-9a-fA-F]*")
_BESU_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_JAVA_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what java.io.BufferedReader.readLine splits on


def geth_node_key_file(key: PrivateKey) -> str:
    """The text of a go-ethereum ``nodekey`` file: 64 lowercase hex digits and a newline."""
    return key.secret.hex() + "\n"


def besu_node_key_file(key: PrivateKey) -> str:
    """The text of a Besu ``key`` file: ``0x`` + 64 lowercase hex digits and a newline."""
    return "0x" + key.secret.hex() + "\n"


def parse_geth_node_key(text: str) -> PrivateKey:
    """Read a go-ethereum ``nodekey`` file as ``crypto.LoadECDSA`` does.

    Error messages describe the text without echoing it, since it is a secret.
    """
    # Step 1: readASCII, 64 characters from the start, none of them control or space.
    digits = text[:_KEY_HEX_DIGITS]
    printable = 0
    while printable < len(digits) and digits[printable] > " ":
        printable += 1
    if printable < _KEY_HEX_DIGITS:
        raise InvalidKeyError(
            f"geth node key file too short: want 64 hex digits, found {printable} "
            "before whitespace or the end"
        )
    if digits.startswith(("0x", "0X")):
        raise InvalidKeyError(
            "geth node key file must not start with 0x (geth reads exactly 64 hex digits)"
        )

    # Step 2: checkKeyFileEnd, at most two \n or \r after the digits.
    ending = text[_KEY_HEX_DIGITS:]
    if ending.strip("\r\n"):
        raise InvalidKeyError(
            "geth node key file has more than 64 characters before the end of the line"
        )
    if len(ending) > _GETH_MAX_TRAILING_NEWLINES:
        raise InvalidKeyError(
            f"geth node key file has {len(ending)} line-break characters after the key; "
            f"geth accepts at most {_GETH_MAX_TRAILING_NEWLINES}"
        )

    # Step 3: HexToECDSA.
    if not _HEX.fullmatch(digits):
        raise InvalidKeyError("geth node key file has a character that is not a hex digit")
    return PrivateKey.from_bytes(bytes.fromhex(digits))


def parse_besu_node_key(text: str) -> PrivateKey:
    """Read a Besu ``key`` file: one line of 64 hex digits, ``0x`` optional."""
    lines = _JAVA_LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()  # a final line break does not start another line
    if len(lines) != 1:
        raise InvalidKeyError(f"besu node key file must be exactly one line, found {len(lines)}")
    line = lines[0]
    if not _BESU_KEY.fullmatch(line):
        raise InvalidKeyError(
            "besu node key file must hold 64 hex digits, optionally after 0x; "
            f"got {len(line)} characters that do not match"
        )
    return PrivateKey.from_bytes(bytes.fromhex(line.removeprefix("0x")))
