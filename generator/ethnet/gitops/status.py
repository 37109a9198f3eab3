"""ethnet status: what the repository says one environment should run, offline.

Profile, namespace, chain ID, live or not; the validators with their addresses and enodes,
the RPC nodes and bootnodes (from keys.yaml, with keys of nodes network.yaml no longer has
marked); the images, resources and storage as resolved from network.yaml; the sealing
certificate's fingerprint and expiry; and whether rendered/ is what a fresh sync would
write. Nothing is changed and no cluster is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ethnet.errors import EthnetError
from ethnet.gitops.check import up_to_date
from ethnet.gitops.git import changed_paths, head_commit, open_repository
from ethnet.manifests.environment import enode_url
from ethnet.repo.environment import read_yaml_file
from ethnet.repo.keys import KeyMaterial, required_nodes
from ethnet.repo.layout import NETWORK_FILE, RepoLayout
from ethnet.seal.certs import EXPIRY_WARNING, load_sealing_certificate
from ethnet.spec.loader import load_network
from ethnet.spec.model import Network
from ethnet.spec.names import ROLES

ROLE_TITLES = {"validator": "validators", "rpc": "RPC nodes", "bootnode": "bootnodes"}


@dataclass(frozen=True)
class NodeStatus:
    name: str
    role: str
    public_key: str | None  # None: network.yaml wants the node, but it has no key yet
    address: str | None
    enode: str | None
    in_network: bool  # False: a key kept for a node network.yaml no longer has

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "address": self.address,
            "publicKey": self.public_key,
            "enode": self.enode,
            "inNetwork": self.in_network,
            "hasKey": self.public_key is not None,
        }


@dataclass(frozen=True)
class CertificateStatus:
    path: str
    present: bool
    fingerprint: str | None = None
    not_after: datetime | None = None
    days_left: int | None = None
    keys_sealed_for: str | None = None  # the fingerprint keys.yaml records
    problem: str | None = None  # why the certificate cannot be used (expired, damaged)
    warnings: tuple[str, ...] = ()

    @property
    def matches_keys(self) -> bool | None:
        if self.fingerprint is None or self.keys_sealed_for is None:
            return None
        return self.fingerprint == self.keys_sealed_for

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "present": self.present,
            "fingerprint": self.fingerprint,
            "notAfter": _iso(self.not_after),
            "daysLeft": self.days_left,
            "expiresSoon": self.days_left is not None and self.days_left < EXPIRY_WARNING.days,
            "keysSealedFor": self.keys_sealed_for,
            "matchesKeys": self.matches_keys,
            "problem": self.problem,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Status:
    network: str
    profile: str
    environment: str
    namespace: str
    chain_id: int
    live: bool
    cluster: str
    nodes: tuple[NodeStatus, ...]
    images: dict[str, str]
    resources: dict[str, dict[str, str]]
    storage: dict[str, str | None]
    certificate: CertificateStatus
    rendered_current: bool
    rendered_findings: tuple[str, ...]
    commit: str | None = None
    uncommitted: tuple[str, ...] = field(default_factory=tuple)

    def role(self, role: str) -> list[NodeStatus]:
        return [node for node in self.nodes if node.role == role]

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "profile": self.profile,
            "environment": self.environment,
            "namespace": self.namespace,
            "chainId": self.chain_id,
            "live": self.live,
            "cluster": self.cluster,
            "commit": self.commit,
            "uncommittedChanges": list(self.uncommitted),
            "validators": [n.to_json() for n in self.role("validator")],
            "rpcNodes": [n.to_json() for n in self.role("rpc")],
            "bootnodes": [n.to_json() for n in self.role("bootnode")],
            "images": self.images,
            "resources": self.resources,
            "storage": self.storage,
            "sealingCertificate": self.certificate.to_json(),
            "rendered": {
                "upToDate": self.rendered_current,
                "findings": list(self.rendered_findings),
            },
        }


def environment_status(root: Path, environment: str, *, now: datetime) -> Status:
    """The status of ``environment`` in the repository at ``root``."""
    layout = RepoLayout(root)
    network = load_network(root / NETWORK_FILE).network
    network.require_environment(environment)
    env = network.environment(environment)
    material = _material(layout, environment)
    findings = _rendered_findings(root, network, environment, now)
    commit, uncommitted = _git_state(root)
    return Status(
        network=network.name,
        profile=network.spec.profile,
        environment=environment,
        namespace=env.namespace,
        chain_id=env.chain_id,
        live=env.live,
        cluster=network.spec.environments[environment].cluster,
        nodes=tuple(_nodes(network, environment, material)),
        images=dict(env.images),
        resources={"requests": dict(env.requests), "limits": dict(env.limits)},
        storage={"size": env.storage_size, "storageClassName": env.storage_class_name},
        certificate=_certificate(layout, environment, material, now),
        rendered_current=not findings,
        rendered_findings=tuple(findings),
        commit=commit,
        uncommitted=tuple(uncommitted),
    )


def _material(layout: RepoLayout, environment: str) -> KeyMaterial | None:
    path = layout.keys_file(environment)
    if not path.is_file():
        return None
    return KeyMaterial.from_document(
        read_yaml_file(path, what="keys.yaml"), source=layout.relative(path)
    )


def _nodes(network: Network, environment: str, material: KeyMaterial | None) -> list[NodeStatus]:
    env = network.environment(environment)
    wanted = {node.name for node in required_nodes(network, environment)}
    nodes = []
    known = set()
    for identity in material.nodes if material else ():
        known.add(identity.name)
        nodes.append(
            NodeStatus(
                identity.name,
                identity.role,
                identity.public_key,
                identity.address,
                enode_url(identity, env),
                identity.name in wanted,
            )
        )
    for required in required_nodes(network, environment):
        if required.name not in known:
            nodes.append(NodeStatus(required.name, required.role, None, None, None, True))
    return sorted(nodes, key=lambda n: (ROLES.index(n.role), int(n.name.rsplit("-", 1)[1])))


def _certificate(
    layout: RepoLayout, environment: str, material: KeyMaterial | None, now: datetime
) -> CertificateStatus:
    path = layout.sealing_cert(environment)
    relative = layout.relative(path)
    sealed_for = material.sealing_fingerprint if material else None
    if not path.is_file():
        return CertificateStatus(relative, False, keys_sealed_for=sealed_for)
    try:
        certificate, warnings = load_sealing_certificate(
            path.read_bytes(), source=relative, now=now
        )
    except EthnetError as exc:
        return CertificateStatus(relative, True, keys_sealed_for=sealed_for, problem=exc.message)
    return CertificateStatus(
        relative,
        True,
        certificate.fingerprint,
        certificate.not_after,
        certificate.days_left(now),
        sealed_for,
        warnings=tuple(warnings),
    )


def _rendered_findings(root: Path, network: Network, environment: str, now: datetime) -> list[str]:
    """What differs from a fresh render, except in other environments' files."""
    others = tuple(
        f"{top}/{env}/"
        for env in network.environment_names
        if env != environment
        for top in ("rendered", "overlays")
    )
    return [
        f"{finding.where}: {finding.message}"
        for finding in up_to_date(root, network, now)
        if not finding.where.startswith(others)
    ]


def _git_state(root: Path) -> tuple[str | None, list[str]]:
    try:
        repo = open_repository(root)
    except EthnetError:
        return None, []
    return head_commit(repo), changed_paths(repo)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_text(status: Status) -> str:
    """The status as text for people."""
    lines = [
        f"network {status.network} ({status.profile}), environment {status.environment}",
        f"  namespace:  {status.namespace}",
        f"  chain ID:   {status.chain_id}",
        f"  live:       {'yes (genesis locked)' if status.live else 'no'}",
        f"  cluster:    {status.cluster}",
    ]
    if status.commit:
        lines.append(f"  commit:     {status.commit[:12]}")
    if status.uncommitted:
        lines.append(f"  uncommitted changes: {len(status.uncommitted)} file(s)")
    for role in ROLES:
        nodes = status.role(role)
        lines += ["", f"{ROLE_TITLES[role]} ({sum(n.in_network for n in nodes)}):"]
        lines += [_node_line(node) for node in nodes] or ["  (none)"]
    lines += ["", "images:"]
    lines += [f"  {name}: {image}" for name, image in sorted(status.images.items())]
    requests, limits = status.resources["requests"], status.resources["limits"]
    lines += [
        f"resources: requests cpu {requests['cpu']}, memory {requests['memory']}; "
        f"limits cpu {limits['cpu']}, memory {limits['memory']}",
        f"storage:   {status.storage['size']}"
        + (
            f" (class {status.storage['storageClassName']})"
            if status.storage["storageClassName"]
            else " (cluster default class)"
        ),
        "",
        *_certificate_lines(status.certificate),
        "",
        *_rendered_lines(status),
    ]
    return "\n".join(lines) + "\n"


def _node_line(node: NodeStatus) -> str:
    if node.public_key is None:
        return f"  {node.name}: no key yet (run ethnet sync)"
    line = "  ".join(filter(None, (f"  {node.name}", node.address, node.enode)))
    if not node.in_network:
        line += "  [not in network.yaml: key kept, not deployed]"
    return line


def _certificate_lines(certificate: CertificateStatus) -> list[str]:
    head = f"sealing certificate ({certificate.path}):"
    if not certificate.present:
        return [f"{head} missing (fetch it: kubeseal --fetch-cert > {certificate.path})"]
    if certificate.problem:
        return [f"{head} UNUSABLE: {certificate.problem}"]
    lines = [head, f"  fingerprint: {certificate.fingerprint}"]
    if certificate.not_after is None:
        lines.append("  expires:     unknown (a bare public key)")
    else:
        lines.append(
            f"  expires:     {certificate.not_after:%Y-%m-%d} ({certificate.days_left} days left)"
        )
        if certificate.days_left is not None and certificate.days_left < EXPIRY_WARNING.days:
            lines.append(
                "  WARNING: expires in less than 30 days: renew the controller key, then "
                "ethnet reseal"
            )
    if certificate.matches_keys is False:
        lines.append(
            f"  WARNING: keys.yaml says the keys were sealed for {certificate.keys_sealed_for}: "
            "run ethnet reseal with the old key"
        )
    return lines


def _rendered_lines(status: Status) -> list[str]:
    if status.rendered_current:
        return ["rendered: up to date (identical to a fresh render)"]
    count = len(status.rendered_findings)
    lines = [f"rendered: stale, {count} file(s) differ from a fresh render (run ethnet sync):"]
    lines += [f"  {finding}" for finding in status.rendered_findings[:20]]
    if count > 20:
        lines.append(f"  ... and {count - 20} more")
    return lines
