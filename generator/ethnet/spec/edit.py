"""Editing network.yaml by program, keeping people's comments and layout (ruamel round trip).

Each edit loads the file, changes one field, checks that the result is still a valid
network, and returns the new text; the caller writes it. Nothing here touches the disk.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ethnet.errors import EthnetError
from ethnet.spec.loader import LoadedNetwork, parse_network


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def load_document(text: str) -> CommentedMap:
    document = _yaml().load(text)
    if not isinstance(document, CommentedMap):
        raise EthnetError("network.yaml is not a mapping")
    return document


def dump_document(document: CommentedMap) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    return stream.getvalue()


def set_field(text: str, path: tuple[str, ...], value: Any) -> str:
    """``text`` with the field at ``path`` set to ``value`` (intermediate mappings are
    created, placed after the existing keys); refuses a result that is not a valid network."""
    document = load_document(text)
    node: CommentedMap = document
    for step in path[:-1]:
        child = node.get(step)
        if child is None:
            child = CommentedMap()
            node[step] = child
        if not isinstance(child, CommentedMap):
            raise EthnetError(f"network.yaml: {'.'.join(path)}: {step} is not a mapping")
        node = child
    node[path[-1]] = value
    new_text = dump_document(document)
    validate(new_text)
    return new_text


def get_field(text: str, path: tuple[str, ...]) -> Any:
    """The value at ``path``, or None when a step is missing."""
    node: Any = load_document(text)
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return node


def validate(text: str) -> LoadedNetwork:
    """The edited network, or the spec errors the edit would introduce."""
    return parse_network(text)
