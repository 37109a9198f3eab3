"""The typed, frozen model of network.yaml (``apiVersion: ethnet/v1alpha1, kind: Network``).

Field names in YAML are camelCase and are the contract (DESIGN.md). Sections that an
environment may override (``nodes``, ``images``, ``storage``, ``resources``) use ``None``
for "not set here"; ``Network.environment(name)`` resolves the effective values: the
environment's own, else the spec's, else the built-in default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ethnet.errors import EthnetError
from ethnet.spec.names import instance_name
from ethnet.spec.types import (
    Address,
    ChainId,
    ClusterUrl,
    DnsLabel,
    DnsSubdomain,
    GitBranch,
    GitUrl,
    Image,
    NetworkName,
    Quantity,
    Uint64,
    Wei,
)

T = TypeVar("T")

API_VERSION = "ethnet/v1alpha1"
PROFILES = ("besu-qbft", "geth-clique")
Profile = Literal["besu-qbft", "geth-clique"]

# Images pinned to releases named in each project's release notes (see docs/reference.md).
DEFAULT_IMAGES: dict[str, str] = {
    "besu": "hyperledger/besu:26.2.0",
    "geth": "ethereum/client-go:v1.13.15",
    "bootnode": "ethereum/client-go:alltools-v1.13.15",
    "votes": "python:3.12.8-alpine3.20",
}
# Which images each profile runs; the others are ignored with a warning.
PROFILE_IMAGES: dict[str, tuple[str, ...]] = {
    "besu-qbft": ("besu", "votes"),
    "geth-clique": ("geth", "bootnode", "votes"),
}
DEFAULT_NODE_COUNTS = {"validators": 4, "rpc": 2, "bootnodes": 1}
DEFAULT_STORAGE_SIZE = "20Gi"
DEFAULT_REQUESTS = {"cpu": "500m", "memory": "2Gi"}
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


class Metadata(_Model):
    """Identity of the network."""

    name: NetworkName = Field(description="DNS-1035 label; prefixes every Kubernetes name")


class Consensus(_Model):
    """Block production settings (QBFT for besu-qbft, Clique for geth-clique)."""

    block_period_seconds: int = Field(2, ge=1, le=3600, description="seconds between blocks")
    epoch_length: int = Field(30000, ge=1, description="blocks per epoch (votes reset)")
    request_timeout_seconds: int = Field(
        4, ge=1, le=3600, description="QBFT round timeout (besu-qbft only)"
    )


class AllocEntry(_Model):
    """A prefunded account; only the address: the key stays with its owner."""

    address: Address
    balance: Wei


class GenesisSpec(_Model):
    """Genesis block parameters shared by every environment (chainId is per environment)."""

    gas_limit: Uint64 = Field(30_000_000, description="block gas limit, decimal or 0x-hex")
    timestamp: Uint64 = Field(0, description="genesis timestamp, seconds since the epoch")
    zero_base_fee: bool | None = Field(
        None, description="besu-qbft only: free gas (Besu's zeroBaseFee); default false"
    )
    alloc: list[AllocEntry] = Field(default_factory=list)


class NodeCounts(_Model):
    """How many nodes of each role; unset values inherit (validators 4, rpc 2, bootnodes 1)."""

    validators: int | None = Field(None, ge=1, le=1024, description="QBFT validators or signers")
    rpc: int | None = Field(None, ge=0, le=256, description="non-validating RPC nodes")
    bootnodes: int | None = Field(None, ge=0, le=16)


class Images(_Model):
    """Container images, pinned by exact tag or digest."""

    besu: Image | None = None
    geth: Image | None = None
    bootnode: Image | None = None
    votes: Image | None = Field(
        None, description="Python image of the validator vote Job of live environments"
    )


class Components(_Model):
    """Optional components, copied into the network repository's components/."""

    ethstats: bool = True
    blockscout: bool = False
    monitoring: bool = False
    rpc_ingress: bool = False


class GitOps(_Model):
    """Where the network repository lives and which engine deploys it."""

    engine: Literal["argocd", "flux", "both"] = "argocd"
    repo_url: GitUrl | None = Field(None, alias="repoURL", description="URL the engine clones")
    branch: GitBranch = "main"
    depends_on: list[DnsLabel] = Field(
        default_factory=list,
        description="Flux Kustomizations (in flux-system) each environment waits for, "
        "e.g. the one that installs the sealed-secrets controller",
    )


class Storage(_Model):
    """Persistent volume of each node; unset values inherit (20Gi, cluster default class)."""

    size: Quantity | None = None
    storage_class_name: DnsSubdomain | None = None


class ResourceAmounts(_Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(_Model):
    """Requests and limits of each client container."""

    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None


class Rpc(_Model):
    """Who may reach the JSON-RPC Service."""

    service_type: Literal["ClusterIP", "LoadBalancer", "NodePort"] = "ClusterIP"
    allowed_namespaces: list[DnsLabel] = Field(
        default_factory=list, description="namespaces besides the network's own"
    )


class Environment(_Model):
    """One deployment of the network (dev, staging, prod...), with its own chain."""

    chain_id: ChainId
    namespace: DnsLabel | None = Field(None, description="default <network>-<environment>")
    cluster_domain: DnsSubdomain | None = Field(
        None, description="the cluster's DNS domain, for nodes' DNS names (default cluster.local)"
    )
    cluster: ClusterUrl = Field(
        "https://kubernetes.default.svc",
        description="Argo CD destination server of this environment (default: in-cluster)",
    )
    live: bool = Field(False, description="a running chain: its genesis is locked")
    nodes: NodeCounts | None = None
    images: Images | None = None
    storage: Storage | None = None
    resources: Resources | None = None


class Spec(_Model):
    profile: Profile = "besu-qbft"
    consensus: Consensus = Field(default_factory=Consensus)
    genesis: GenesisSpec = Field(default_factory=GenesisSpec)
    nodes: NodeCounts = Field(default_factory=NodeCounts)
    images: Images = Field(default_factory=Images)
    components: Components = Field(default_factory=Components)
    gitops: GitOps = Field(default_factory=GitOps)
    storage: Storage = Field(default_factory=Storage)
    resources: Resources = Field(default_factory=Resources)
    rpc: Rpc = Field(default_factory=Rpc)
    cluster_domain: DnsSubdomain = Field(
        "cluster.local", description="the clusters' DNS domain, for nodes' DNS names"
    )
    environments: Annotated[dict[DnsLabel, Environment], Field(min_length=1)]


class Network(_Model):
    """A whole network.yaml document."""

    api_version: Literal["ethnet/v1alpha1"]
    kind: Literal["Network"]
    metadata: Metadata
    spec: Spec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(self.spec.environments)

    def require_environment(self, name: str) -> None:
        """Refuse an environment network.yaml does not have, naming the ones it does."""
        if name not in self.spec.environments:
            known = ", ".join(self.environment_names)
            raise EthnetError(f"no environment {name!r} in network.yaml (known: {known})")

    def environment(self, name: str) -> ResolvedEnvironment:
        """The effective settings of one environment."""
        return self._resolve(name, self.spec.environments[name])

    def spec_defaults(self) -> ResolvedEnvironment:
        """Settings under ``spec`` alone, as if an environment overrode nothing (base/)."""
        return self._resolve("", Environment(chain_id=1))

    def _resolve(self, name: str, env: Environment) -> ResolvedEnvironment:
        spec = self.spec
        nodes = {
            key: _first(getattr(env.nodes, key, None), getattr(spec.nodes, key), default)
            for key, default in DEFAULT_NODE_COUNTS.items()
        }
        images = {
            key: _first(getattr(env.images, key, None), getattr(spec.images, key), default)
            for key, default in DEFAULT_IMAGES.items()
            if key in PROFILE_IMAGES[spec.profile]
        }
        return ResolvedEnvironment(
            name=name,
            chain_id=env.chain_id,
            namespace=env.namespace or instance_name(self.name, name),
            cluster_domain=env.cluster_domain or spec.cluster_domain,
            live=env.live,
            validators=nodes["validators"],
            rpc_nodes=nodes["rpc"],
            bootnodes=nodes["bootnodes"],
            images=images,
            storage_size=_first(
                getattr(env.storage, "size", None), spec.storage.size, DEFAULT_STORAGE_SIZE
            ),
            storage_class_name=_first_optional(
                getattr(env.storage, "storage_class_name", None), spec.storage.storage_class_name
            ),
            requests=_amounts(env.resources, spec.resources, "requests", DEFAULT_REQUESTS),
            limits=_amounts(env.resources, spec.resources, "limits", DEFAULT_LIMITS),
        )


@dataclass(frozen=True)
class ResolvedEnvironment:
    """One environment with every override applied: what gets rendered."""

    name: str
    chain_id: int
    namespace: str
    cluster_domain: str
    live: bool
    validators: int
    rpc_nodes: int
    bootnodes: int
    images: dict[str, str]
    storage_size: str
    storage_class_name: str | None
    requests: dict[str, str]
    limits: dict[str, str]

    def count(self, role: str) -> int:
        """How many nodes of ``role`` (validator, rpc, bootnode) this environment runs."""
        return {"validator": self.validators, "rpc": self.rpc_nodes, "bootnode": self.bootnodes}[
            role
        ]


def _first(override: T | None, value: T | None, default: T) -> T:
    if override is not None:
        return override
    return value if value is not None else default


def _first_optional(override: T | None, value: T | None) -> T | None:
    return override if override is not None else value


def _amounts(
    env: Resources | None, spec: Resources, section: str, defaults: dict[str, str]
) -> dict[str, str]:
    env_amounts = getattr(env, section, None) if env else None
    spec_amounts = getattr(spec, section)
    return {
        key: _first(getattr(env_amounts, key, None), getattr(spec_amounts, key, None), default)
        for key, default in defaults.items()
    }
