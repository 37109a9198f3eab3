"""Secret hygiene: $ETHNET_HOME private (files 0600, directories 0700), sealing key files
readable by others refused, controller Secrets never written into the repository, and
nothing left behind in $TMPDIR by the everyday commands."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.helpers import Workspace
from tests.reliability.conftest import ethnet_new, make_workspace, no_traceback, snapshot


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _set_block_period(ws: Workspace, seconds: int) -> None:
    spec = ws.repo / "network.yaml"
    text = spec.read_text()
    old = next(line for line in text.splitlines() if "blockPeriodSeconds:" in line)
    spec.write_text(text.replace(old, f"    blockPeriodSeconds: {seconds}"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """`ethnet new` (besu-qbft, one environment) with an empty $TMPDIR of its own."""
    ws = make_workspace(tmp_path_factory.mktemp("fresh"))
    ethnet_new(ws)
    return ws


def test_ethnet_home_files_are_0600_and_directories_0700(fresh: Workspace):
    paths = [fresh.home, *fresh.home.rglob("*")]
    assert any(p.is_file() for p in paths)
    assert fresh.key_path("net", "dev").is_file()
    wrong = {
        str(p): oct(_mode(p))
        for p in paths
        if (p.is_dir() and _mode(p) != 0o700) or (p.is_file() and _mode(p) != 0o600)
    }
    assert wrong == {}


def test_no_private_key_material_in_the_repository_or_its_history(fresh: Workspace):
    key = fresh.key_path("net", "dev").read_text()
    body = "".join(key.strip().splitlines()[1:3])  # base64 from inside the PEM block
    history = fresh.git("log", "-p", "--all")
    assert "PRIVATE KEY" not in history
    assert body not in history
    for path in fresh.repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "PRIVATE KEY" not in path.read_text(errors="replace"), path


def test_ethnet_new_leaves_nothing_in_tmpdir(fresh: Workspace):
    assert sorted(p.name for p in fresh.tmp.iterdir()) == []


def test_sync_check_render_diff_leave_nothing_in_tmpdir(network: Workspace, cli):
    assert list(network.tmp.iterdir()) == []
    _set_block_period(network, 4)
    for args in (["sync"], ["check"], ["render", "--env", "dev"], ["diff"]):
        run = cli(network, *args)
        assert run.returncode == 0, (args, run.stderr)
        assert sorted(p.name for p in network.tmp.iterdir()) == [], args
    assert not list((network.repo / ".git" / "ethnet").glob("ethnet-stage-*"))


def test_a_failed_sync_leaves_no_staging_copy_behind(network: Workspace, cli):
    overlay = network.repo / "overlays" / "dev" / "kustomization.yaml"
    overlay.write_text(overlay.read_text() + "- does-not-exist.yaml\n")
    run = cli(network, "sync")
    assert run.returncode == 1
    assert list(network.tmp.iterdir()) == []
    assert not list((network.repo / ".git" / "ethnet").glob("ethnet-stage-*"))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_unseal_refuses_a_key_file_others_can_access(network: Workspace, cli, mode):
    key = network.key_path("net", "dev")
    key.chmod(mode)
    sealed = network.repo / "overlays" / "dev" / "generated" / "sealedsecret-rpc-keys.yaml"
    run = cli(network, "unseal", sealed, "--key", key)
    if mode & 0o077:
        assert run.returncode == 1
        assert f"mode {mode:04o}" in run.stderr
        assert "accessible by other users" in run.stderr
        assert "kind: Secret" not in run.stdout
    else:  # 0700: owner only, accepted
        assert run.returncode == 0, run.stderr


def _without_sealing_key(ws: Workspace) -> None:
    (ws.repo / "overlays" / "dev" / "sealing-cert.pem").unlink()
    for path in ws.key_path("net", "dev").parent.iterdir():
        path.unlink()


@pytest.mark.parametrize(
    "out", ["dev-secret.yaml", "overlays/dev/secret.yaml", "absolute", "dotdot", "symlinked"]
)
def test_sealing_key_init_refuses_out_inside_the_repository(network: Workspace, cli, out):
    _without_sealing_key(network)
    if out == "absolute":
        target = str(network.repo / "secret.yaml")
    elif out == "dotdot":
        target = str(network.root / "elsewhere" / ".." / "net" / "secret.yaml")
    elif out == "symlinked":
        (network.root / "link").symlink_to(network.repo)
        target = str(network.root / "link" / "secret.yaml")
    else:
        target = out
    before = snapshot(network)

    run = cli(network, "sealing-key", "init", "--env", "dev", "--out", target)

    assert run.returncode == 1, run.stderr
    no_traceback(run)
    assert "inside the repository" in run.stderr
    assert snapshot(network) == before
    assert not list(network.key_path("net", "dev").parent.iterdir())  # no key made either


def test_an_existing_ethnet_home_open_to_others_is_made_private(tmp_path: Path):
    """$ETHNET_HOME made beforehand with the usual umask (0755): ethnet takes group and
    other access away before it writes a private key into it."""
    ws = make_workspace(tmp_path / "ws")
    ws.home.mkdir(mode=0o755)
    ws.home.chmod(0o755)
    ethnet_new(ws)
    assert _mode(ws.home) == 0o700
    assert _mode(ws.key_path("net", "dev")) == 0o600
