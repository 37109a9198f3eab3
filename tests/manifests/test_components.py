"""The reusable components (overlays/, shipped as ethnet/overlays, copied into each network
repository's components/): ethstats, blockscout, monitoring and rpc-ingress.

Each component is checked as files (a kustomize Component listing one object per file,
network-agnostic, images pinned) and as rendered by the real kustomize in generated network
repositories: kubernetes-validate --strict for Kubernetes' own kinds, the CRD schemas for the
rest, and the wiring a cluster depends on (the ethstats flag on every node client, each
secret a pod reads produced by a SealedSecret of that name, NetworkPolicies, sync waves).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ethnet.manifests.components import AVAILABLE_COMPONENTS, COMPONENT_DIRECTORIES
from ethnet.manifests.profiles import PROFILES
from ethnet.spec.loader import load_network
from ethnet.spec.types import FLOATING_TAGS, IMAGE_REFERENCE
from tests.manifests.helpers import generate_repo, make_repo, render
from tests.validation import (
    checkov_allowed,
    checkov_failures,
    kubernetes_validate,
    load_docs,
    of_kind,
    validate_custom_resources,
    workloads,
)

Doc = dict[str, Any]

SHIPPED = Path(str(resources.files("ethnet").joinpath("overlays")))
NODE_LABEL = "ethnet.io/node"
NAME = "app.kubernetes.io/name"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# The flag each node client gets, by the client's app.kubernetes.io/name. Besu with an
# explicit ws:// (without a scheme it tries TLS first); geth without (it would take the
# scheme as part of the node name) and appends /api itself, as Besu does.
ETHSTATS_ARGS = {
    "besu": "--ethstats=ws://$(POD_NAME):$(ETHSTATS_SECRET)@ethstats:3000",
    "geth": "--ethstats=$(POD_NAME):$(ETHSTATS_SECRET)@ethstats:3000",
}
# Objects each component adds, as (kind, name).
COMPONENT_OBJECTS = {
    "ethstats": {
        ("Deployment", "ethstats"),
        ("Service", "ethstats"),
        ("NetworkPolicy", "ethstats"),
    },
    "blockscout": {
        ("Deployment", "blockscout"),
        ("Service", "blockscout"),
        ("NetworkPolicy", "blockscout"),
        ("StatefulSet", "blockscout-postgres"),
        ("Service", "blockscout-postgres"),
        ("NetworkPolicy", "blockscout-postgres"),
    },
    "monitoring": {
        ("PodMonitor", "ethnet-besu"),
        ("PodMonitor", "ethnet-geth"),
        ("PrometheusRule", "ethnet"),
        ("ConfigMap", "ethnet-grafana-dashboard"),
        ("NetworkPolicy", "metrics-from-monitoring"),
    },
    "rpc-ingress": {
        ("Ingress", "json-rpc"),
        ("NetworkPolicy", "json-rpc-from-ingress"),
    },
}
COMPONENT_WORKLOADS = {
    ("Deployment", "ethstats"),
    ("Deployment", "blockscout"),
    ("StatefulSet", "blockscout-postgres"),
}
# Containers that cannot have a read-only root filesystem, and why (docs/components.md).
WRITABLE_ROOT = {
    "blockscout": "the Elixir release and Blockscout write under /app at run time",
}

# checkov findings accepted on component objects beyond tests/fixtures/checkov-allowed.yaml,
# by (check, kind, name), with the reason (docs/components.md says the same to users).
COMPONENT_CHECKOV_EXCEPTIONS = {
    ("CKV_K8S_22", "Deployment", "blockscout"): "Blockscout writes under /app at run time",
    ("CKV_K8S_35", "Deployment", "blockscout"): "Blockscout reads DATABASE_URL and "
    "SECRET_KEY_BASE from environment variables only",
    ("CKV_K8S_40", "StatefulSet", "blockscout-postgres"): "the official image's postgres "
    "user is uid 999, which owns its files",
}

ALL_ON = "{ethstats: true, blockscout: true, monitoring: true, rpcIngress: true}"
ALL_OFF = "{ethstats: false, blockscout: false, monitoring: false, rpcIngress: false}"


def network_yaml(name: str, profile: str, components: str) -> str:
    """A small network: prod runs every role, dev a single validator and an RPC node."""
    return f"""\
apiVersion: ethnet/v1alpha1
kind: Network
metadata:
  name: {name}
spec:
  profile: {profile}
  nodes: {{validators: 4, rpc: 2, bootnodes: 1}}
  components: {components}
  environments:
    dev:
      chainId: 1337201
      nodes: {{validators: 1, rpc: 1, bootnodes: 0}}
    prod:
      chainId: 1337202
      live: true
"""


@dataclass(frozen=True)
class Case:
    name: str
    profile: str
    components: str

    @property
    def text(self) -> str:
        return network_yaml(self.name, self.profile, self.components)


BESU = Case("comp-besu", "besu-qbft", ALL_ON)
GETH = Case("comp-geth", "geth-clique", ALL_ON)
BESU_OFF = Case("comp-off", "besu-qbft", ALL_OFF)
ENVIRONMENTS = ("dev", "prod")


def case_param(case: Case) -> Any:
    return pytest.param(
        case,
        id=case.name,
        marks=pytest.mark.skipif(
            case.profile not in PROFILES,
            reason=f"profile {case.profile} has no manifests yet "
            "(not in ethnet.manifests.profiles.PROFILES)",
        ),
    )


CASES_ON = [case_param(BESU), case_param(GETH)]


@dataclass(frozen=True)
class Rendered:
    repo: Path
    texts: dict[str, str]

    def docs(self, env: str) -> list[Doc]:
        return load_docs(self.texts[env])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Each case generated and rendered once per module."""
    cache: dict[str, Rendered] = {}

    def get(case: Case) -> Rendered:
        if case.name not in cache:
            repo = make_repo(tmp_path_factory.mktemp(case.name), case.text)
            generate_repo(repo)
            environments = load_network(repo / "network.yaml").network.environment_names
            cache[case.name] = Rendered(repo, {env: render(repo, env) for env in environments})
        return cache[case.name]

    yield get


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def component_files(component: str) -> list[Path]:
    return sorted(p for p in (SHIPPED / component).iterdir() if p.is_file())


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def container_images(spec: Doc) -> list[str]:
    return [c["image"] for c in (spec.get("initContainers") or []) + spec["containers"]]


def image_problem(image: str) -> str | None:
    match = IMAGE_REFERENCE.fullmatch(image)
    if match is None:
        return f"{image}: not an image reference"
    if not match["tag"] and not match["digest"]:
        return f"{image}: not pinned"
    if match["tag"] in FLOATING_TAGS:
        return f"{image}: floating tag"
    return None


# --- the components as files -----------------------------------------------------------------


def test_every_component_network_yaml_names_is_available():
    assert set(AVAILABLE_COMPONENTS) == set(COMPONENT_DIRECTORIES.values())
    for component in AVAILABLE_COMPONENTS:
        assert (SHIPPED / component / "kustomization.yaml").is_file(), component


@pytest.mark.parametrize("component", AVAILABLE_COMPONENTS)
def test_component_is_a_kustomize_component_of_one_object_per_file(component):
    kustomization = load_yaml(SHIPPED / component / "kustomization.yaml")
    objects = [p for p in component_files(component) if p.name != "kustomization.yaml"]

    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1alpha1"
    assert kustomization["kind"] == "Component"
    assert set(kustomization) <= {"apiVersion", "kind", "resources", "patches"}
    assert kustomization["resources"] == sorted(p.name for p in objects)
    for path in objects:
        docs = load_docs(path.read_text(encoding="utf-8"))
        assert len(docs) == 1, f"{path.name}: one object per file"
        [doc] = docs
        assert path.name == f"{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
        assert "namespace" not in doc["metadata"], f"{path.name}: the overlay sets it"
    assert {
        (doc["kind"], doc["metadata"]["name"])
        for path in objects
        for doc in load_docs(path.read_text(encoding="utf-8"))
    } == COMPONENT_OBJECTS[component]


@pytest.mark.parametrize("component", AVAILABLE_COMPONENTS)
def test_component_patches_select_nodes_by_label_never_by_name(component):
    kustomization = load_yaml(SHIPPED / component / "kustomization.yaml")

    for patch in kustomization.get("patches") or []:
        target = patch["target"]
        assert "name" not in target
        assert f"{NODE_LABEL}=true" in target["labelSelector"].split(",")
        for operation in YAML(typ="safe", pure=True).load(patch["patch"]):
            assert operation["op"] == "add"
            assert operation["path"].startswith("/spec/template/spec/containers/0/")


@pytest.mark.parametrize("component", AVAILABLE_COMPONENTS)
def test_component_is_network_agnostic_and_pins_its_images(component):
    for path in component_files(component):
        text = path.read_text(encoding="utf-8")
        assert "app.kubernetes.io/part-of:" not in text, f"{path.name}: names a network"
        for doc in load_docs(text):
            if doc["kind"] in ("Deployment", "StatefulSet"):
                images = container_images(doc["spec"]["template"]["spec"])
                assert [p for p in map(image_problem, images) if p] == [], path.name


# --- generation ------------------------------------------------------------------------------


def test_components_are_copied_into_the_repository_and_enabled_ones_included(rendered):
    repo = rendered(BESU).repo

    for component in AVAILABLE_COMPONENTS:
        for path in component_files(component):
            copied = repo / "components" / component / path.name
            assert copied.read_bytes() == path.read_bytes(), copied
    for env in ENVIRONMENTS:
        kustomization = load_yaml(repo / "overlays" / env / "generated" / "kustomization.yaml")
        assert kustomization["components"] == [
            f"../../../components/{component}" for component in AVAILABLE_COMPONENTS
        ]


def test_disabled_components_add_nothing(rendered):
    off = rendered(BESU_OFF)
    component_objects = set().union(*COMPONENT_OBJECTS.values())

    for env in ENVIRONMENTS:
        docs = off.docs(env)
        assert {(d["kind"], d["metadata"]["name"]) for d in docs} & component_objects == set()
        assert "--ethstats" not in off.texts[env]
        kustomization = load_yaml(off.repo / "overlays" / env / "generated" / "kustomization.yaml")
        assert "components" not in kustomization
    # still copied: turning one on later is a network.yaml change only
    assert (off.repo / "components" / "ethstats" / "kustomization.yaml").is_file()


# --- rendered: validators --------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_rendered_core_kinds_pass_kubernetes_validate_strict(rendered, case, env):
    assert kubernetes_validate(rendered(case).texts[env]) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_rendered_custom_resources_match_the_crd_schemas(rendered, case, env):
    docs = rendered(case).docs(env)

    assert {d["kind"] for d in docs} >= {"PodMonitor", "PrometheusRule", "SealedSecret"}
    assert validate_custom_resources(docs) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_rendered_objects_are_in_the_environment_namespace(rendered, case, env):
    docs = rendered(case).docs(env)
    [namespace] = of_kind(docs, "Namespace")

    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], doc["kind"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_no_service_is_exposed_outside_the_cluster(rendered, case, env):
    for service in of_kind(rendered(case).docs(env), "Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_every_image_is_pinned(rendered, case, env):
    for workload in workloads(rendered(case).docs(env)):
        for image in container_images(workload.spec):
            assert image_problem(image) is None, f"{workload}: {image_problem(image)}"


def test_checkov_fails_only_allowed_checks_with_every_component_on(rendered, tmp_path):
    texts = rendered(BESU).texts
    for env, text in texts.items():
        (tmp_path / f"{env}.yaml").write_text(text, encoding="utf-8")
    allowed = checkov_allowed()

    failures = checkov_failures(tmp_path)

    unexpected = set()
    for check, resource in failures:
        kind, _namespace, name = resource.split(".", 2)
        if check not in allowed and (check, kind, name) not in COMPONENT_CHECKOV_EXCEPTIONS:
            unexpected.add(f"{check} on {resource}")
    assert sorted(unexpected) == []


# --- rendered: ethstats ----------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_every_node_client_reports_to_ethstats(rendered, case, env):
    docs = rendered(case).docs(env)
    nodes = [w for w in workloads(docs) if w.labels.get(NODE_LABEL) == "true"]
    clients = [w for w in nodes if w.labels.get(NAME) in ETHSTATS_ARGS]

    assert clients, "the network has node clients"
    for workload in clients:
        container = workload.spec["containers"][0]
        env_names = [e["name"] for e in container["env"]]
        assert "POD_NAME" in env_names, workload
        [secret] = [e for e in container["env"] if e["name"] == "ETHSTATS_SECRET"]
        assert secret["valueFrom"] == {"secretKeyRef": {"name": "ethstats", "key": "WS_SECRET"}}
        assert container["args"].count(ETHSTATS_ARGS[workload.labels[NAME]]) == 1, workload
    for workload in nodes:
        if workload not in clients:  # the geth-clique bootnode binary has no --ethstats
            assert not any("--ethstats" in a for a in workload.spec["containers"][0]["args"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_ethstats_server_reads_the_same_sealed_secret_and_is_internal(rendered, case, env):
    docs = rendered(case).docs(env)
    deployment = find(docs, "Deployment", "ethstats")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    service = find(docs, "Service", "ethstats")
    policy = find(docs, "NetworkPolicy", "ethstats")

    [secret] = [e for e in container["env"] if e["name"] == "WS_SECRET"]
    assert secret["valueFrom"] == {"secretKeyRef": {"name": "ethstats", "key": "WS_SECRET"}}
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == 3000
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3000}]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {NODE_LABEL: "true"}}},
        {"podSelector": {"matchLabels": {"ethnet.io/ethstats-viewer": "true"}}},
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES_ON)
def test_every_secret_a_pod_reads_is_produced_by_a_sealed_secret(rendered, case, env):
    docs = rendered(case).docs(env)
    sealed = {
        doc["metadata"]["name"]: doc
        for doc in of_kind(docs, "SealedSecret")
        if doc["spec"]["template"]["metadata"]["name"] == doc["metadata"]["name"]
    }
    read: set[tuple[str, str | None]] = set()
    for workload in workloads(docs):
        for container in workload.containers():
            for variable in container.get("env") or []:
                ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    read.add((ref["name"], ref["key"]))
        for volume in workload.spec.get("volumes") or []:
            if "secret" in volume:
                items = volume["secret"].get("items") or [{"key": None}]
                read |= {(volume["secret"]["secretName"], item["key"]) for item in items}

    assert {("ethstats", "WS_SECRET"), ("blockscout", "SECRET_KEY_BASE")} <= read
    assert ("blockscout-postgres", "POSTGRES_PASSWORD") in read
    for name, key in sorted(read, key=str):
        assert name in sealed, f"no SealedSecret {name}"
        if key is not None:
            assert key in sealed[name]["spec"]["encryptedData"], f"{name} has no {key}"


# --- rendered: hardening ---------------------------------------------------------------------


def _component_workloads(docs: list[Doc]) -> list[Any]:
    found = [w for w in workloads(docs) if (w.kind, w.name) in COMPONENT_WORKLOADS]
    assert {(w.kind, w.name) for w in found} == COMPONENT_WORKLOADS
    return found


@pytest.mark.parametrize("case", CASES_ON)
def test_component_containers_are_hardened(rendered, case):
    for workload in _component_workloads(rendered(case).docs("prod")):
        pod = workload.spec
        assert pod["automountServiceAccountToken"] is False, workload
        assert pod["enableServiceLinks"] is False, workload
        assert pod["securityContext"]["runAsNonRoot"] is True, workload
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in workload.containers():
            where = f"{workload} {container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["runAsNonRoot"] is True, where
            assert isinstance(security["runAsUser"], int) and security["runAsUser"] > 0, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert "privileged" not in security, where
            assert security["readOnlyRootFilesystem"] is (container["name"] not in WRITABLE_ROOT)
            for amounts in ("requests", "limits"):
                assert set(container["resources"][amounts]) == {"cpu", "memory"}, where
            assert "readinessProbe" in container, where
            assert "livenessProbe" in container, where


def test_postgres_runs_as_its_image_user_with_data_in_a_subdirectory(rendered):
    docs = rendered(BESU).docs("prod")
    postgres = find(docs, "StatefulSet", "blockscout-postgres")
    pod = postgres["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}

    assert container["image"].startswith("postgres:17.")
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["fsGroup"] == 999
    assert env["PGDATA"].startswith("/var/lib/postgresql/data/")
    assert env["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "POSTGRES_PASSWORD" not in env  # a file, not an environment variable
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    [claim] = postgres["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"


# --- rendered: blockscout --------------------------------------------------------------------


def wave(doc: Doc) -> int:
    return int((doc["metadata"].get("annotations") or {}).get(SYNC_WAVE, "0"))


@pytest.mark.parametrize("case", CASES_ON)
def test_blockscout_starts_after_its_database_and_reads_json_rpc(rendered, case):
    docs = rendered(case).docs("prod")
    blockscout = find(docs, "Deployment", "blockscout")
    postgres = find(docs, "StatefulSet", "blockscout-postgres")
    [container] = blockscout["spec"]["template"]["spec"]["containers"]
    names = [e["name"] for e in container["env"]]
    env = {e["name"]: e.get("value") for e in container["env"]}
    json_rpc = find(docs, "Service", "json-rpc")

    assert wave(postgres) < wave(blockscout)
    for sealed in of_kind(docs, "SealedSecret"):
        assert wave(sealed) < wave(postgres)
    assert names.index("POSTGRES_PASSWORD") < names.index("DATABASE_URL")
    assert env["DATABASE_URL"] == (
        "postgresql://blockscout:$(POSTGRES_PASSWORD)@blockscout-postgres:5432/blockscout"
    )
    assert env["ETHEREUM_JSONRPC_HTTP_URL"] == "http://json-rpc:8545"
    assert env["ETHEREUM_JSONRPC_WS_URL"] == "ws://json-rpc:8546"
    assert env["ETHEREUM_JSONRPC_VARIANT"] == "geth"
    assert "CHAIN_ID" not in env
    assert {p["port"] for p in json_rpc["spec"]["ports"]} == {8545, 8546}
    assert blockscout["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("case", CASES_ON)
def test_postgres_answers_only_blockscout(rendered, case):
    docs = rendered(case).docs("prod")
    policy = find(docs, "NetworkPolicy", "blockscout-postgres")
    blockscout = find(docs, "Deployment", "blockscout")
    postgres = find(docs, "StatefulSet", "blockscout-postgres")

    assert policy["spec"]["podSelector"]["matchLabels"].items() <= (
        postgres["spec"]["template"]["metadata"]["labels"].items()
    )
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    assert set(source) == {"podSelector"}
    assert source["podSelector"]["matchLabels"].items() <= (
        blockscout["spec"]["template"]["metadata"]["labels"].items()
    )
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    explorer = find(docs, "NetworkPolicy", "blockscout")
    assert explorer["spec"]["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 4000}]}
    ]


# --- rendered: monitoring --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES_ON)
def test_pod_monitors_scrape_each_client_on_its_path(rendered, case):
    docs = rendered(case).docs("prod")
    paths = {
        "ethnet-besu": ("besu", "/metrics"),
        "ethnet-geth": ("geth", "/debug/metrics/prometheus"),
    }

    for name, (client, path) in paths.items():
        monitor = find(docs, "PodMonitor", name)
        assert monitor["spec"]["selector"]["matchLabels"] == {NAME: client, NODE_LABEL: "true"}
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("metrics", path)
        targets = {r["targetLabel"] for r in endpoint["relabelings"]}
        assert targets == {"ethnet_network", "ethnet_role", "ethnet_client"}
    clients = [w for w in workloads(docs) if w.labels.get(NAME) in ("besu", "geth")]
    for workload in clients:
        ports = {p["name"] for p in workload.spec["containers"][0]["ports"]}
        assert "metrics" in ports, workload


@pytest.mark.parametrize("case", CASES_ON)
def test_alerts_cover_down_nodes_stalled_blocks_and_lost_peers(rendered, case):
    docs = rendered(case).docs("prod")
    rule = find(docs, "PrometheusRule", "ethnet")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}

    assert "up{" in alerts["EthnetNodeDown"]["expr"]
    stalled = alerts["EthnetNoNewBlocks"]["expr"]
    assert "ethereum_blockchain_height" in stalled and "chain_head_block" in stalled
    peers = alerts["EthnetLowPeerCount"]["expr"]
    assert "ethereum_peer_count" in peers and "p2p_peers" in peers
    for alert in alerts.values():
        assert alert["labels"]["severity"] in ("critical", "warning")
        assert re.fullmatch(r"\d+m", alert["for"])


@pytest.mark.parametrize("case", CASES_ON)
def test_metrics_are_open_to_the_monitoring_namespace_only(rendered, case):
    docs = rendered(case).docs("prod")
    policy = find(docs, "NetworkPolicy", "metrics-from-monitoring")

    assert policy["spec"]["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"ethnet.io/monitoring": "true"}}}],
            "ports": [{"protocol": "TCP", "port": "metrics"}],
        }
    ]
    selected = policy["spec"]["podSelector"]
    assert selected["matchLabels"] == {NODE_LABEL: "true"}
    assert selected["matchExpressions"] == [
        {"key": NAME, "operator": "In", "values": ["besu", "geth"]}
    ]


def test_grafana_dashboard_is_json_the_sidecar_loads(rendered):
    docs = rendered(BESU).docs("prod")
    config_map = find(docs, "ConfigMap", "ethnet-grafana-dashboard")
    [text] = config_map["data"].values()
    dashboard = json.loads(text)

    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["uid"] == "ethnet-network"
    assert len(dashboard["panels"]) >= 4
    expressions = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("ethereum_blockchain_height", "chain_head_block", "ethereum_peer_count"):
        assert metric in expressions
    assert "p2p_peers" in expressions


# --- rendered: rpc-ingress -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES_ON)
def test_rpc_ingress_requires_tls_and_basic_auth(rendered, case):
    docs = rendered(case).docs("prod")
    ingress = find(docs, "Ingress", "json-rpc")
    annotations = ingress["metadata"]["annotations"]
    json_rpc = find(docs, "Service", "json-rpc")

    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [
        {"hosts": ["rpc.example.invalid"], "secretName": "rpc-ingress-tls"}
    ]
    assert annotations["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert annotations["nginx.ingress.kubernetes.io/auth-secret"] == "rpc-ingress-auth"
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "rpc.example.invalid"
    [path] = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == "json-rpc"
    assert backend["port"]["name"] in {p["name"] for p in json_rpc["spec"]["ports"]}


@pytest.mark.parametrize("case", CASES_ON)
def test_only_the_labelled_ingress_namespace_reaches_the_rpc_nodes(rendered, case):
    docs = rendered(case).docs("prod")
    policy = find(docs, "NetworkPolicy", "json-rpc-from-ingress")
    rpc = find(docs, "StatefulSet", "rpc")

    assert policy["spec"]["podSelector"]["matchLabels"].items() <= (
        rpc["spec"]["template"]["metadata"]["labels"].items()
    )
    assert policy["spec"]["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"ethnet.io/ingress-controller": "true"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 8545}],
        }
    ]
