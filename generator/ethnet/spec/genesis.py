"""From a validated network and its validators' addresses to the genesis of one environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ethnet.chain.address import parse_address, to_checksum_address
from ethnet.chain.genesis import GenesisParams, build_genesis
from ethnet.errors import EthnetError
from ethnet.spec.model import Network


def genesis_params(
    network: Network, environment: str, validators: Sequence[bytes]
) -> GenesisParams:
    """The genesis parameters of ``environment``; ``validators`` must match its node count."""
    network.require_environment(environment)
    env = network.environment(environment)
    if len(validators) != env.validators:
        raise EthnetError(
            f"network.yaml asks for {env.validators} validator(s) in {environment!r}, "
            f"got {len(validators)} address(es)",
            hint="give one validator address per validator node",
        )
    if len(set(validators)) != len(validators):
        repeated = next(v for v in validators if validators.count(v) > 1)
        raise EthnetError(f"validator {to_checksum_address(repeated)} is listed twice")
    spec = network.spec
    return GenesisParams(
        chain_id=env.chain_id,
        validators=tuple(validators),
        gas_limit=spec.genesis.gas_limit,
        timestamp=spec.genesis.timestamp,
        alloc=tuple((parse_address(a.address), a.balance) for a in spec.genesis.alloc),
        block_period_seconds=spec.consensus.block_period_seconds,
        epoch_length=spec.consensus.epoch_length,
        request_timeout_seconds=spec.consensus.request_timeout_seconds,
        zero_base_fee=bool(spec.genesis.zero_base_fee),
    )


def environment_genesis(
    network: Network, environment: str, validators: Sequence[bytes]
) -> dict[str, Any]:
    """The genesis dict of one environment of ``network``."""
    return build_genesis(network.spec.profile, genesis_params(network, environment, validators))
