"""Property tests over network.yaml: documents built from the valid example by replacing,
adding and deleting keys at any depth either load or fail with a SpecError whose every
problem has a line and column; through the CLI the exit code is 0 or 1, never 2 or a
traceback; and sync of an edited repository either renders (and passes check) or
fails located without writing anything."""

from __future__ import annotations

import contextlib
import copy
import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ethnet.cli import main
from ethnet.errors import SpecError
from ethnet.spec.loader import parse_network
from tests.conftest import EXAMPLES
from tests.reliability.conftest import make_workspace, snapshot

BASE = YAML(typ="safe", pure=True).load((EXAMPLES / "besu-qbft" / "network.yaml").read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.sampled_from([0, -1, 2**63, 2**64, 2**256, 10**80]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x2FFFF), max_size=20),
    st.sampled_from(
        ["", " ", "0x", "0x1c9c380", "1 ether", "-5 wei", "dev", "Dev", "besu-qbft", "geth-clique",
         "yes", "no", "~", "null", "a" * 300, "ünïcødé", "💥", "../..", "\t", "1e400"]
    ),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=10,
)
keys = st.one_of(
    st.text(max_size=15),
    st.sampled_from(
        ["spec", "nodes", "validators", "environments", "dev", "prod", "chainId", "alloc",
         "genesis", "images", "components", "gitops", "metadata", "name", "apiVersion", ""]
    ),
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "add", "delete"]))
        if not path:
            if action == "replace":
                doc = draw(values)
            continue
        parent = _at(doc, path[:-1])
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        else:
            target = _at(doc, path)
            if isinstance(target, dict):
                target[draw(keys)] = draw(values)
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), draw(values))
            else:
                parent[path[-1]] = {draw(keys): target}
    return doc


def _dump(doc: Any) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.dump(doc, stream)
    return stream.getvalue()


def _assert_located(error: SpecError) -> None:
    assert error.problems
    for problem in error.problems:
        location = problem.location
        assert location is not None, problem
        assert location.line is not None and location.line >= 1, problem
        assert location.column is not None and location.column >= 1, problem
        assert problem.message, problem


def test_the_unmodified_example_loads():
    parse_network(_dump(BASE))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_parse_network_returns_or_raises_located_spec_errors(doc):
    text = _dump(doc)
    try:
        parse_network(text)
    except SpecError as error:
        _assert_located(error)


# Characters YAML's reader refuses outright: control characters (but tab and newlines),
# surrogates, non-characters. Those are covered by the located-error test below.
readable = st.characters(exclude_categories=("Cc", "Cs", "Cn")) | st.sampled_from("\t\n\r")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=readable, max_size=300))
def test_arbitrary_text_returns_or_raises_located_spec_errors(text):
    try:
        parse_network(text)
    except SpecError as error:
        _assert_located(error)


@pytest.mark.parametrize("bad", ["\x1f", "\x00", "\ufffe", "\x7f"])
def test_a_control_character_is_reported_with_line_and_column(bad):
    text = (EXAMPLES / "besu-qbft" / "network.yaml").read_text()
    with pytest.raises(SpecError) as info:
        parse_network(text.replace("spec:", f"spec:  # {bad}", 1))
    _assert_located(info.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_spec_check_exits_0_or_1_never_2_or_a_traceback(doc):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "network.yaml"
        path.write_text(_dump(doc), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["spec", "check", str(path)])
            except SystemExit as exc:  # argparse; any other exception fails the test
                code = exc.code
        assert code in (0, 1), err.getvalue()
        if code == 1:
            assert err.getvalue().strip(), "exit 1 without a message"
            assert "network.yaml:" in err.getvalue()


# Values an operator might plausibly write, so that a good share of the edited documents is
# valid and actually renders (the random `values` above mostly fail validation).
plausible = st.one_of(
    st.integers(min_value=0, max_value=7),
    st.booleans(),
    st.sampled_from(
        ["hyperledger/besu:26.1.0", "hyperledger/besu:latest", "dev", "qa", "acme", "2",
         "argocd", "flux", "both", "1000 ether", "0x1c9c380", "10Gi", "500m", "prod"]
    ),
)  # fmt: skip


@st.composite
def edited_networks(draw: st.DrawFn, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(["same type", "same type", "plausible", "random", "delete"]))
        paths = [p for p in _paths(doc) if p]
        if action == "same type":  # scalars only: a value of the same kind
            paths = [p for p in paths if not isinstance(_at(doc, p), dict | list)] or paths
        path = draw(st.sampled_from(paths))
        parent = _at(doc, path[:-1])
        current = parent[path[-1]]
        if action == "delete":
            del parent[path[-1]]
        elif action == "same type" and isinstance(current, bool):
            parent[path[-1]] = draw(st.booleans())
        elif action == "same type" and isinstance(current, int):
            parent[path[-1]] = draw(st.integers(min_value=0, max_value=max(8, current * 2)))
        else:
            parent[path[-1]] = draw(values if action == "random" else plausible)
    return doc


LOCATED = re.compile(r"(network\.yaml:\d+:\d+|overlays/[^ :]+)")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_sync_renders_or_fails_located_and_writes_nothing(template_network, cli, tmp_path, data):
    """Any edit of a real repository's network.yaml: sync exits 0 and the result passes
    check, or it exits 1 with a located message and the repository is exactly as before."""
    base = YAML(typ="safe", pure=True).load((template_network.repo / "network.yaml").read_text())
    doc = data.draw(edited_networks(base))
    ws = make_workspace(Path(tempfile.mkdtemp(dir=tmp_path)))
    shutil.copytree(template_network.repo, ws.repo, symlinks=True)
    shutil.copytree(template_network.home, ws.home, symlinks=True)
    (ws.repo / "network.yaml").write_text(_dump(doc), encoding="utf-8")
    before = snapshot(ws)

    run = cli(ws, "sync")

    assert run.returncode in (0, 1), run.stderr
    event(f"sync exit {run.returncode}")
    if run.returncode == 1:
        assert LOCATED.search(run.stderr), run.stderr
        assert snapshot(ws) == before, "a failed sync changed the repository"
        left = {p.name for p in (ws.repo / ".git" / "ethnet").iterdir()}
        assert left <= {"fingerprint"}, left
    else:
        checked = cli(ws, "check")
        assert checked.returncode == 0, checked.stderr
    shutil.rmtree(ws.root)
