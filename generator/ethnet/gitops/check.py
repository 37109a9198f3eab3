"""ethnet check: what CI runs on every pull request of a network repository.

Each finding says what is wrong, where, and the command that fixes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ethnet import yamlread
from ethnet.chain.address import to_checksum_address
from ethnet.chain.genesis import genesis_validators
from ethnet.errors import EthnetError, SpecError
from ethnet.gitops import journal
from ethnet.gitops.boundaries import check_boundaries
from ethnet.gitops.git import open_repository
from ethnet.gitops.history import read_at, resolve_base
from ethnet.gitops.paths import work_dir
from ethnet.gitops.sync import staged_build, tracked_files
from ethnet.manifests.environment import STATIC_NODES_FILE, active_nodes
from ethnet.repo.keys import KeyMaterial
from ethnet.repo.layout import NETWORK_FILE, RepoLayout
from ethnet.seal.scope import SCOPE_ANNOTATIONS
from ethnet.spec.loader import load_network, parse_network
from ethnet.spec.model import Network
from ethnet.spec.types import FLOATING_TAGS, IMAGE_REFERENCE


@dataclass(frozen=True)
class Finding:
    """One problem ``ethnet check`` found."""

    where: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} (fix: {self.fix})"


def check(
    root: Path, *, now: datetime, base: str | None = None, allow_genesis_change: bool = False
) -> list[Finding]:
    """Every finding about the repository at ``root``; empty when all is well."""
    try:
        network = load_network(root / NETWORK_FILE).network
    except SpecError as exc:
        return [
            Finding(str(p.location or NETWORK_FILE), f"{p.path}: {p.message}", "edit network.yaml")
            for p in exc.problems
        ]
    findings = interrupted_sync(root)
    findings += up_to_date(root, network, now)
    findings += _sealed_secret_scopes(root, network)
    findings += _keys_agree(root, network)
    findings += _images_pinned(root, network)
    if not allow_genesis_change:
        findings += _live_genesis_unchanged(root, network, base)
    return findings


def interrupted_sync(root: Path) -> list[Finding]:
    """A sync that died after it began writing leaves its journal: the repository is then
    on its way to the new state, and the next sync gets it there."""
    state = work_dir(root)
    fix = "run ethnet sync: it finishes the interrupted sync from its journal and commits"
    try:
        pending = journal.pending(state)
    except EthnetError as exc:
        return [Finding(str(state / journal.JOURNAL), exc.message, exc.hint or fix)]
    if pending is None:
        return []
    base = (pending.plan.base or "")[:12] or "(no commit)"
    return [
        Finding(
            str(state / journal.JOURNAL),
            f"an ethnet sync was interrupted while writing {len(pending.plan.changed)} "
            f"file(s) and removing {len(pending.plan.removed)} on top of {base}: "
            "the work tree is between the old state and the new one",
            fix,
        )
    ]


def up_to_date(root: Path, network: Network, now: datetime) -> list[Finding]:
    """generated/, rendered/ and deploy/ must be what a fresh sync writes, byte for byte."""
    fix = "run ethnet sync and commit the result"
    try:
        check_boundaries(root)
        with staged_build(root, network, work_dir(root), now=now) as (stage, _result):
            fresh = tracked_files(stage, network)
    except EthnetError as exc:
        return [Finding("overlays", f"the repository does not render: {exc.message}", fix)]
    current = tracked_files(root, network)
    findings = []
    for path in sorted(set(fresh) | set(current)):
        if path not in current:
            findings.append(Finding(path, "is missing", fix))
        elif path not in fresh:
            findings.append(Finding(path, "is stale: a fresh sync no longer writes it", fix))
        elif fresh[path] != current[path]:
            findings.append(Finding(path, "differs from a fresh render", fix))
    return findings


def _rendered(root: Path, env: str) -> list[tuple[str, dict[str, Any]]]:
    directory = root / "rendered" / env
    docs = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        doc = yamlread.load(path.read_text())
        if isinstance(doc, dict):
            docs.append((str(path.relative_to(root)), doc))
    return docs


def _sealed_secret_scopes(root: Path, network: Network) -> list[Finding]:
    """A SealedSecret decrypts only under the name, namespace and scope it was sealed for."""
    findings = []
    for env in network.environment_names:
        namespace = network.environment(env).namespace
        for path, doc in _rendered(root, env):
            if doc.get("kind") != "SealedSecret":
                continue
            meta = doc.get("metadata", {})
            template = (doc.get("spec", {}).get("template") or {}).get("metadata") or {}
            annotations = meta.get("annotations") or {}
            scopes = [a for a in SCOPE_ANNOTATIONS if annotations.get(a) == "true"]
            fix = f"re-seal it: ethnet seal --env {env} --name {meta.get('name')} ..."
            if meta.get("namespace") != namespace:
                findings.append(
                    Finding(
                        path,
                        f"is in namespace {meta.get('namespace')!r}, "
                        f"but {env} deploys to {namespace!r}",
                        fix,
                    )
                )
            if template.get("name") not in (None, meta.get("name")) or template.get(
                "namespace"
            ) not in (None, meta.get("namespace")):
                findings.append(Finding(path, "its template names another Secret than itself", fix))
            if len(scopes) > 1:
                findings.append(Finding(path, "has both scope annotations", fix))
    return findings


def _keys_agree(root: Path, network: Network) -> list[Finding]:
    """keys.yaml, the genesis validators and the static nodes must describe the same nodes."""
    findings = []
    layout = RepoLayout(root)
    for env in network.environment_names:
        keys_path, genesis_path = layout.keys_file(env), layout.genesis_file(env)
        if not keys_path.is_file() or not genesis_path.is_file():
            continue  # reported as missing by the up-to-date check
        material = KeyMaterial.from_document(
            yamlread.load(keys_path.read_text()), source=str(keys_path)
        )
        resolved = network.environment(env)
        validators = sorted(
            str(node.address) for node in active_nodes(material, resolved, "validator")
        )
        genesis = json.loads(genesis_path.read_text())
        in_genesis = sorted(
            to_checksum_address(a) for a in genesis_validators(network.spec.profile, genesis)
        )
        fix = "run ethnet sync (or restore the generated files from git)"
        # A live chain's genesis is frozen: its validator set changes by votes instead, and
        # the vote Job that a fresh render includes is checked by the up-to-date check.
        if validators != in_genesis and not resolved.live:
            findings.append(
                Finding(
                    layout.relative(genesis_path),
                    "validators in the genesis differ from keys.yaml",
                    fix,
                )
            )
        static = json.loads((layout.generated(env) / STATIC_NODES_FILE).read_text())
        keys = {n.public_key for n in material.nodes if n.role == "validator"}
        for url in static:
            if url.removeprefix("enode://").split("@")[0] not in keys:
                findings.append(
                    Finding(
                        layout.relative(layout.generated(env) / STATIC_NODES_FILE),
                        f"{url[:40]}... is no validator in keys.yaml",
                        fix,
                    )
                )
    return findings


def _images_pinned(root: Path, network: Network) -> list[Finding]:
    findings = []
    for env in network.environment_names:
        for path, doc in _rendered(root, env):
            for image in _images(doc):
                match = IMAGE_REFERENCE.fullmatch(image)
                pinned = match is not None and (
                    match["digest"] or (match["tag"] and match["tag"] not in FLOATING_TAGS)
                )
                if not pinned:
                    findings.append(
                        Finding(
                            path,
                            f"image {image!r} is not pinned",
                            "pin an exact version in network.yaml images",
                        )
                    )
    return findings


def _images(doc: Any) -> list[str]:
    found: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c["image"] for c in value if isinstance(c, dict) and "image" in c]
            else:
                found += _images(value)
    elif isinstance(doc, list):
        for item in doc:
            found += _images(item)
    return found


def _live_genesis_unchanged(root: Path, network: Network, base: str | None) -> list[Finding]:
    """A running chain's nodes refuse a different genesis: changing it bricks them."""
    repo = open_repository(root)
    revision = resolve_base(repo, base, network.spec.gitops.branch)
    if revision is None:
        return []
    old_spec = read_at(repo, revision, NETWORK_FILE)
    try:
        old_network = parse_network(old_spec.decode()).network if old_spec else None
    except SpecError:
        old_network = None
    findings = []
    layout = RepoLayout(root)
    for env in network.environment_names:
        if not network.environment(env).live:
            continue
        if old_network is None or env not in old_network.spec.environments:
            continue
        if not old_network.environment(env).live:
            continue  # becoming live in this change: its genesis is what goes live
        path = layout.relative(layout.genesis_file(env))
        before = read_at(repo, revision, path)
        after = (
            layout.genesis_file(env).read_bytes() if layout.genesis_file(env).is_file() else None
        )
        if before is not None and before != after:
            findings.append(
                Finding(
                    path,
                    f"the genesis of live environment {env!r} changed since {revision[:12]}: "
                    "its running nodes would refuse to start",
                    "revert the change to network.yaml; if the chain is really being reset, "
                    "pass --allow-genesis-change",
                )
            )
    return findings
