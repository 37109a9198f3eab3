"""The no-op fast path of ethnet sync: skipped only when nothing it reads or writes changed.

Whether a sync rendered is visible on stderr: a full sync reports "rendering ... with
kustomize", the fast path reports that nothing changed since the last sync.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import ETHNET, Workspace, new_network

pytestmark = pytest.mark.slow

UNCHANGED = "nothing changed since the last sync"
RENDERED = "with kustomize"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return new_network(tmp_path_factory.mktemp("fingerprint"), "environments=dev,prod")


def _sync(ws: Workspace, *args: str) -> str:
    return ws.run("sync", *args).stderr


def test_a_second_sync_renders_nothing_and_a_third_neither(synced: Workspace) -> None:
    head = synced.git("rev-parse", "HEAD")
    _sync(synced)  # records the fingerprint if ethnet new did not
    for _ in range(2):
        stderr = _sync(synced)
        assert UNCHANGED in stderr and RENDERED not in stderr
    assert synced.git("rev-parse", "HEAD") == head
    digest = (synced.repo / ".git/ethnet/fingerprint").read_text()
    assert len(digest.strip()) == 64 and int(digest, 16) >= 0  # a digest and nothing else


def test_full_renders_anyway(synced: Workspace) -> None:
    stderr = _sync(synced, "--full")
    assert RENDERED in stderr and UNCHANGED not in stderr


@pytest.mark.parametrize(
    "path",
    [
        "rendered/dev/statefulset-validator.yaml",  # an output someone edited and committed
        "overlays/prod/kustomization.yaml",  # the user's own overlay
        "base/kustomization.yaml",
        "deploy/argocd/appproject.yaml",
    ],
)
def test_a_committed_edit_to_any_input_or_output_is_rendered(synced: Workspace, path) -> None:
    target = synced.repo / path
    if not target.exists():
        target = sorted(target.parent.glob("*.yaml"))[0]
    original = target.read_text()
    target.write_text(original + "# edited by hand\n")
    synced.git("commit", "-qam", f"hand edit of {path}")

    stderr = _sync(synced)

    assert RENDERED in stderr
    edited_output = not path.startswith("overlays/")
    if edited_output:  # ethnet owns the file: the sync put it back, in a commit
        assert target.read_text() == original
        assert synced.git("status", "--porcelain") == ""
    else:  # the user's overlay stays; a comment changes nothing rendered
        assert target.read_text() == original + "# edited by hand\n"
    assert UNCHANGED in _sync(synced)


def test_uncommitted_changes_are_never_skipped(synced: Workspace) -> None:
    network = synced.repo / "network.yaml"
    original = network.read_text()
    network.write_text(original.replace("validators: 4", "validators: 5", 1))
    assert network.read_text() != original, "the test's network.yaml changed shape"
    try:
        stderr = _sync(synced)
        assert RENDERED in stderr
        assert "statefulset" in synced.git("show", "--stat", "HEAD")
    finally:
        synced.git("revert", "--no-edit", "HEAD")
    assert RENDERED in _sync(synced)  # the revert changed the files: render again
    assert synced.git("status", "--porcelain") == ""


def test_another_kustomize_binary_means_render_again(synced: Workspace, tmp_path: Path) -> None:
    _sync(synced)
    assert UNCHANGED in _sync(synced)
    kubectl = shutil.which("kubectl")
    assert kubectl
    shim = tmp_path / "bin" / "kubectl"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {kubectl} "$@"\n')
    shim.chmod(0o755)
    env = {**synced.env(), "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(ETHNET), "sync"], cwd=synced.repo, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert RENDERED in proc.stderr


def test_a_fresh_clone_renders_for_real(synced: Workspace, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(synced.repo), str(clone)], check=True)
    proc = subprocess.run(
        [str(ETHNET), "sync"], cwd=clone, env=synced.env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert RENDERED in proc.stderr
    assert (
        UNCHANGED
        in subprocess.run(
            [str(ETHNET), "sync"], cwd=clone, env=synced.env(), capture_output=True, text=True
        ).stderr
    )


def test_check_renders_for_real_whatever_the_fingerprint(synced: Workspace) -> None:
    _sync(synced)
    rendered = synced.repo / "rendered/dev/namespace-acme-dev.yaml"
    if not rendered.exists():
        rendered = sorted((synced.repo / "rendered/dev").glob("*.yaml"))[0]
    # even a forged fingerprint for the edited tree does not fool check
    rendered.write_text(rendered.read_text() + "# tampered\n")
    synced.git("commit", "-qam", "tamper with a rendered file")
    from ethnet.gitops import fingerprint

    fingerprint.record(synced.repo)
    proc = synced.run("check", ok=False)
    assert proc.returncode == 1
    assert "differs from a fresh render" in proc.stderr
    synced.git("revert", "--no-edit", "HEAD")
