"""SealedSecret objects: scopes, shape, the CRD schema, merge/remove, and unsealing the way the
controller does (sealedsecret_expansion.go: the label comes from the object's own metadata)."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ethnet.errors import SealingError, UnsealError
from ethnet.seal.crypto import unseal_value
from ethnet.seal.scope import (
    Scope,
    encryption_label,
    scope_annotations,
    scope_from_annotations,
)
from ethnet.seal.sealedsecret import (
    merge_items,
    remove_items,
    seal_items,
    sealed_secret,
    unseal,
    validate_sealed_secret,
)
from tests.conftest import ROOT, SHARED_SCHEMAS
from tests.seal.conftest import RecordingRng

NS_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
ITEMS = {"password": b"hunter2", "token": b"\x00\xffbinary", "user": b"admin"}


def _build(
    key: rsa.RSAPrivateKey,
    scope: Scope,
    *,
    items: dict[str, bytes] | None = None,
    rng: RecordingRng | None = None,
    **extra: Any,
) -> dict[str, Any]:
    encrypted = seal_items(
        ITEMS if items is None else items,
        public_key=key.public_key(),
        name="db-credentials",
        namespace="ethnet",
        scope=scope,
        rng=rng or RecordingRng(b"build"),
    )
    return sealed_secret(
        name="db-credentials", namespace="ethnet", scope=scope, encrypted_data=encrypted, **extra
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _keys_anywhere(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys_anywhere(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys_anywhere(v)}
    return set()


# --- scope --------------------------------------------------------------------------------------


def test_scope_values_are_kubeseal_flag_values() -> None:
    assert [s.value for s in Scope] == ["strict", "namespace-wide", "cluster-wide"]
    assert Scope("namespace-wide") is Scope.NAMESPACE_WIDE


def test_encryption_label_per_scope() -> None:
    assert encryption_label(Scope.STRICT, "ns", "name") == b"ns/name"
    assert encryption_label(Scope.NAMESPACE_WIDE, "ns", "name") == b"ns"
    assert encryption_label(Scope.CLUSTER_WIDE, "ns", "name") == b""


def test_plain_strings_are_taken_as_scopes() -> None:
    assert encryption_label("cluster-wide", "ns", "name") == b""  # type: ignore[arg-type]
    assert scope_annotations("namespace-wide") == {NS_WIDE: "true"}  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'wide' is not a valid Scope"):
        encryption_label("wide", "ns", "name")  # type: ignore[arg-type]


def test_scope_annotations() -> None:
    assert scope_annotations(Scope.STRICT) == {}
    assert scope_annotations(Scope.NAMESPACE_WIDE) == {NS_WIDE: "true"}
    assert scope_annotations(Scope.CLUSTER_WIDE) == {CLUSTER_WIDE: "true"}


@pytest.mark.parametrize(
    ("annotations", "scope"),
    [
        (None, Scope.STRICT),
        ({}, Scope.STRICT),
        ({NS_WIDE: "true"}, Scope.NAMESPACE_WIDE),
        ({CLUSTER_WIDE: "true"}, Scope.CLUSTER_WIDE),
        ({NS_WIDE: "true", CLUSTER_WIDE: "true"}, Scope.CLUSTER_WIDE),  # cluster-wide wins
        ({NS_WIDE: "true", CLUSTER_WIDE: "false"}, Scope.NAMESPACE_WIDE),
        ({NS_WIDE: "True"}, Scope.STRICT),  # only the exact string "true" counts
        ({CLUSTER_WIDE: "yes"}, Scope.STRICT),
        ({"other": "true"}, Scope.STRICT),
    ],
)
def test_scope_from_annotations(annotations: dict[str, str] | None, scope: Scope) -> None:
    assert scope_from_annotations(annotations) is scope


# --- building -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(Scope))
def test_round_trip(rsa_key_2048: rsa.RSAPrivateKey, scope: Scope) -> None:
    doc = _build(
        rsa_key_2048, scope, template_labels={"app": "db"}, template_annotations={"a": "b"}
    )
    secret = unseal(doc, [rsa_key_2048])
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db-credentials",
            "namespace": "ethnet",
            "labels": {"app": "db"},
            "annotations": {"a": "b"},
        },
        "type": "Opaque",
        "data": {key: _b64(value) for key, value in sorted(ITEMS.items())},
    }


def test_shape_and_key_order(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(
        rsa_key_2048,
        Scope.NAMESPACE_WIDE,
        items={"z": b"1", "a": b"2", "m": b"3"},
        labels={"team": "eth"},
        annotations={"note": "x"},
        secret_type="kubernetes.io/basic-auth",
    )
    assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
    assert doc["apiVersion"] == "bitnami.com/v1alpha1"
    assert doc["kind"] == "SealedSecret"
    assert doc["metadata"] == {
        "name": "db-credentials",
        "namespace": "ethnet",
        "labels": {"team": "eth"},
        "annotations": {"note": "x", NS_WIDE: "true"},
    }
    assert list(doc["spec"]) == ["encryptedData", "template"]
    assert list(doc["spec"]["encryptedData"]) == ["a", "m", "z"]
    assert doc["spec"]["template"] == {
        "metadata": {"name": "db-credentials", "namespace": "ethnet"},
        "type": "kubernetes.io/basic-auth",
    }
    assert "creationTimestamp" not in _keys_anywhere(doc)


def test_strict_has_no_annotations(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    assert doc["metadata"] == {"name": "db-credentials", "namespace": "ethnet"}


def test_cluster_wide_keeps_the_namespace(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(rsa_key_2048, Scope.CLUSTER_WIDE)
    assert doc["metadata"]["namespace"] == "ethnet"
    assert doc["metadata"]["annotations"] == {CLUSTER_WIDE: "true"}


def test_given_scope_annotations_are_replaced(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    """Like UpdateScopeAnnotations: a stale scope annotation would break decryption."""
    doc = _build(rsa_key_2048, Scope.STRICT, annotations={NS_WIDE: "true", "keep": "me"})
    assert doc["metadata"]["annotations"] == {"keep": "me"}
    assert unseal(doc, [rsa_key_2048])["data"]["user"] == _b64(b"admin")


@pytest.mark.parametrize("scope", list(Scope))
def test_validates_against_the_crd_schema(rsa_key_2048: rsa.RSAPrivateKey, scope: Scope) -> None:
    schema_path = SHARED_SCHEMAS / "crds" / "bitnami.com" / "sealedsecret_v1alpha1.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    doc = _build(
        rsa_key_2048,
        scope,
        labels={"l": "1"},
        annotations={"a": "2"},
        template_labels={"tl": "3"},
        template_annotations={"ta": "4"},
    )
    jsonschema.validate(doc, schema)


def test_pinned_rng_gives_an_identical_object(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    first = _build(rsa_key_2048, Scope.STRICT, rng=RecordingRng(b"same"))
    second = _build(rsa_key_2048, Scope.STRICT, rng=RecordingRng(b"same"))
    assert json.dumps(first) == json.dumps(second)


def test_each_item_has_its_own_session_key(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    rng = RecordingRng(b"items")
    seal_items(
        {"a": b"same", "b": b"same"},
        public_key=rsa_key_2048.public_key(),
        name="n",
        namespace="ns",
        scope=Scope.STRICT,
        rng=rng,
    )
    assert len(rng.draws) == 4  # session key + OAEP seed, per item
    assert len(set(rng.draws)) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "needs a name and a namespace"),
        ({"namespace": ""}, "needs a name and a namespace"),
        ({"encrypted_data": {}}, "has no items"),
    ],
)
def test_sealed_secret_refuses_bad_input(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "name": "n",
        "namespace": "ns",
        "scope": Scope.STRICT,
        "encrypted_data": {"k": "AQA="},
    }
    with pytest.raises(SealingError, match=message):
        sealed_secret(**{**args, **kwargs})


def test_seal_items_refuses_bad_item_keys(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SealingError, match="not a valid Secret data key"):
        seal_items(
            {"bad/key": b"x"},
            public_key=rsa_key_2048.public_key(),
            name="n",
            namespace="ns",
            scope=Scope.STRICT,
        )


# --- unsealing as the controller does -----------------------------------------------------------


def _moved(doc: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    moved = copy.deepcopy(doc)
    moved["metadata"].update(metadata)
    return moved


@pytest.mark.parametrize(
    ("scope", "change", "still_decrypts"),
    [
        (Scope.STRICT, {"name": "renamed"}, False),
        (Scope.STRICT, {"namespace": "elsewhere"}, False),
        (Scope.STRICT, {"annotations": {NS_WIDE: "true"}}, False),
        (Scope.NAMESPACE_WIDE, {"name": "renamed"}, True),
        (Scope.NAMESPACE_WIDE, {"namespace": "elsewhere"}, False),
        (Scope.NAMESPACE_WIDE, {"annotations": {}}, False),
        (Scope.NAMESPACE_WIDE, {"annotations": {NS_WIDE: "true", CLUSTER_WIDE: "true"}}, False),
        (Scope.CLUSTER_WIDE, {"name": "renamed", "namespace": "elsewhere"}, True),
        (Scope.CLUSTER_WIDE, {"annotations": {NS_WIDE: "true"}}, False),
    ],
)
def test_moving_or_rescoping(
    rsa_key_2048: rsa.RSAPrivateKey, scope: Scope, change: dict[str, Any], still_decrypts: bool
) -> None:
    moved = _moved(_build(rsa_key_2048, scope, items={"password": b"p"}), **change)
    if still_decrypts:
        secret = unseal(moved, [rsa_key_2048])
        assert secret["data"] == {"password": _b64(b"p")}
        assert secret["metadata"]["name"] == moved["metadata"]["name"]
        assert secret["metadata"]["namespace"] == moved["metadata"]["namespace"]
        return
    with pytest.raises(UnsealError, match="item 'password': no key could decrypt secret"):
        unseal(moved, [rsa_key_2048])


def test_template_scope_annotation_does_not_count(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    """The controller reads scope from the SealedSecret's metadata, not the template's."""
    doc = _build(rsa_key_2048, Scope.STRICT, template_annotations={CLUSTER_WIDE: "true"})
    moved = _moved(doc, name="renamed")
    with pytest.raises(UnsealError):
        unseal(moved, [rsa_key_2048])


def test_unseal_names_every_failing_item(
    rsa_key_2048: rsa.RSAPrivateKey, other_rsa_key_2048: rsa.RSAPrivateKey
) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    doc["spec"]["encryptedData"]["user"] = "AQA="
    with pytest.raises(UnsealError) as caught:
        unseal(doc, [other_rsa_key_2048], source="secrets/db.yaml")
    text = str(caught.value)
    assert text.startswith("secrets/db.yaml: cannot unseal strict SealedSecret ethnet/db-cred")
    assert "item 'password': no key could decrypt secret" in text
    assert "item 'user': SealedSecret data is too short" in text
    assert "hint:" in text


def test_unseal_tries_several_keys(
    rsa_key_2048: rsa.RSAPrivateKey, other_rsa_key_2048: rsa.RSAPrivateKey
) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    assert unseal(doc, [other_rsa_key_2048, rsa_key_2048])["data"]["user"] == _b64(b"admin")


def test_unseal_tampered_item(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    raw = bytearray(base64.b64decode(doc["spec"]["encryptedData"]["token"]))
    raw[-5] ^= 0x10
    doc["spec"]["encryptedData"]["token"] = _b64(bytes(raw))
    with pytest.raises(UnsealError, match="item 'token': SealedSecret data is corrupted"):
        unseal(doc, [rsa_key_2048])


def test_unseal_copies_template_and_ignores_template_data(
    rsa_key_2048: rsa.RSAPrivateKey,
) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT, secret_type="kubernetes.io/tls")
    doc["spec"]["template"]["immutable"] = True
    doc["spec"]["template"]["data"] = {"url": "postgres://{{ .user }}@db"}
    doc["spec"]["template"]["metadata"].update(name="ignored", namespace="ignored")
    before = copy.deepcopy(doc)
    secret = unseal(doc, [rsa_key_2048])
    assert doc == before
    assert secret["metadata"] == {"name": "db-credentials", "namespace": "ethnet"}
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["immutable"] is True
    assert set(secret["data"]) == set(ITEMS)


def test_unseal_defaults_type_to_opaque(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    del doc["spec"]["template"]
    secret = unseal(doc, [rsa_key_2048])
    assert secret["type"] == "Opaque"
    assert secret["metadata"] == {"name": "db-credentials", "namespace": "ethnet"}


# --- merge and remove ---------------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(Scope))
def test_merge_items(rsa_key_2048: rsa.RSAPrivateKey, scope: Scope) -> None:
    existing = _build(rsa_key_2048, scope, labels={"l": "v"}, template_labels={"t": "v"})
    before = copy.deepcopy(existing)
    merged = merge_items(
        existing,
        {"password": b"new-password", "api-key": b"added"},
        public_key=rsa_key_2048.public_key(),
        rng=RecordingRng(b"merge"),
    )
    assert existing == before
    old, new = existing["spec"]["encryptedData"], merged["spec"]["encryptedData"]
    assert list(new) == ["api-key", "password", "token", "user"]
    assert new["token"] == old["token"]
    assert new["user"] == old["user"]
    assert new["password"] != old["password"]
    assert merged["metadata"] == existing["metadata"]
    assert merged["spec"]["template"] == existing["spec"]["template"]
    data = unseal(merged, [rsa_key_2048])["data"]
    assert data["password"] == _b64(b"new-password")
    assert data["api-key"] == _b64(b"added")
    assert data["token"] == _b64(ITEMS["token"])


def test_merge_uses_the_existing_name_namespace_and_scope(
    rsa_key_2048: rsa.RSAPrivateKey,
) -> None:
    existing = _build(rsa_key_2048, Scope.NAMESPACE_WIDE)
    merged = merge_items(existing, {"x": b"1"}, public_key=rsa_key_2048.public_key())
    value = merged["spec"]["encryptedData"]["x"]
    assert unseal_value([rsa_key_2048], b"ethnet", value) == b"1"


def test_merge_is_deterministic_with_a_pinned_rng(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    existing = _build(rsa_key_2048, Scope.STRICT)
    runs = [
        merge_items(
            existing, {"x": b"1"}, public_key=rsa_key_2048.public_key(), rng=RecordingRng(b"m")
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_merge_refuses_an_invalid_existing_object(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    with pytest.raises(
        SealingError, match=r"old\.yaml: apiVersion: expected 'bitnami\.com/v1alpha1'"
    ):
        merge_items(
            {"apiVersion": "v1", "kind": "Secret"},
            {"x": b"1"},
            public_key=rsa_key_2048.public_key(),
            source="old.yaml",
        )


def test_remove_items(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    existing = _build(rsa_key_2048, Scope.STRICT)
    before = copy.deepcopy(existing)
    trimmed = remove_items(existing, ["token"])
    assert existing == before
    assert trimmed["spec"]["encryptedData"] == {
        key: value for key, value in existing["spec"]["encryptedData"].items() if key != "token"
    }
    assert set(unseal(trimmed, [rsa_key_2048])["data"]) == {"password", "user"}


def test_remove_unknown_or_all_items(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    existing = _build(rsa_key_2048, Scope.STRICT)
    with pytest.raises(SealingError, match="no such item"):
        remove_items(existing, ["nope"])
    with pytest.raises(SealingError, match="would leave the SealedSecret empty"):
        remove_items(existing, list(ITEMS))


# --- validation ---------------------------------------------------------------------------------


def _broken(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node = broken
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return broken


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("apiVersion", "v1", "apiVersion: expected 'bitnami.com/v1alpha1', got 'v1'"),
        ("kind", _DELETE, "kind: expected 'SealedSecret', got None"),
        ("metadata", [], "metadata: must be a mapping"),
        ("metadata.name", 3, "metadata.name: must be a non-empty string, got 3"),
        ("metadata.namespace", "", "metadata.namespace: must be a non-empty string"),
        ("metadata.annotations", {"a": 1}, "metadata.annotations.a: must be a string"),
        ("spec", _DELETE, "spec: must be a mapping"),
        ("spec.encryptedData", {}, "spec.encryptedData: must be a non-empty mapping"),
        ("spec.encryptedData", _DELETE, "spec.encryptedData: must be a non-empty mapping"),
        ("spec.encryptedData.user", 12, "spec.encryptedData.user: must be a base64 string"),
        ("spec.encryptedData.user", "@@@", "spec.encryptedData.user: encrypted value is not"),
        ("spec.encryptedData.a b", "AQA=", "spec.encryptedData.a b: 'a b' is not a valid"),
        ("spec.data", "AQA=", "spec.data: the deprecated whole-Secret field"),
        ("spec.template", "x", "spec.template: must be a mapping"),
        ("spec.template.metadata", 1, "spec.template.metadata: must be a mapping"),
        ("spec.template.type", 5, "spec.template.type: must be a string"),
        ("spec.template.immutable", "yes", "spec.template.immutable: must be true or false"),
    ],
)
def test_validation_names_source_and_field(
    rsa_key_2048: rsa.RSAPrivateKey, path: str, value: Any, expected: str
) -> None:
    doc = _broken(_build(rsa_key_2048, Scope.STRICT), path, value)
    with pytest.raises(SealingError) as caught:
        validate_sealed_secret(doc, source="secrets/db-sealedsecret.yaml")
    assert str(caught.value).startswith(f"secrets/db-sealedsecret.yaml: {expected}")


def test_validation_of_a_non_mapping() -> None:
    with pytest.raises(SealingError, match=r"x\.yaml: a SealedSecret must be a mapping, got list"):
        validate_sealed_secret([], source="x.yaml")


def test_validation_returns_the_document(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    doc = _build(rsa_key_2048, Scope.STRICT)
    assert validate_sealed_secret(doc, source="x") is doc


# --- hygiene ------------------------------------------------------------------------------------

_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]{40,}")


def test_no_private_key_is_committed() -> None:
    """Keys are generated at test time; no PEM private key may sit in these folders."""
    folders = [ROOT / "tests" / "seal", ROOT / "generator" / "ethnet" / "seal"]
    files = [path for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()]
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if path.suffix != ".pyc" and _PEM_PRIVATE_KEY.search(_text(path))
    ]
    assert offenders == []


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")
