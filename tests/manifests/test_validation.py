"""Rendered networks pass the real validators: kubernetes-validate --strict, the CRD schemas
in ../shared/schemas/crds/, and checkov with nothing failing beyond the short allowed list.

For both profiles, the example network.yaml and a large fixture (25 validators, 10 RPC nodes),
every environment: what ``kubectl kustomize overlays/<env>`` prints is what a cluster gets.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.validation import (
    CASES,
    RenderCache,
    RenderedNetwork,
    case_params,
    checkov_allowed,
    checkov_failures,
    dump_docs,
    environment_params,
    kubernetes_validate,
    load_docs,
    of_kind,
    validate_custom_resources,
    workloads,
)

# checkov's findings per case, shared with the test that checks the allowed list is needed
CHECKOV_FINDINGS: dict[str, list[tuple[str, str]]] = {}


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> RenderCache:
    return RenderCache(tmp_path_factory)


def findings_of(rendered: RenderedNetwork, directory: Path) -> list[tuple[str, str]]:
    """checkov once per network, over every environment's output in one directory."""
    name = rendered.case.name
    if name not in CHECKOV_FINDINGS:
        for env, text in rendered.texts.items():
            (directory / f"{env}.yaml").write_text(text, encoding="utf-8")
        CHECKOV_FINDINGS[name] = checkov_failures(directory)
    return CHECKOV_FINDINGS[name]


@pytest.mark.parametrize(("case", "env"), environment_params())
def test_output_passes_kubernetes_validate_strict(renders, case, env):
    rendered = renders.get(case)

    assert kubernetes_validate(rendered.texts[env]) == []


@pytest.mark.parametrize(("case", "env"), environment_params())
def test_custom_resources_match_the_shared_crd_schemas(renders, case, env):
    docs = renders.get(case).docs(env)

    assert of_kind(docs, "SealedSecret"), "every environment has sealed keys"
    assert validate_custom_resources(docs) == []


@pytest.mark.parametrize("case", case_params())
def test_checkov_fails_only_allowed_checks(renders, case, tmp_path):
    rendered = renders.get(case)
    allowed = checkov_allowed()

    failures = findings_of(rendered, tmp_path)

    unexpected = sorted(
        {f"{check} on {resource}" for check, resource in failures if check not in allowed}
    )
    assert unexpected == [], "checkov checks failing outside tests/fixtures/checkov-allowed.yaml"


def test_every_allowed_checkov_failure_is_still_needed(renders, tmp_path_factory):
    """An entry nothing fails any more must go: the allowed list stays short and true."""
    allowed = checkov_allowed()
    available = [case for case in CASES if case.available]
    for case in available:
        findings_of(renders.get(case), tmp_path_factory.mktemp(f"checkov-{case.name}"))
    failing = {check for case in available for check, _ in CHECKOV_FINDINGS[case.name]}

    unused = sorted(set(allowed) - failing)
    if unused and len(available) < len(CASES):
        pytest.skip(f"{unused} fail on no available profile; the others may still need them")
    assert unused == [], "remove these from tests/fixtures/checkov-allowed.yaml"


# --- the validators catch what they are for ---------------------------------------------------


@pytest.fixture(scope="module")
def example_docs(renders) -> list[dict]:
    return renders.get(CASES[0]).docs("dev")


def test_kubernetes_validate_reports_unknown_fields_and_wrong_types(example_docs):
    docs = copy.deepcopy(example_docs)
    statefulset = of_kind(docs, "StatefulSet")[0]
    statefulset["spec"]["replica"] = 3  # misspelt: strict validation rejects it
    service = of_kind(docs, "Service")[0]
    service["spec"]["ports"][0]["port"] = "p2p"

    problems = kubernetes_validate(dump_docs(docs))

    assert any("replica" in p and "statefulset/" in p for p in problems), problems
    assert any("service/" in p for p in problems), problems


def test_kubernetes_validate_reports_a_builtin_kind_it_does_not_know(example_docs):
    docs = copy.deepcopy(example_docs)
    of_kind(docs, "PodDisruptionBudget")[0]["apiVersion"] = "policy/v1beta1"  # gone in 1.25

    problems = kubernetes_validate(dump_docs(docs))

    assert any("PodDisruptionBudget" in p for p in problems), problems


def test_crd_validation_reports_bad_fields_and_kinds_without_schema(example_docs):
    docs = copy.deepcopy(example_docs)
    sealed = of_kind(docs, "SealedSecret")[0]
    sealed["spec"]["encryptedData"] = "not a map"
    sealed["spec"]["unknown"] = True
    docs.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})

    problems = validate_custom_resources(docs)

    assert any("spec/encryptedData" in p for p in problems), problems
    assert any("'unknown' was unexpected" in p for p in problems), problems
    assert any("Widget" in p and "no schema" in p for p in problems), problems


def test_checkov_reports_a_privileged_container(example_docs):
    docs = copy.deepcopy(example_docs)
    workload = next(w for w in workloads(docs) if w.kind == "StatefulSet")
    workload.spec["containers"][0]["securityContext"]["privileged"] = True

    failures = checkov_failures(dump_docs(docs))

    assert ("CKV_K8S_16", f"StatefulSet.{workload.namespace}.{workload.name}") in failures


def test_load_docs_drops_empty_documents():
    assert load_docs("---\na: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
