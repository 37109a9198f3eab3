"""ethnet sync killed at random moments and at its narrowest windows.

Each trial copies a network repository whose network.yaml change is committed but not yet
rendered, runs ``ethnet sync`` and kills it with SIGKILL (no cleanup runs: what ``kill -9``,
the OOM killer or a power cut does). Afterwards the repository must be in one of three
states, and ``ethnet check`` must say which:

- old: HEAD, index and work tree exactly as before; check reports the stale render;
- interrupted: the sync's journal is there (the point of no return was passed); every file
  holds either its old or its new content; check reports the interrupted sync;
- new: HEAD is the sync's commit, exactly the tree an uninterrupted sync commits.

Then one more ``ethnet sync``, with no manual cleanup (the dead process's lock included),
must end exactly where an uninterrupted sync ends: same tree, one commit on top of the old
HEAD, a clean work tree, check passing, nothing left in .git/ethnet but the fingerprint.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ethnet.gitops.failpoints import VARIABLE as FAILPOINT
from ethnet.repo.files import TEMP_PREFIX
from tests.e2e.helpers import ETHNET, Workspace, new_network

pytestmark = pytest.mark.slow

COMMITTED = ("network.yaml", "overlays", "base", "components", "rendered", "deploy")
RANDOM_TRIALS = 6
NEW_IMAGE = "hyperledger/besu:26.1.0"


@dataclass(frozen=True)
class Reference:
    """The repository before the sync, and what an uninterrupted sync makes of it."""

    origin: Workspace
    old_head: str
    old_files: dict[str, bytes]
    new_tree: str
    new_files: dict[str, bytes]
    seconds: float  # from the start of rendering to the end of an uninterrupted sync


def _files(repo: Path) -> dict[str, bytes]:
    files = {}
    for top in COMMITTED:
        path = repo / top
        if path.is_file():
            files[top] = path.read_bytes()
        for entry in sorted(path.rglob("*")) if path.is_dir() else []:
            if entry.is_file():
                files[str(entry.relative_to(repo))] = entry.read_bytes()
    return files


def _copy(origin: Workspace, root: Path) -> Workspace:
    ws = Workspace(root, root / "net", root / "home", root / "tmp", [])
    shutil.copytree(origin.repo, ws.repo, symlinks=True)
    shutil.copytree(origin.home, ws.home, symlinks=True)
    ws.tmp.mkdir()
    return ws


def _sync_process(ws: Workspace, failpoint: str | None = None) -> subprocess.Popen[str]:
    env = ws.env()
    env.pop(FAILPOINT, None)
    if failpoint:
        env[FAILPOINT] = failpoint
    return subprocess.Popen(
        [str(ETHNET), "sync"],
        cwd=ws.repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_rendering(proc: subprocess.Popen[str]) -> None:
    """Read sync's progress until it starts kustomize: from there on it renders, writes
    and commits, the phases the kills aim at."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "with kustomize" in line:
            return
    raise AssertionError("ethnet sync ended without rendering")


def _wait_for_git(ws: Workspace) -> None:
    """A git child of the killed sync finishes on its own; let it, as the next sync does."""
    lock = ws.repo / ".git" / "index.lock"
    deadline = time.monotonic() + 10
    while lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("interrupted")
    origin = new_network(root, "environments=dev,prod")
    network = origin.repo / "network.yaml"
    text = network.read_text()
    assert "  components:" in text
    network.write_text(
        text.replace("  components:", f"  images:\n    besu: {NEW_IMAGE}\n  components:")
    )
    origin.git("commit", "-qam", "Upgrade Besu")
    old_head = origin.git("rev-parse", "HEAD").strip()
    old_files = _files(origin.repo)

    done = _copy(origin, root / "uninterrupted")
    proc = _sync_process(done)
    _wait_for_rendering(proc)
    started = time.monotonic()
    _out, err = proc.communicate(timeout=300)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, err
    assert done.git("rev-parse", "HEAD~1").strip() == old_head
    new_files = _files(done.repo)
    assert new_files != old_files
    assert NEW_IMAGE.encode() in new_files["rendered/dev/statefulset-validator.yaml"]
    return Reference(
        origin,
        old_head,
        old_files,
        done.git("rev-parse", "HEAD^{tree}").strip(),
        new_files,
        seconds,
    )


def _state_after_kill(ws: Workspace, ref: Reference) -> str:
    """Which of the three states the repository is in; asserts it is exactly one."""
    _wait_for_git(ws)
    head = ws.git("rev-parse", "HEAD").strip()
    journal = ws.repo / ".git" / "ethnet" / "journal"
    files = _files(ws.repo)
    check = ws.run("check", ok=False)
    if journal.exists():
        assert head == ref.old_head or ws.git("rev-parse", "HEAD~1").strip() == ref.old_head
        # a file being replaced when the process died leaves its temporary copy beside it
        # (ethnet's own name for it); the next sync removes it
        files = {p: d for p, d in files.items() if not Path(p).name.startswith(TEMP_PREFIX)}
        for path in set(files) | set(ref.new_files) | set(ref.old_files):
            assert files.get(path) in (ref.old_files.get(path), ref.new_files.get(path)), (
                f"{path} holds neither its old nor its new content"
            )
        assert check.returncode == 1 and "sync was interrupted" in check.stderr
        return "interrupted"
    if head == ref.old_head:
        assert files == ref.old_files
        assert ws.git("status", "--porcelain") == ""
        assert check.returncode == 1 and "differs from a fresh render" in check.stderr
        assert "interrupted" not in check.stderr
        return "old"
    assert ws.git("rev-parse", "HEAD~1").strip() == ref.old_head
    assert ws.git("rev-parse", "HEAD^{tree}").strip() == ref.new_tree
    assert files == ref.new_files
    assert check.returncode == 0, check.stderr
    return "new"


def _recovers(ws: Workspace, ref: Reference) -> None:
    """One more sync, no manual cleanup, ends exactly where an uninterrupted sync does."""
    ws.run("sync")
    assert ws.git("rev-parse", "HEAD~1").strip() == ref.old_head
    assert ws.git("rev-parse", "HEAD^{tree}").strip() == ref.new_tree
    assert _files(ws.repo) == ref.new_files
    assert ws.git("status", "--porcelain") == ""
    left = {p.name for p in (ws.repo / ".git" / "ethnet").iterdir()}
    assert left == {"fingerprint"}, left
    assert ws.run("check").stdout == "ethnet check: ok\n"


@pytest.mark.parametrize("point", ["journal-written", "work-tree-written", "committed"])
def test_killed_at_each_narrow_window(reference: Reference, tmp_path: Path, point: str) -> None:
    ws = _copy(reference.origin, tmp_path)
    proc = _sync_process(ws, failpoint=point)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert (ws.repo / ".git" / "ethnet" / "sync.lock").exists()  # left by the dead process

    state = _state_after_kill(ws, reference)

    assert state == "interrupted"  # every failpoint is past the point of no return
    _recovers(ws, reference)


def test_killed_again_while_recovering(reference: Reference, tmp_path: Path) -> None:
    ws = _copy(reference.origin, tmp_path)
    for point in ("work-tree-written", "committed"):
        proc = _sync_process(ws, failpoint=point)
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL
        _wait_for_git(ws)
    _recovers(ws, reference)


def test_killed_at_random_moments(reference: Reference, tmp_path: Path) -> None:
    rng = random.Random(20261204)
    states = []
    for trial in range(RANDOM_TRIALS):
        ws = _copy(reference.origin, tmp_path / f"trial-{trial}")
        proc = _sync_process(ws)
        _wait_for_rendering(proc)
        # from the start of rendering to a little past the end an uninterrupted sync took
        time.sleep(rng.uniform(0.0, reference.seconds * 1.1))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=300)
        states.append(_state_after_kill(ws, reference))
        _recovers(ws, reference)
    assert set(states) <= {"old", "interrupted", "new"}
    print(f"states after {RANDOM_TRIALS} random kills: {states}")


def test_keys_generated_before_the_kill_are_the_ones_kept(tmp_path: Path, reference) -> None:
    """Adding a validator generates and seals a key; if the sync dies after its point of no
    return, the next sync must finish with that very key, not generate another."""
    ws = _copy(reference.origin, tmp_path)
    ws.run("sync")
    network = ws.repo / "network.yaml"
    network.write_text(network.read_text().replace("validators: 4", "validators: 5", 1))
    ws.git("commit", "-qam", "A fifth validator")
    proc = _sync_process(ws, failpoint="journal-written")
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    journal = ws.repo / ".git" / "ethnet" / "journal" / "files"
    keys = "overlays/dev/generated/keys.yaml"
    sealed = "overlays/dev/generated/sealedsecret-validator-keys.yaml"
    planned = {
        path: (journal / path).read_bytes() for path in (keys, sealed) if (journal / path).exists()
    }
    assert keys in planned, sorted(str(p.relative_to(journal)) for p in journal.rglob("*"))

    ws.run("sync")

    for path, data in planned.items():
        assert (ws.repo / path).read_bytes() == data
    assert b"validator-4" in (ws.repo / keys).read_bytes()
    assert ws.run("check").stdout == "ethnet check: ok\n"


def test_a_journal_overtaken_by_a_manual_commit_is_set_aside(
    reference: Reference, tmp_path: Path
) -> None:
    """Someone reset the work tree and committed by hand after the kill: replaying the
    journal onto another HEAD would be wrong, so it is kept aside and sync re-renders."""
    ws = _copy(reference.origin, tmp_path)
    proc = _sync_process(ws, failpoint="work-tree-written")
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    ws.git("reset", "-q", "--hard")
    ws.git("clean", "-qfd")
    (ws.repo / "README.md").write_text((ws.repo / "README.md").read_text() + "\nA note.\n")
    ws.git("commit", "-qam", "A note")

    proc = ws.run("sync")

    assert "journal was set aside" in proc.stderr
    aside = list((ws.repo / ".git" / "ethnet").glob("journal.abandoned-*"))
    assert len(aside) == 1
    assert ws.git("rev-parse", "HEAD^{tree}").strip() != reference.new_tree  # README differs
    assert _files(ws.repo) == reference.new_files
    assert ws.run("check").stdout == "ethnet check: ok\n"


def test_an_unreadable_journal_is_reported_not_guessed(
    reference: Reference, tmp_path: Path
) -> None:
    ws = _copy(reference.origin, tmp_path)
    proc = _sync_process(ws, failpoint="journal-written")
    proc.communicate(timeout=300)
    plan = ws.repo / ".git" / "ethnet" / "journal" / "plan.json"
    plan.write_text("{ truncated")
    head = ws.git("rev-parse", "HEAD")

    for command in ("sync", "check"):
        failed = ws.run(command, ok=False)
        assert failed.returncode == 1, command
        assert "journal" in failed.stderr and "cannot be read" in failed.stderr, command
        assert "Traceback" not in failed.stderr
    assert ws.git("rev-parse", "HEAD") == head
