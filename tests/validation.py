"""Validators over rendered manifests, reusable by any test that renders a network.

Each validator takes what ``kubectl kustomize overlays/<env>`` printed (multi-document YAML
text, or the documents loaded from it) and returns the problems it found, so a test asserts
``== []`` and a negative test can assert what is reported. The real tools run here:
kubernetes-validate (the venv's), the CRD schemas in ``../shared/schemas/crds/``, checkov.

Also here: rendering the networks these tests share (the examples and the large fixtures)
and reading pod templates out of the documents.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
from ruamel.yaml import YAML

from ethnet.manifests.profiles import PROFILES
from ethnet.spec.loader import load_network
from ethnet.spec.model import Network
from tests.conftest import EXAMPLES, ROOT, SHARED_SCHEMAS
from tests.manifests.helpers import NETWORKS, generate_repo, make_repo, render

Doc = dict[str, Any]

KUBERNETES_VERSION = "1.32.0"
CRDS = SHARED_SCHEMAS / "crds"
CHECKOV_ALLOWED = Path(__file__).resolve().parent / "fixtures" / "checkov-allowed.yaml"
CHECKOV_BUNDLED = ROOT / ".tools" / "checkov" / "bin" / "checkov"

# Custom resources that may appear without a schema in ../shared/schemas/crds/, as
# "<group>/<version> <Kind>" -> why that is acceptable. Every other one is a failure.
CUSTOM_KINDS_WITHOUT_SCHEMA: dict[str, str] = {}

WORKLOAD_KINDS = ("StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


# --- loading ---------------------------------------------------------------------------------


def load_docs(text: str) -> list[Doc]:
    """The documents of multi-document YAML text, empty documents dropped."""
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]


def dump_docs(docs: list[Doc]) -> str:
    """Multi-document YAML text of ``docs`` (for feeding edited documents back to a tool)."""
    return "---\n".join(json.dumps(doc, indent=1) + "\n" for doc in docs)


def describe(doc: Doc) -> str:
    """``Kind namespace/name`` of a document, for messages."""
    meta = doc.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{doc.get('kind')} {where}{meta.get('name')}"


def api_group(api_version: str) -> str:
    """The group of an apiVersion: ``apps/v1`` -> ``apps``, ``v1`` -> ``""`` (core)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def is_builtin_group(group: str) -> bool:
    """Kubernetes' own API groups are the core group, dotless names (apps, batch, policy)
    and ``*.k8s.io``; everything else comes from a CustomResourceDefinition."""
    return group == "" or "." not in group or group.endswith(".k8s.io")


# --- kubernetes-validate ---------------------------------------------------------------------


def kubernetes_validate(text: str, version: str = KUBERNETES_VERSION) -> list[str]:
    """Problems ``kubernetes-validate --strict`` finds in ``text`` for Kubernetes ``version``.

    It only warns about kinds it has no schema for; that is a problem here for Kubernetes'
    own API groups (a wrong apiVersion), while custom resources are left to
    ``validate_custom_resources``.
    """
    command = [
        str(Path(sys.executable).parent / "kubernetes-validate"),
        "--strict",
        "--quiet",
        "--kubernetes-version",
        version,
        "-",
    ]
    proc = subprocess.run(
        command, input=text, capture_output=True, text=True, timeout=300, check=False
    )
    output = (proc.stdout + proc.stderr).splitlines()
    problems = [line for line in output if line.startswith(("ERROR", "FATAL"))]
    for line in output:
        missing = re.search(r"Couldn't find schema for kind (\S+) with api version (\S+)", line)
        if missing and is_builtin_group(api_group(missing[2])):
            problems.append(line)
    if proc.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {proc.returncode}: {output[-5:]}")
    return problems


# --- custom resources ------------------------------------------------------------------------


@cache
def _crd_schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def crd_schema_path(api_version: str, kind: str) -> Path:
    """``crds/<group>/<kind>_<version>.json``, the kubeconform layout of the shared schemas."""
    group, _, version = api_version.rpartition("/")
    return CRDS / group / f"{kind.lower()}_{version}.json"


def validate_custom_resources(docs: list[Doc]) -> list[str]:
    """Problems of the custom resources in ``docs`` against ../shared/schemas/crds/.

    A custom resource without a schema file is a problem, unless its kind is listed in
    ``CUSTOM_KINDS_WITHOUT_SCHEMA`` with a reason.
    """
    problems = []
    for doc in docs:
        api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        if is_builtin_group(api_group(api_version)):
            continue
        path = crd_schema_path(api_version, kind)
        if not path.is_file():
            if f"{api_version} {kind}" not in CUSTOM_KINDS_WITHOUT_SCHEMA:
                problems.append(f"{describe(doc)}: no schema {path} for {api_version} {kind}")
            continue
        validator = jsonschema.Draft7Validator(_crd_schema(path))
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(part) for part in error.absolute_path) or "(document)"
            problems.append(f"{describe(doc)}: {where}: {error.message}")
        problems += _metadata_problems(doc)
    return problems


def _metadata_problems(doc: Doc) -> list[str]:
    """The CRD schemas say only ``metadata: object``: check what the API server would."""
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return [f"{describe(doc)}: metadata.name is missing"]
    problems = []
    for section in ("labels", "annotations"):
        values = meta.get(section) or {}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
            problems.append(f"{describe(doc)}: metadata.{section} must map strings to strings")
    return problems


# --- checkov ---------------------------------------------------------------------------------


def require_checkov() -> Path:
    """checkov: ``$ETHNET_CHECKOV``, else .tools/checkov (``make tools``). Without it the
    test is skipped, except under CI (CI=true), where that is a failure."""
    configured = os.environ.get("ETHNET_CHECKOV")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"ETHNET_CHECKOV={configured} does not exist")
        return Path(configured)
    if CHECKOV_BUNDLED.is_file():
        return CHECKOV_BUNDLED
    reason = f"checkov is not installed at {CHECKOV_BUNDLED}: run make tools"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def checkov_failures(target: str | Path) -> list[tuple[str, str]]:
    """(check id, resource) of every check ``checkov --framework kubernetes`` fails on
    ``target``: rendered YAML text, or a directory of rendered files."""
    checkov = require_checkov()
    if isinstance(target, Path):
        return _run_checkov(checkov, target)
    with tempfile.TemporaryDirectory(prefix="ethnet-checkov-") as directory:
        (Path(directory) / "rendered.yaml").write_text(target, encoding="utf-8")
        return _run_checkov(checkov, Path(directory))


def _run_checkov(checkov: Path, directory: Path) -> list[tuple[str, str]]:
    command = [
        str(checkov),
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "--quiet",
        "--compact",
        "--output",
        "json",
        "--skip-download",  # offline: no guidelines from the vendor's API
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    # checkov exits 1 when a check fails; anything else, or no JSON, is checkov failing
    assert proc.returncode in (0, 1), f"checkov failed ({proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    documents = sum(len(load_docs(p.read_text())) for p in directory.rglob("*.yaml"))
    scanned = sum(r.get("summary", r).get("resource_count", 0) for r in reports)
    # checkov silently skips files it cannot parse: make sure it saw every document
    assert scanned >= documents, f"checkov scanned {scanned} resources of {documents} documents"
    return [
        (check["check_id"], check["resource"])
        for r in reports
        for check in r.get("results", {}).get("failed_checks", [])
    ]


@dataclass(frozen=True)
class AllowedCheck:
    """A checkov check that may fail on rendered networks, and why."""

    id: str
    reason: str


def checkov_allowed(path: Path = CHECKOV_ALLOWED) -> dict[str, AllowedCheck]:
    """tests/fixtures/checkov-allowed.yaml, by check id; every entry must give a reason."""
    doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    allowed = {}
    for entry in doc["allowed"]:
        check = AllowedCheck(str(entry["id"]), str(entry.get("reason") or "").strip())
        assert re.fullmatch(r"CKV2?_K8S_\d+", check.id), f"{path}: not a check id: {check.id}"
        assert len(check.reason) >= 40, f"{path}: {check.id} needs a real reason"
        assert check.id not in allowed, f"{path}: {check.id} listed twice"
        allowed[check.id] = check
    return allowed


# --- rendered networks -----------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkCase:
    """A network.yaml the validation tests render."""

    name: str
    profile: str
    network_yaml: Path

    @property
    def available(self) -> bool:
        return self.profile in PROFILES

    @property
    def environments(self) -> tuple[str, ...]:
        return load_network(self.network_yaml).network.environment_names


CASES = (
    NetworkCase("besu-qbft-default", "besu-qbft", EXAMPLES / "besu-qbft" / "network.yaml"),
    NetworkCase("besu-qbft-large", "besu-qbft", NETWORKS / "large-besu.yaml"),
    NetworkCase("geth-clique-default", "geth-clique", EXAMPLES / "geth-clique" / "network.yaml"),
    NetworkCase("geth-clique-large", "geth-clique", NETWORKS / "large-clique.yaml"),
)


def _unavailable(case: NetworkCase) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not case.available,
        reason=f"profile {case.profile} has no manifests yet "
        "(not in ethnet.manifests.profiles.PROFILES)",
    )


def case_params() -> list[Any]:
    """One pytest parameter per network case; unavailable profiles skip with the reason."""
    return [pytest.param(case, id=case.name, marks=_unavailable(case)) for case in CASES]


def environment_params() -> list[Any]:
    """One pytest parameter per (network case, environment)."""
    return [
        pytest.param(case, env, id=f"{case.name}-{env}", marks=_unavailable(case))
        for case in CASES
        for env in case.environments
    ]


@dataclass(frozen=True)
class RenderedNetwork:
    """A generated network repository and every environment rendered by kustomize."""

    case: NetworkCase
    repo: Path
    network: Network
    texts: dict[str, str]
    parsed: dict[str, list[Doc]] = field(default_factory=dict, compare=False, repr=False)

    def docs(self, env: str) -> list[Doc]:
        """The documents of ``env``, parsed once: shared, so copy before changing them."""
        if env not in self.parsed:
            self.parsed[env] = load_docs(self.texts[env])
        return self.parsed[env]

    def generated(self, env: str) -> Path:
        return self.repo / "overlays" / env / "generated"


def render_network(directory: Path, case: NetworkCase) -> RenderedNetwork:
    """Generate ``case``'s repository under ``directory`` and render every environment."""
    repo = make_repo(directory, case.network_yaml)
    generate_repo(repo)
    network = load_network(repo / "network.yaml").network
    texts = {env: render(repo, env) for env in network.environment_names}
    return RenderedNetwork(case, repo, network, texts)


class RenderCache:
    """Each case rendered at most once per test session, whichever module asks first."""

    rendered: ClassVar[dict[str, RenderedNetwork]] = {}

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory  # session-scoped: its directories outlive every module

    def get(self, case: NetworkCase) -> RenderedNetwork:
        if case.name not in self.rendered:
            self.rendered[case.name] = render_network(self.factory.mktemp(case.name), case)
        return self.rendered[case.name]


# --- pod templates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A pod template and the object that runs it."""

    doc: Doc
    namespace: str
    labels: dict[str, str]
    spec: Doc

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def replicas(self) -> int:
        return int(self.doc.get("spec", {}).get("replicas", 1))

    def containers(self, *, init: bool = True) -> list[Doc]:
        found = list(self.spec.get("initContainers") or []) if init else []
        return found + list(self.spec.get("containers") or [])

    def volume(self, name: str) -> Doc | None:
        return next((v for v in self.spec.get("volumes") or [] if v["name"] == name), None)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def workloads(docs: list[Doc]) -> Iterator[Workload]:
    """Every pod template in ``docs``, with the namespace and labels of its pods."""
    for doc in docs:
        kind = doc.get("kind")
        if kind not in WORKLOAD_KINDS:
            continue
        if kind == "Pod":
            template = doc
        elif kind == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
        else:
            template = doc["spec"]["template"]
        namespace = str(doc["metadata"].get("namespace", ""))
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        yield Workload(doc, namespace, labels, template["spec"])


def selects(selector: Doc | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (a LabelSelector, or a Service's plain map) matches
    ``labels``. An empty selector matches everything."""
    selector = selector or {}
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def of_kind(docs: list[Doc], kind: str, namespace: str | None = None) -> list[Doc]:
    """The documents of ``kind`` (in ``namespace`` when given)."""
    return [
        doc
        for doc in docs
        if doc.get("kind") == kind
        and (namespace is None or doc["metadata"].get("namespace") == namespace)
    ]
