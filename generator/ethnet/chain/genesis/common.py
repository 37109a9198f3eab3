"""What every genesis has in common: parameters, fork blocks, alloc, number formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ethnet.chain.address import ADDRESS_LENGTH

ZERO_ADDRESS = "0x" + "00" * ADDRESS_LENGTH
ZERO_HASH = "0x" + "00" * 32

# Block-numbered forks every profile activates at genesis, in the order geth's
# params.CheckConfigForkOrder requires (Besu reads the same names).
FORK_BLOCKS_THROUGH_LONDON = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "berlinBlock",
    "londonBlock",
)


@dataclass(frozen=True)
class GenesisParams:
    """Everything a genesis depends on; validators are 20-byte addresses."""

    chain_id: int
    validators: tuple[bytes, ...]
    gas_limit: int
    timestamp: int = 0
    alloc: tuple[tuple[bytes, int], ...] = field(default_factory=tuple)
    block_period_seconds: int = 2
    epoch_length: int = 30000
    request_timeout_seconds: int = 4
    zero_base_fee: bool = False

    def __post_init__(self) -> None:
        if self.chain_id < 1:
            raise ValueError(f"chain ID must be positive, got {self.chain_id}")
        if not self.validators:
            raise ValueError("a genesis needs at least one validator")
        for address in (*self.validators, *(a for a, _ in self.alloc)):
            if len(address) != ADDRESS_LENGTH:
                raise ValueError(f"an address has 20 bytes, got {len(address)}")
        if len(set(self.validators)) != len(self.validators):
            raise ValueError("validator addresses must be unique")


def quantity(value: int) -> str:
    """An integer as Ethereum JSON writes quantities: 0x-hex without leading zeros."""
    return hex(value)


def sorted_validators(params: GenesisParams) -> list[bytes]:
    """Validators in ascending address order, the canonical order both clients use."""
    return sorted(params.validators)


def alloc_section(params: GenesisParams) -> dict[str, Any]:
    """The alloc object: 0x-prefixed lowercase address keys in ascending order."""
    return {
        "0x" + address.hex(): {"balance": quantity(balance)}
        for address, balance in sorted(params.alloc)
    }


def fork_blocks() -> dict[str, int]:
    """Every block-numbered fork through London, active from block 0."""
    return dict.fromkeys(FORK_BLOCKS_THROUGH_LONDON, 0)
