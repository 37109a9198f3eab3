"""Hyperledger Besu QBFT genesis.

extraData is ``RLP([vanity32, [validators...], vote, round, seals])`` with, at genesis,
an empty vote list, round ``writeIntScalar(0)`` = 0x80 and no seals (Besu's
``QbftExtraDataCodec``). mixHash must be the BFT marker (``BftHelpers.EXPECTED_MIX_HASH``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ethnet.chain import rlp
from ethnet.chain.genesis.common import (
    ZERO_ADDRESS,
    GenesisParams,
    alloc_section,
    fork_blocks,
    quantity,
    sorted_validators,
)

# ASCII "ctical byzantine fault tolerance" (the tail of "practical..."), as Besu has it.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
VANITY_LENGTH = 32


def qbft_extra_data(validators: Sequence[bytes], vanity: bytes = bytes(VANITY_LENGTH)) -> bytes:
    """Genesis extraData for QBFT: vanity, validators, no vote, round 0, no seals."""
    if len(vanity) != VANITY_LENGTH:
        raise ValueError(f"vanity has 32 bytes, got {len(vanity)}")
    return rlp.encode([vanity, list(validators), [], 0, []])


def qbft_genesis(params: GenesisParams) -> dict[str, Any]:
    """A Besu QBFT genesis: forks through London at block 0 and Shanghai at time 0
    (QBFT supports Shanghai since Besu 24.1, besu#6353; PUSH0 for current solc)."""
    config: dict[str, Any] = {"chainId": params.chain_id, **fork_blocks(), "shanghaiTime": 0}
    if params.zero_base_fee:
        config["zeroBaseFee"] = True
    config["qbft"] = {
        "blockperiodseconds": params.block_period_seconds,
        "epochlength": params.epoch_length,
        "requesttimeoutseconds": params.request_timeout_seconds,
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": quantity(params.timestamp),
        "extraData": "0x" + qbft_extra_data(sorted_validators(params)).hex(),
        "gasLimit": quantity(params.gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": ZERO_ADDRESS,
        "alloc": alloc_section(params),
    }
