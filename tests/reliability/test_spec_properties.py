"""Property tests over network.yaml: documents built from the valid example by replacing,
adding and deleting keys at any depth either load or fail with a SpecError whose every
problem has a line and column; through the CLI the exit code is 0 or 1, never 2 or a
traceback."""

from __future__ import annotations

import contextlib
import copy
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ethnet.cli import main
from ethnet.errors import SpecError
from ethnet.spec.loader import parse_network
from tests.conftest import EXAMPLES

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
