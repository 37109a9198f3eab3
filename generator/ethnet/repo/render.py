"""rendered/<env>/: the hydrated manifests of each environment, one file per object.

kustomize's output is split into documents and each is written with ethnet's emitter to
``<kind>-<name>.yaml`` (the API group is added for a kind that two groups share), so a
pull request shows exactly which objects change, and files are byte-stable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ethnet import yamlread
from ethnet.errors import EthnetError
from ethnet.repo import kustomize
from ethnet.repo.emit import dump

RENDERED_HEADER = (
    "Rendered by ethnet sync from overlays/{env}. Do not edit: change network.yaml or the overlay."
)


def split_documents(text: str, *, source: str) -> list[dict[str, Any]]:
    """The Kubernetes objects of a multi-document YAML stream."""
    documents = [doc for doc in yamlread.load_all(text) if doc is not None]
    for doc in documents:
        if not isinstance(doc, dict) or "kind" not in doc or "metadata" not in doc:
            raise EthnetError(f"{source}: kustomize produced something that is not an object")
    return documents


def object_files(documents: list[dict[str, Any]], env: str) -> dict[str, str]:
    """File name -> text for each object; names are unique and stable."""
    kinds = Counter((doc["kind"], doc["metadata"]["name"]) for doc in documents)
    files: dict[str, str] = {}
    header = RENDERED_HEADER.format(env=env)
    for doc in documents:
        kind, name = doc["kind"], doc["metadata"]["name"]
        stem = f"{kind.lower()}-{name}"
        if kinds[(kind, name)] > 1:
            group = (
                str(doc.get("apiVersion", "")).split("/")[0] if "/" in doc["apiVersion"] else "core"
            )
            stem = f"{kind.lower()}-{group}-{name}"
        filename = f"{stem}.yaml"
        if filename in files:
            raise EthnetError(f"rendered/{env}: two objects would both be written to {filename}")
        files[filename] = dump(doc, header=header)
    return files


def render_environment(overlay: Path, env: str) -> dict[str, str]:
    """Build ``overlay`` with kustomize; the files of rendered/<env>/."""
    return render_environments({env: overlay})[env]


def render_environments(overlays: Mapping[str, Path]) -> dict[str, dict[str, str]]:
    """``render_environment`` for every environment, the kustomize runs in parallel."""
    texts = kustomize.build_many(list(overlays.values()))
    # each environment is split and emitted while the later ones are still being built
    return {
        env: object_files(split_documents(text, source=f"overlays/{env}"), env)
        for env, text in zip(overlays, texts, strict=True)
    }
