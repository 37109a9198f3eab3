"""Field types of network.yaml: each parses one kind of value and says clearly what it wants.

Validators raise ``PydanticCustomError("ethnet", message)``; the loader shows the message
as it is, located at the offending value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from ethnet.chain.address import parse_address, to_checksum_address
from ethnet.errors import InvalidAddressError
from ethnet.spec import units
from ethnet.spec.names import DNS1035_LABEL, DNS1123_LABEL, LABEL_MAX


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("ethnet", message)


def _dns_label(value: str) -> str:
    if len(value) > LABEL_MAX:
        raise _fail(f"must be at most {LABEL_MAX} characters, got {len(value)}")
    if not DNS1123_LABEL.fullmatch(value):
        raise _fail(
            f"{value!r} is not a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _dns1035_label(value: str) -> str:
    _dns_label(value)
    if not DNS1035_LABEL.fullmatch(value):
        raise _fail(f"{value!r} must start with a lowercase letter (it prefixes Service names)")
    return value


DnsLabel = Annotated[
    str,
    AfterValidator(_dns_label),
    WithJsonSchema(
        {"type": "string", "maxLength": LABEL_MAX, "pattern": f"^{DNS1123_LABEL.pattern}$"}
    ),
]
NetworkName = Annotated[
    str,
    AfterValidator(_dns1035_label),
    WithJsonSchema(
        {"type": "string", "maxLength": LABEL_MAX, "pattern": f"^{DNS1035_LABEL.pattern}$"}
    ),
]


DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.fullmatch(value):
        raise _fail(f"{value!r} is not a DNS name such as 'cluster.local'")
    return value


DnsSubdomain = Annotated[
    str,
    AfterValidator(_dns_subdomain),
    WithJsonSchema(
        {"type": "string", "maxLength": 253, "pattern": f"^{DNS1123_SUBDOMAIN.pattern}$"}
    ),
]


def _address(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(f'an address must be a quoted string such as "0xAbC…", got {value!r}')
    try:
        return to_checksum_address(parse_address(value))
    except InvalidAddressError as exc:
        raise _fail(exc.message) from exc


Address = Annotated[
    str,
    BeforeValidator(_address),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
]


def _wei(value: Any) -> int:
    try:
        return units.parse_wei(value)
    except units.QuantityError as exc:
        raise _fail(str(exc)) from exc


Wei = Annotated[
    int,
    BeforeValidator(_wei),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^(0x[0-9a-fA-F]+|[0-9][0-9_]*)$"},
                {
                    "type": "string",
                    "pattern": r"^[0-9][0-9_]*(\.[0-9_]+)?\s*"
                    r"([wW][eE][iI]|[kKmMgG][wW][eE][iI]|[sS][zZ][aA][bB][oO]"
                    r"|[fF][iI][nN][nN][eE][yY]|[eE][tT][hH][eE][rR])$",
                },
            ],
            "description": "wei as an integer, decimal or 0x-hex string, "
            "or '<amount> <unit>' such as '1000000 ether' or '5 gwei'",
        }
    ),
]


def _uint64(value: Any) -> int:
    try:
        return units.parse_uint(value, maximum=units.UINT64_MAX, what="value")
    except units.QuantityError as exc:
        raise _fail(str(exc)) from exc


Uint64 = Annotated[
    int,
    BeforeValidator(_uint64),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^(0x[0-9a-fA-F]+|[0-9][0-9_]*)$"},
            ]
        }
    ),
]

# EIP-2294 bounds a chain ID to floor(MAX_UINT64 / 2) - 36 so signatures' v stays in 64 bits.
CHAIN_ID_MAX = (2**64 - 1) // 2 - 36
ChainId = Annotated[int, Field(ge=1, le=CHAIN_ID_MAX)]

# Docker image references, after distribution/reference's grammar.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?)"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
FLOATING_TAGS = frozenset({"latest", "stable", "main", "master", "nightly", "develop", "edge"})


def _image(value: str) -> str:
    match = IMAGE_REFERENCE.fullmatch(value)
    if not match:
        raise _fail(f"{value!r} is not an image reference such as 'registry/name:1.2.3'")
    tag, digest = match["tag"], match["digest"]
    if digest:
        return value
    if not tag:
        raise _fail(f"image {value!r} is not pinned: add an exact version tag or @sha256 digest")
    if tag in FLOATING_TAGS:
        raise _fail(
            f"image {value!r} uses the floating tag {tag!r}: pin an exact version or digest"
        )
    return value


Image = Annotated[
    str,
    AfterValidator(_image),
    WithJsonSchema({"type": "string", "pattern": IMAGE_REFERENCE.pattern}),
]

# Kubernetes resource quantities (apimachinery resource.Quantity, canonical forms).
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$")


def _quantity(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not QUANTITY.fullmatch(value):
        raise _fail(f"{value!r} is not a Kubernetes quantity such as '500m', '2Gi' or '4'")
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": QUANTITY.pattern}, {"type": "integer"}]}
    ),
]

_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")


def _branch(value: str) -> str:
    # The subset of `git check-ref-format --branch` rules a branch name can break here.
    if (
        not _BRANCH.fullmatch(value)
        or value.startswith(("/", "-", "."))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "//" in value
        or "/." in value
    ):
        raise _fail(f"{value!r} is not a valid git branch name")
    return value


GitBranch = Annotated[
    str, AfterValidator(_branch), WithJsonSchema({"type": "string", "pattern": _BRANCH.pattern})
]

_GIT_URL = re.compile(r"^(https://|http://|ssh://|file://|git@[^:\s]+:)\S+$")


def _git_url(value: str) -> str:
    if not _GIT_URL.fullmatch(value):
        raise _fail(f"{value!r} is not a git URL (https://, ssh://, git@host:path or file://)")
    return value


GitUrl = Annotated[
    str, AfterValidator(_git_url), WithJsonSchema({"type": "string", "pattern": _GIT_URL.pattern})
]

_CLUSTER_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/\S*)?")


def _cluster_url(value: str) -> str:
    if not _CLUSTER_URL.fullmatch(value):
        raise _fail(f"{value!r} is not a cluster API URL such as 'https://kubernetes.default.svc'")
    return value


ClusterUrl = Annotated[
    str,
    AfterValidator(_cluster_url),
    WithJsonSchema({"type": "string", "pattern": f"^{_CLUSTER_URL.pattern}$"}),
]
