"""Enode URLs: how execution clients name their peers (go-ethereum ``p2p/enode/urlv4.go``).

The form is ``enode://<128 hex node ID>@<host>:<tcp port>[?discport=<udp port>]``. The node
ID is the node key's public key ``x || y``; an IPv6 host is written in brackets; the UDP
discovery port appears only when it differs from the TCP port.

go-ethereum resolves a DNS host to an IP when it parses the URL, and Besu accepts DNS hosts
when DNS support is enabled; in Kubernetes a stable DNS name is what we have, so it is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ethnet.chain.keys import PublicKey
from ethnet.errors import EncodingError, InvalidKeyError

DEFAULT_PORT = 30303
_SCHEME = "enode://"
_NODE_ID_HEX = re.compile(r"[0-9a-fA-F]{128}")
_PORT_DIGITS = re.compile(r"[0-9]{1,5}")
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_DNS_NAME = 253


@dataclass(frozen=True)
class Enode:
    """One peer address: node ID, host, TCP port and (if different) UDP discovery port."""

    public_key: PublicKey
    host: str
    port: int = DEFAULT_PORT
    discport: int | None = None

    def __post_init__(self) -> None:
        problem = _host_problem(self.host)
        if problem:
            raise EncodingError(f"enode host {self.host!r}: {problem}")
        _check_port("port", self.port)
        if self.discport is not None:
            _check_port("discport", self.discport)

    @property
    def udp_port(self) -> int:
        """The discovery port: ``discport`` when set, else the TCP port."""
        return self.port if self.discport is None else self.discport

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"{_SCHEME}{self.public_key.hex}@{host}:{self.port}"
        if self.udp_port != self.port:
            url += f"?discport={self.udp_port}"
        return url

    @classmethod
    def parse(cls, url: str) -> Enode:
        """Parse a complete enode URL; a ``discport`` equal to the port is dropped.

        Raises ``EncodingError`` naming the part that is wrong.
        """
        if not url.lower().startswith(_SCHEME):
            raise EncodingError(f"not an enode URL (want scheme enode://): {url!r}")
        rest = url[len(_SCHEME) :]

        # Step 1: node ID, before the "@".
        node_id, at, address = rest.partition("@")
        if not at:
            raise EncodingError(f"enode URL has no @host:port after the node ID: {url!r}")
        public_key = _parse_node_id(node_id, url)

        # Step 2: the query, where only discport is defined.
        address, question, query = address.partition("?")
        if "#" in address or "#" in query:
            raise EncodingError(f"enode URL must not have a #fragment: {url!r}")
        discport = _parse_query(query, url) if question else None

        # Step 3: host and TCP port.
        host, port = _split_host_port(address, url)
        if discport == port:
            discport = None
        return cls(public_key=public_key, host=host, port=port, discport=discport)


def _parse_node_id(text: str, url: str) -> PublicKey:
    if not _NODE_ID_HEX.fullmatch(text):
        raise EncodingError(
            f"enode node ID must be 128 hex digits (the public key without 04), "
            f"got {len(text)} characters: {url!r}"
        )
    try:
        return PublicKey(raw=bytes.fromhex(text))
    except InvalidKeyError:
        raise EncodingError(
            f"enode node ID is not a point on the secp256k1 curve: {url!r}"
        ) from None


def _parse_query(query: str, url: str) -> int | None:
    discport: int | None = None
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name != "discport":
            raise EncodingError(f"enode URL query may only set discport, got {pair!r}: {url!r}")
        discport = _parse_port("discport", value, url)
    return discport


def _split_host_port(address: str, url: str) -> tuple[str, int]:
    if address.startswith("["):
        host, bracket, after = address[1:].partition("]")
        if not bracket:
            raise EncodingError(f"enode IPv6 host has no closing bracket: {url!r}")
        if not _is_ipv6(host):
            raise EncodingError(f"enode host in brackets is not an IPv6 address: {url!r}")
        if not after.startswith(":"):
            raise EncodingError(f"enode URL has no :port after the host: {url!r}")
        return host, _parse_port("port", after[1:], url)
    host, colon, port_text = address.rpartition(":")
    if not colon:
        raise EncodingError(f"enode URL has no :port after the host: {url!r}")
    if ":" in host:
        raise EncodingError(f"enode IPv6 host must be in brackets, as [{host}]: {url!r}")
    problem = _host_problem(host)
    if problem:
        raise EncodingError(f"enode host {host!r}: {problem}: {url!r}")
    return host, _parse_port("port", port_text, url)


def _parse_port(name: str, text: str, url: str) -> int:
    if not _PORT_DIGITS.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise EncodingError(f"enode {name} must be a number from 1 to 65535, got {text!r}: {url!r}")
    return int(text)


def _check_port(name: str, port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise EncodingError(f"enode {name} must be a number from 1 to 65535, got {port!r}")


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not an IPv4 address, IPv6 address or DNS name; None when it is one."""
    if not isinstance(host, str) or not host:
        return "empty host"
    if ":" in host:
        return None if _is_ipv6(host) else "not an IPv6 address"
    labels = host.removesuffix(".").split(".")
    if labels[-1].isascii() and labels[-1].isdigit():
        # All-digit top label: meant as an IPv4 address, so it must be one.
        return None if _is_ipv4(host) else "not an IPv4 address"
    if len(host) > _MAX_DNS_NAME:
        return f"a DNS name has at most {_MAX_DNS_NAME} characters"
    if not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return "not a DNS name (labels of letters, digits and inner hyphens, 1-63 long)"
    return None


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return "%" not in text
