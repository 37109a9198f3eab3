"""Which paths of a network repository sync owns, and where it keeps its own state.

Kept free of heavy imports: the no-op fast path of ``ethnet sync`` needs only this,
``ethnet.gitops.fingerprint`` and git itself.
"""

from __future__ import annotations

from pathlib import Path

from ethnet.repo.layout import NETWORK_FILE

# Directories that are entirely ethnet's output.
OUTPUT_DIRS = ("base", "components", "rendered", "deploy")
# What sync commits: its outputs and the inputs people edit.
COMMITTED = (NETWORK_FILE, "overlays", *OUTPUT_DIRS)


def work_dir(root: Path) -> Path:
    """Where sync keeps its lock, staging copies, journal and fingerprint: inside .git, never
    in the work tree (a repository without git gets .ethnet/, which network repositories
    ignore)."""
    git_dir = root / ".git"
    return git_dir / "ethnet" if git_dir.is_dir() else root / ".ethnet"


def is_committed(path: str) -> bool:
    """Whether sync commits ``path`` (relative to the repository's top)."""
    return any(path == top or path.startswith(f"{top}/") for top in COMMITTED)


def parse_porcelain(output: str) -> list[str]:
    """The paths in ``git status --porcelain=v1 -z`` output."""
    paths = []
    entries = output.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        paths.append(path)
        if status[0] in "RC":  # a rename or copy is followed by its source path
            index += 1
    return paths
