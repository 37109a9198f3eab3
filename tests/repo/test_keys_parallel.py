"""A whole environment's keys, derived in parallel, are the bytes a sequential run gives."""

from __future__ import annotations

import base64
import json

import pytest

from ethnet.chain.keys import PrivateKey
from ethnet.chain.keystore import LIGHT_SCRYPT, STANDARD_SCRYPT, encrypt_keystore, keystore_json
from ethnet.chain.nodekey import geth_node_key_file
from ethnet.repo.emit import dump
from ethnet.repo.kdf_pool import usable_cores
from ethnet.repo.keys import generate_keys
from ethnet.seal.certs import fingerprint
from ethnet.seal.sealedsecret import unseal
from ethnet.spec.loader import parse_network
from tests.conftest import SeededRng
from tests.spec.helpers import network_yaml


def _clique(signers: int, rpc: int = 1):
    text = network_yaml(
        f"  profile: geth-clique\n  nodes: {{validators: {signers}, rpc: {rpc}, bootnodes: 1}}\n"
        "  environments:\n    dev: {chainId: 1337001}\n"
    )
    return parse_network(text).network


def _generate(network, sealing_key, *, kdf=LIGHT_SCRYPT, seed="parallel", **kw):
    return generate_keys(
        network,
        "dev",
        existing=None,
        sealed={},
        public_key=sealing_key.public_key(),
        fingerprint=fingerprint(sealing_key.public_key()),
        rng=SeededRng(seed),
        kdf=kdf,
        **kw,
    )


def _bytes(changes) -> tuple[str, dict[str, str]]:
    """keys.yaml and every SealedSecret, as the files ethnet writes."""
    return dump(changes.material.to_document()), {k: dump(v) for k, v in changes.sealed.items()}


def _items(doc, sealing_key) -> dict[str, bytes]:
    secret = unseal(doc, [sealing_key])
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def test_parallel_and_sequential_runs_write_identical_bytes(sealing_key):
    network = _clique(signers=5)
    sequential, parallel = [], []

    one = _generate(network, sealing_key, workers=1, progress=sequential.append)
    many = _generate(network, sealing_key, workers=3, progress=parallel.append)
    default = _generate(network, sealing_key)  # light scrypt: no pool

    assert _bytes(many) == _bytes(one) == _bytes(default)
    for messages in (sequential, parallel):
        assert [m for m in messages if "derived keystore" in m] == [
            f"dev: derived keystore {done}/5" for done in range(1, 6)
        ]
    assert sequential[-1] == "dev: keystores derived in this process"
    assert parallel[-1].startswith("dev: keystores derived in ")
    assert parallel[-1].endswith(("1 worker process", "2 worker processes", "3 worker processes"))


def test_randomness_is_drawn_node_by_node_as_a_one_at_a_time_generation_draws_it(sealing_key):
    # The order is the contract that keeps pinned-rng output stable: per node, its node key;
    # per signer then, its account key, its password, and its keystore's salt, IV and UUID.
    changes = _generate(_clique(signers=3, rpc=1), sealing_key, workers=2)

    rng = SeededRng("parallel")
    expected: dict[str, bytes] = {}
    for name, signer in [(f"validator-{i}", True) for i in range(3)] + [
        ("rpc-0", False),
        ("bootnode-0", False),
    ]:
        expected[f"{name}.nodekey"] = geth_node_key_file(PrivateKey.generate(rng)).encode()
        if signer:
            account = PrivateKey.generate(rng)
            password = rng(32).hex().encode()
            keystore = encrypt_keystore(account, password, params=LIGHT_SCRYPT, rng=rng)
            expected[f"{name}.keystore"] = keystore_json(keystore).encode()
            expected[f"{name}.password"] = password
    expected_ws_secret = rng(32).hex().encode()  # component secrets come after every node

    actual: dict[str, bytes] = {}
    for name in ("validator-keys", "rpc-keys", "bootnode-keys"):
        actual.update(_items(changes.sealed[name], sealing_key))
    assert actual == expected
    assert _items(changes.sealed["ethstats"], sealing_key)["WS_SECRET"] == expected_ws_secret


def test_a_network_without_signers_derives_nothing(sealing_key):
    besu = parse_network(
        network_yaml(
            "  nodes: {validators: 2, rpc: 1, bootnodes: 1}\n"
            "  environments:\n    dev: {chainId: 1337001}\n"
        )
    ).network
    messages: list[str] = []
    _generate(besu, sealing_key, workers=2, progress=messages.append)
    assert not [m for m in messages if "derived" in m]


@pytest.mark.slow
@pytest.mark.skipif(usable_cores() < 2, reason="needs at least 2 usable cores")
def test_standard_cost_parallel_run_is_byte_identical_and_uses_workers(sealing_key):
    # geth's standard scrypt (n=2^18): the pool starts without being asked for.
    network = _clique(signers=2, rpc=0)
    messages: list[str] = []

    parallel = _generate(network, sealing_key, kdf=STANDARD_SCRYPT, progress=messages.append)
    sequential = _generate(network, sealing_key, kdf=STANDARD_SCRYPT, workers=1)

    assert _bytes(parallel) == _bytes(sequential)
    assert messages[-1] in (
        "dev: keystores derived in 2 worker processes",
        "dev: keystores derived in 1 worker process",
    )
    keystore = json.loads(
        _items(parallel.sealed["validator-keys"], sealing_key)["validator-1.keystore"]
    )
    assert keystore["crypto"]["kdfparams"]["n"] == 262144
