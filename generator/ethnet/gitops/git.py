"""The few git operations ethnet needs, through gitpython."""

from __future__ import annotations

import time
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


def wait_for_index_lock(repo: git.Repo, timeout: float = 10.0) -> None:
    """Wait while another git command holds the index (a git child of a sync that was
    killed finishes on its own); refuse, with git's own advice, if it stays locked."""
    lock = Path(repo.git_dir) / "index.lock"
    deadline = time.monotonic() + timeout
    while lock.exists():
        if time.monotonic() > deadline:
            raise EthnetError(
                f"{lock} exists: another git command is running in this repository, "
                "or one was killed while it held the index",
                hint=f"wait for it; if no git command is running, remove {lock}",
            )
        time.sleep(0.05)


def push(repo: git.Repo) -> str:
    """Push the current branch to its upstream (else to origin, same name); where it went.
    A rejected push raises with the remote's reason; the local commits stay as they are."""
    try:
        branch = repo.active_branch
    except TypeError:
        raise EthnetError(
            "HEAD is detached: --push needs a branch", hint="git switch <branch> first"
        ) from None
    tracking = branch.tracking_branch()
    if tracking is not None:
        remote, target = tracking.remote_name, tracking.remote_head
    elif "origin" in [r.name for r in repo.remotes]:
        remote, target = "origin", branch.name
    else:
        raise EthnetError(
            f"branch {branch.name} has no upstream and there is no remote named origin",
            hint="git remote add origin <url>, or git branch --set-upstream-to",
        )
    head = repo.head.commit.hexsha
    try:
        repo.git.push("--quiet", remote, f"HEAD:refs/heads/{target}")
    except git.GitCommandError as exc:
        detail = _git_stderr(exc)
        raise EthnetError(
            f"git push to {remote} ({target}) was rejected; commit {head[:12]} is kept "
            f"locally, nothing is lost:\n{detail}",
            hint=f"if {remote} has new commits: git pull {remote} {target} (ethnet sync "
            "re-renders a conflict in rendered/ and concludes the merge), then ethnet sync "
            "--push again; otherwise fix what the remote says",
        ) from None
    return f"{remote}/{target}"


def _git_stderr(exc: git.GitCommandError) -> str:
    """git's own message, without gitpython's ``stderr: '...'`` wrapping."""
    text = str(exc.stderr).strip()
    text = text.removeprefix("stderr:").strip().removeprefix("'").removesuffix("'")
    return "\n".join(f"  {line.rstrip()}" for line in text.splitlines() if line.strip())
