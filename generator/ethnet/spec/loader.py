"""Loading network.yaml: YAML with positions, then the model, then the cross-field rules.

Every problem is reported at once, each as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from ethnet.errors import Location, Problem, SpecError
from ethnet.spec import rules
from ethnet.spec.model import Network

# A network.yaml is a few kilobytes; refusing big files early keeps a bad input cheap.
MAX_SPEC_BYTES = 1024 * 1024
# network.yaml is about six levels deep; refusing deep nesting early keeps the YAML
# library's recursion (and its run time) bounded.
MAX_DEPTH = 32
FILENAME = "network.yaml"

LocPath = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedNetwork:
    """A validated network and the warnings found on the way."""

    network: Network
    warnings: tuple[Problem, ...]
    source: str


def load_network(path: Path) -> LoadedNetwork:
    """Read and validate a network.yaml file; raise ``SpecError`` with every problem."""
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise _single(shown, f"file is {size} bytes; a network.yaml is at most 1 MiB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise _single(
            shown, "file not found", "run from the network repository, or pass -C DIR"
        ) from None
    except IsADirectoryError:
        raise _single(shown, "is a directory, not a network.yaml file") from None
    except PermissionError:
        raise _single(shown, "permission denied") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _single(shown, f"not UTF-8 text (byte {exc.start})") from None
    return parse_network(text, shown)


def parse_network(text: str, filename: str = FILENAME) -> LoadedNetwork:
    """Validate network.yaml text; pure, so tests and other tools can call it directly."""
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise _single(filename, "document is over 1 MiB; a network.yaml is a few kilobytes")
    tree = _parse_yaml(text, filename)
    try:
        network = Network.model_validate(_plain(tree))
    except ValidationError as exc:
        problems = [_problem_from_pydantic(err, tree, filename) for err in exc.errors()]
        raise SpecError(problems) from None
    findings = rules.check(network)
    errors = [_problem(f, tree, filename) for f in findings if f.severity == "error"]
    if errors:
        raise SpecError(errors)
    warnings = [_problem(f, tree, filename) for f in findings if f.severity == "warning"]
    return LoadedNetwork(network, tuple(sorted(warnings, key=_order)), filename)


def _single(filename: str, message: str, hint: str | None = None) -> SpecError:
    return SpecError([Problem(Location(filename), "", message, hint)])


def _parse_yaml(text: str, filename: str) -> CommentedMap:
    yaml = YAML(typ="rt")
    try:
        depth = 0
        for event in yaml.parse(text):
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise SpecError(
                        [
                            Problem(
                                Location(filename, mark.line + 1, mark.column + 1),
                                "",
                                f"nested deeper than {MAX_DEPTH} levels",
                                "a network.yaml is a few levels deep",
                            )
                        ]
                    )
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
            if isinstance(event, AliasEvent):
                mark = event.start_mark
                raise SpecError(
                    [
                        Problem(
                            Location(filename, mark.line + 1, mark.column + 1),
                            "",
                            "YAML aliases (*name) and merge keys are not allowed here",
                            "write the values out: network.yaml is reviewed by people",
                        )
                    ]
                )
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(filename, mark.line + 1, mark.column + 1) if mark else None
        problem = " ".join(str(part) for part in (exc.problem or exc.context,) if part)
        raise SpecError([Problem(location, "", f"invalid YAML: {problem}")]) from None
    except ReaderError as exc:
        position = int(exc.position)
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        raise SpecError(
            [
                Problem(
                    Location(filename, line, column),
                    "",
                    f"invalid YAML: {character} is not allowed in YAML text",
                )
            ]
        ) from None
    except YAMLError as exc:
        raise SpecError([Problem(Location(filename), "", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise SpecError(
            [Problem(Location(filename, 1, 1), "", "nested too deeply to read")]
        ) from None
    if not isinstance(tree, CommentedMap):
        raise SpecError(
            [
                Problem(
                    Location(filename, 1, 1),
                    "",
                    "expected a mapping with apiVersion, kind, metadata and spec",
                    "start from the network.yaml that `ethnet new` writes",
                )
            ]
        )
    return tree


def _plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain Python values."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


# --- locating -------------------------------------------------------------------------------


def _locate(tree: CommentedMap, path: LocPath, filename: str, *, at_key: bool) -> Location:
    """File position of the value at ``path`` (or its key); the nearest existing ancestor
    when the path does not exist (a missing field points at its parent's key)."""
    node: Any = tree
    position = (0, 0)
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, CommentedMap) and step in node:
            # a collection is pointed at by its key; a scalar by its value
            child = node[step]
            keyed = at_key or not last or isinstance(child, CommentedMap | CommentedSeq)
            position = node.lc.key(step) if keyed else node.lc.value(step)
            node = child
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node):
            position = node.lc.item(step)
            node = node[step]
        else:
            break
    line, column = position
    return Location(filename, line + 1, column + 1)


def _path_text(path: Sequence[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _problem(finding: rules.Finding, tree: CommentedMap, filename: str) -> Problem:
    location = _locate(tree, finding.path, filename, at_key=False)
    message = finding.message if finding.severity == "error" else f"warning: {finding.message}"
    return Problem(location, _path_text(finding.path), message, finding.hint)


def _order(problem: Problem) -> tuple[int, int]:
    loc = problem.location
    return ((loc.line or 0), (loc.column or 0)) if loc else (0, 0)


# --- pydantic errors as messages people read --------------------------------------------------


def _problem_from_pydantic(err: ErrorDetails, tree: CommentedMap, filename: str) -> Problem:
    loc: LocPath = tuple(err["loc"])
    kind = err["type"]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    at_key = is_key or kind == "extra_forbidden"
    location = _locate(tree, loc, filename, at_key=at_key)
    message, hint = _describe(err, loc)
    if is_key:
        message = f"key {message}"
    return Problem(location, _path_text(loc), message, hint)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(err: ErrorDetails, loc: LocPath) -> tuple[str, str | None]:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "ethnet":
        return err["msg"], None
    if kind == "missing":
        return "is required", None
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        return f"unknown field {loc[-1]!r}", _did_you_mean(str(loc[-1]), allowed)
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [choice.strip(" '") for choice in expected.replace(" or ", ",").split(",")]
        hint = _did_you_mean(str(value), choices) if isinstance(value, str) else None
        return f"must be one of {expected}, got {_shown(value)}", hint
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be an integer, got {_shown(value)}", None
    if kind == "greater_than_equal":
        bound = ctx.get("ge")
        if bound == 1:
            return f"must be a positive integer, got {_shown(value)}", None
        if bound == 0:
            return f"must not be negative, got {_shown(value)}", None
        return f"must be at least {bound}, got {_shown(value)}", None
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {_shown(value)}", None
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false, got {_shown(value)}", None
    if kind == "string_type":
        return f"must be a string, got {_shown(value)}", "quote the value"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a mapping, got {_shown(value)}", None
    if kind == "list_type":
        return f"must be a list, got {_shown(value)}", None
    if kind == "too_short":
        return "must have at least one entry", None
    return str(err["msg"]), None


def _did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"expected one of: {', '.join(choices)}" if choices else None


def _allowed_fields(path: LocPath) -> list[str]:
    """Field names (YAML spelling) of the model at ``path`` inside a Network."""
    annotation: Any = Network
    for step in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next(
                (f for name, f in annotation.model_fields.items() if (f.alias or name) == step),
                None,
            )
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the one type inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
