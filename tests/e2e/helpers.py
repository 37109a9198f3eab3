"""Running the real ``ethnet`` executable against a network repository in a temp dir."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from tests.spec.helpers import network_yaml

ETHNET = Path(sys.executable).parent / "ethnet"
# CI machines may have no git identity: every repository the tests make gets this one.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "ethnet tests",
    "GIT_AUTHOR_EMAIL": "tests@ethnet.invalid",
    "GIT_COMMITTER_NAME": "ethnet tests",
    "GIT_COMMITTER_EMAIL": "tests@ethnet.invalid",
}
# Every Workspace made, so tests/e2e/conftest.py can scan each flow's repositories for leaks.
WORKSPACES: list[Workspace] = []


@dataclass
class Workspace:
    """A network repository, its $ETHNET_HOME and its $TMPDIR, all under one temp dir."""

    root: Path
    repo: Path
    home: Path
    tmp: Path
    outputs: list[str]

    def __post_init__(self) -> None:
        WORKSPACES.append(self)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **GIT_IDENTITY,
            "ETHNET_HOME": str(self.home),
            "TMPDIR": str(self.tmp),
        }

    def run(
        self, *args: str | os.PathLike[str], ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(ETHNET), *map(str, args)],
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        self.outputs += [proc.stdout, proc.stderr]
        if ok:
            assert proc.returncode == 0, f"ethnet {args} failed:\n{proc.stderr}"
        return proc

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout

    def key_path(self, network: str, env: str) -> Path:
        return self.home / network / env / "sealing-key.pem"


def workspace(tmp_path: Path, spec_body: str, *, name: str = "acme") -> Workspace:
    root = tmp_path
    ws = Workspace(root, root / "repo", root / "home", root / "tmp", [])
    for directory in (ws.repo, ws.tmp):
        directory.mkdir()
    (ws.repo / "network.yaml").write_text(network_yaml(spec_body, name=name))
    return ws


def load_yaml(text: str) -> object:
    return YAML(typ="safe", pure=True).load(text)


def load_all_yaml(text: str) -> list[object]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc]


def secret_items(secret: dict[str, object]) -> dict[str, bytes]:
    data = secret["data"]
    assert isinstance(data, dict)
    return {key: base64.b64decode(value) for key, value in data.items()}


def new_network(root: Path, *settings: str) -> Workspace:
    """A Workspace under ``root`` whose repository ``ethnet new --no-input`` made, with
    ``--set`` for each of ``settings`` (``"environments=dev,prod"``...)."""
    ws = Workspace(root, root / "net", root / "home", root / "tmp", [])
    ws.tmp.mkdir(parents=True)
    args = [arg for setting in settings for arg in ("--set", setting)]
    proc = subprocess.run(
        [str(ETHNET), "new", str(ws.repo), "--no-input", *args],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ws.outputs += [proc.stdout, proc.stderr]
    return ws
