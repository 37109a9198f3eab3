"""SealedSecret objects as plain dicts: build, seal items, merge, validate and unseal.

The shapes follow the sealed-secrets controller (``pkg/apis/sealedsecrets/v1alpha1``) and
kubeseal's output, minus the ``creationTimestamp: null`` kubeseal writes. Keys come out in a
fixed order and ``spec.encryptedData`` sorted, so the same input renders the same text.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric import rsa

from ethnet.errors import Location, SealingError, UnsealError
from ethnet.seal.crypto import Rng, decode_base64, seal_value, unseal_value
from ethnet.seal.scope import (
    SCOPE_ANNOTATIONS,
    Scope,
    encryption_label,
    scope_annotations,
    scope_from_annotations,
)

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
DEFAULT_SECRET_TYPE = "Opaque"
# Kubernetes Secret data keys (k8s.io/apimachinery IsConfigMapKey).
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_SECRET_KEY_MAX = 253

JsonDict = dict[str, Any]


def sealed_secret(
    *,
    name: str,
    namespace: str,
    scope: Scope,
    encrypted_data: Mapping[str, str],
    secret_type: str = DEFAULT_SECRET_TYPE,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    template_labels: Mapping[str, str] | None = None,
    template_annotations: Mapping[str, str] | None = None,
) -> JsonDict:
    """A SealedSecret around already sealed items.

    The scope annotations replace any given ones (as kubeseal's ``UpdateScopeAnnotations``),
    since the controller derives the label from them. ``metadata.namespace`` is kept for every
    scope, as kubeseal does; only the label differs.
    """
    _require_names(name, namespace)
    if not encrypted_data:
        raise SealingError(f"SealedSecret {namespace}/{name} has no items to seal")
    metadata = _object_meta(name, namespace, labels, _with_scope(annotations, scope))
    template_metadata = _object_meta(name, namespace, template_labels, template_annotations)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {
            "encryptedData": _sorted(encrypted_data),
            "template": {"metadata": template_metadata, "type": secret_type},
        },
    }


def seal_items(
    items: Mapping[str, bytes],
    *,
    public_key: rsa.RSAPublicKey,
    name: str,
    namespace: str,
    scope: Scope,
    rng: Rng = secrets.token_bytes,
) -> dict[str, str]:
    """Seal each item on its own (own session key), in sorted key order; base64 values."""
    _require_names(name, namespace)
    for key in items:
        _check_item_key(key, where=f"item {key!r}", source=f"SealedSecret {namespace}/{name}")
    label = encryption_label(scope, namespace, name)
    return {key: seal_value(public_key, label, items[key], rng) for key in sorted(items)}


def merge_items(
    existing: Mapping[str, Any],
    items: Mapping[str, bytes],
    *,
    public_key: rsa.RSAPublicKey,
    rng: Rng = secrets.token_bytes,
    source: str = "SealedSecret",
) -> JsonDict:
    """Re-seal only ``items`` into a copy of ``existing``, like ``kubeseal --merge-into``.

    Name, namespace and scope come from the existing object's top-level metadata (what the
    controller will unseal with); every other item keeps its ciphertext byte for byte.
    """
    merged = copy.deepcopy(validate_sealed_secret(existing, source=source))
    metadata = merged["metadata"]
    sealed = seal_items(
        items,
        public_key=public_key,
        name=metadata["name"],
        namespace=metadata["namespace"],
        scope=scope_from_annotations(metadata.get("annotations")),
        rng=rng,
    )
    spec = merged["spec"]
    spec["encryptedData"] = _sorted({**spec["encryptedData"], **sealed})
    return merged


def remove_items(
    existing: Mapping[str, Any], keys: Collection[str], *, source: str = "SealedSecret"
) -> JsonDict:
    """A copy of ``existing`` without the items ``keys``; each must exist, one must remain."""
    result = copy.deepcopy(validate_sealed_secret(existing, source=source))
    encrypted = result["spec"]["encryptedData"]
    removed = set(keys)
    missing = sorted(removed - set(encrypted))
    if missing:
        _fail(source, "spec.encryptedData", f"no such item(s): {', '.join(missing)}")
    remaining = {key: value for key, value in encrypted.items() if key not in removed}
    if not remaining:
        _fail(
            source,
            "spec.encryptedData",
            "removing these items would leave the SealedSecret empty",
            hint="delete the SealedSecret instead",
        )
    result["spec"]["encryptedData"] = _sorted(remaining)
    return result


def validate_sealed_secret(doc: object, *, source: str) -> JsonDict:
    """Check the shape of a SealedSecret and return it typed; SealingError names the field.

    ``source`` (a file name, or a description) is reported as the error's location.
    """
    if not isinstance(doc, Mapping):
        _fail(source, "", f"a SealedSecret must be a mapping, got {type(doc).__name__}")
    checked = doc if isinstance(doc, dict) else dict(doc)
    _expect_value(checked, "apiVersion", API_VERSION, source)
    _expect_value(checked, "kind", KIND, source)
    _check_metadata(checked.get("metadata"), source)
    _check_spec(checked.get("spec"), source)
    return checked


def unseal(
    doc: Mapping[str, Any],
    private_keys: Sequence[rsa.RSAPrivateKey],
    *,
    source: str = "SealedSecret",
) -> JsonDict:
    """The Secret the controller would create from ``doc``, with ``data`` in base64.

    The label comes from the SealedSecret's own name, namespace and scope annotations, so a
    renamed or moved strict SealedSecret no longer decrypts, exactly as in the cluster.
    Left out on purpose: ``spec.template.data`` (the controller renders it as Go templates over
    the items; ethnet does not template and ignores it) and the ownerReference (it needs the
    object's UID in the cluster).
    """
    checked = validate_sealed_secret(doc, source=source)
    metadata = checked["metadata"]
    template = checked["spec"].get("template") or {}
    template_metadata = template.get("metadata") or {}
    secret: JsonDict = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _object_meta(
            metadata["name"],
            metadata["namespace"],
            template_metadata.get("labels"),
            template_metadata.get("annotations"),
        ),
        "type": template.get("type") or DEFAULT_SECRET_TYPE,
    }
    if "immutable" in template:
        secret["immutable"] = template["immutable"]
    secret["data"] = _decrypt_items(checked, private_keys, source)
    return secret


def _decrypt_items(
    checked: JsonDict, private_keys: Sequence[rsa.RSAPrivateKey], source: str
) -> dict[str, str]:
    metadata = checked["metadata"]
    scope = scope_from_annotations(metadata.get("annotations"))
    label = encryption_label(scope, metadata["namespace"], metadata["name"])
    data: dict[str, str] = {}
    failures: list[tuple[str, UnsealError]] = []
    for key, value in sorted(checked["spec"]["encryptedData"].items()):
        try:
            plaintext = unseal_value(private_keys, label, value)
        except UnsealError as exc:
            failures.append((key, exc))
            continue
        data[key] = base64.b64encode(plaintext).decode("ascii")
    if failures:
        raise UnsealError(
            f"cannot unseal {scope} SealedSecret {metadata['namespace']}/{metadata['name']}: "
            + "; ".join(f"item {key!r}: {exc.message}" for key, exc in failures),
            hint=failures[0][1].hint,
            location=Location(source),
        )
    return data


def _check_metadata(metadata: object, source: str) -> None:
    if not isinstance(metadata, Mapping):
        _fail(source, "metadata", "must be a mapping with name and namespace")
    for field in ("name", "namespace"):
        value = metadata.get(field)
        if not isinstance(value, str) or not value:
            _fail(source, f"metadata.{field}", f"must be a non-empty string, got {value!r}")
    _check_string_map(metadata.get("labels"), "metadata.labels", source)
    _check_string_map(metadata.get("annotations"), "metadata.annotations", source)


def _check_spec(spec: object, source: str) -> None:
    if not isinstance(spec, Mapping):
        _fail(source, "spec", "must be a mapping with encryptedData")
    if "data" in spec:
        _fail(
            source,
            "spec.data",
            "the deprecated whole-Secret field is not supported",
            hint="seal the items again so that they sit in spec.encryptedData",
        )
    _check_encrypted_data(spec.get("encryptedData"), source)
    _check_template(spec.get("template"), source)


def _check_encrypted_data(encrypted: object, source: str) -> None:
    path = "spec.encryptedData"
    if not isinstance(encrypted, Mapping) or not encrypted:
        _fail(source, path, "must be a non-empty mapping of item name to base64 ciphertext")
    for key, value in encrypted.items():
        _check_item_key(key, where=f"{path}.{key}", source=source)
        if not isinstance(value, str):
            _fail(source, f"{path}.{key}", f"must be a base64 string, got {type(value).__name__}")
        try:
            decode_base64(value)
        except UnsealError as exc:
            _fail(source, f"{path}.{key}", exc.message, hint=exc.hint)


def _check_template(template: object, source: str) -> None:
    if template is None:
        return
    if not isinstance(template, Mapping):
        _fail(source, "spec.template", "must be a mapping")
    metadata = template.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        _fail(source, "spec.template.metadata", "must be a mapping")
    if metadata is not None:
        _check_string_map(metadata.get("labels"), "spec.template.metadata.labels", source)
        _check_string_map(metadata.get("annotations"), "spec.template.metadata.annotations", source)
    secret_type = template.get("type")
    if secret_type is not None and not isinstance(secret_type, str):
        _fail(source, "spec.template.type", f"must be a string, got {secret_type!r}")
    immutable = template.get("immutable")
    if immutable is not None and not isinstance(immutable, bool):
        _fail(source, "spec.template.immutable", f"must be true or false, got {immutable!r}")


def _check_string_map(value: object, path: str, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        _fail(source, path, "must be a mapping of strings")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            _fail(source, f"{path}.{key}", f"must be a string, got {item!r}")


def _check_item_key(key: object, *, where: str, source: str) -> None:
    if (
        not isinstance(key, str)
        or len(key) > _SECRET_KEY_MAX
        or not _SECRET_KEY.fullmatch(key)
        or key in (".", "..")
    ):
        _fail(
            source,
            where,
            f"{key!r} is not a valid Secret data key",
            hint="use letters, digits, '-', '_' and '.' (at most 253 characters)",
        )


def _expect_value(doc: Mapping[str, Any], field: str, expected: str, source: str) -> None:
    if doc.get(field) != expected:
        _fail(source, field, f"expected {expected!r}, got {doc.get(field)!r}")


def _require_names(name: str, namespace: str) -> None:
    if not name or not namespace:
        raise SealingError(
            f"a SealedSecret needs a name and a namespace, got {name!r} and {namespace!r}"
        )


def _object_meta(
    name: str,
    namespace: str,
    labels: Mapping[str, str] | None,
    annotations: Mapping[str, str] | None,
) -> JsonDict:
    metadata: JsonDict = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = _sorted(labels)
    if annotations:
        metadata["annotations"] = _sorted(annotations)
    return metadata


def _with_scope(annotations: Mapping[str, str] | None, scope: Scope) -> dict[str, str]:
    kept = {k: v for k, v in (annotations or {}).items() if k not in SCOPE_ANNOTATIONS}
    return {**kept, **scope_annotations(scope)}


def _sorted(mapping: Mapping[str, str]) -> dict[str, str]:
    return {key: mapping[key] for key in sorted(mapping)}


def _fail(source: str, path: str, message: str, hint: str | None = None) -> NoReturn:
    text = f"{path}: {message}" if path else message
    raise SealingError(text, hint=hint, location=Location(source))
