"""Golden files of rendered networks: any change to the output shows up as a reviewed diff.

Regenerate with ``pytest tests/manifests --update-golden`` and review the diff like code.
"""

from __future__ import annotations

import pytest

from ethnet.spec.loader import load_network
from tests.manifests.helpers import NETWORKS, generate_repo, make_repo, render

GOLDEN_NETWORKS = ["small-besu", "small-clique"]


@pytest.mark.parametrize("name", GOLDEN_NETWORKS)
def test_rendered_network_matches_golden_files(tmp_path, golden, name):
    repo = make_repo(tmp_path, NETWORKS / f"{name}.yaml")
    generate_repo(repo)

    for env in load_network(repo / "network.yaml").network.environment_names:
        golden(f"rendered/{name}/{env}.yaml", render(repo, env))


@pytest.mark.parametrize("name", GOLDEN_NETWORKS)
def test_generation_is_deterministic_and_idempotent(tmp_path, name):
    first = make_repo(tmp_path / "a", NETWORKS / f"{name}.yaml")
    second = make_repo(tmp_path / "b", NETWORKS / f"{name}.yaml")
    generate_repo(first)
    generate_repo(second)

    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for path in files:
        assert (first / path).read_bytes() == (second / path).read_bytes(), path

    again = generate_repo(first, seed="another seed: nothing may be regenerated")
    assert again.written == [] and again.removed == []
    assert again.generated_keys == {env: [] for env in again.generated_keys}
