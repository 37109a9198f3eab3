"""ethnet promote: give one environment the client release another one runs, in one commit.

What is promoted is what makes a release: the container images, and the client containers'
CPU and memory requests and limits, as the source environment resolves them (its own
overrides, else the spec's, else ethnet's defaults). They are written as overrides under
``spec.environments.<to>`` in network.yaml, one field at a time, keeping comments and
layout; then ``ethnet sync`` renders and commits, so the commit shows network.yaml, the
target's generated kustomization and its rendered StatefulSets.

Never promoted: keys, genesis, chain ID, namespace, cluster, node counts and the live flag,
which are the environment's identity; and storage. Storage size and class stay with each
environment because a StatefulSet's volumeClaimTemplates cannot be changed in place (the
API server refuses the update, so Argo CD and Flux would fail to sync until the StatefulSet
is deleted and recreated), existing PersistentVolumeClaims never follow the template (a
bigger size means resizing each PVC, which only some storage classes allow, and a smaller
size is impossible: volumes cannot shrink), and storage classes are named per cluster.
A difference in storage is reported, not copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ethnet.errors import EthnetError
from ethnet.gitops.git import changed_paths, open_repository
from ethnet.gitops.sync import SyncResult, sync
from ethnet.repo.files import write_atomically
from ethnet.repo.keys import Progress
from ethnet.repo.layout import NETWORK_FILE
from ethnet.spec.edit import set_field
from ethnet.spec.loader import load_network
from ethnet.spec.model import ResolvedEnvironment

RESOURCE_SECTIONS = ("requests", "limits")


@dataclass(frozen=True)
class Change:
    """One field set in network.yaml."""

    path: tuple[str, ...]
    old: str
    new: str

    @property
    def field(self) -> str:
        return ".".join(self.path[3:])  # below spec.environments.<to>

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new}"


@dataclass
class PromoteResult:
    source: str
    target: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sync: SyncResult | None = None

    @property
    def commit(self) -> str | None:
        return self.sync.commit if self.sync else None


def promote(
    root: Path,
    source: str,
    target: str,
    *,
    now: datetime,
    progress: Progress | None = None,
) -> PromoteResult:
    """Copy ``source``'s images and resources to ``target`` and commit; no commit when
    ``target`` already has them."""
    network_path = root / NETWORK_FILE
    network = load_network(network_path).network
    for name, flag in ((source, "--from"), (target, "--to")):
        if name not in network.spec.environments:
            known = ", ".join(network.environment_names)
            raise EthnetError(
                f"{flag} {name}: no such environment in network.yaml (known: {known})"
            )
    if source == target:
        raise EthnetError(f"--from and --to are both {source!r}: nothing to promote")
    repo = open_repository(root)
    dirty = changed_paths(repo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise EthnetError(
            f"uncommitted changes: {shown}",
            hint="commit or stash them first: promote makes one reviewable commit of its own",
        )
    result = PromoteResult(source, target)
    result.changes = promotion(network.environment(source), network.environment(target), target)
    result.notes = _storage_notes(network.environment(source), network.environment(target))
    if not result.changes:
        return result
    original = network_path.read_text(encoding="utf-8")
    text = original
    for change in result.changes:
        text = set_field(text, change.path, DoubleQuotedScalarString(change.new))
    write_atomically(network_path, text)
    try:
        result.sync = sync(
            root, now=now, progress=progress, subject=f"ethnet promote: {source} -> {target}"
        )
    except BaseException:
        write_atomically(network_path, original)
        raise
    return result


def promotion(
    source: ResolvedEnvironment, target: ResolvedEnvironment, target_name: str
) -> list[Change]:
    """The fields of network.yaml to set so that ``target`` runs ``source``'s release."""
    prefix = ("spec", "environments", target_name)
    changes = [
        Change((*prefix, "images", name), target.images.get(name, ""), image)
        for name, image in sorted(source.images.items())
        if target.images.get(name) != image
    ]
    for section in RESOURCE_SECTIONS:
        wanted: dict[str, str] = getattr(source, section)
        current: dict[str, str] = getattr(target, section)
        changes += [
            Change((*prefix, "resources", section, name), current[name], amount)
            for name, amount in wanted.items()
            if current[name] != amount
        ]
    return changes


def _storage_notes(source: ResolvedEnvironment, target: ResolvedEnvironment) -> list[str]:
    notes = []
    if source.storage_size != target.storage_size:
        notes.append(
            f"storage size differs ({source.name} {source.storage_size}, "
            f"{target.name} {target.storage_size}) and is not promoted: volumes cannot be "
            "resized through a StatefulSet, and never shrunk"
        )
    if source.storage_class_name != target.storage_class_name:
        notes.append(
            f"storage class differs ({source.name} {source.storage_class_name or 'default'}, "
            f"{target.name} {target.storage_class_name or 'default'}) and is not promoted: "
            "storage classes belong to each cluster, and a volume cannot change class"
        )
    return notes
