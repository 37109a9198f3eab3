"""What a network repository's overlays may reference: files inside the repository only.

kustomize's load restrictor checks files but follows a symlinked directory, and sync renders
from a staging copy where ``..`` means something else than in the repository. So before
rendering, every kustomization under overlays/ is read and every path it names must stay
inside the repository, no file or directory under overlays/ may be a symlink, and remote
resources are refused (rendering must not depend on the network).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from ethnet import yamlread
from ethnet.errors import EthnetError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = ("://", "github.com/", "git@", "gitlab.com/", "bitbucket.org/")


def check_boundaries(root: Path) -> None:
    """Refuse symlinks under overlays/ and kustomization paths that leave the repository."""
    top = root.resolve()
    overlays = root / "overlays"
    if not overlays.is_dir():
        return
    for path in sorted(overlays.rglob("*")):
        if path.is_symlink():
            raise EthnetError(
                f"{path.relative_to(root)} is a symbolic link; overlays may not link outside "
                "files in",
                hint="copy the file into the overlay instead",
            )
    for kustomization in sorted(p for p in overlays.rglob("*") if p.name in KUSTOMIZATION_FILES):
        for reference in _references(kustomization):
            shown = f"{kustomization.relative_to(root)}: {reference!r}"
            if reference.startswith(_REMOTE) or "://" in reference:
                raise EthnetError(
                    f"{shown} is a remote resource",
                    hint="rendering must not depend on the network: vendor it into the repository",
                )
            target = (kustomization.parent / reference).resolve()
            if target != top and top not in target.parents:
                raise EthnetError(
                    f"{shown} points outside the repository",
                    hint="a network repository renders from its own files only",
                )


def _references(path: Path) -> Iterator[str]:
    try:
        doc = yamlread.load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise EthnetError(f"{path}: cannot be read as YAML ({exc})") from None
    if not isinstance(doc, dict):
        return
    for field in ("resources", "components", "crds", "patchesStrategicMerge", "bases"):
        yield from _strings(doc.get(field))
    for field in ("patches", "patchesJson6902"):
        for patch in doc.get(field) or []:
            if isinstance(patch, dict) and isinstance(patch.get("path"), str):
                yield patch["path"]
    for field in ("configMapGenerator", "secretGenerator"):
        for generator in doc.get(field) or []:
            if not isinstance(generator, dict):
                continue
            for entry in _strings(generator.get("files")):
                yield entry.split("=", 1)[-1]
            yield from _strings(generator.get("envs"))
            if isinstance(generator.get("env"), str):
                yield generator["env"]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))
