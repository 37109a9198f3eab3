"""The one YAML reader for machine-written files: kustomize output, rendered objects,
keys.yaml, SealedSecrets, kustomizations.

ruamel.yaml's safe loader with its C parser (``ruamel.yaml.clib``) when installed: the same
YAML 1.2 resolution and the same errors (with line and column) as the pure-Python parser,
about five times faster on kustomize's output. network.yaml is read by
``ethnet.spec.loader`` instead, which keeps comments and positions.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML


def _reader() -> YAML:
    # A fresh instance per call: ruamel's YAML objects keep parser state between loads.
    return YAML(typ="safe")


def load(text: str) -> Any:
    """The single document in ``text`` (None when it is empty)."""
    return _reader().load(text)


def load_all(text: str) -> list[Any]:
    """Every document in ``text``, empty ones included (as None)."""
    return list(_reader().load_all(text))
