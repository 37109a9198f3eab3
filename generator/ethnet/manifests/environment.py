"""overlays/<env>/generated/: what one environment adds to base/.

The namespace, the genesis and static nodes of this chain, the client configuration, the
pinned images, replica counts, storage and resources, the disruption budgets that keep
consensus, and the removal of roles the environment does not run. Components enabled in
network.yaml are included here too, so they follow network.yaml without editing the
user-owned overlay. A live environment whose validators differ from those of its frozen
genesis gets the vote Job that changes the on-chain set (``ethnet.manifests.votes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ethnet.chain.enode import Enode
from ethnet.chain.genesis import genesis_json
from ethnet.manifests.base import kustomization, object_file
from ethnet.manifests.common import (
    P2P_PORT,
    PART_OF,
    RPC_HTTP_PORT,
    SYNC_WAVE,
    WAVE_CONFIG,
    WAVE_NAMESPACE,
    Obj,
)
from ethnet.manifests.network import JSON_RPC, max_unavailable
from ethnet.manifests.nodes import GENESIS_CONFIGMAP, STATIC_NODES_CONFIGMAP
from ethnet.manifests.profiles import Peers, profile
from ethnet.manifests.votes import DEFAULT_VOTES_IMAGE, vote_objects
from ethnet.manifests.votes import IMAGE as VOTES_IMAGE
from ethnet.repo.emit import dump
from ethnet.repo.keys import KeyMaterial, NodeIdentity
from ethnet.spec.model import Network, ResolvedEnvironment
from ethnet.spec.names import ROLES, instance_name, workload_name
from ethnet.spec.types import IMAGE_REFERENCE

INSTANCE = "app.kubernetes.io/instance"
BASE = "../../../base"
COMPONENTS = "../../../components"
NAMESPACE_FILE = "namespace.yaml"
STATIC_NODES_FILE = "static-nodes.json"
GENESIS_FILE = "genesis.json"


@dataclass(frozen=True)
class EnvironmentFiles:
    """The generated files of one environment: Kubernetes objects and plain text files."""

    objects: dict[str, Obj]
    texts: dict[str, str]
    kustomization: Obj


def node_host(node: NodeIdentity, env: ResolvedEnvironment) -> str:
    """A node's stable DNS name: ``validator-0.validator.<ns>.svc.<cluster domain>``."""
    return f"{node.name}.{workload_name(node.role)}.{env.namespace}.svc.{env.cluster_domain}"


def enode_url(node: NodeIdentity, env: ResolvedEnvironment) -> str:
    return str(Enode(node.enode_public_key(), node_host(node, env), P2P_PORT))


def active_nodes(keys: KeyMaterial, env: ResolvedEnvironment, role: str) -> list[NodeIdentity]:
    """The nodes of ``role`` this environment runs (keys of removed nodes may remain)."""
    wanted = {f"{workload_name(role)}-{i}" for i in range(env.count(role))}
    return [node for node in keys.nodes if node.role == role and node.name in wanted]


def validator_rpc_url(node: NodeIdentity, env: ResolvedEnvironment) -> str:
    """A validator's internal JSON-RPC endpoint (open only to labelled clients)."""
    return f"http://{node_host(node, env)}:{RPC_HTTP_PORT}"


def desired_validators(keys: KeyMaterial, env: ResolvedEnvironment) -> list[str]:
    """The validator addresses network.yaml asks for: keys.yaml's running validators."""
    return [str(node.address) for node in active_nodes(keys, env, "validator") if node.address]


def static_nodes(keys: KeyMaterial, env: ResolvedEnvironment) -> list[str]:
    """Every node keeps connections to every validator: QBFT and Clique want a full mesh."""
    return [enode_url(node, env) for node in active_nodes(keys, env, "validator")]


def bootnodes(keys: KeyMaterial, env: ResolvedEnvironment) -> list[str]:
    return [enode_url(node, env) for node in active_nodes(keys, env, "bootnode")]


def namespace_object(network: Network, env: ResolvedEnvironment) -> Obj:
    """The namespace, enforcing the restricted Pod Security Standard."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": env.namespace,
            "labels": {
                PART_OF: network.name,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
            "annotations": {SYNC_WAVE: WAVE_NAMESPACE},
        },
    }


def image_entry(placeholder: str, reference: str) -> Obj:
    """A kustomize ``images`` entry pinning ``placeholder`` to ``reference``."""
    match = IMAGE_REFERENCE.fullmatch(reference)
    if match is None:  # network.yaml validation makes this impossible
        raise ValueError(f"not an image reference: {reference!r}")
    entry: Obj = {"name": placeholder, "newName": match["name"]}
    if match["tag"]:
        entry["newTag"] = match["tag"]
    if match["digest"]:
        entry["digest"] = match["digest"]
    return entry


def environment_files(
    network: Network,
    environment: str,
    keys: KeyMaterial,
    genesis: dict[str, Any],
    *,
    sealed_files: list[str],
    components: list[str],
    genesis_validators: list[str] | None = None,
) -> EnvironmentFiles:
    """Everything under overlays/<environment>/generated/ except keys and SealedSecrets.

    ``genesis_validators`` are the validator addresses in the environment's genesis as
    deployed. Given for a live environment, and not the validators keys.yaml runs, they
    add the Job that votes the on-chain set to keys.yaml's (``ethnet.manifests.votes``).
    """
    env = network.environment(environment)
    prof = profile(network.spec.profile)
    texts = {
        GENESIS_FILE: genesis_json(genesis),
        STATIC_NODES_FILE: json.dumps(static_nodes(keys, env), indent=2) + "\n",
    }
    generators: list[Obj] = [
        _config_map(GENESIS_CONFIGMAP, [GENESIS_FILE]),
        _config_map(STATIC_NODES_CONFIGMAP, [STATIC_NODES_FILE]),
    ]
    peers = Peers(env.chain_id, static_nodes(keys, env), bootnodes(keys, env))
    for config_map, config_files in prof.config_maps(network, peers).items():
        texts.update(config_files)
        generators.append(_config_map(config_map, sorted(config_files)))
    present = [role for role in ROLES if env.count(role) > 0]
    images = {
        key: env.images[key]
        for key in {prof.image_keys[role] for role in present} or {prof.image_keys["validator"]}
    }
    objects: dict[str, Obj] = {NAMESPACE_FILE: namespace_object(network, env)}
    if genesis_validators is not None and env.live:
        votes = _votes(network, env, keys, genesis_validators)
        objects.update((object_file(obj), obj) for obj in votes)
        if votes:
            images[VOTES_IMAGE] = _votes_image(env)
    doc = kustomization(
        [BASE, *sorted(objects), *sorted(sealed_files)],
        namespace=env.namespace,
        components=[f"{COMPONENTS}/{name}" for name in components],
        labels=[
            {
                "pairs": {INSTANCE: instance_name(network.name, environment)},
                "includeSelectors": False,
                "includeTemplates": True,
            }
        ],
        generatorOptions={"annotations": {SYNC_WAVE: WAVE_CONFIG}},
        configMapGenerator=generators,
        replicas=[{"name": workload_name(role), "count": env.count(role)} for role in present],
        images=[image_entry(key, reference) for key, reference in sorted(images.items())],
        patches=_patches(network, env, present),
    )
    return EnvironmentFiles(objects, texts, doc)


def _votes(
    network: Network, env: ResolvedEnvironment, keys: KeyMaterial, genesis_validators: list[str]
) -> list[Obj]:
    """The vote Job of a live environment. It is rendered even when the validators are the
    genesis ones: after ``git revert`` of a validator change, only a Job still voting towards
    keys.yaml's set takes the reverted validator out again; with nothing to change it exits
    at once without voting.

    Every running validator is asked to vote: those in the on-chain set vote now; one not
    yet in it (being added, or added by an earlier vote) keeps the proposal and votes once
    it is in, which a large addition needs (the genesis validators alone would become a
    minority). A validator not running is not asked.
    """
    validators = active_nodes(keys, env, "validator")
    return vote_objects(
        network,
        env,
        genesis_validators,
        desired_validators(keys, env),
        [validator_rpc_url(node, env) for node in validators],
        _votes_image(env),
        always=True,
    )


def _votes_image(env: ResolvedEnvironment) -> str:
    """The pinned image of the vote Job: network.yaml's ``images.votes`` (default pinned)."""
    return env.images.get(VOTES_IMAGE, DEFAULT_VOTES_IMAGE)


def _config_map(name: str, files: list[str]) -> Obj:
    return {"name": name, "files": files}


def _patches(network: Network, env: ResolvedEnvironment, present: list[str]) -> list[Obj]:
    patches: list[Obj] = [
        {
            "target": {"group": "bitnami.com", "kind": "SealedSecret"},
            "patch": dump(
                {
                    "apiVersion": "bitnami.com/v1alpha1",
                    "kind": "SealedSecret",
                    "metadata": {"name": "all", "annotations": {SYNC_WAVE: WAVE_CONFIG}},
                }
            ),
        }
    ]
    prof = profile(network.spec.profile)
    for role in ROLES:
        name = workload_name(role)
        if role not in present:
            for kind, api in (
                ("StatefulSet", "apps/v1"),
                ("Service", "v1"),
                ("PodDisruptionBudget", "policy/v1"),
            ):
                patches.append({"patch": _delete(api, kind, name)})
            continue
        if role not in prof.stateless_roles:
            patches.append({"patch": dump(_statefulset_patch(prof.containers[role], role, env))})
        budget = max_unavailable(network.spec.profile, role, env.count(role))
        patches.append(
            {
                "patch": dump(
                    {
                        "apiVersion": "policy/v1",
                        "kind": "PodDisruptionBudget",
                        "metadata": {"name": name},
                        "spec": {"maxUnavailable": budget},
                    }
                )
            }
        )
    if "rpc" not in present:
        patches.append({"patch": _delete("v1", "Service", JSON_RPC)})
        patches.append({"patch": _delete("networking.k8s.io/v1", "NetworkPolicy", JSON_RPC)})
    return patches


def _statefulset_patch(client: str, role: str, env: ResolvedEnvironment) -> Obj:
    pvc: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": env.storage_size}},
    }
    if env.storage_class_name:
        pvc["storageClassName"] = env.storage_class_name
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": workload_name(role)},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": client,
                            "resources": {
                                "requests": dict(env.requests),
                                "limits": dict(env.limits),
                            },
                        }
                    ]
                }
            },
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": pvc}],
        },
    }


def _delete(api: str, kind: str, name: str) -> str:
    return f"$patch: delete\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n"
