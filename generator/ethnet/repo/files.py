"""Writing files safely: whole or not at all, and private files readable only by their owner."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ethnet.errors import EthnetError

# Temporary files are written next to their targets and renamed into place; a process
# killed in between leaves one behind, which ``remove_temporaries`` recognises by its name.
TEMP_PREFIX = ".ethnet-tmp."
TEMP_SUFFIX = ".tmp"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def write_files(files: Mapping[Path, str], *, durable: bool = True) -> None:
    """Write every file, or none: all are written to temporary files next to their targets
    first, and only when that succeeded are they renamed into place. ``durable=False``
    skips flushing each file to disk, for scratch copies that are thrown away anyway."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(path, text.encode("utf-8"), mode=0o644, durable=durable), path))
        for temp, path in staged:
            os.replace(temp, path)
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)


def remove_temporaries(directory: Path) -> None:
    """Remove the temporary files that killed writers left under ``directory``."""
    if not directory.is_dir():
        return
    for path in directory.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """Write one file so readers see the old content or the new, never half."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise EthnetError(f"{path}: directory {directory} does not exist")
    write_files({path: text})


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (directories 0700); refuse to replace an existing file."""
    _private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise EthnetError(f"{path} already exists; refusing to overwrite a private key") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def read_private_file(path: Path) -> bytes:
    """Read a private key file, refusing one that group or others can read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise EthnetError(f"{path}: no such file") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EthnetError(
            f"{path} is accessible by other users (mode {stat.S_IMODE(mode):04o})",
            hint=f"chmod 600 {path}",
        )
    return path.read_bytes()


def make_private_directory(directory: Path) -> None:
    """Create ``directory`` (mode 0700), or take away group and other access from an
    existing one: for ethnet's own directories such as $ETHNET_HOME, which can exist
    already (made by hand, by a tool, with the default umask)."""
    _private_dirs(directory)
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(directory, PRIVATE_DIR_MODE)


def _private_dirs(directory: Path) -> None:
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        created.mkdir(mode=PRIVATE_DIR_MODE)
        os.chmod(created, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask


def _stage(path: Path, data: bytes, *, mode: int, durable: bool = True) -> Path:
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX
    )
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp
