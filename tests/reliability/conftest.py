"""Shared fixtures: one small network made once with `ethnet new`, copied into each test."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ethnet.cli import main
from tests.e2e.helpers import ETHNET, GIT_IDENTITY, Workspace

SMALL = ["--set", "environments=dev", "--set", "validators=4", "--set", "rpc_nodes=1"]


def make_workspace(root: Path) -> Workspace:
    ws = Workspace(root, root / "net", root / "home", root / "tmp", [])
    root.mkdir(parents=True, exist_ok=True)
    ws.tmp.mkdir(exist_ok=True)
    return ws


def ethnet_new(ws: Workspace) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(ETHNET), "new", str(ws.repo), "--no-input", *SMALL],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="session")
def template_network(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = make_workspace(tmp_path_factory.mktemp("template"))
    ethnet_new(ws)
    return ws


@pytest.fixture
def network(template_network: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the template network (repository and $ETHNET_HOME)."""
    ws = make_workspace(tmp_path / "ws")
    shutil.copytree(template_network.repo, ws.repo, symlinks=True)
    shutil.copytree(template_network.home, ws.home, symlinks=True)
    return ws


def no_traceback(proc: subprocess.CompletedProcess[str] | Run) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def snapshot(ws: Workspace) -> tuple[str, str, dict[str, bytes]]:
    """HEAD, git status and every work-tree file outside .git."""
    files = {
        str(p.relative_to(ws.repo)): p.read_bytes()
        for p in sorted(ws.repo.rglob("*"))
        if ".git" not in p.relative_to(ws.repo).parts and p.is_file() and not p.is_symlink()
    }
    return ws.git("rev-parse", "HEAD"), ws.git("status", "--porcelain"), files


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """Run ethnet in-process for a workspace: its $ETHNET_HOME, $TMPDIR, git identity and
    repository as the current directory. An exception other than SystemExit propagates (a
    traceback in real life), so it fails the test."""

    def run(ws: Workspace, *args: str | os.PathLike[str]) -> Run:
        for key, value in {
            **GIT_IDENTITY,
            "ETHNET_HOME": str(ws.home),
            "TMPDIR": str(ws.tmp),
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(tempfile, "tempdir", None)
        if ws.repo.is_dir():
            monkeypatch.chdir(ws.repo)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        return Run(code, out.getvalue(), err.getvalue())

    return run
