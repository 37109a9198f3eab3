"""Loading valid network.yaml files: defaults, per-environment overrides, warnings."""

from __future__ import annotations

import pytest

from ethnet.errors import SpecError
from ethnet.spec.loader import load_network, parse_network
from ethnet.spec.model import DEFAULT_IMAGES
from tests.conftest import EXAMPLES
from tests.spec.helpers import MINIMAL, network_yaml


def test_minimal_network_gets_safe_defaults():
    loaded = parse_network(MINIMAL)
    network = loaded.network

    assert network.spec.profile == "besu-qbft"
    assert loaded.warnings == ()
    dev = network.environment("dev")
    assert dev.namespace == "acme-dev"
    assert (dev.validators, dev.rpc_nodes, dev.bootnodes) == (4, 2, 1)
    assert dev.images == {"besu": DEFAULT_IMAGES["besu"], "votes": DEFAULT_IMAGES["votes"]}
    assert dev.live is False
    assert dev.storage_size == "20Gi"
    assert dev.requests == {"cpu": "500m", "memory": "2Gi"}
    assert dev.limits == {"cpu": "2", "memory": "4Gi"}
    assert network.spec.rpc.service_type == "ClusterIP"
    assert network.spec.components.ethstats is True
    assert network.spec.components.blockscout is False


def test_environment_overrides_win_over_spec_values_which_win_over_defaults():
    text = network_yaml(
        "  nodes: {rpc: 3}\n"
        "  images: {besu: 'hyperledger/besu:25.12.0'}\n"
        "  storage: {size: 50Gi, storageClassName: fast}\n"
        "  resources: {limits: {memory: 8Gi}}\n"
        "  environments:\n"
        "    dev: {chainId: 1}\n"
        "    prod:\n"
        "      chainId: 2\n"
        "      namespace: acme-production\n"
        "      live: true\n"
        "      nodes: {validators: 7}\n"
        "      images: {besu: 'registry.example.invalid:5000/besu@sha256:" + "a" * 64 + "'}\n"
        "      storage: {size: 1Ti}\n"
        "      resources: {requests: {cpu: '4'}}\n"
    )
    network = parse_network(text).network
    dev, prod = network.environment("dev"), network.environment("prod")

    assert (dev.validators, dev.rpc_nodes) == (4, 3)
    assert (prod.validators, prod.rpc_nodes) == (7, 3)
    assert dev.images["besu"] == "hyperledger/besu:25.12.0"
    assert prod.images["besu"].endswith("@sha256:" + "a" * 64)
    assert (dev.storage_size, dev.storage_class_name) == ("50Gi", "fast")
    assert (prod.storage_size, prod.storage_class_name) == ("1Ti", "fast")
    assert dev.limits == {"cpu": "2", "memory": "8Gi"}
    assert prod.requests == {"cpu": "4", "memory": "2Gi"}
    assert prod.namespace == "acme-production"
    assert prod.live is True
    assert network.environment_names == ("dev", "prod")


def test_balances_in_every_accepted_form():
    text = network_yaml(
        "  genesis:\n    alloc:\n"
        "      - {address: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', balance: 1000000 ether}\n"
        "      - {address: '0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359', balance: '5 gwei'}\n"
        "      - {address: '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', balance: 1000}\n"
        "      - {address: '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb', balance: '0x3e8'}\n"
        "      - {address: '0x970e8128ab834e8eac17ab8e3812f010678cf791', balance: '1.5 Ether'}\n"
        "  environments:\n    dev: {chainId: 7}\n"
    )
    alloc = parse_network(text).network.spec.genesis.alloc

    assert [a.balance for a in alloc] == [10**24, 5 * 10**9, 1000, 1000, 15 * 10**17]
    # addresses are normalised to their EIP-55 form, whatever case they were written in
    assert alloc[0].address == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert alloc[1].address == "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        ("  nodes: {validators: 2}\n", "spec.nodes.validators", "tolerate no faulty validator"),
        (
            "  consensus: {blockPeriodSeconds: 5, requestTimeoutSeconds: 5}\n",
            "spec.consensus.requestTimeoutSeconds",
            "is not longer than blockPeriodSeconds",
        ),
        (
            "  images: {geth: 'ethereum/client-go:v1.13.15'}\n",
            "spec.images.geth",
            "image 'geth' is not used by profile 'besu-qbft'",
        ),
    ],
)
def test_warnings_are_located_and_do_not_fail(body, path, fragment):
    loaded = parse_network(network_yaml(body + "  environments:\n    dev: {chainId: 99}\n"))

    assert len(loaded.warnings) == 1
    warning = loaded.warnings[0]
    assert warning.path == path
    assert fragment in warning.message
    assert warning.message.startswith("warning: ")
    assert warning.location is not None and warning.location.line == 6


def test_public_chain_id_and_shared_namespace_warn():
    text = network_yaml(
        "  environments:\n"
        "    a: {chainId: 1, namespace: shared}\n"
        "    b: {chainId: 11155111, namespace: shared}\n"
    )
    warnings = [str(w) for w in parse_network(text).warnings]

    assert any(
        "spec.environments.a.chainId: warning: chainId 1 belongs to Ethereum mainnet" in w
        for w in warnings
    )
    assert any("chainId 11155111 belongs to Sepolia" in w for w in warnings)
    assert any("namespace 'shared' is also used by environment 'a'" in w for w in warnings)


def test_clique_with_one_signer_is_valid_and_qbft_rules_do_not_apply():
    text = network_yaml(
        "  profile: geth-clique\n  nodes: {validators: 1}\n"
        "  environments:\n    dev: {chainId: 55}\n"
    )
    loaded = parse_network(text)

    assert loaded.warnings == ()
    assert loaded.network.environment("dev").images == {
        "geth": "ethereum/client-go:v1.13.15",
        "bootnode": "ethereum/client-go:alltools-v1.13.15",
        "votes": "python:3.12.8-alpine3.20",
    }


def test_comments_and_quoting_styles_do_not_matter():
    text = "# header\n" + MINIMAL.replace("1337001", "'0x1'  # quoted hex is not an int")
    with pytest.raises(SpecError, match="chainId: must be an integer"):
        parse_network(text)


@pytest.mark.parametrize(
    "example", sorted(EXAMPLES.glob("*/network.yaml")), ids=lambda p: p.parent.name
)
def test_shipped_examples_are_valid(example):
    loaded = load_network(example)

    assert loaded.warnings == ()
    assert loaded.network.spec.profile == example.parent.name


@pytest.mark.parametrize(
    "body",
    [
        '  environments:\n    dev: {chainId: 1, namespace: "acme\\n"}\n',
        '  images: {besu: "hyperledger/besu:26.2.0\\n"}\n  environments:\n    dev: {chainId: 1}\n',
        '  genesis:\n    alloc:\n      - {address: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\\n",'
        " balance: 1}\n  environments:\n    dev: {chainId: 1}\n",
    ],
    ids=["namespace", "image", "address"],
)
def test_a_trailing_newline_is_not_part_of_a_valid_value(body):
    # `$` in a regex matches before a final newline; values must match whole.
    with pytest.raises(SpecError):
        parse_network(network_yaml(body))
