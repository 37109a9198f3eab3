"""geth v1.13.15 Clique genesis, the last geth that seals Clique blocks.

extraData is 32 bytes of vanity, the signers' addresses, and 65 zero bytes for the seal
(``extraVanity``/``extraSeal`` in consensus/clique). Forks through London only: Clique
refuses Shanghai and Cancun, and a terminalTotalDifficulty would hand over to a beacon
chain that a Clique network does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ethnet.chain.genesis.common import (
    ZERO_ADDRESS,
    ZERO_HASH,
    GenesisParams,
    alloc_section,
    fork_blocks,
    quantity,
    sorted_validators,
)

EXTRA_VANITY = 32
EXTRA_SEAL = 65


def clique_extra_data(signers: Sequence[bytes]) -> bytes:
    """Genesis extraData for Clique: zero vanity, signer addresses, zero seal."""
    return bytes(EXTRA_VANITY) + b"".join(signers) + bytes(EXTRA_SEAL)


def clique_genesis(params: GenesisParams) -> dict[str, Any]:
    """A geth Clique genesis with the signers sealing from block 1."""
    config: dict[str, Any] = {
        "chainId": params.chain_id,
        **fork_blocks(),
        "clique": {"period": params.block_period_seconds, "epoch": params.epoch_length},
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": quantity(params.timestamp),
        "extraData": "0x" + clique_extra_data(sorted_validators(params)).hex(),
        "gasLimit": quantity(params.gas_limit),
        "difficulty": "0x1",
        "mixHash": ZERO_HASH,
        "coinbase": ZERO_ADDRESS,
        "alloc": alloc_section(params),
    }
