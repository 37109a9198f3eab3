"""Enode URLs (go-ethereum p2p/enode/urlv4.go) and node key files for geth and Besu."""

from __future__ import annotations

import pytest

from ethnet.chain.enode import Enode
from ethnet.chain.keys import PrivateKey, PublicKey
from ethnet.chain.nodekey import (
    besu_node_key_file,
    geth_node_key_file,
    parse_besu_node_key,
    parse_geth_node_key,
)
from ethnet.errors import EncodingError, InvalidKeyError

# go-ethereum crypto/crypto_test.go: testPrivHex and its public key.
PRIV_HEX = "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032"
PUB_HEX = (
    "7db227d7094ce215c3a0f57e1bcc732551fe351f94249471934567e0f5dc1bf7"
    "95962b8cccb87a2eb56b29fbe37d614e2f4c3c45b789ae4f1f51f4cb21972ffd"
)
KEY = PrivateKey.from_hex(PRIV_HEX)
PUB = PublicKey(raw=bytes.fromhex(PUB_HEX))


# --- Enode ------------------------------------------------------------------------------


def test_enode_format_matches_urlv4_example() -> None:
    # The example in the ParseV4 doc comment: TCP 30303, UDP discovery 30301.
    enode = Enode(public_key=KEY.public_key, host="10.3.58.6", port=30303, discport=30301)
    assert str(enode) == f"enode://{PUB_HEX}@10.3.58.6:30303?discport=30301"


def test_enode_default_port_and_no_discport() -> None:
    assert str(Enode(PUB, "10.0.0.1")) == f"enode://{PUB_HEX}@10.0.0.1:30303"


def test_enode_discport_equal_to_port_is_omitted() -> None:
    enode = Enode(PUB, "10.0.0.1", port=30303, discport=30303)
    assert str(enode) == f"enode://{PUB_HEX}@10.0.0.1:30303"
    assert enode.udp_port == 30303


def test_enode_ipv6_host_in_brackets() -> None:
    enode = Enode(PUB, "fd00::1", port=30304)
    assert str(enode) == f"enode://{PUB_HEX}@[fd00::1]:30304"
    assert Enode.parse(str(enode)) == enode


@pytest.mark.parametrize(
    "enode",
    [
        Enode(PUB, "10.3.58.6", 30303, 30301),
        Enode(PUB, "127.0.0.1", 1, None),
        Enode(PUB, "::1", 65535, 1),
        Enode(PUB, "2001:db8::8a2e:370:7334"),
        Enode(PUB, "validator-0.validators.ethnet.svc.cluster.local", 30303),
        Enode(PUB, "bootnode"),
        Enode(PUB, "node1.example.com.", 30311, 30312),
    ],
)
def test_enode_round_trip(enode: Enode) -> None:
    assert Enode.parse(str(enode)) == enode


def test_enode_parse_fields() -> None:
    enode = Enode.parse(f"enode://{PUB_HEX.upper()}@[::1]:30303?discport=30301")
    assert enode.public_key == PUB
    assert enode.host == "::1"
    assert (enode.port, enode.discport, enode.udp_port) == (30303, 30301, 30301)


def test_enode_parse_drops_discport_equal_to_port() -> None:
    enode = Enode.parse(f"enode://{PUB_HEX}@10.0.0.1:30303?discport=30303")
    assert enode.discport is None


def test_enode_scheme_is_case_insensitive_like_go_url_parse() -> None:
    assert Enode.parse(f"ENODE://{PUB_HEX}@10.0.0.1:30303").host == "10.0.0.1"


OFF_CURVE = "00" * 64


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"enr://{PUB_HEX}@10.0.0.1:30303", "scheme"),
        (f"http://{PUB_HEX}@10.0.0.1:30303", "scheme"),
        (f"{PUB_HEX}@10.0.0.1:30303", "scheme"),
        (f"enode://{PUB_HEX}", "no @host:port"),
        (f"enode://{PUB_HEX[:-1]}@10.0.0.1:30303", "128 hex"),
        (f"enode://{PUB_HEX}00@10.0.0.1:30303", "128 hex"),
        (f"enode://04{PUB_HEX}@10.0.0.1:30303", "128 hex"),
        (f"enode://{PUB_HEX[:-1]}g@10.0.0.1:30303", "128 hex"),
        (f"enode://{OFF_CURVE}@10.0.0.1:30303", "secp256k1"),
        (f"enode://{PUB_HEX}@10.0.0.1", "no :port"),
        (f"enode://{PUB_HEX}@10.0.0.1:", "port must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:0", "port must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:65536", "port must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:+1", "port must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:30303?discport=0", "discport must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:30303?discport=x", "discport must be"),
        (f"enode://{PUB_HEX}@10.0.0.1:30303?disport=30301", "only set discport"),
        (f"enode://{PUB_HEX}@10.0.0.1:30303#frag", "fragment"),
        (f"enode://{PUB_HEX}@::1:30303", "brackets"),
        (f"enode://{PUB_HEX}@[::1]30303", "no :port"),
        (f"enode://{PUB_HEX}@[::1:30303", "closing bracket"),
        (f"enode://{PUB_HEX}@[10.0.0.1]:30303", "not an IPv6"),
        (f"enode://{PUB_HEX}@256.1.1.1:30303", "not an IPv4"),
        (f"enode://{PUB_HEX}@10.0.0:30303", "not an IPv4"),
        (f"enode://{PUB_HEX}@-node.example:30303", "not a DNS name"),
        (f"enode://{PUB_HEX}@node_1.example:30303", "not a DNS name"),
        (f"enode://{PUB_HEX}@node..example:30303", "not a DNS name"),
        (f"enode://{PUB_HEX}@:30303", "empty host"),
        (f"enode://{PUB_HEX}@user@10.0.0.1:30303", "not an IPv4"),
        (f"enode://{PUB_HEX}@user@node:30303", "not a DNS name"),
    ],
)
def test_enode_parse_rejections_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        Enode.parse(url)


@pytest.mark.parametrize(
    ("host", "port", "discport", "message"),
    [
        ("10.0.0.1", 0, None, "port must be"),
        ("10.0.0.1", 70000, None, "port must be"),
        ("10.0.0.1", True, None, "port must be"),
        ("10.0.0.1", 30303, 0, "discport must be"),
        ("[::1]", 30303, None, "not an IPv6"),
        ("a" * 64 + ".example", 30303, None, "not a DNS name"),
        ("", 30303, None, "empty host"),
    ],
)
def test_enode_constructor_validates(
    host: str, port: int, discport: int | None, message: str
) -> None:
    with pytest.raises(EncodingError, match=message):
        Enode(PUB, host, port, discport)


# --- Node key files ---------------------------------------------------------------------


def test_node_key_file_formats() -> None:
    assert geth_node_key_file(KEY) == PRIV_HEX + "\n"
    assert besu_node_key_file(KEY) == "0x" + PRIV_HEX + "\n"


def test_node_key_files_round_trip() -> None:
    assert parse_geth_node_key(geth_node_key_file(KEY)) == KEY
    assert parse_besu_node_key(besu_node_key_file(KEY)) == KEY


@pytest.mark.parametrize(
    "text",
    [PRIV_HEX, PRIV_HEX + "\n", PRIV_HEX + "\r\n", PRIV_HEX + "\n\n", PRIV_HEX.upper()],
)
def test_geth_parser_accepts_what_load_ecdsa_accepts(text: str) -> None:
    assert parse_geth_node_key(text) == KEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x" + PRIV_HEX, "0x"),
        ("0x" + PRIV_HEX + "\n", "0x"),
        (PRIV_HEX + "\n\n\n", "at most 2"),
        (PRIV_HEX + "\r\n\r\n", "at most 2"),
        (PRIV_HEX + " ", "more than 64"),
        (PRIV_HEX + "00", "more than 64"),
        (" " + PRIV_HEX, "too short"),
        (PRIV_HEX[:-2] + "\n", "too short"),
        ("", "too short"),
        (PRIV_HEX[:-1] + "g", "not a hex digit"),
        ("00" * 32, "group order"),
    ],
)
def test_geth_parser_rejects_what_load_ecdsa_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message) as caught:
        parse_geth_node_key(text)
    assert PRIV_HEX[:16] not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["0x" + PRIV_HEX, PRIV_HEX, PRIV_HEX + "\n", "0x" + PRIV_HEX + "\r\n", "0x" + PRIV_HEX.upper()],
)
def test_besu_parser_accepts_one_line_with_optional_0x(text: str) -> None:
    assert parse_besu_node_key(text) == KEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "exactly one line"),
        ("0x" + PRIV_HEX + "\n\n", "exactly one line"),
        ("0x" + PRIV_HEX + "\n0x" + PRIV_HEX, "exactly one line"),
        ("\n0x" + PRIV_HEX, "exactly one line"),
        ("0x" + PRIV_HEX[:-2], "64 hex digits"),
        ("0x" + PRIV_HEX + " ", "64 hex digits"),
        ("0x0x" + PRIV_HEX[:-2], "64 hex digits"),
    ],
)
def test_besu_parser_rejections(text: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message) as caught:
        parse_besu_node_key(text)
    assert PRIV_HEX[:16] not in str(caught.value)


def test_node_key_enode_identity() -> None:
    # The enode of a node is the public key of its node key file.
    enode = Enode(parse_geth_node_key(geth_node_key_file(KEY)).public_key, "10.0.0.1")
    assert str(enode).startswith(f"enode://{PUB_HEX}@")
