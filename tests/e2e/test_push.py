"""ethnet sync --push against a local bare remote: pushed when accepted; when the remote
rejects it, the reason is reported with exit code 1 and the commit stays local."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import Workspace, new_network

pytestmark = pytest.mark.slow


@pytest.fixture
def pushed(tmp_path: Path) -> Workspace:
    ws = new_network(tmp_path, "environments=dev")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    ws.git("remote", "add", "origin", str(remote))
    ws.git("push", "-q", "-u", "origin", "main")
    return ws


def _bump_image(ws: Workspace, tag: str) -> None:
    network = ws.repo / "network.yaml"
    text = network.read_text()
    assert "  components:" in text
    network.write_text(
        text.replace("  components:", f"  images:\n    besu: hyperledger/besu:{tag}\n  components:")
    )


def _remote_head(ws: Workspace) -> str:
    return ws.git("ls-remote", "origin", "refs/heads/main").split()[0]


def test_an_accepted_push(pushed: Workspace) -> None:
    _bump_image(pushed, "26.1.0")
    proc = pushed.run("sync", "--push")
    assert "pushed to origin/main" in proc.stderr
    assert _remote_head(pushed) == pushed.git("rev-parse", "HEAD").strip()


def test_a_remote_hook_that_rejects_the_push(pushed: Workspace) -> None:
    before = _remote_head(pushed)
    hook = pushed.root / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n")
    hook.chmod(0o755)
    _bump_image(pushed, "26.1.0")

    refused = pushed.run("sync", "--push", ok=False)

    assert refused.returncode == 1
    assert "was rejected" in refused.stderr and "nothing is lost" in refused.stderr
    assert "main is protected: open a pull request" in refused.stderr
    assert "Traceback" not in refused.stderr
    head = pushed.git("rev-parse", "HEAD").strip()
    assert head[:12] in refused.stderr
    assert "26.1.0" in pushed.git("show", "HEAD:rendered/dev/statefulset-validator.yaml")
    assert pushed.git("status", "--porcelain") == ""
    assert _remote_head(pushed) == before

    hook.unlink()
    again = pushed.run("sync", "--push")  # nothing to render; the push goes through
    assert "nothing changed since the last sync" in again.stderr
    assert _remote_head(pushed) == head


def test_a_push_rejected_because_the_remote_moved_on(pushed: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(pushed.root / "remote.git"), str(other)], check=True)
    (other / "README.md").write_text((other / "README.md").read_text() + "\nA note.\n")
    env = pushed.env()
    subprocess.run(["git", "commit", "-qam", "Docs"], cwd=other, env=env, check=True)
    subprocess.run(["git", "push", "-q"], cwd=other, env=env, check=True)
    _bump_image(pushed, "26.1.0")

    refused = pushed.run("sync", "--push", ok=False)

    assert refused.returncode == 1
    assert "git pull origin main" in refused.stderr
    local = pushed.git("rev-parse", "HEAD").strip()
    pushed.git("pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    pushed.run("sync", "--push")
    assert pushed.git("merge-base", "--is-ancestor", local, "HEAD") == ""
    assert _remote_head(pushed) == pushed.git("rev-parse", "HEAD").strip()
    assert pushed.run("check").stdout == "ethnet check: ok\n"


def test_push_needs_a_branch_and_a_commit(pushed: Workspace) -> None:
    assert "do not go together" in pushed.run("sync", "--push", "--no-commit", ok=False).stderr
    pushed.git("switch", "-q", "--detach", "HEAD")
    detached = pushed.run("sync", "--push", ok=False)
    assert detached.returncode == 1 and "HEAD is detached" in detached.stderr
