"""Genesis builders for besu-qbft and geth-clique: published vectors, structure, determinism."""

from __future__ import annotations

import json
import random

import pytest

from ethnet.chain import rlp
from ethnet.chain.genesis import GenesisParams, build_genesis, genesis_json
from ethnet.chain.genesis.clique import clique_extra_data
from ethnet.chain.genesis.common import FORK_BLOCKS_THROUGH_LONDON
from ethnet.chain.genesis.qbft import QBFT_MIX_HASH, qbft_extra_data
from ethnet.errors import EthnetError
from ethnet.spec.genesis import environment_genesis
from ethnet.spec.loader import load_network
from tests.conftest import EXAMPLES

# Public addresses from go-ethereum's test vectors (reference/ethereum.md, section 4).
VALIDATORS = [
    bytes.fromhex("970e8128ab834e8eac17ab8e3812f010678cf791"),
    bytes.fromhex("008aeeda4d805471df9b2a5b0f38a0c3bcba786b"),
    bytes.fromhex("45dea0fb0bba44f4fcf290bba71fd57d7117cbb8"),
    bytes.fromhex("7ef5a6135f1fd6a02593eedc869c6d41d934aef8"),
]


def _params(**overrides) -> GenesisParams:
    values = {
        "chain_id": 1337,
        "validators": tuple(VALIDATORS),
        "gas_limit": 30_000_000,
        "alloc": ((VALIDATORS[0], 10**18), (VALIDATORS[1], 5)),
    }
    values.update(overrides)
    return GenesisParams(**values)


# --- QBFT: Besu's QbftExtraDataCodec vectors --------------------------------------------------


def test_qbft_extra_data_without_validators_matches_besu():
    # besu acceptance-tests/.../qbft/qbft-emptyextradata.json
    assert qbft_extra_data([]).hex() == "e5a0" + "00" * 32 + "c0c080c0"


def test_qbft_extra_data_with_one_validator_matches_besu():
    # besu-docs QBFT tutorial, validator 9811ebc3...1deb
    validator = bytes.fromhex("9811ebc35d7b06b3fa8dc5809a1f9c52751e1deb")
    expected = "f83aa0" + "00" * 32 + "d5949811ebc35d7b06b3fa8dc5809a1f9c52751e1debc080c0"
    assert qbft_extra_data([validator]).hex() == expected


def test_qbft_genesis_structure():
    genesis = build_genesis("besu-qbft", _params(zero_base_fee=True))

    assert genesis["mixHash"] == QBFT_MIX_HASH
    assert genesis["difficulty"] == "0x1"
    assert genesis["gasLimit"] == "0x1c9c380"
    config = genesis["config"]
    assert config["chainId"] == 1337
    assert config["qbft"] == {
        "blockperiodseconds": 2,
        "epochlength": 30000,
        "requesttimeoutseconds": 4,
    }
    assert config["zeroBaseFee"] is True
    assert config["shanghaiTime"] == 0
    assert all(config[name] == 0 for name in FORK_BLOCKS_THROUGH_LONDON)
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert vanity == bytes(32)
    assert validators == sorted(VALIDATORS)
    assert (vote, round_, seals) == ([], b"", [])


def test_qbft_without_zero_base_fee_leaves_the_option_out():
    assert "zeroBaseFee" not in build_genesis("besu-qbft", _params())["config"]


# --- Clique on geth v1.13.15 ------------------------------------------------------------------


def test_clique_extra_data_is_vanity_signers_seal():
    extra = clique_extra_data(VALIDATORS[:2])
    assert len(extra) == 32 + 2 * 20 + 65
    assert extra[:32] == bytes(32) and extra[-65:] == bytes(65)
    assert extra[32:72] == VALIDATORS[0] + VALIDATORS[1]


def test_clique_genesis_runs_on_geth_1_13_15():
    genesis = build_genesis("geth-clique", _params(block_period_seconds=5))
    config = genesis["config"]

    assert config["clique"] == {"period": 5, "epoch": 30000}
    # geth's CheckConfigForkOrder: these block forks, in this order, before the clique section
    assert list(config)[1:-1] == list(FORK_BLOCKS_THROUGH_LONDON)
    # clique.go rejects shanghai and cancun; a TTD would hand over to a missing beacon chain
    for absent in ("shanghaiTime", "cancunTime", "terminalTotalDifficulty", "qbft"):
        assert absent not in config
    assert genesis["difficulty"] == "0x1"
    assert genesis["mixHash"] == "0x" + "00" * 32
    signers = bytes.fromhex(genesis["extraData"][2:])[32:-65]
    assert [signers[i : i + 20] for i in range(0, len(signers), 20)] == sorted(VALIDATORS)


# --- both profiles ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["besu-qbft", "geth-clique"])
def test_order_of_validators_and_alloc_does_not_change_the_bytes(profile):
    shuffled = list(VALIDATORS)
    random.Random(7).shuffle(shuffled)
    first = genesis_json(build_genesis(profile, _params()))
    second = genesis_json(
        build_genesis(
            profile,
            _params(
                validators=tuple(shuffled),
                alloc=((VALIDATORS[1], 5), (VALIDATORS[0], 10**18)),
            ),
        )
    )
    assert first == second


@pytest.mark.parametrize("profile", ["besu-qbft", "geth-clique"])
def test_alloc_uses_hex_wei_and_lowercase_addresses(profile):
    genesis = build_genesis(profile, _params())
    assert genesis["alloc"] == {
        "0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b": {"balance": "0x5"},
        "0x970e8128ab834e8eac17ab8e3812f010678cf791": {"balance": "0xde0b6b3a7640000"},
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"validators": ()}, "at least one validator"),
        ({"validators": (VALIDATORS[0], VALIDATORS[0])}, "must be unique"),
        ({"chain_id": 0}, "chain ID must be positive"),
        ({"validators": (b"\x01" * 19,)}, "20 bytes"),
    ],
)
def test_impossible_parameters_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        _params(**overrides)


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile 'geth-pos'"):
        build_genesis("geth-pos", _params())


# --- from network.yaml ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["besu-qbft", "geth-clique"])
def test_example_genesis_matches_golden_file(profile, golden):
    network = load_network(EXAMPLES / profile / "network.yaml").network
    for env in network.environment_names:
        count = network.environment(env).validators
        text = genesis_json(environment_genesis(network, env, VALIDATORS[:count]))
        golden(f"genesis/{profile}-{env}.json", text)
        assert json.loads(text)["config"]["chainId"] == network.environment(env).chain_id


def test_validator_count_must_match_the_environment():
    network = load_network(EXAMPLES / "besu-qbft" / "network.yaml").network
    with pytest.raises(EthnetError, match="asks for 4 validator"):
        environment_genesis(network, "dev", VALIDATORS[:3])
    with pytest.raises(EthnetError, match="listed twice"):
        environment_genesis(network, "dev", [VALIDATORS[0]] * 4)
    with pytest.raises(EthnetError, match="no environment 'qa'"):
        environment_genesis(network, "qa", VALIDATORS)
