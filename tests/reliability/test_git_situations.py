"""ethnet in the git situations people and CI create: a detached HEAD, a shallow clone,
a merge conflict inside rendered/, and sync locks left behind or held."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.helpers import Workspace
from tests.reliability.conftest import make_workspace, no_traceback, snapshot


def _set_block_period(ws: Workspace, seconds: int) -> None:
    spec = ws.repo / "network.yaml"
    text = spec.read_text()
    old = next(line for line in text.splitlines() if "blockPeriodSeconds:" in line)
    spec.write_text(text.replace(old, f"    blockPeriodSeconds: {seconds}"))


def _genesis(ws: Workspace) -> str:
    return (ws.repo / "overlays" / "dev" / "generated" / "genesis.json").read_text()


# --- detached HEAD ----------------------------------------------------------------------------


def test_sync_on_a_detached_head_commits_there_and_loses_nothing(network: Workspace, cli):
    main_before = network.git("rev-parse", "main").strip()
    network.git("checkout", "-q", "--detach")
    _set_block_period(network, 5)

    run = cli(network, "sync")

    assert run.returncode == 0, run.stderr
    head = network.git("rev-parse", "HEAD").strip()
    assert head != main_before
    assert network.git("rev-parse", "HEAD^").strip() == main_before
    assert network.git("rev-parse", "main").strip() == main_before  # the branch untouched
    assert network.git("status", "--porcelain") == ""
    assert "network.yaml" in network.git("show", "--name-only", "--format=", "HEAD")
    assert cli(network, "check").returncode == 0


# --- shallow clone ----------------------------------------------------------------------------


def test_check_and_diff_work_in_a_shallow_clone_as_ci_checks_out(network: Workspace, cli):
    _set_block_period(network, 4)
    assert cli(network, "sync").returncode == 0
    clone = make_workspace(network.root / "ci")
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{network.repo}", str(clone.repo)],
        env=network.env(),
        check=True,
        capture_output=True,
    )
    clone.home = network.home
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"

    check = cli(clone, "check", "--base", "origin/main")
    assert check.returncode == 0, check.stderr
    assert check.stdout == "ethnet check: ok\n"
    diff = cli(clone, "diff")
    assert diff.returncode == 0, diff.stderr
    no_traceback(diff)

    # a pull request on top of the shallow history: diff shows it, check passes after sync
    _set_block_period(clone, 6)
    assert cli(clone, "sync").returncode == 0
    diff = cli(clone, "diff", "--base", "origin/main")
    assert diff.returncode == 0, diff.stderr
    assert "dev" in diff.stdout
    check = cli(clone, "check", "--base", "origin/main")
    assert check.returncode == 0, check.stderr


# --- merge conflict inside rendered/ -----------------------------------------------------------


def _conflicted_merge(ws: Workspace, cli) -> None:
    ws.git("checkout", "-q", "-b", "faster")
    _set_block_period(ws, 1)
    assert cli(ws, "sync").returncode == 0
    ws.git("checkout", "-q", "main")
    ws.git("checkout", "-q", "-b", "slower")
    _set_block_period(ws, 5)
    assert cli(ws, "sync").returncode == 0
    merge = subprocess.run(
        ["git", "merge", "-q", "faster"], cwd=ws.repo, env=ws.env(), capture_output=True, text=True
    )
    assert merge.returncode != 0
    unmerged = ws.git("diff", "--name-only", "--diff-filter=U").split()
    assert "network.yaml" in unmerged
    assert any(p.startswith("rendered/dev/") for p in unmerged), unmerged
    # resolve network.yaml by hand (a third value), leave the generated and rendered
    # conflicts to sync
    (ws.repo / "network.yaml").write_text(ws.git("show", "main:network.yaml"))
    _set_block_period(ws, 3)
    ws.git("add", "network.yaml")


def test_sync_resolves_a_merge_conflict_in_rendered_by_re_rendering(network: Workspace, cli):
    _conflicted_merge(network, cli)

    run = cli(network, "sync")

    assert run.returncode == 0, run.stderr
    assert network.git("status", "--porcelain") == ""
    parents = network.git("rev-list", "--parents", "-n", "1", "HEAD").split()
    assert len(parents) == 3  # a merge commit
    assert "<<<<<<<" not in _genesis(network)
    assert cli(network, "check").returncode == 0


def test_sync_during_a_conflicted_merge_fails_cleanly_and_keeps_the_merge(network, cli):
    """What sync does today in the conflicted merge: exit 1, no traceback, the merge still
    in progress (MERGE_HEAD kept, HEAD unchanged), the re-rendered files left in the work
    tree with no conflict markers, so `git add -A && git commit` concludes it."""
    _conflicted_merge(network, cli)
    head = network.git("rev-parse", "HEAD")

    run = cli(network, "sync")

    assert run.returncode in (0, 1)
    no_traceback(run)
    if run.returncode == 1:
        assert "error: git commit failed" in run.stderr, run.stderr
        assert "partial commit during a merge" in run.stderr, run.stderr
        assert (network.repo / ".git" / "MERGE_HEAD").is_file()
        assert network.git("rev-parse", "HEAD") == head
        rendered = [*(network.repo / "rendered").rglob("*.yaml")]
        rendered += [*(network.repo / "overlays").rglob("*")]
        assert not any(
            "<<<<<<<" in p.read_text() for p in rendered if p.is_file() and not p.is_symlink()
        )
        network.git("add", "-A")
        network.git("commit", "-q", "--no-edit")
        assert cli(network, "check").returncode == 0


# --- sync lock ----------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_stale_lock_from_a_dead_process_is_taken_over(network: Workspace, cli):
    lock = network.repo / ".git" / "ethnet" / "sync.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    pid = _dead_pid()
    lock.write_text(str(pid))
    _set_block_period(network, 7)

    run = cli(network, "sync")

    assert run.returncode == 0, run.stderr
    assert not lock.exists()
    assert network.git("status", "--porcelain") == ""
    assert cli(network, "check").returncode == 0


@pytest.mark.parametrize("content", ["", "not a pid\n"])
def test_an_unreadable_lock_is_taken_over(network: Workspace, cli, content):
    lock = network.repo / ".git" / "ethnet" / "sync.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(content)
    _set_block_period(network, 7)
    run = cli(network, "sync")
    assert run.returncode == 0, run.stderr
    assert not lock.exists()


def test_a_live_lock_makes_sync_refuse_and_change_nothing(network: Workspace):
    lock = network.repo / ".git" / "ethnet" / "sync.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(str(os.getpid()))
    _set_block_period(network, 7)
    before = snapshot(network)

    proc = network.run("sync", ok=False)

    assert proc.returncode == 1
    no_traceback(proc)
    assert "another ethnet sync" in proc.stderr
    assert f"process {os.getpid()}" in proc.stderr
    assert snapshot(network) == before
    assert lock.read_text() == str(os.getpid())  # someone else's lock is left alone
