"""A genesis from ethnet loads into a real Ethereum node (anvil) and the chain works.

Checks eth_chainId and every alloc balance, then signs a transfer with a key whose
address is funded in the alloc (key generated now, signed by eth-account, an independent
implementation), sends it and reads the receipt.
"""

from __future__ import annotations

import random
import time

import pytest
from eth_account import Account

from ethnet.chain.address import to_checksum_address
from ethnet.chain.genesis import genesis_json
from ethnet.chain.keys import PrivateKey
from ethnet.spec.genesis import environment_genesis
from ethnet.spec.loader import parse_network
from tests.integration.anvil import running_anvil
from tests.npm_tools import require_anvil
from tests.spec.helpers import network_yaml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def anvil_binary():
    return require_anvil()


@pytest.mark.parametrize("profile", ["besu-qbft", "geth-clique"])
def test_genesis_runs_in_anvil(anvil_binary, tmp_path, profile):
    rng = random.Random(f"anvil-{profile}")
    draw = lambda n: rng.randbytes(n)  # noqa: E731 - a pinned rng for PrivateKey.generate
    sender = PrivateKey.generate(draw)
    funded = [PrivateKey.generate(draw).address for _ in range(2)]
    validators = [PrivateKey.generate(draw).address for _ in range(4)]
    recipient = PrivateKey.generate(draw).address
    balances = {sender.address: 1000 * 10**18, funded[0]: 5 * 10**9, funded[1]: 12345}
    alloc = "".join(
        f"      - {{address: '{to_checksum_address(a)}', balance: '{b}'}}\n"
        for a, b in balances.items()
    )
    text = network_yaml(
        f"  profile: {profile}\n"
        "  genesis:\n    gasLimit: '0x1c9c380'\n    alloc:\n"
        + alloc
        + "  environments:\n    dev: {chainId: 4242421}\n"
    )
    network = parse_network(text).network
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(genesis_json(environment_genesis(network, "dev", validators)))

    with running_anvil(anvil_binary, genesis_file, gas_limit=30_000_000) as node:
        assert int(node.call("eth_chainId"), 16) == 4242421
        for address, wei in balances.items():
            balance = node.call("eth_getBalance", to_checksum_address(address), "latest")
            assert int(balance, 16) == wei
        assert int(node.call("eth_getBalance", to_checksum_address(recipient), "latest"), 16) == 0

        transfer = {
            "type": 2,
            "chainId": 4242421,
            "nonce": 0,
            "to": to_checksum_address(recipient),
            "value": 3 * 10**18,
            "gas": 21000,
            "maxFeePerGas": 100 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        signed = Account.sign_transaction(transfer, sender.secret)
        assert Account.recover_transaction(signed.raw_transaction) == to_checksum_address(
            sender.address
        )
        tx_hash = node.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
        receipt = None
        deadline = time.monotonic() + 20
        while receipt is None and time.monotonic() < deadline:
            receipt = node.call("eth_getTransactionReceipt", tx_hash)
            time.sleep(0.05)

        assert receipt is not None, "no receipt within 20 s"
        assert receipt["status"] == "0x1"
        assert receipt["from"].lower() == "0x" + sender.address.hex()
        assert int(node.call("eth_getBalance", to_checksum_address(recipient), "latest"), 16) == (
            3 * 10**18
        )
