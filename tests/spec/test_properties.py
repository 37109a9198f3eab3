"""Property tests: any network.yaml either loads or fails with located SpecError problems."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ethnet.errors import SpecError
from ethnet.spec.loader import parse_network
from tests.conftest import EXAMPLES

BASE = YAML(typ="safe").load((EXAMPLES / "besu-qbft" / "network.yaml").read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.sampled_from(["0x", "1 ether", "latest", "dev", "besu-qbft", "yes", "a" * 70]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _dump(document) -> str:
    import io

    stream = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(document, stream)
    return stream.getvalue()


def _replace(document, path, value):
    import copy

    result = copy.deepcopy(document)
    node = result
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(ALL_PATHS), value=values)
def test_any_mutation_loads_or_fails_with_located_problems(path, value):
    text = _dump(_replace(BASE, path, value))
    try:
        parse_network(text)
    except SpecError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.location is not None and problem.location.line is not None
            assert problem.message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_but_spec_error(text):
    try:
        parse_network(text)
    except SpecError as exc:
        assert exc.problems
