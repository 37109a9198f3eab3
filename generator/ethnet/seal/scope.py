"""Sealing scopes: which RSA-OAEP label binds a sealed value to its name and namespace.

Follows the sealed-secrets controller's ``pkg/apis/sealedsecrets/v1alpha1/
sealedsecret_expansion.go`` (``EncryptionLabel``, ``SecretScope``, ``UpdateScopeAnnotations``).
The controller computes the label from the SealedSecret's own top-level metadata when it
unseals, so the scope annotations belong there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

SEALED_SECRET_NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide"
SEALED_SECRET_CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide"
SCOPE_ANNOTATIONS = (SEALED_SECRET_NAMESPACE_WIDE_ANNOTATION, SEALED_SECRET_CLUSTER_WIDE_ANNOTATION)


class Scope(enum.StrEnum):
    """How far a sealed value may move: the names match kubeseal's ``--scope`` values."""

    STRICT = "strict"
    NAMESPACE_WIDE = "namespace-wide"
    CLUSTER_WIDE = "cluster-wide"


def encryption_label(scope: Scope, namespace: str, name: str) -> bytes:
    """The OAEP label for a scope: ``namespace/name`` (strict), ``namespace``, or empty."""
    scope = Scope(scope)  # a plain "cluster-wide" string must not fall through to strict
    if scope is Scope.CLUSTER_WIDE:
        return b""
    if scope is Scope.NAMESPACE_WIDE:
        return namespace.encode("utf-8")
    return f"{namespace}/{name}".encode()


def scope_annotations(scope: Scope) -> dict[str, str]:
    """The annotations kubeseal puts on a SealedSecret for a scope (none for strict)."""
    scope = Scope(scope)
    if scope is Scope.CLUSTER_WIDE:
        return {SEALED_SECRET_CLUSTER_WIDE_ANNOTATION: "true"}
    if scope is Scope.NAMESPACE_WIDE:
        return {SEALED_SECRET_NAMESPACE_WIDE_ANNOTATION: "true"}
    return {}


def scope_from_annotations(annotations: Mapping[str, str] | None) -> Scope:
    """The scope the controller reads from annotations: cluster-wide wins, and only the
    exact value ``"true"`` counts; anything else is strict."""
    found = annotations or {}
    if found.get(SEALED_SECRET_CLUSTER_WIDE_ANNOTATION) == "true":
        return Scope.CLUSTER_WIDE
    if found.get(SEALED_SECRET_NAMESPACE_WIDE_ANNOTATION) == "true":
        return Scope.NAMESPACE_WIDE
    return Scope.STRICT
