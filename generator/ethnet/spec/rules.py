"""Checks across fields of a structurally valid network.yaml.

Each rule yields ``Finding``s with the path of the field to fix; the loader turns paths
into file positions. Errors stop the network from being used; warnings are printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ethnet.spec.model import DEFAULT_IMAGES, PROFILE_IMAGES, Network
from ethnet.spec.names import derived_names

Path = tuple[str | int, ...]

# Public chains whose IDs a private network must not reuse (replayable signatures, wallets).
PUBLIC_CHAIN_IDS = {
    1: "Ethereum mainnet",
    5: "Goerli",
    10: "Optimism",
    56: "BNB Smart Chain",
    137: "Polygon",
    17000: "Holesky",
    42161: "Arbitrum One",
    560048: "Hoodi",
    11155111: "Sepolia",
}
# geth's params.MinGasLimit: no client accepts a smaller block gas limit.
MIN_GAS_LIMIT = 5000
QBFT_RECOMMENDED_VALIDATORS = 4


@dataclass(frozen=True)
class Finding:
    """One rule's verdict about one field."""

    severity: Literal["error", "warning"]
    path: Path
    message: str
    hint: str | None = None


def check(network: Network) -> list[Finding]:
    """Every finding of every rule, in a stable order."""
    return [
        *_unique_chain_ids(network),
        *_namespaces(network),
        *_derived_name_lengths(network),
        *_node_counts(network),
        *_profile_fields(network),
        *_genesis(network),
    ]


def _env_path(env: str, *rest: str | int) -> Path:
    return ("spec", "environments", env, *rest)


def _unique_chain_ids(network: Network) -> Iterator[Finding]:
    seen: dict[int, str] = {}
    for name, env in network.spec.environments.items():
        if env.chain_id in seen:
            yield Finding(
                "error",
                _env_path(name, "chainId"),
                f"chainId {env.chain_id} is already used by environment {seen[env.chain_id]!r}",
                "every environment needs its own chain ID, or transactions replay across them",
            )
        seen.setdefault(env.chain_id, name)
        if env.chain_id in PUBLIC_CHAIN_IDS:
            yield Finding(
                "warning",
                _env_path(name, "chainId"),
                f"chainId {env.chain_id} belongs to {PUBLIC_CHAIN_IDS[env.chain_id]}",
                "pick an unused ID (see chainlist.org) so signed transactions cannot replay",
            )


def _namespaces(network: Network) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for name in network.environment_names:
        namespace = network.environment(name).namespace
        if namespace in seen:
            yield Finding(
                "warning",
                _env_path(name, "namespace"),
                f"namespace {namespace!r} is also used by environment {seen[namespace]!r}",
                "fine on separate clusters; on one cluster the two would overwrite each other",
            )
        seen.setdefault(namespace, name)


def _derived_name_lengths(network: Network) -> Iterator[Finding]:
    for env_name, env in network.spec.environments.items():
        for derived in derived_names(network.name, env_name, env.namespace is not None):
            if len(derived.name) > derived.limit:
                yield Finding(
                    "error",
                    _env_path(env_name),
                    f"derived name {derived.name!r} ({derived.kind}) has {len(derived.name)} "
                    f"characters, over Kubernetes' limit of {derived.limit}",
                    "shorten the network or environment name",
                )
                break


def _node_counts(network: Network) -> Iterator[Finding]:
    if network.spec.profile != "besu-qbft":
        return
    for env_name in network.environment_names:
        count = network.environment(env_name).validators
        if count >= QBFT_RECOMMENDED_VALIDATORS:
            continue
        overrides = network.spec.environments[env_name].nodes
        path: Path = ("spec", "nodes", "validators")
        if overrides is not None and overrides.validators is not None:
            path = _env_path(env_name, "nodes", "validators")
        yield Finding(
            "warning",
            path,
            f"{count} QBFT validator(s) in {env_name!r} tolerate no faulty validator",
            "QBFT tolerates floor((n-1)/3) faults: use at least 4 validators",
        )


def _profile_fields(network: Network) -> Iterator[Finding]:
    spec = network.spec
    used = PROFILE_IMAGES[spec.profile]
    sections: list[tuple[Path, object]] = [(("spec", "images"), spec.images)]
    sections += [(_env_path(name, "images"), env.images) for name, env in spec.environments.items()]
    for path, images in sections:
        if images is None:
            continue
        for key in DEFAULT_IMAGES:
            if key not in used and getattr(images, key) is not None:
                yield Finding(
                    "warning",
                    (*path, key),
                    f"image {key!r} is not used by profile {spec.profile!r}",
                    f"{spec.profile} runs: {', '.join(used)}",
                )
    if spec.profile == "geth-clique":
        if spec.genesis.zero_base_fee is not None:
            yield Finding(
                "error",
                ("spec", "genesis", "zeroBaseFee"),
                "zeroBaseFee is a Besu genesis option; geth-clique has no free-gas mode",
                "remove it, or use profile besu-qbft",
            )
        if "request_timeout_seconds" in spec.consensus.model_fields_set:
            yield Finding(
                "warning",
                ("spec", "consensus", "requestTimeoutSeconds"),
                "requestTimeoutSeconds is a QBFT setting; Clique ignores it",
            )
    elif spec.consensus.request_timeout_seconds <= spec.consensus.block_period_seconds:
        yield Finding(
            "warning",
            ("spec", "consensus", "requestTimeoutSeconds"),
            f"requestTimeoutSeconds ({spec.consensus.request_timeout_seconds}) is not longer "
            f"than blockPeriodSeconds ({spec.consensus.block_period_seconds})",
            "rounds would time out before a block is due; Besu suggests about twice the period",
        )


def _genesis(network: Network) -> Iterator[Finding]:
    genesis = network.spec.genesis
    if genesis.gas_limit < MIN_GAS_LIMIT:
        yield Finding(
            "error",
            ("spec", "genesis", "gasLimit"),
            f"gasLimit {genesis.gas_limit} is below the minimum of {MIN_GAS_LIMIT}",
        )
    seen: dict[str, int] = {}
    for index, entry in enumerate(genesis.alloc):
        key = entry.address.lower()
        if key in seen:
            yield Finding(
                "error",
                ("spec", "genesis", "alloc", index, "address"),
                f"address {entry.address} is already funded by alloc[{seen[key]}]",
                "merge the two entries",
            )
        seen.setdefault(key, index)
