"""Generating network repositories in tests: fixed certificate, pinned randomness and time."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ethnet.chain.keystore import LIGHT_SCRYPT
from ethnet.repo.generate import Generated, generate
from ethnet.repo.layout import RepoLayout
from ethnet.spec.loader import load_network
from tests.conftest import SeededRng

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NETWORKS = FIXTURES / "networks"
FIXED_CERT = FIXTURES / "sealing-cert.pem"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def make_repo(tmp_path: Path, network_yaml: str | Path, cert: Path = FIXED_CERT) -> Path:
    """A network repository with network.yaml and a sealing certificate per environment."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    text = network_yaml.read_text() if isinstance(network_yaml, Path) else network_yaml
    (repo / "network.yaml").write_text(text)
    for env in load_network(repo / "network.yaml").network.environment_names:
        overlay = repo / "overlays" / env
        overlay.mkdir(parents=True)
        shutil.copy(cert, overlay / "sealing-cert.pem")
    return repo


def generate_repo(repo: Path, seed: str = "golden") -> Generated:
    """Generate with pinned randomness, time and light keystore parameters."""
    network = load_network(repo / "network.yaml").network
    return generate(
        RepoLayout(repo),
        network,
        now=NOW,
        command="ethnet sync",
        rng=SeededRng(seed),
        kdf=LIGHT_SCRYPT,
    )


def render(repo: Path, env: str) -> str:
    """``kubectl kustomize overlays/<env>``: the real kustomize."""
    proc = subprocess.run(
        ["kubectl", "kustomize", str(repo / "overlays" / env)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
