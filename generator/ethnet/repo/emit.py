"""The one YAML emitter for everything ethnet writes.

Deterministic and conservative: mappings keep the order they were built in, sequences are
written the way kubectl writes them (``- `` at the parent key's indentation), and a string is
written plain only when every YAML reader (1.1 and 1.2 resolvers alike) reads it back as the
same string. Anything that could turn into a boolean, null, number or timestamp (``yes``,
``on``, ``0755``, ``1:20``, ``2001-12-14``...) is double-quoted; multi-line text becomes a
literal block. Never a ``%YAML`` directive: kustomize rejects it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = re.compile(r"(?:-(?=[^ ])|[A-Za-z0-9_./(])[A-Za-z0-9 _./:@=+,()\-$%^~*?<>\[\]{}!\\|&]*")
_NUMERIC_LOOKING = re.compile(r"[-+.]?[0-9][0-9_.:eExXoObB+\-]*")
_UNSAFE_IN_PLAIN = (": ", " #", "\t")
# What a literal block can carry: YAML's printable characters, with \n the only line break.
_LITERAL_SAFE = re.compile(
    "[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))


def dump(document: object, *, header: str | None = None) -> str:
    """One YAML document as text, with an optional ``# header`` comment line first."""
    lines = [f"# {header}"] if header else []
    lines += _node(document, 0)
    return "\n".join(lines) + "\n"


def dump_all(documents: Iterable[object], *, header: str | None = None) -> str:
    """Several documents separated by ``---``."""
    parts = [dump(doc) for doc in documents]
    head = f"# {header}\n" if header else ""
    return head + "---\n".join(parts)


def scalar(value: object) -> str:
    """The YAML text of one scalar (None, bool, int, finite float or str)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write non-finite float {value!r}")
        text = repr(value)
        # YAML 1.1 wants a dot in the mantissa: 1e+16 -> 1.0e+16
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if isinstance(value, str):
        return value if _is_plain_safe(value) else _double_quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


@lru_cache(maxsize=4096)
def _is_plain_safe(text: str) -> bool:
    if not text or text != text.strip() or not _PLAIN.fullmatch(text):
        return False
    if any(marker in text for marker in _UNSAFE_IN_PLAIN) or text.endswith(":"):
        return False
    if _NUMERIC_LOOKING.fullmatch(text):
        return False
    return all(r.resolve(ScalarNode, text, (True, False)) == _STR_TAG for r in _RESOLVERS)


def _double_quoted(text: str) -> str:
    """JSON's escapes for ASCII, and YAML's \\u/\\U escapes for everything from DEL up
    (JSON would write astral characters as surrogate pairs, which YAML does not join)."""
    escaped = json.dumps(text, ensure_ascii=False)
    return "".join(
        ch
        if ord(ch) < 0x7F
        else (f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        for ch in escaped
    )


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"mapping keys must be strings, got {key!r}")
    return scalar(key)


def _node(value: object, indent: int) -> list[str]:
    """Lines of a top-level value or a block collection at ``indent``."""
    if isinstance(value, Mapping):
        return _mapping(value, indent) if value else [" " * indent + "{}"]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return _sequence(value, indent) if value else [" " * indent + "[]"]
    return [" " * indent + scalar(value)]


def _mapping(mapping: Mapping[object, object], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for raw_key, value in mapping.items():
        key = _key(raw_key)
        lines += _entry(f"{pad}{key}:", value, indent, nested_indent=indent + 2, is_seq_in_map=True)
    return lines


def _sequence(items: Sequence[object], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            inner = _mapping(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        elif isinstance(item, Sequence) and not isinstance(item, str | bytes) and item:
            inner = _sequence(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        else:
            lines += _entry(f"{pad}-", item, indent, nested_indent=indent + 2, is_seq_in_map=False)
    return lines


def _entry(
    prefix: str, value: object, indent: int, *, nested_indent: int, is_seq_in_map: bool
) -> list[str]:
    """``prefix`` (a key with its colon, or a dash) followed by ``value``."""
    if isinstance(value, Mapping) and value:
        return [prefix, *_mapping(value, nested_indent)]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes) and value:
        # kubectl style: a sequence under a key starts at the key's own indentation
        return [prefix, *_sequence(value, indent if is_seq_in_map else nested_indent)]
    if isinstance(value, Mapping):
        return [f"{prefix} {{}}"]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [f"{prefix} []"]
    if isinstance(value, str) and "\n" in value and _literal_ok(value):
        header, *content = _literal(value)
        return [f"{prefix} {header}", *(" " * nested_indent + ln if ln else "" for ln in content)]
    return [f"{prefix} {scalar(value)}"]


def _literal_ok(text: str) -> bool:
    """A literal block keeps ``text`` exactly: no control characters, and some content."""
    return bool(_LITERAL_SAFE.fullmatch(text)) and text.rstrip("\n") != ""


def _literal(text: str) -> list[str]:
    """The ``|`` header, then the content lines (unindented; the caller indents them).

    Chomping says how many final newlines there are (``|-`` none, ``|`` one, ``|+`` more);
    an indentation indicator is needed when the first line starts with a space.
    """
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    first = next((line for line in body.split("\n") if line), "")
    indicator = "2" if first.startswith(" ") or body.startswith("\n") else ""
    lines = body.split("\n") + [""] * max(trailing - 1, 0)
    return [f"|{indicator}{chomp}", *lines]
