"""The few git operations ethnet needs, through gitpython."""

from __future__ import annotations

from pathlib import Path

import git

from ethnet.errors import EthnetError
from ethnet.gitops.paths import parse_porcelain


def open_repository(root: Path) -> git.Repo:
    """The git repository whose work tree is ``root``."""
    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise EthnetError(
            f"{root} is not a git repository",
            hint="run git init there (ethnet new does), or pass --no-commit",
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise EthnetError(f"{root} is a bare repository; sync needs a work tree")
    if Path(repo.working_tree_dir).resolve() != root.resolve():
        raise EthnetError(
            f"{root} is inside the git repository {repo.working_tree_dir}, not its top",
            hint="a network repository is a git repository of its own: run ethnet there",
        )
    return repo


def changed_paths(repo: git.Repo) -> list[str]:
    """Paths with uncommitted changes (staged, unstaged or untracked), relative to the top."""
    output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all")
    return parse_porcelain(output)


def head_commit(repo: git.Repo) -> str | None:
    """The HEAD commit's id, or None in a repository without commits."""
    try:
        return repo.head.commit.hexsha
    except ValueError:
        return None


def commit_paths(repo: git.Repo, paths: list[str] | None, message: str) -> str:
    """Stage ``paths`` (additions, changes, deletions; None: everything) and commit them;
    the new commit's id. Hooks are skipped: this is a machine-made commit."""
    pathspec = ["--", *paths] if paths is not None else []
    repo.git.add("--all", *pathspec)
    merging = (Path(repo.git_dir) / "MERGE_HEAD").exists()
    if merging:
        # git refuses a partial commit during a merge: with the outputs re-rendered and
        # staged, conclude the merge itself (its own message names the branches).
        pathspec = []
        message = ""
    try:
        if merging:
            repo.git.commit("--quiet", "--no-verify", "--no-edit")
        else:
            repo.git.commit("--quiet", "--no-verify", "-m", message, *pathspec)
    except git.GitCommandError as exc:
        detail = str(exc.stderr).strip()
        identity = "user.name" in detail or "user.email" in detail or "identity" in detail
        raise EthnetError(
            f"git commit failed: {detail}",
            hint="set your identity: git config user.name ...; git config user.email ..."
            if identity
            else "the files are written; finish with git add and git commit",
        ) from None
    return repo.head.commit.hexsha
