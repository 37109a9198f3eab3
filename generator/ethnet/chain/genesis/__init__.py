"""Genesis files per consensus profile: pure functions from parameters to a JSON-ready dict.

Identical parameters give identical bytes from ``genesis_json``: keys keep a fixed order,
validators and alloc are sorted by address, numbers are written one way only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ethnet.chain import rlp
from ethnet.chain.genesis.clique import EXTRA_SEAL, EXTRA_VANITY, clique_genesis
from ethnet.chain.genesis.common import GenesisParams
from ethnet.chain.genesis.qbft import qbft_genesis

__all__ = ["BUILDERS", "GenesisParams", "build_genesis", "genesis_json", "genesis_validators"]

BUILDERS: dict[str, Callable[[GenesisParams], dict[str, Any]]] = {
    "besu-qbft": qbft_genesis,
    "geth-clique": clique_genesis,
}


def build_genesis(profile: str, params: GenesisParams) -> dict[str, Any]:
    """The genesis of ``profile`` (besu-qbft or geth-clique) for these parameters."""
    try:
        builder = BUILDERS[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(BUILDERS)}") from None
    return builder(params)


def genesis_json(genesis: dict[str, Any]) -> str:
    """The genesis as the bytes written to genesis.json: two-space JSON and a final newline."""
    return json.dumps(genesis, indent=2, ensure_ascii=True) + "\n"


def genesis_validators(profile: str, genesis: dict[str, Any]) -> list[bytes]:
    """The validator (QBFT) or signer (Clique) addresses in a genesis' extraData."""
    extra = bytes.fromhex(str(genesis.get("extraData", "0x")).removeprefix("0x"))
    if profile == "besu-qbft":
        decoded = rlp.decode(extra)
        if not isinstance(decoded, list) or len(decoded) < 2 or not isinstance(decoded[1], list):
            raise ValueError("extraData is not QBFT's RLP list")
        return [bytes(item) for item in decoded[1] if isinstance(item, bytes)]
    signers = extra[EXTRA_VANITY : len(extra) - EXTRA_SEAL]
    return [signers[i : i + 20] for i in range(0, len(signers), 20)]
