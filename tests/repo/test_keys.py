"""Key material of an environment: generated, sealed, idempotent, consistent."""

from __future__ import annotations

import json

import pytest

from ethnet.chain.keystore import LIGHT_SCRYPT, decrypt_keystore
from ethnet.chain.nodekey import parse_besu_node_key, parse_geth_node_key
from ethnet.errors import EthnetError, SealingError
from ethnet.repo.emit import dump
from ethnet.repo.keys import KeyMaterial, generate_keys
from ethnet.seal.certs import fingerprint
from ethnet.seal.sealedsecret import unseal
from ethnet.spec.loader import parse_network
from ethnet.spec.names import keys_secret_name
from tests.conftest import SeededRng
from tests.spec.helpers import network_yaml


def _network(profile="besu-qbft", nodes="{validators: 4, rpc: 2, bootnodes: 1}", extra=""):
    text = network_yaml(
        f"  profile: {profile}\n  nodes: {nodes}\n{extra}"
        "  environments:\n    dev: {chainId: 1337001}\n    prod: {chainId: 1337002}\n"
    )
    return parse_network(text).network


def _generate(network, sealing_key, existing=None, sealed=None, seed="keys", env="dev", **kw):
    return generate_keys(
        network,
        env,
        existing=existing,
        sealed=sealed or {},
        public_key=sealing_key.public_key(),
        fingerprint=fingerprint(sealing_key.public_key()),
        rng=SeededRng(seed),
        kdf=LIGHT_SCRYPT,
        **kw,
    )


def _items(doc, sealing_key) -> dict[str, bytes]:
    import base64

    secret = unseal(doc, [sealing_key])
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def test_besu_network_gets_one_key_per_node_sealed_by_role(sealing_key):
    changes = _generate(_network(), sealing_key)

    names = [node.name for node in changes.material.nodes]
    assert names == [
        "validator-0",
        "validator-1",
        "validator-2",
        "validator-3",
        "rpc-0",
        "rpc-1",
        "bootnode-0",
    ]
    assert sorted(changes.sealed) == [
        "bootnode-keys",
        "ethstats",
        "rpc-keys",
        "validator-keys",
    ]
    validator_items = _items(changes.sealed["validator-keys"], sealing_key)
    assert sorted(validator_items) == [f"validator-{i}.key" for i in range(4)]
    for node in changes.material.nodes:
        secret = changes.sealed[keys_secret_name(node.role)]
        key = parse_besu_node_key(_items(secret, sealing_key)[f"{node.name}.key"].decode())
        assert key.public_key.hex == node.public_key
        # a QBFT validator signs with its node key; other nodes have no address
        expected = "0x" + key.address.hex() if node.role == "validator" else None
        assert (node.address.lower() if node.address else None) == expected
    ws_secret = _items(changes.sealed["ethstats"], sealing_key)["WS_SECRET"]
    assert len(ws_secret) == 64 and int(ws_secret, 16) > 0
    assert changes.unused == []


def test_every_secret_is_strict_and_in_the_environment_namespace(sealing_key):
    changes = _generate(_network(), sealing_key, env="prod")
    for doc in changes.sealed.values():
        assert doc["metadata"]["namespace"] == "acme-prod"
        assert "annotations" not in doc["metadata"]  # strict scope: no scope annotation


def test_pinned_randomness_gives_identical_bytes(sealing_key):
    first = _generate(_network(), sealing_key, seed="same")
    second = _generate(_network(), sealing_key, seed="same")
    assert dump(first.material.to_document()) == dump(second.material.to_document())
    assert {k: dump(v) for k, v in first.sealed.items()} == {
        k: dump(v) for k, v in second.sealed.items()
    }


def test_generating_again_changes_nothing(sealing_key):
    network = _network()
    first = _generate(network, sealing_key)

    again = _generate(
        network, sealing_key, existing=first.material, sealed=first.sealed, seed="other"
    )

    assert again.generated == []
    assert again.material == first.material
    assert again.sealed == first.sealed


def test_adding_a_node_leaves_every_other_ciphertext_untouched(sealing_key):
    first = _generate(_network(), sealing_key)
    bigger = _network(nodes="{validators: 5, rpc: 2, bootnodes: 1}")

    grown = _generate(
        bigger, sealing_key, existing=first.material, sealed=first.sealed, seed="more"
    )

    assert grown.generated == ["validator-4"]
    before = first.sealed["validator-keys"]["spec"]["encryptedData"]
    after = grown.sealed["validator-keys"]["spec"]["encryptedData"]
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"validator-4.key"}
    for name in ("rpc-keys", "bootnode-keys", "ethstats"):
        assert grown.sealed[name] == first.sealed[name]
    assert grown.material.nodes[:4] == first.material.nodes[:4]


def test_removing_a_node_from_the_spec_keeps_its_key(sealing_key):
    first = _generate(_network(), sealing_key)
    smaller = _network(nodes="{validators: 4, rpc: 1, bootnodes: 1}")

    again = _generate(smaller, sealing_key, existing=first.material, sealed=first.sealed)

    assert again.generated == []
    assert again.unused == ["rpc-1"]
    assert again.material == first.material


def test_components_decide_the_component_secrets(sealing_key):
    network = _network(extra="  components: {ethstats: false, blockscout: true}\n")
    changes = _generate(network, sealing_key)

    assert "ethstats" not in changes.sealed
    assert sorted(_items(changes.sealed["blockscout-postgres"], sealing_key)) == [
        "POSTGRES_PASSWORD"
    ]
    assert len(_items(changes.sealed["blockscout"], sealing_key)["SECRET_KEY_BASE"]) == 128


def test_clique_signers_get_a_keystore_that_opens_with_its_sealed_password(sealing_key):
    network = _network(profile="geth-clique", nodes="{validators: 2, rpc: 1, bootnodes: 1}")
    changes = _generate(network, sealing_key)

    signer_items = _items(changes.sealed["validator-keys"], sealing_key)
    assert sorted(signer_items) == sorted(
        f"validator-{i}.{suffix}"
        for i in range(2)
        for suffix in ("keystore", "nodekey", "password")
    )
    for node in changes.material.nodes:
        secret = changes.sealed[keys_secret_name(node.role)]
        items = _items(secret, sealing_key)
        node_key = parse_geth_node_key(items[f"{node.name}.nodekey"].decode())
        assert node_key.public_key.hex == node.public_key
        if node.role != "validator":
            assert node.address is None
            continue
        keystore = json.loads(items[f"{node.name}.keystore"])
        account = decrypt_keystore(keystore, items[f"{node.name}.password"])
        # the signer's account is its own key, not the node key
        assert "0x" + account.address.hex() == node.address.lower()
        assert account != node_key


def test_keys_file_round_trips_and_refuses_garbage(sealing_key):
    material = _generate(_network(), sealing_key).material
    assert KeyMaterial.from_document(material.to_document(), source="k") == material
    assert len(material.validator_addresses()) == 4

    broken = material.to_document()
    broken["nodes"][0]["publicKey"] = "00" * 64
    with pytest.raises(EthnetError, match=r"k: not a valid keys\.yaml"):
        KeyMaterial.from_document(broken, source="k")
    with pytest.raises(EthnetError, match=r"not a valid keys\.yaml"):
        KeyMaterial.from_document({"kind": "Other"}, source="k")


def test_inconsistent_material_is_refused(sealing_key):
    network = _network()
    first = _generate(network, sealing_key)
    validator_keys = first.sealed["validator-keys"]

    missing_item = dict(first.sealed)
    missing_item["validator-keys"] = {
        **validator_keys,
        "spec": {
            **validator_keys["spec"],
            "encryptedData": {
                k: v
                for k, v in validator_keys["spec"]["encryptedData"].items()
                if k != "validator-2.key"
            },
        },
    }
    with pytest.raises(EthnetError, match="lists validator-2 but its sealed"):
        _generate(network, sealing_key, existing=first.material, sealed=missing_item)

    with pytest.raises(EthnetError, match=r"but keys\.yaml does not"):
        _generate(network, sealing_key, existing=None, sealed=first.sealed)

    fewer = KeyMaterial(
        first.material.network,
        "dev",
        first.material.sealing_fingerprint,
        first.material.nodes[1:],
        first.material.secrets,
    )
    with pytest.raises(EthnetError, match="holds a key for validator-0"):
        _generate(network, sealing_key, existing=fewer, sealed=first.sealed)


def test_another_certificate_or_namespace_is_refused(sealing_key):
    network = _network()
    first = _generate(network, sealing_key)
    with pytest.raises(SealingError, match="were sealed for certificate"):
        generate_keys(
            network,
            "dev",
            existing=first.material,
            sealed=first.sealed,
            public_key=sealing_key.public_key(),
            fingerprint="SHA256:other",
        )
    moved = parse_network(
        network_yaml("  environments:\n    dev: {chainId: 1337001, namespace: elsewhere}\n")
    ).network
    with pytest.raises(SealingError, match="sealed for namespace 'acme-dev'"):
        _generate(moved, sealing_key, existing=first.material, sealed=first.sealed)
