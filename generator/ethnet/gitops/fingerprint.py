"""The no-op fast path of ``ethnet sync``: a fingerprint of everything a sync reads and writes.

After every successful sync, a digest of its inputs and outputs is kept in .git/ethnet/
(never committed): network.yaml, everything under overlays/, the output directories
(base/, components/, rendered/, deploy/), ethnet's own code (path, size and modification
time of each file of the installed package) and the kustomize binary in use. When a
later sync finds the same digest, nothing it could produce would differ from what is
already there, so it skips generating and rendering and reports that nothing changed.

Only the digest of file contents is kept, so it reveals nothing that the repository does
not already hold. ``ethnet check`` never uses it: CI always renders for real.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from ethnet.errors import EthnetError
from ethnet.gitops import journal
from ethnet.gitops.paths import COMMITTED, is_committed, parse_porcelain, work_dir
from ethnet.repo import kustomize
from ethnet.repo.files import write_files

FORMAT = b"ethnet-sync-fingerprint/1\n"
FILE_NAME = "fingerprint"
_PACKAGE = Path(__file__).resolve().parent.parent


def compute(root: Path) -> str:
    """The digest of the repository's sync inputs and outputs, ethnet and kustomize."""
    digest = hashlib.sha256(FORMAT)
    for line in _code_identity():
        digest.update(line)
    for top in COMMITTED:
        path = root / top
        if path.is_symlink() or path.is_file():
            digest.update(_entry(root, path))
        elif path.is_dir():
            for entry in _walk(path):
                digest.update(_entry(root, entry))
    return digest.hexdigest()


def recorded(root: Path) -> str | None:
    """The digest the last successful sync recorded, if any."""
    try:
        return (work_dir(root) / FILE_NAME).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def record(root: Path) -> None:
    """Remember the repository's current digest: call after a sync succeeded."""
    directory = work_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    write_files({directory / FILE_NAME: compute(root) + "\n"})


def unchanged_since_last_sync(root: Path, *, allow_dirty: bool = False) -> bool:
    """True when a sync would find nothing to do: the recorded digest matches, no
    interrupted sync waits to be finished, and git has nothing to commit (nor, unless
    ``allow_dirty``, any other uncommitted change, which sync would refuse)."""
    state = work_dir(root)
    if (state / journal.JOURNAL).exists() or (root / ".git" / "MERGE_HEAD").exists():
        return False
    stored = recorded(root)
    if stored is None:
        return False
    dirty = _uncommitted(root)
    if dirty is None or any(is_committed(p) for p in dirty) or (dirty and not allow_dirty):
        return False
    return stored == compute(root)


def _uncommitted(root: Path) -> list[str] | None:
    """Paths git reports as changed; None when git cannot tell (no repository, no git)."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_porcelain(proc.stdout) if proc.returncode == 0 else None


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for parent, dirs, files in os.walk(directory, followlinks=False):
        dirs.sort()
        base = Path(parent)
        found += [base / name for name in sorted(files)]
        found += [base / name for name in dirs if (base / name).is_symlink()]
    return sorted(found)


def _entry(root: Path, path: Path) -> bytes:
    name = str(path.relative_to(root)).encode("utf-8", "surrogateescape")
    if path.is_symlink():
        # check_boundaries refuses symlinks; the digest must still tell them apart
        target = os.readlink(path).encode("utf-8", "surrogateescape")
        return b"L " + name + b" " + target + b"\n"
    content = hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii")
    return b"F " + name + b" " + content + b"\n"


def _code_identity() -> list[bytes]:
    lines = []
    for parent, dirs, files in os.walk(_PACKAGE, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = Path(parent) / name
            info = path.stat()
            rel = str(path.relative_to(_PACKAGE))
            lines.append(f"C {rel} {info.st_size} {info.st_mtime_ns}\n".encode())
    try:
        command = kustomize.kustomize_command()
    except EthnetError:
        command = []
    for part in command[:1]:
        info = Path(part).stat()
        lines.append(f"K {part} {info.st_size} {info.st_mtime_ns}\n".encode())
    return lines
