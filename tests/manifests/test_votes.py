"""The validator vote Job: its script against stub validators, its objects, its rendering.

The script runs as a real subprocess against stub JSON-RPC servers (one per validator, on
127.0.0.1) that answer like Besu QBFT or geth Clique validators would: they share one
validator set, keep each validator's pending proposals, and change the set once a majority
of the current validators propose the same change. Every call is recorded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ethnet.chain.address import to_checksum_address
from ethnet.chain.genesis import genesis_validators
from ethnet.manifests import votes
from ethnet.manifests.common import VALIDATOR_RPC_CLIENT
from ethnet.manifests.components import enabled_components
from ethnet.manifests.environment import environment_files
from ethnet.manifests.votes import (
    DEFAULT_VOTES_IMAGE,
    TIMEOUT_SECONDS,
    vote_objects,
    votes_script,
)
from ethnet.repo.emit import dump
from ethnet.repo.keys import KeyMaterial
from ethnet.repo.layout import RepoLayout
from ethnet.spec.loader import load_network
from tests.manifests.helpers import NETWORKS, generate_repo, make_repo, render
from tests.manifests.test_wiring import CHECKS, environment
from tests.validation import (
    NetworkCase,
    RenderedNetwork,
    checkov_allowed,
    checkov_failures,
    dump_docs,
    kubernetes_validate,
    load_docs,
    of_kind,
    selects,
)

SCRIPT_RUN_LIMIT = 60  # seconds: no script run may take longer

QBFT = {
    "validators": "qbft_getValidatorsByBlockNumber",
    "propose": "qbft_proposeValidatorVote",
    "discard": "qbft_discardValidatorVote",
    "pending": "qbft_getPendingVotes",
}
CLIQUE = {
    "validators": "clique_getSigners",
    "propose": "clique_propose",
    "discard": "clique_discard",
    "pending": "clique_proposals",
}


def address(index: int) -> str:
    """A validator address, lowercase as the clients return them."""
    return "0x" + "ab" * 18 + f"{index:04x}"


def given(index: int) -> str:
    """The same address as DESIRED would give it: upper-case hex."""
    return "0x" + address(index)[2:].upper()


# --- stub validators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    node: str
    method: str
    params: list[Any]


@dataclass
class Chain:
    """The shared state of the stub validators: the on-chain set and every call made."""

    methods: dict[str, str]
    validators: list[str]
    frozen: bool = False  # votes never take effect (blocks not produced)
    calls: list[Call] = field(default_factory=list)
    nodes: list[StubValidator] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tally(self) -> None:
        """Apply every change a majority of the current validators proposes, as a chain
        does once their blocks carry the votes."""
        candidates = {a for node in self.nodes for a in node.pending}
        for target in sorted(candidates):
            for add in (True, False):
                valid = (target in self.validators) != add
                voters = [
                    n
                    for n in self.nodes
                    if n.address in self.validators and n.pending.get(target) is add
                ]
                if valid and not self.frozen and len(voters) * 2 > len(self.validators):
                    if add:
                        self.validators.append(target)
                    else:
                        self.validators.remove(target)

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == self.methods[method]]


class StubValidator:
    """One validator's JSON-RPC endpoint, with its own pending proposals."""

    def __init__(self, chain: Chain, name: str, address: str) -> None:
        self.chain, self.name, self.address = chain, name, address
        self.pending: dict[str, bool] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = {"jsonrpc": "2.0", "id": request["id"]}
                answer.update(stub.answer(request["method"], request["params"]))
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        chain, names = self.chain, self.chain.methods
        geth = names is CLIQUE
        with chain.lock:
            chain.calls.append(Call(self.name, method, params))
            if method == names["validators"] and params == ["latest"]:
                return {"result": list(chain.validators)}
            if method == names["pending"] and params == []:
                return {"result": dict(self.pending)}
            if method == names["propose"]:
                target, add = params
                if not isinstance(add, bool) or len(target) != 42:
                    return {"error": {"code": -32602, "message": "Invalid params"}}
                self.pending[target.lower()] = add
                chain.tally()
                return {"result": None if geth else True}
            if method == names["discard"] and len(params) == 1:
                self.pending.pop(params[0].lower(), None)
                return {"result": None if geth else True}
        return {"error": {"code": -32601, "message": "Method not found"}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stubs() -> Iterator[list[Chain]]:
    chains: list[Chain] = []
    yield chains
    for chain in chains:
        for node in chain.nodes:
            node.close()


def network_of(
    chains: list[Chain], methods: dict[str, str], on_chain: list[int], running: list[int]
) -> Chain:
    """Stub validators ``validator-<i>`` for each running index; the chain's set is the
    addresses of ``on_chain``."""
    chain = Chain(methods, [address(i) for i in on_chain])
    chains.append(chain)
    chain.nodes = [StubValidator(chain, f"validator-{i}", address(i)) for i in running]
    return chain


def closed_port_url() -> str:
    """A URL where nothing listens: a validator that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Run:
    code: int
    out: str


def run_script(
    urls: list[str],
    desired: list[str],
    *,
    profile: str = "besu-qbft",
    timeout: float = 20,
    poll: float = 0.05,
) -> Run:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PROFILE": profile,
        "VALIDATOR_URLS": ",".join(urls),
        "DESIRED": ",".join(desired),
        "TIMEOUT_SECONDS": str(timeout),
        "POLL_SECONDS": str(poll),
    }
    script = resources.files("ethnet.manifests").joinpath("scripts/validator_votes.py")
    with resources.as_file(script) as path:
        proc = subprocess.run(
            [sys.executable, str(path)],
            env=environ,
            capture_output=True,
            text=True,
            timeout=SCRIPT_RUN_LIMIT,
            check=False,
        )
    assert proc.stderr == "", proc.stderr
    return Run(proc.returncode, proc.stdout)


def urls_of(chain: Chain) -> list[str]:
    return [node.url for node in chain.nodes]


def proposals(chain: Chain) -> list[tuple[str, str, bool]]:
    """(node, address, add) of every proposal, in order."""
    return [(c.node, c.params[0].lower(), c.params[1]) for c in chain.of("propose")]


# --- the script --------------------------------------------------------------------------------


def test_votes_a_new_validator_in_then_withdraws_the_votes(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2, 3, 4])

    run = run_script(urls_of(chain), [given(i) for i in range(5)])

    assert run.code == 0, run.out
    assert sorted(chain.validators) == sorted(address(i) for i in range(5))
    # every running validator is asked once, the new one too (it votes once it is in)
    assert proposals(chain) == [(f"validator-{i}", address(4), True) for i in range(5)]
    assert all(node.pending == {} for node in chain.nodes)
    assert {c.node for c in chain.of("discard")} == {f"validator-{i}" for i in range(5)}
    assert "qbft_proposeValidatorVote" in run.out and "127.0.0.1" in run.out


def test_votes_a_removed_validator_out(stubs):
    # validator-3 left network.yaml: its pod is gone, the three others vote it out
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2])

    run = run_script(urls_of(chain), [given(i) for i in range(3)])

    assert run.code == 0, run.out
    assert sorted(chain.validators) == sorted(address(i) for i in range(3))
    assert proposals(chain) == [(f"validator-{i}", address(3), False) for i in range(3)]
    assert all(node.pending == {} for node in chain.nodes)


def test_a_rotation_adds_the_new_validator_before_removing_the_old(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2, 4])

    run = run_script(urls_of(chain), [given(i) for i in (0, 1, 2, 4)])

    assert run.code == 0, run.out
    assert sorted(chain.validators) == sorted(address(i) for i in (0, 1, 2, 4))
    votes = [(target, add) for _, target, add in proposals(chain)]
    assert votes == [(address(4), True)] * 4 + [(address(3), False)] * 4


def test_a_set_already_desired_gets_no_vote_and_a_rerun_none_either(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2, 3, 4])
    desired = [given(i) for i in (4, 3, 2, 1, 0)]  # order and case do not matter
    assert run_script(urls_of(chain), desired).code == 0
    voted = len(chain.of("propose"))
    discarded = len(chain.of("discard"))

    run = run_script(urls_of(chain), desired)

    assert run.code == 0, run.out
    assert len(chain.of("propose")) == voted
    assert len(chain.of("discard")) == discarded
    assert "the on-chain validator set is the desired set" in run.out


def test_an_unreachable_validator_is_logged_and_the_others_still_vote(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 2, 3, 4])
    down = closed_port_url()  # validator-1 is down: the first to ask, so reads fall through
    urls = [down, *urls_of(chain)]

    run = run_script(urls, [given(i) for i in range(5)])

    assert run.code == 0, run.out
    assert sorted(chain.validators) == sorted(address(i) for i in range(5))
    assert f"{down.removeprefix('http://')}: unreachable" in run.out
    assert {node for node, _, _ in proposals(chain)} == {
        "validator-0",
        "validator-2",
        "validator-3",
        "validator-4",
    }


def test_a_vote_that_never_passes_times_out_with_a_message(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2, 3, 4])
    chain.frozen = True  # no block carries the votes

    run = run_script(urls_of(chain), [given(i) for i in range(5)], timeout=1.5, poll=0.1)

    assert run.code == 1
    assert "ERROR: timed out" in run.out
    assert len(chain.of("validators")) > 2  # it kept polling
    # proposed once per validator: later rounds see the proposal pending and leave it
    assert proposals(chain) == [(f"validator-{i}", address(4), True) for i in range(5)]


def test_a_stale_vote_against_the_desired_set_is_withdrawn(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1, 2, 3], running=[0, 1, 2, 3, 4])
    chain.nodes[0].pending = {address(1): False}  # left over from an earlier operation

    run = run_script(urls_of(chain), [given(i) for i in range(5)])

    assert run.code == 0, run.out
    assert Call("validator-0", QBFT["discard"], [address(1)]) in chain.calls
    assert address(1) in chain.validators
    assert all(node.pending == {} for node in chain.nodes)


def test_geth_clique_signers_vote_with_the_clique_methods(stubs):
    chain = network_of(stubs, CLIQUE, on_chain=[0, 1, 2], running=[0, 1, 2, 3])

    run = run_script(urls_of(chain), [given(i) for i in range(4)], profile="geth-clique")

    assert run.code == 0, run.out
    assert sorted(chain.validators) == sorted(address(i) for i in range(4))
    assert {c.method for c in chain.calls} == set(CLIQUE.values())
    assert chain.of("validators")[0].params == ["latest"]
    assert proposals(chain) == [(f"validator-{i}", address(3), True) for i in range(4)]


def test_an_empty_desired_set_is_refused_before_any_call(stubs):
    chain = network_of(stubs, QBFT, on_chain=[0, 1], running=[0, 1])

    run = run_script(urls_of(chain), [])

    assert run.code == 2
    assert "refusing to vote out every validator" in run.out
    assert chain.calls == []


@pytest.mark.parametrize(
    ("urls", "desired", "message"),
    [
        (["validator-0:8545"], [given(0)], "not an http(s) URL"),
        (["http://127.0.0.1:1"], ["0x1234"], "not 0x-prefixed 20-byte addresses"),
        (["http://127.0.0.1:1"], [given(0), address(0)], "lists an address twice"),
    ],
)
def test_bad_configuration_is_refused(urls, desired, message):
    run = run_script(urls, desired)

    assert run.code == 2
    assert message in run.out


# --- the objects -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    network = load_network(NETWORKS / "small-besu.yaml").network
    return network, network.environment("prod")


URLS = [f"http://validator-{i}.validator.small-besu-prod.svc.cluster.local:8545" for i in range(5)]


def test_no_objects_when_the_sets_are_the_same(prod):
    network, env = prod

    assert vote_objects(network, env, [given(1), given(0)], [address(0), address(1)], URLS) == []


def names_of(objects: list[dict[str, Any]]) -> set[str]:
    return {obj["metadata"]["name"] for obj in objects}


def test_the_name_follows_the_desired_set_and_what_the_job_runs(prod):
    network, env = prod
    genesis = [address(i) for i in range(4)]
    five = [address(i) for i in range(5)]

    names = names_of(vote_objects(network, env, genesis, five, URLS))

    assert len(names) == 1  # the ConfigMap is named as its Job
    reordered = [given(i) for i in (4, 3, 2, 1, 0)]  # the same set: case and order aside
    assert names_of(vote_objects(network, env, genesis, reordered, URLS)) == names
    changed = [
        vote_objects(network, env, genesis, [*five, address(5)], URLS),  # another set
        vote_objects(network, env, genesis, five, URLS[:4]),  # other validators asked
        vote_objects(network, env, genesis, five, URLS, "python:3.13.1-alpine3.20"),
    ]
    assert all(names.isdisjoint(names_of(objects)) for objects in changed)


def test_a_new_script_makes_a_new_job(prod, monkeypatch):
    network, env = prod
    genesis, five = [address(i) for i in range(4)], [address(i) for i in range(5)]
    before = names_of(vote_objects(network, env, genesis, five, URLS))

    monkeypatch.setattr(votes, "votes_script", lambda: votes_script() + "# changed\n")

    assert names_of(vote_objects(network, env, genesis, five, URLS)).isdisjoint(before)


def test_the_job_is_valid_and_runs_the_script(prod):
    network, env = prod
    config_map, job = vote_objects(
        network, env, [address(i) for i in range(4)], [given(i) for i in range(5)], URLS
    )

    assert kubernetes_validate(dump_docs([config_map, job])) == []
    assert config_map["data"] == {"validator_votes.py": votes_script()}
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (6, 3600)
    assert "ttlSecondsAfterFinished" not in spec
    assert job["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "1"}
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert spec["template"]["metadata"]["labels"][VALIDATOR_RPC_CLIENT] == "true"
    [container] = pod["containers"]
    assert container["image"] == "votes"
    assert container["command"] == ["python3", "/scripts/validator_votes.py"]
    variables = {v["name"]: v["value"] for v in container["env"]}
    assert variables["PROFILE"] == "besu-qbft"
    assert variables["VALIDATOR_URLS"] == ",".join(URLS)
    # checksummed and sorted: the same set always makes the same pod template
    assert variables["DESIRED"] == ",".join(
        to_checksum_address(bytes.fromhex(given(i)[2:])) for i in range(5)
    )
    assert int(variables["TIMEOUT_SECONDS"]) == TIMEOUT_SECONDS < spec["activeDeadlineSeconds"]
    assert pod["volumes"][0]["configMap"]["name"] == config_map["metadata"]["name"]


def test_voting_out_every_validator_is_refused(prod):
    network, env = prod

    with pytest.raises(ValueError, match="every validator"):
        vote_objects(network, env, [address(0)], [], URLS)


# --- in a generated repository -----------------------------------------------------------------


def validators_in(genesis: dict[str, Any]) -> list[str]:
    return [to_checksum_address(a) for a in genesis_validators("besu-qbft", genesis)]


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """small-besu with prod grown from 4 to 5 validators after its genesis was frozen:
    generated/ rewritten by environment_files with the old genesis and its validators.
    Returns the repository and the genesis validators."""
    repo = make_repo(tmp_path_factory.mktemp("votes"), NETWORKS / "small-besu.yaml")
    generate_repo(repo)
    layout = RepoLayout(repo)
    frozen = json.loads(layout.genesis_file("prod").read_text())
    spec = repo / "network.yaml"
    spec.write_text(spec.read_text().replace("validators: 4,", "validators: 5,"))
    generate_repo(repo, seed="grown")  # another seed: the same one would repeat a key
    network = load_network(spec).network
    keys = KeyMaterial.from_document(
        YAML(typ="safe", pure=True).load(layout.keys_file("prod").read_text()), source="keys"
    )
    generated = layout.generated("prod")
    files = environment_files(
        network,
        "prod",
        keys,
        frozen,
        sealed_files=sorted(p.name for p in generated.glob("sealedsecret-*.yaml")),
        components=enabled_components(network),
        genesis_validators=validators_in(frozen),
    )
    for name, obj in files.objects.items():
        (generated / name).write_text(dump(obj))
    for name, text in files.texts.items():
        (generated / name).write_text(text)
    (generated / "kustomization.yaml").write_text(dump(files.kustomization))
    return repo, validators_in(frozen)


@pytest.fixture(scope="module")
def grown_render(grown) -> str:
    repo, _ = grown
    return render(repo, "prod")


def test_a_live_environment_with_new_validators_renders_the_vote_job(grown, grown_render):
    repo, genesis_set = grown
    docs = load_docs(grown_render)
    keys = YAML(typ="safe", pure=True).load(
        (repo / "overlays/prod/generated/keys.yaml").read_text()
    )
    validators = [n for n in keys["nodes"] if n["role"] == "validator"]

    [job] = of_kind(docs, "Job")
    [script] = [
        d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == job["metadata"]["name"]
    ]
    assert job["metadata"]["namespace"] == "small-besu-prod"
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == DEFAULT_VOTES_IMAGE
    variables = {v["name"]: v["value"] for v in container["env"]}
    assert variables["DESIRED"].split(",") == sorted(
        (n["address"] for n in validators), key=str.lower
    )
    assert len(genesis_set) == 4 and set(genesis_set) < set(variables["DESIRED"].split(","))
    assert variables["VALIDATOR_URLS"].split(",") == [
        f"http://validator-{i}.validator.small-besu-prod.svc.cluster.local:8545" for i in range(5)
    ]
    assert script["data"]["validator_votes.py"] == votes_script()
    [policy] = [
        d for d in of_kind(docs, "NetworkPolicy") if d["metadata"]["name"] == "validator-rpc"
    ]
    [rule] = policy["spec"]["ingress"]
    assert any(
        selects(source["podSelector"], job["spec"]["template"]["metadata"]["labels"])
        for source in rule["from"]
    )
    kustomization = YAML(typ="safe", pure=True).load(
        (repo / "overlays/prod/generated/kustomization.yaml").read_text()
    )
    assert f"job-{job['metadata']['name']}.yaml" in kustomization["resources"]
    assert {"name": "votes", "newName": "python", "newTag": "3.12.8-alpine3.20"} in kustomization[
        "images"
    ]


def test_the_rendered_vote_job_is_valid_and_wired(grown, grown_render):
    repo, _ = grown
    network = load_network(repo / "network.yaml").network
    rendered = RenderedNetwork(
        NetworkCase("small-besu", "besu-qbft", repo / "network.yaml"),
        repo,
        network,
        {"prod": grown_render},
    )
    env = environment(rendered, "prod")

    assert kubernetes_validate(grown_render) == []
    # every wiring check but the genesis one: a live genesis keeps its old validators
    for check in set(CHECKS) - {"genesis"}:
        assert CHECKS[check](env) == [], check


def test_checkov_finds_nothing_new_in_the_vote_job(grown_render):
    allowed = checkov_allowed()

    failures = checkov_failures(grown_render)

    unexpected = sorted({f"{c} on {r}" for c, r in failures if c not in allowed})
    assert unexpected == []
    assert not [r for c, r in failures if "Job" in r and c != "CKV_K8S_43"]


def files_for(repo: Path, env: str, genesis_set: list[str]) -> dict[str, Any]:
    """environment_files of ``env`` in ``repo`` with these genesis validators."""
    layout = RepoLayout(repo)
    keys = KeyMaterial.from_document(
        YAML(typ="safe", pure=True).load(layout.keys_file(env).read_text()), source="keys"
    )
    files = environment_files(
        load_network(repo / "network.yaml").network,
        env,
        keys,
        json.loads(layout.genesis_file(env).read_text()),
        sealed_files=[],
        components=[],
        genesis_validators=genesis_set,
    )
    return {"objects": files.objects, "images": files.kustomization["images"]}


def test_no_vote_job_in_an_environment_that_is_not_live(grown):
    repo, genesis_set = grown

    files = files_for(repo, "dev", genesis_set[:1])  # dev regenerates its genesis instead

    assert list(files["objects"]) == ["namespace.yaml"]
    assert "votes" not in {entry["name"] for entry in files["images"]}


def test_a_live_environment_keeps_its_vote_job_when_nothing_changed(grown):
    # After `git revert` of a validator change only a Job still voting towards keys.yaml's
    # set takes the reverted validator out again; with nothing to do it casts no vote.
    repo, _ = grown
    keys = YAML(typ="safe", pure=True).load(
        (repo / "overlays/prod/generated/keys.yaml").read_text()
    )
    running = [n["address"].lower() for n in keys["nodes"] if n["role"] == "validator"]

    files = files_for(repo, "prod", running[::-1])

    names = list(files["objects"])
    assert names[0] == "namespace.yaml"
    assert [n.split("-validator-votes-")[0] for n in names[1:]] == ["configmap", "job"]
    assert "votes" in {entry["name"] for entry in files["images"]}
