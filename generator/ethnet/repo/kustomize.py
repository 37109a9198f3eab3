"""Running kustomize: ``kustomize build``, or ``kubectl kustomize`` when only kubectl exists."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ethnet.errors import EthnetError

INSTALL_HINT = (
    "install kubectl (it has kustomize built in: kubectl kustomize) or the kustomize binary, "
    "and put it on PATH"
)


def kustomize_command() -> list[str]:
    """The command that builds a kustomization directory given as its last argument."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    raise EthnetError("neither kustomize nor kubectl is on PATH", hint=INSTALL_HINT)


def build(directory: Path) -> str:
    """The hydrated YAML of one kustomization; kustomize's own error when it fails."""
    command = [*kustomize_command(), str(directory)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise EthnetError(f"kustomize took more than 5 minutes on {directory}") from None
    if proc.returncode != 0:
        raise EthnetError(
            f"kustomize failed on {directory}:\n{proc.stderr.strip()}",
            hint="the message above is kustomize's; check the overlay's kustomization.yaml",
        )
    return proc.stdout


def build_many(directories: Sequence[Path]) -> Iterator[str]:
    """``build`` for several kustomizations at once, one kustomize process per core (they
    are independent and kustomize is CPU-bound). Results come in the order given, each as
    soon as it is ready, so the caller can work on one while the others still run. When
    several fail, the first one's error in that order is raised, so the message is stable."""
    if len(directories) <= 1:
        yield from (build(directory) for directory in directories)
        return
    workers = min(len(directories), os.cpu_count() or 1) + 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kustomize") as pool:
        futures = [pool.submit(build, directory) for directory in directories]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
