"""deploy/: the Argo CD and Flux objects validate against the shared CRD schemas and point
at the right places."""

from __future__ import annotations

import pytest

from ethnet.gitops.deploy import NAMESPACED_KINDS, PLACEHOLDER_REPO, deploy_files
from ethnet.spec.loader import parse_network
from tests.spec.helpers import network_yaml
from tests.validation import crd_schema_path, validate_custom_resources

BODY = (
    "  gitops:\n    engine: {engine}\n    repoURL: https://git.example.invalid/acme.git\n"
    "    branch: release\n    dependsOn: [sealed-secrets]\n"
    "  environments:\n"
    "    dev: {{chainId: 1}}\n"
    "    prod: {{chainId: 2, namespace: acme-production,"
    " cluster: 'https://prod.k8s.example.invalid:6443'}}\n"
)


def _files(engine: str) -> dict:
    return deploy_files(parse_network(network_yaml(BODY.format(engine=engine))).network)


@pytest.mark.parametrize("engine", ["argocd", "flux", "both"])
def test_deploy_objects_validate_against_the_crd_schemas(engine):
    files = _files(engine)
    with_schema = [
        obj for obj in files.values() if crd_schema_path(obj["apiVersion"], obj["kind"]).is_file()
    ]
    assert validate_custom_resources(with_schema) == []
    # the shared schemas have no AppProject: it is checked by hand below
    assert {obj["kind"] for obj in files.values() if obj not in with_schema} <= {"AppProject"}


def test_argocd_wiring():
    files = _files("argocd")
    assert sorted(files) == [
        "argocd/application-acme-dev.yaml",
        "argocd/application-acme-prod.yaml",
        "argocd/appproject-acme.yaml",
    ]
    prod = files["argocd/application-acme-prod.yaml"]["spec"]
    assert prod["source"] == {
        "repoURL": "https://git.example.invalid/acme.git",
        "targetRevision": "release",
        "path": "rendered/prod",
    }
    assert prod["destination"] == {
        "server": "https://prod.k8s.example.invalid:6443",
        "namespace": "acme-production",
    }
    assert prod["project"] == "acme"
    assert prod["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert prod["syncPolicy"]["retry"]["limit"] == 5
    assert "finalizers" not in files["argocd/application-acme-prod.yaml"]["metadata"]
    project = files["argocd/appproject-acme.yaml"]["spec"]
    assert project["sourceRepos"] == ["https://git.example.invalid/acme.git"]
    assert {d["namespace"] for d in project["destinations"]} == {"acme-dev", "acme-production"}
    assert project["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
    allowed = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
    assert allowed == set(NAMESPACED_KINDS)


def test_flux_wiring():
    files = _files("flux")
    assert sorted(files) == [
        "flux/dev/gitrepository-acme-dev.yaml",
        "flux/dev/kustomization-acme-dev.yaml",
        "flux/prod/gitrepository-acme-prod.yaml",
        "flux/prod/kustomization-acme-prod.yaml",
    ]
    source = files["flux/prod/gitrepository-acme-prod.yaml"]["spec"]
    assert source["ref"] == {"branch": "release"}
    assert source["ignore"] == "/*\n!/rendered/prod/\n"
    kustomization = files["flux/prod/kustomization-acme-prod.yaml"]["spec"]
    assert kustomization["path"] == "./rendered/prod"
    assert kustomization["prune"] is True and kustomization["wait"] is True
    assert kustomization["sourceRef"] == {"kind": "GitRepository", "name": "acme-prod"}
    assert kustomization["dependsOn"] == [{"name": "sealed-secrets"}]
    [health] = kustomization["healthCheckExprs"]
    assert health["kind"] == "SealedSecret" and "Synced" in health["current"]


def test_a_missing_repo_url_gets_an_obvious_placeholder():
    network = parse_network(network_yaml("  environments:\n    dev: {chainId: 1}\n")).network
    app = deploy_files(network)["argocd/application-acme-dev.yaml"]
    assert app["spec"]["source"]["repoURL"] == PLACEHOLDER_REPO
