"""ethnet diff: the rendered changes between a revision and the work tree, per environment
and object, as Markdown fit for a pull request comment or a CI job summary."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ethnet.gitops.git import open_repository
from ethnet.gitops.history import files_at, resolve_base
from ethnet.spec.loader import load_network

MAX_DIFF_LINES = 400  # per object; a PR comment has a size limit
# A sealed item's ciphertext: hundreds of base64 characters nobody can review.
_SEALED_VALUE = re.compile(r"^(\s+[-._a-zA-Z0-9]+: )([A-Za-z0-9+/]{64,}={0,2})$")


@dataclass(frozen=True)
class ObjectChange:
    environment: str
    file: str
    change: str  # added | removed | changed
    diff: str


def rendered_changes(root: Path, base: str | None = None) -> tuple[str, list[ObjectChange]]:
    """(the base revision, the changed objects) between ``base`` and the work tree."""
    repo = open_repository(root)
    branch = load_network(root / "network.yaml").network.spec.gitops.branch
    revision = resolve_base(repo, base, branch)
    old = files_at(repo, revision, "rendered") if revision else {}
    new = {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted((root / "rendered").rglob("*.yaml"))
        if path.is_file()
    }
    changes = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        _, environment, file = path.split("/", 2)
        kind = "added" if before is None else "removed" if after is None else "changed"
        text = difflib.unified_diff(
            _reviewable(before),
            _reviewable(after),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
        changes.append(ObjectChange(environment, file, kind, "".join(text)))
    return (revision or "(no commits)")[:12], changes


def _reviewable(data: bytes | None) -> list[str]:
    """The file's lines, with sealed ciphertext shortened to a digest: a changed item shows
    as a changed digest, an untouched one stays equal."""
    lines = []
    for line in (data or b"").decode().splitlines(keepends=True):
        match = _SEALED_VALUE.match(line.rstrip("\n"))
        if match:
            digest = hashlib.sha256(match[2].encode()).hexdigest()[:12]
            line = f"{match[1]}<sealed, sha256:{digest}>\n"
        lines.append(line)
    return lines


def markdown(base: str, changes: list[ObjectChange]) -> str:
    """The changes as Markdown: a summary table per environment, then each object's diff."""
    if not changes:
        return f"### ethnet diff against {base}\n\nNo rendered object changes.\n"
    lines = [f"### ethnet diff against {base}", ""]
    environments = sorted({c.environment for c in changes})
    for env in environments:
        env_changes = [c for c in changes if c.environment == env]
        counts = {
            kind: sum(c.change == kind for c in env_changes)
            for kind in ("added", "changed", "removed")
        }
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        lines += [f"#### {env}: {summary}", ""]
        for change in env_changes:
            diff_lines = change.diff.splitlines()
            shown = diff_lines[:MAX_DIFF_LINES]
            lines += [
                "<details>",
                f"<summary>{change.change}: <code>{change.file}</code></summary>",
                "",
                "```diff",
                *shown,
                *(["... (diff cut)"] if len(diff_lines) > MAX_DIFF_LINES else []),
                "```",
                "</details>",
                "",
            ]
    return "\n".join(lines)
