"""One sync at a time per repository: a lock file in .git holding the owner's process id.

A lock whose process no longer runs (a sync that was killed) is taken over, so the next
sync recovers without manual cleanup.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ethnet.errors import EthnetError


@contextmanager
def sync_lock(directory: Path) -> Iterator[None]:
    path = directory / "sync.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            owner = _owner(path)
            if owner is not None and process_alive(owner):
                raise EthnetError(
                    f"another ethnet sync (process {owner}) is running in this repository",
                    hint=f"wait for it; if it is gone, remove {path}",
                ) from None
            path.unlink(missing_ok=True)  # stale: its process died
    else:  # pragma: no cover - two takeovers in a row means another sync raced us
        raise EthnetError(f"could not take the sync lock {path}")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        yield
    finally:
        path.unlink(missing_ok=True)


def _owner(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
