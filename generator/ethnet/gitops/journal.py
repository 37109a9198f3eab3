"""A sync's journal: how an interrupted ``ethnet sync`` is finished by the next one.

Sync builds everything in a staging copy first; until then the repository is untouched.
Before it changes the first file of the work tree it writes the complete change (every
new file's content, every removal, the commit it is about to make) to
``.git/ethnet/journal`` and makes it durable; renaming the finished journal into place is
the point of no return. If the process dies after that (killed, power lost, the machine
rebooted), the next sync finds the journal, applies it again from the start (every step
can be repeated) and commits it, then carries on as usual. A sync that dies before the
rename leaves the repository exactly as it was; its staging copies are cleared by the
next sync.

The journal holds only what the repository itself receives: sealed secrets, public keys,
rendered manifests. No plaintext key ever reaches it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ethnet.errors import EthnetError
from ethnet.gitops.lock import process_alive
from ethnet.gitops.paths import COMMITTED, OUTPUT_DIRS
from ethnet.repo.files import remove_temporaries, write_files

JOURNAL = "journal"
FORMAT = "ethnet-sync-journal/1"
# Staging copies are named for the process that made them, so a sync clears only those
# of processes that are gone (``ethnet check`` stages here too, without the sync lock).
STAGE_PREFIX = "ethnet-stage-"
# Half-written and retired journals: made and removed only under the sync lock.
LEFTOVER_PREFIXES = ("journal.new-", "journal.old-")


@dataclass
class Plan:
    """What an interrupted sync was doing: enough to finish it."""

    base: str | None  # HEAD when the sync began applying; None without git
    changed: list[str]
    removed: list[str]
    commit: bool
    subject: str | None = None
    generated_keys: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Pending:
    """A journal found on disk."""

    plan: Plan
    files: dict[str, str]


def begin(state: Path, plan: Plan, files: Mapping[str, str]) -> None:
    """Write the journal for ``plan`` durably, then move it into place (the commit point)."""
    state.mkdir(parents=True, exist_ok=True)
    if (state / JOURNAL).exists():
        raise EthnetError(f"{state / JOURNAL} exists: an interrupted sync was not finished")
    draft = Path(tempfile.mkdtemp(prefix="journal.new-", dir=state))
    try:
        contents = {draft / "files" / relative: text for relative, text in files.items()}
        write_files({**contents, draft / "plan.json": _plan_json(plan)})
        _sync_directory_tree(draft)
        os.rename(draft, state / JOURNAL)
        _sync_directory(state)
    except BaseException:
        shutil.rmtree(draft, ignore_errors=True)
        raise


def pending(state: Path) -> Pending | None:
    """The journal of an interrupted sync, if there is one."""
    directory = state / JOURNAL
    if not directory.is_dir():
        return None
    try:
        raw = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
        if raw.pop("format", None) != FORMAT:
            raise ValueError("unknown format")
        plan = Plan(**raw)
        stored = directory / "files"
        files = {name: (stored / name).read_text(encoding="utf-8") for name in plan.changed}
    except (OSError, ValueError, TypeError) as exc:
        raise EthnetError(
            f"{directory}: the journal of an interrupted sync cannot be read ({exc})",
            hint=f"move {directory} aside and run ethnet sync again: it re-renders everything",
        ) from None
    return Pending(plan, files)


def apply(root: Path, files: Mapping[str, str], removed: list[str]) -> None:
    """Make the work tree hold ``files`` and not ``removed``; repeating it changes nothing."""
    current = {
        name: text for name, text in files.items() if not _holds(root / name, text.encode("utf-8"))
    }
    write_files({root / name: text for name, text in current.items()})
    for name in removed:
        (root / name).unlink(missing_ok=True)
    prune_empty_dirs(root)


def applied(root: Path, pending_journal: Pending) -> bool:
    """Whether the work tree already holds everything the journal says."""
    return all(
        _holds(root / name, text.encode("utf-8")) for name, text in pending_journal.files.items()
    ) and not any((root / name).exists() for name in pending_journal.plan.removed)


def finish(state: Path) -> None:
    """Remove the journal: the sync it describes is complete."""
    directory = state / JOURNAL
    if directory.exists():
        retired = Path(tempfile.mkdtemp(prefix="journal.old-", dir=state))
        os.rename(directory, retired / JOURNAL)
        shutil.rmtree(retired, ignore_errors=True)


def set_aside(state: Path) -> Path:
    """Move an unusable journal out of the way (kept for inspection); its new name."""
    target = Path(tempfile.mkdtemp(prefix="journal.abandoned-", dir=state))
    os.rename(state / JOURNAL, target / JOURNAL)
    return target


def stage_prefix() -> str:
    """The name prefix of this process's staging copies."""
    return f"{STAGE_PREFIX}{os.getpid()}-"


def clear_leftovers(state: Path, root: Path) -> None:
    """Remove what syncs that were killed left: staging copies, half-written journals,
    temporary files next to the files they were replacing in the work tree (which the
    next commit would otherwise pick up). Call only under the sync lock."""
    for top in COMMITTED:
        if (root / top).is_dir():
            remove_temporaries(root / top)
    if not state.is_dir():
        return
    remove_temporaries(state)
    for entry in state.iterdir():
        if not entry.is_dir():
            continue
        if entry.name.startswith(LEFTOVER_PREFIXES) or (
            entry.name.startswith(STAGE_PREFIX) and not _owner_alive(entry.name)
        ):
            shutil.rmtree(entry, ignore_errors=True)


def _owner_alive(name: str) -> bool:
    pid = name[len(STAGE_PREFIX) :].split("-", 1)[0]
    return pid.isdigit() and process_alive(int(pid))


def prune_empty_dirs(root: Path) -> None:
    """Remove directories left empty under the output directories."""
    for name in OUTPUT_DIRS:
        directory = root / name
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def _plan_json(plan: Plan) -> str:
    return json.dumps({"format": FORMAT, **asdict(plan)}, indent=2, sort_keys=True) + "\n"


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory_tree(top: Path) -> None:
    for parent, _dirs, _files in os.walk(top, topdown=False):
        _sync_directory(Path(parent))
