"""Key material of one environment: generated in memory, written only as SealedSecrets.

For every node the network needs, a node key (and for a geth-clique signer, an account
keystore and its password) is generated, sealed for the environment's cluster into one
SealedSecret per role, and its public part (node public key, validator/signer address) is
recorded in ``keys.yaml``. Component secrets (the ethstats secret, database passwords) are
sealed the same way. Existing keys are never regenerated or re-sealed: adding a node adds
items to the SealedSecret and leaves every other item's ciphertext byte-identical.

The functions here are pure apart from the injected ``rng``, and from the worker processes
that derive costly keystores (``ethnet.repo.kdf_pool``), which change no result;
``ethnet.repo.environment`` reads and writes the files.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ethnet.chain.address import parse_address, to_checksum_address
from ethnet.chain.keys import PrivateKey, PublicKey
from ethnet.chain.keystore import (
    STANDARD_SCRYPT,
    KeystoreDraft,
    ScryptParams,
    assemble_keystore,
    keystore_json,
    prepare_keystore,
)
from ethnet.chain.nodekey import besu_node_key_file, geth_node_key_file
from ethnet.errors import EthnetError, SealingError
from ethnet.repo.kdf_pool import ScryptJob, derive_all
from ethnet.seal.scope import Scope
from ethnet.seal.sealedsecret import merge_items, seal_items, sealed_secret
from ethnet.spec.model import Network
from ethnet.spec.names import ROLES, keys_secret_name, pod_name

Rng = Callable[[int], bytes]
Progress = Callable[[str], None]

API_VERSION = "ethnet/v1alpha1"
KIND = "KeyMaterial"
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "ethnet"}
PASSWORD_BYTES = 32
ROLE_SECRETS = frozenset(keys_secret_name(role) for role in ROLES)

# Item names inside a role's SealedSecret: "<pod>.<suffix>".
BESU_NODE_KEY = "key"
GETH_NODE_KEY = "nodekey"
KEYSTORE = "keystore"
PASSWORD = "password"

# Component secrets: (component, Secret name, item, random bytes; written as hex)
COMPONENT_SECRETS: tuple[tuple[str, str, str, int], ...] = (
    ("ethstats", "ethstats", "WS_SECRET", 32),
    ("blockscout", "blockscout-postgres", "POSTGRES_PASSWORD", 32),
    ("blockscout", "blockscout", "SECRET_KEY_BASE", 64),
)


def node_item(node: str, suffix: str) -> str:
    """The item of one node inside its role's secret: ``acme-validator-0.key``."""
    return f"{node}.{suffix}"


@dataclass(frozen=True)
class NodeIdentity:
    """The public identity of one node: its p2p public key and, for a validator or
    Clique signer, the address that signs blocks."""

    name: str
    role: str
    public_key: str
    address: str | None = None

    def enode_public_key(self) -> PublicKey:
        return PublicKey.from_bytes(bytes.fromhex(self.public_key))


@dataclass(frozen=True)
class KeyMaterial:
    """The contents of ``overlays/<env>/generated/keys.yaml``: public material only."""

    network: str
    environment: str
    sealing_fingerprint: str
    nodes: tuple[NodeIdentity, ...] = ()
    secrets: tuple[str, ...] = ()

    def node(self, name: str) -> NodeIdentity | None:
        return next((node for node in self.nodes if node.name == name), None)

    def validator_addresses(self) -> list[bytes]:
        """Validator (QBFT) or signer (Clique) addresses, in node order."""
        return [parse_address(n.address) for n in self.nodes if n.role == "validator" and n.address]

    def to_document(self) -> dict[str, Any]:
        nodes = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "name": node.name,
                "role": node.role,
                "publicKey": node.public_key,
            }
            if node.address:
                entry["address"] = node.address
            nodes.append(entry)
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"network": self.network, "environment": self.environment},
            "sealingCertificate": {"fingerprint": self.sealing_fingerprint},
            "nodes": nodes,
            "secrets": list(self.secrets),
        }

    @classmethod
    def from_document(cls, doc: object, *, source: str) -> KeyMaterial:
        """Read keys.yaml content, refusing anything malformed with a located message."""
        try:
            return _key_material(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise EthnetError(
                f"{source}: not a valid keys.yaml ({exc})",
                hint="it is generated: restore it from git (git checkout -- FILE)",
            ) from None


def _key_material(doc: object) -> KeyMaterial:
    if not isinstance(doc, dict) or doc.get("kind") != KIND or doc.get("apiVersion") != API_VERSION:
        raise ValueError(f"expected apiVersion {API_VERSION} and kind {KIND}")
    nodes = []
    for entry in doc["nodes"] or []:
        public_key = str(entry["publicKey"])
        PublicKey.from_bytes(bytes.fromhex(public_key))
        address = entry.get("address")
        if address is not None:
            address = to_checksum_address(parse_address(str(address)))
        role = str(entry["role"])
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        nodes.append(NodeIdentity(str(entry["name"]), role, public_key, address))
    return KeyMaterial(
        network=str(doc["metadata"]["network"]),
        environment=str(doc["metadata"]["environment"]),
        sealing_fingerprint=str(doc["sealingCertificate"]["fingerprint"]),
        nodes=tuple(nodes),
        secrets=tuple(str(name) for name in doc.get("secrets") or ()),
    )


@dataclass(frozen=True)
class RequiredNode:
    name: str
    role: str


def required_nodes(network: Network, environment: str) -> list[RequiredNode]:
    """Every node one environment runs, validators first, in ordinal order."""
    env = network.environment(environment)
    return [RequiredNode(pod_name(role, i), role) for role in ROLES for i in range(env.count(role))]


def required_component_secrets(network: Network) -> list[tuple[str, str, int]]:
    """(secret name, item, random bytes) of every enabled component's secret."""
    enabled = network.spec.components.model_dump()
    return [
        (secret, item, size)
        for component, secret, item, size in COMPONENT_SECRETS
        if enabled.get(component)
    ]


@dataclass
class KeyChanges:
    """What one run generated: new public material, new SealedSecret documents, a report."""

    material: KeyMaterial
    sealed: dict[str, dict[str, Any]]
    generated: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.generated)


def generate_keys(
    network: Network,
    environment: str,
    *,
    existing: KeyMaterial | None,
    sealed: Mapping[str, Mapping[str, Any]],
    public_key: rsa.RSAPublicKey,
    fingerprint: str,
    rng: Rng = secrets.token_bytes,
    kdf: ScryptParams = STANDARD_SCRYPT,
    progress: Progress | None = None,
    workers: int | None = None,
) -> KeyChanges:
    """Generate and seal whatever keys ``environment`` still lacks.

    ``sealed`` maps secret names to the existing SealedSecret documents. Raises when the
    existing material is inconsistent (a node in keys.yaml without its sealed items, or
    the reverse), was sealed for another certificate, or sits in another namespace.

    All randomness is drawn first, node by node, in the order a one-at-a-time generation
    would draw it; then the signers' keystore derivations run, one process per core when
    they are costly (``ethnet.repo.kdf_pool``); ``workers`` bounds the processes (1 keeps
    them in this one). The result is byte-identical for the same ``rng`` either way.
    """
    env = network.environment(environment)
    _check_existing(network, environment, existing, sealed, fingerprint, env.namespace)
    nodes = list(existing.nodes) if existing else []
    known = {node.name for node in nodes}
    documents = {name: dict(doc) for name, doc in sealed.items()}
    new_items: dict[str, dict[str, bytes]] = {}
    generated: list[str] = []
    missing = [n for n in required_nodes(network, environment) if n.name not in known]
    drafts = []
    for index, required in enumerate(missing, start=1):
        if progress:
            progress(f"{environment}: generating key {index}/{len(missing)} ({required.name})")
        drafts.append(_draw_node(network.spec.profile, required, rng, kdf))
    finished = _finish_nodes(drafts, environment, workers, progress)
    for draft, items in zip(drafts, finished, strict=True):
        nodes.append(draft.identity)
        new_items.setdefault(keys_secret_name(draft.identity.role), {}).update(items)
        generated.append(draft.identity.name)
    secret_names = list(existing.secrets) if existing else []
    for secret, item, size in required_component_secrets(network):
        present = secret in documents and item in documents[secret]["spec"]["encryptedData"]
        if present or item in new_items.get(secret, {}):
            continue
        new_items.setdefault(secret, {})[item] = rng(size).hex().encode("ascii")
        generated.append(f"{secret}/{item}")
        if secret not in secret_names:
            secret_names.append(secret)
    for name, items in new_items.items():
        documents[name] = _seal_into(
            documents.get(name), name, env.namespace, items, public_key, rng
        )
    for role_secret in {keys_secret_name(n.role) for n in nodes}:
        if role_secret not in secret_names:
            secret_names.append(role_secret)
    wanted = {n.name for n in required_nodes(network, environment)}
    material = KeyMaterial(
        network=network.name,
        environment=environment,
        sealing_fingerprint=fingerprint,
        nodes=tuple(sorted(nodes, key=_node_order)),
        secrets=tuple(sorted(secret_names)),
    )
    unused = [node.name for node in material.nodes if node.name not in wanted]
    return KeyChanges(material, documents, generated, unused)


def _node_order(node: NodeIdentity) -> tuple[int, int]:
    return ROLES.index(node.role), int(node.name.rsplit("-", 1)[1])


def _check_existing(
    network: Network,
    environment: str,
    existing: KeyMaterial | None,
    sealed: Mapping[str, Mapping[str, Any]],
    fingerprint: str,
    namespace: str,
) -> None:
    hint_restore = "restore the generated files from git, or rotate the keys"
    if existing is None:
        stray = sorted(name for name in sealed if name in ROLE_SECRETS)
        if stray:
            raise EthnetError(
                f"{environment}: sealed node keys exist ({', '.join(stray)}) "
                "but keys.yaml does not",
                hint=hint_restore,
            )
        return
    if existing.sealing_fingerprint != fingerprint:
        raise SealingError(
            f"{environment}: keys were sealed for certificate {existing.sealing_fingerprint}, "
            f"but overlays/{environment}/sealing-cert.pem is {fingerprint}",
            hint="re-seal them for the new certificate with ethnet reseal (needs the old key)",
        )
    for name, doc in sealed.items():
        if doc["metadata"]["namespace"] != namespace:
            raise SealingError(
                f"{environment}: SealedSecret {name} is sealed for namespace "
                f"{doc['metadata']['namespace']!r}, but network.yaml now says {namespace!r}",
                hint="sealed secrets are bound to their namespace: re-seal with ethnet reseal",
            )
    for node in existing.nodes:
        secret = sealed.get(keys_secret_name(node.role))
        items = secret["spec"]["encryptedData"] if secret else {}
        needed = _item_names(network.spec.profile, node.role, node.name)
        missing = [item for item in needed if item not in items]
        if missing:
            raise EthnetError(
                f"{environment}: keys.yaml lists {node.name} but its sealed "
                f"{', '.join(missing)} is missing from {keys_secret_name(node.role)}",
                hint=hint_restore,
            )
    listed = {node.name for node in existing.nodes}
    for name, doc in sealed.items():
        if name not in ROLE_SECRETS:
            continue
        for item in doc["spec"]["encryptedData"]:
            node = item.rsplit(".", 1)[0]
            if node not in listed:
                raise EthnetError(
                    f"{environment}: {name} holds a key for {node}, which keys.yaml does not list",
                    hint=hint_restore,
                )


def _item_names(profile: str, role: str, node: str) -> list[str]:
    if profile == "besu-qbft":
        return [node_item(node, BESU_NODE_KEY)]
    names = [node_item(node, GETH_NODE_KEY)]
    if role == "validator":
        names += [node_item(node, KEYSTORE), node_item(node, PASSWORD)]
    return names


@dataclass(frozen=True)
class _NodeDraft:
    """A new node with all its randomness drawn; a signer's keystore is not derived yet."""

    identity: NodeIdentity
    items: dict[str, bytes] = field(repr=False)
    keystore: KeystoreDraft | None = None
    password: bytes = field(default=b"", repr=False)


def _draw_node(profile: str, required: RequiredNode, rng: Rng, kdf: ScryptParams) -> _NodeDraft:
    """A new node key (and for a Clique signer, an account key, its password and its
    keystore's salt, IV and UUID), drawn from ``rng`` in that order."""
    node_key = PrivateKey.generate(rng)
    public = node_key.public_key.hex
    if profile == "besu-qbft":
        # A QBFT validator signs with its node key: its address is the node key's.
        address = to_checksum_address(node_key.address) if required.role == "validator" else None
        items = {node_item(required.name, BESU_NODE_KEY): besu_node_key_file(node_key).encode()}
        return _NodeDraft(NodeIdentity(required.name, required.role, public, address), items)
    items = {node_item(required.name, GETH_NODE_KEY): geth_node_key_file(node_key).encode()}
    if required.role != "validator":
        return _NodeDraft(NodeIdentity(required.name, required.role, public), items)
    account = PrivateKey.generate(rng)
    password = rng(PASSWORD_BYTES).hex().encode("ascii")
    keystore = prepare_keystore(account, params=kdf, rng=rng)
    address = to_checksum_address(account.address)
    identity = NodeIdentity(required.name, required.role, public, address)
    return _NodeDraft(identity, items, keystore, password)


def _finish_nodes(
    drafts: list[_NodeDraft], environment: str, workers: int | None, progress: Progress | None
) -> list[dict[str, bytes]]:
    """Every draft's items, with the signers' keystores derived (in parallel when costly)."""
    signers = [(draft, draft.keystore) for draft in drafts if draft.keystore is not None]
    jobs = [
        ScryptJob(draft.password, keystore.salt, keystore.params) for draft, keystore in signers
    ]

    def report(done: int) -> None:
        if progress:
            progress(f"{environment}: derived keystore {done}/{len(jobs)}")

    derivations = derive_all(jobs, workers=workers, on_done=report)
    if progress and jobs:
        count = len(derivations.processes)
        where = f"{count} worker process{'es' * (count > 1)}" if derivations.in_workers else ""
        progress(f"{environment}: keystores derived in {where or 'this process'}")
    names = [draft.identity.name for draft, _ in signers]
    derived = dict(zip(names, derivations.keys, strict=True))
    finished = []
    for draft in drafts:
        items = dict(draft.items)
        if draft.keystore is not None:
            keystore = assemble_keystore(draft.keystore, derived[draft.identity.name])
            name = draft.identity.name
            items[node_item(name, KEYSTORE)] = keystore_json(keystore).encode("utf-8")
            items[node_item(name, PASSWORD)] = draft.password
        finished.append(items)
    return finished


def _seal_into(
    existing: Mapping[str, Any] | None,
    name: str,
    namespace: str,
    items: Mapping[str, bytes],
    public_key: rsa.RSAPublicKey,
    rng: Rng,
) -> dict[str, Any]:
    if existing is not None:
        return merge_items(existing, items, public_key=public_key, rng=rng, source=name)
    encrypted = seal_items(
        items, public_key=public_key, name=name, namespace=namespace, scope=Scope.STRICT, rng=rng
    )
    return sealed_secret(
        name=name,
        namespace=namespace,
        scope=Scope.STRICT,
        encrypted_data=encrypted,
        labels=MANAGED_LABELS,
        template_labels=MANAGED_LABELS,
    )


def rotate_node_key(
    network: Network,
    environment: str,
    node_name: str,
    *,
    existing: KeyMaterial,
    sealed: Mapping[str, Mapping[str, Any]],
    public_key: rsa.RSAPublicKey,
    rng: Rng = secrets.token_bytes,
) -> KeyChanges:
    """A new node key for one node: a new enode (and, for a besu-qbft validator, whose
    validator address is its node key's, a new address). Only that node's key item is
    re-sealed; every other ciphertext stays byte-identical. A geth-clique signer keeps its
    signing account: only its p2p identity changes."""
    node = existing.node(node_name)
    if node is None:
        names = ", ".join(n.name for n in existing.nodes)
        raise EthnetError(f"{environment}: no node {node_name!r} in keys.yaml (known: {names})")
    env = network.environment(environment)
    secret_name = keys_secret_name(node.role)
    if secret_name not in sealed:
        raise EthnetError(f"{environment}: the sealed {secret_name} is missing")
    new_key = PrivateKey.generate(rng)
    if network.spec.profile == "besu-qbft":
        item, content = node_item(node_name, BESU_NODE_KEY), besu_node_key_file(new_key)
        address = to_checksum_address(new_key.address) if node.role == "validator" else None
    else:
        item, content = node_item(node_name, GETH_NODE_KEY), geth_node_key_file(new_key)
        address = node.address
    rotated = NodeIdentity(node.name, node.role, new_key.public_key.hex, address)
    documents = {name: dict(doc) for name, doc in sealed.items()}
    documents[secret_name] = _seal_into(
        sealed[secret_name], secret_name, env.namespace, {item: content.encode()}, public_key, rng
    )
    material = KeyMaterial(
        network=existing.network,
        environment=existing.environment,
        sealing_fingerprint=existing.sealing_fingerprint,
        nodes=tuple(rotated if n.name == node_name else n for n in existing.nodes),
        secrets=existing.secrets,
    )
    return KeyChanges(material, documents, [node_name])
