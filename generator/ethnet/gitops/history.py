"""Reading files as they were at a git revision (for diff and the live-genesis check)."""

from __future__ import annotations

import git

from ethnet.errors import EthnetError


def resolve_base(repo: git.Repo, base: str | None, branch: str) -> str | None:
    """The revision to compare with: ``base`` if given, else the remote branch a pull
    request targets (origin/<branch>) if it exists, else HEAD; None without commits."""
    candidates = [base] if base else [f"origin/{branch}", "HEAD"]
    for candidate in candidates:
        try:
            return str(repo.git.rev_parse("--verify", "--quiet", f"{candidate}^{{commit}}"))
        except git.GitCommandError:
            if base:
                raise EthnetError(f"--base {base}: no such revision in this repository") from None
    return None


def files_at(repo: git.Repo, revision: str, directory: str) -> dict[str, bytes]:
    """Every file under ``directory`` at ``revision``: path -> bytes."""
    listing = repo.git.ls_tree("-r", "-z", "--name-only", revision, "--", directory)
    files = {}
    for path in filter(None, listing.split("\0")):
        files[path] = read_at(repo, revision, path) or b""
    return files


def read_at(repo: git.Repo, revision: str, path: str) -> bytes | None:
    """One file at ``revision``, or None when it did not exist."""
    try:
        blob = repo.commit(revision).tree / path
    except KeyError:
        return None
    data: bytes = blob.data_stream.read()
    return data
