"""The validator vote Job of a live environment.

A running chain's validator set cannot change through its genesis: a changed genesis is a
different chain, and the nodes would refuse it. When the validators network.yaml asks for
(keys.yaml's running validators: the desired set) differ from those in the environment's
frozen genesis (the genesis set), the environment renders a Job that asks the validators,
through their internal JSON-RPC, to vote until the on-chain set is the desired set
(``qbft_proposeValidatorVote`` on Besu, ``clique_propose`` on geth), then withdraws its
votes and stops. Its script (``scripts/validator_votes.py``, standard library only) is
idempotent: run again when the set is already right, it casts no vote.

Declarative, not a hook: the Job and the ConfigMap holding the script are ordinary objects
of the rendered environment, synced after the workloads (sync wave 1). A Job's pod template
is immutable, so the objects' name ``validator-votes-<digest>`` digests everything in it:
the desired set (sorted), the validators asked, the settings, the script and the image. Any
change makes a new Job, and Argo CD or Flux prunes the old one instead of failing to update
it; the new Job finds the votes done, or finishes them. The pod carries the label that the
``validator-rpc`` NetworkPolicy admits to the validators' RPC port.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources

from ethnet.chain.address import parse_address, to_checksum_address
from ethnet.manifests.common import (
    SYNC_WAVE,
    VALIDATOR_RPC_CLIENT,
    Obj,
    empty_dir,
    labels,
    metadata,
)
from ethnet.spec.model import DEFAULT_IMAGES, Network, ResolvedEnvironment

COMPONENT = "validator-votes"
IMAGE = "votes"  # placeholder; the environment's kustomization pins it
# The official Python image (docker-library/python 3.12/alpine3.20). It runs as root by
# default; the Job runs it as alpine's "nobody" instead, which owns nothing in the image.
DEFAULT_VOTES_IMAGE = DEFAULT_IMAGES["votes"]  # pinned in network.yaml defaults
SCRIPT = "validator_votes.py"
SCRIPTS_DIR = "/scripts"
USER = 65534  # nobody in alpine's /etc/passwd: a high uid, no files, no shell
WAVE_VOTES = "1"  # after the workloads (waves -2 namespace, -1 configuration, 0 workloads)
ACTIVE_DEADLINE_SECONDS = 3600
TIMEOUT_SECONDS = 3300  # the script gives up first, with a message, before the deadline
POLL_SECONDS = 15
BACKOFF_LIMIT = 6


def votes_script() -> str:
    """The vote script shipped with ethnet (package data, not a module)."""
    return (
        resources.files("ethnet.manifests")
        .joinpath(f"scripts/{SCRIPT}")
        .read_text(encoding="utf-8")
    )


def same_set(first: list[str], second: list[str]) -> bool:
    """Whether two address lists name the same validators (case and order ignored)."""
    return {a.lower() for a in first} == {a.lower() for a in second}


def canonical_set(addresses: list[str]) -> list[str]:
    """Checksummed addresses in a fixed order: the same set always reads the same."""
    return sorted((to_checksum_address(parse_address(a)) for a in addresses), key=str.lower)


def votes_name(job: Obj, image: str, script: str) -> str:
    """``validator-votes-<8 hex>``: a SHA-256 digest of the Job (its desired set, validators
    and settings), the image the placeholder is pinned to, and the script."""
    content = json.dumps([job, image, script], sort_keys=True, separators=(",", ":"))
    return f"{COMPONENT}-{hashlib.sha256(content.encode('utf-8')).hexdigest()[:8]}"


def vote_objects(
    network: Network,
    env: ResolvedEnvironment,
    genesis_set: list[str],
    desired: list[str],
    validator_urls: list[str],
    image: str = DEFAULT_VOTES_IMAGE,
    *,
    always: bool = False,
) -> list[Obj]:
    """The ConfigMap and Job that vote ``env``'s validators from ``genesis_set`` to
    ``desired``, or nothing when the two are the same set (unless ``always``: a live
    environment keeps its Job even then, so a reverted change votes the chain back).

    ``validator_urls`` are the JSON-RPC URLs of the validators to ask, in the order to ask
    them; ``image`` is what the ``votes`` placeholder is pinned to (part of the name, see
    the module docstring).
    """
    if same_set(genesis_set, desired) and not always:
        return []
    if not desired:
        raise ValueError(f"{env.name}: refusing to vote out every validator")
    if not validator_urls:
        raise ValueError(f"{env.name}: no running validator to ask for votes")
    script = votes_script()
    common = labels(network.name, COMPONENT)
    wanted = canonical_set(desired)
    name = votes_name(_job(network, COMPONENT, common, wanted, validator_urls), image, script)
    config_map: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(name, common, {SYNC_WAVE: WAVE_VOTES}),
        "data": {SCRIPT: script},
    }
    return [config_map, _job(network, name, common, wanted, validator_urls)]


def _job(
    network: Network,
    name: str,
    common: dict[str, str],
    desired: list[str],
    validator_urls: list[str],
) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(name, common, {SYNC_WAVE: WAVE_VOTES}),
        # No ttlSecondsAfterFinished: Argo CD or Flux would see the deleted Job missing and
        # create it again, so it would run again after every TTL. Harmless (the script is
        # idempotent) but pointless; the Job stays, finished, until a change prunes it.
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
            "template": {
                "metadata": {"labels": {**common, VALIDATOR_RPC_CLIENT: "true"}},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": USER,
                        "runAsGroup": USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_container(network, desired, validator_urls)],
                    "volumes": [
                        {"name": "scripts", "configMap": {"name": name, "defaultMode": 0o444}},
                        empty_dir("tmp"),
                    ],
                },
            },
        },
    }


def _container(network: Network, desired: list[str], validator_urls: list[str]) -> Obj:
    env = {
        "PROFILE": network.spec.profile,
        "VALIDATOR_URLS": ",".join(validator_urls),
        "DESIRED": ",".join(desired),
        "TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "POLL_SECONDS": str(POLL_SECONDS),
        "PYTHONDONTWRITEBYTECODE": "1",  # read-only root filesystem
        "PYTHONUNBUFFERED": "1",  # the log reaches kubectl logs as it happens
    }
    return {
        "name": "votes",
        "image": IMAGE,
        "imagePullPolicy": "Always",
        "command": ["python3", f"{SCRIPTS_DIR}/{SCRIPT}"],
        "env": [{"name": key, "value": value} for key, value in env.items()],
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": USER,
            "runAsGroup": USER,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
