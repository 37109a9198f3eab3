"""deploy/: what a cluster admin applies once so Argo CD or Flux deploys rendered/<env>/.

Argo CD: an AppProject that may only deploy this repository into the network's namespaces,
and one Application per environment, with automated sync, prune, self-heal and retry.
Flux (per cluster, deploy/flux/<env>/): a GitRepository narrowed to rendered/<env>/ and a
Kustomization with prune, wait, and a health check on the SealedSecrets' Synced condition.
"""

from __future__ import annotations

from typing import Any

from ethnet.spec.model import Network
from ethnet.spec.names import instance_name

Obj = dict[str, Any]
ARGOCD_NAMESPACE = "argocd"
FLUX_NAMESPACE = "flux-system"
PLACEHOLDER_REPO = "https://git.example.invalid/REPLACE-ME.git"
_SYNCED = "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == '{status}')"

# Kinds the network's rendered output contains; the AppProject allows nothing else.
NAMESPACED_KINDS = [
    ("", "ConfigMap"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "StatefulSet"),
    ("apps", "Deployment"),
    ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("networking.k8s.io", "Ingress"),
    ("bitnami.com", "SealedSecret"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("monitoring.coreos.com", "PodMonitor"),
    ("monitoring.coreos.com", "PrometheusRule"),
]


def deploy_files(network: Network) -> dict[str, Obj]:
    """Path under deploy/ -> object, for the engines network.yaml names."""
    engine = network.spec.gitops.engine
    files: dict[str, Obj] = {}
    if engine in ("argocd", "both"):
        files[f"argocd/appproject-{network.name}.yaml"] = argocd_project(network)
        for env in network.environment_names:
            name = instance_name(network.name, env)
            files[f"argocd/application-{name}.yaml"] = argocd_application(network, env)
    if engine in ("flux", "both"):
        for env in network.environment_names:
            name = instance_name(network.name, env)
            files[f"flux/{env}/gitrepository-{name}.yaml"] = flux_source(network, env)
            files[f"flux/{env}/kustomization-{name}.yaml"] = flux_kustomization(network, env)
    return files


def _repo_url(network: Network) -> str:
    return network.spec.gitops.repo_url or PLACEHOLDER_REPO


def _labels(network: Network) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": network.name, "app.kubernetes.io/managed-by": "ethnet"}


def argocd_project(network: Network) -> Obj:
    destinations = [
        {
            "server": network.spec.environments[env].cluster,
            "namespace": network.environment(env).namespace,
        }
        for env in network.environment_names
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": network.name,
            "namespace": ARGOCD_NAMESPACE,
            "labels": _labels(network),
        },
        "spec": {
            "description": f"ethnet network {network.name}",
            "sourceRepos": [_repo_url(network)],
            "destinations": destinations,
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceWhitelist": [
                {"group": group, "kind": kind} for group, kind in NAMESPACED_KINDS
            ],
        },
    }


def argocd_application(network: Network, env: str) -> Obj:
    """One environment's Application. No cascading-delete finalizer: deleting the
    Application must never take a running chain's nodes with it."""
    resolved = network.environment(env)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": instance_name(network.name, env),
            "namespace": ARGOCD_NAMESPACE,
            "labels": {**_labels(network), "ethnet.io/environment": env},
        },
        "spec": {
            "project": network.name,
            "source": {
                "repoURL": _repo_url(network),
                "targetRevision": network.spec.gitops.branch,
                "path": f"rendered/{env}",
            },
            "destination": {
                "server": network.spec.environments[env].cluster,
                "namespace": resolved.namespace,
            },
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["PruneLast=true"],
                "retry": {
                    "limit": 5,
                    "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"},
                },
            },
        },
    }


def flux_source(network: Network, env: str) -> Obj:
    """The repository, fetched narrowed to this environment's rendered manifests."""
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {
            "name": instance_name(network.name, env),
            "namespace": FLUX_NAMESPACE,
            "labels": _labels(network),
        },
        "spec": {
            "interval": "1m",
            "url": _repo_url(network),
            "ref": {"branch": network.spec.gitops.branch},
            "ignore": f"/*\n!/rendered/{env}/\n",
        },
    }


def flux_kustomization(network: Network, env: str) -> Obj:
    name = instance_name(network.name, env)
    spec: Obj = {
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": "10m",
        "sourceRef": {"kind": "GitRepository", "name": name},
        "path": f"./rendered/{env}",
        "prune": True,
        "wait": True,
        # SealedSecrets have no Ready condition: Synced tells whether the controller
        # decrypted them (the expressions are the Flux documentation's own example).
        "healthCheckExprs": [
            {
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "failed": _SYNCED.format(status="False"),
                "current": _SYNCED.format(status="True"),
            }
        ],
    }
    if network.spec.gitops.depends_on:
        spec["dependsOn"] = [{"name": dep} for dep in network.spec.gitops.depends_on]
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE, "labels": _labels(network)},
        "spec": spec,
    }
