"""Shared fixtures: paths, running the CLI in-process, golden-file comparison."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ethnet.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
# The CRD schemas live beside the project (../shared/schemas); an env var may move them.
SHARED_SCHEMAS = Path(os.environ.get("ETHNET_SHARED_SCHEMAS", ROOT.parent / "shared" / "schemas"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current output instead of comparing",
    )


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``ethnet ARGS`` in this process; usage errors (exit 2) are caught too."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse exits for usage errors and --help
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check


class SeededRng:
    """A pinned ``rng`` for code that takes one: SHA-256 of a seed and a counter."""

    def __init__(self, seed: str) -> None:
        self.seed = seed.encode()
        self.counter = 0

    def __call__(self, count: int) -> bytes:
        import hashlib

        out = b""
        while len(out) < count:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return out[:count]


@pytest.fixture(scope="session")
def sealing_key():
    """An RSA sealing key made at run time (2048 bits for speed; none is ever committed)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
