"""The shipped JSON Schema: generated from the model, and agreeing with it on examples."""

from __future__ import annotations

import jsonschema
import pytest
from ruamel.yaml import YAML

from ethnet.spec.schema import network_schema, schema_text, shipped_schema_text
from tests.conftest import EXAMPLES, ROOT


def _yaml(text: str) -> object:
    return YAML(typ="safe").load(text)


def test_shipped_schema_is_what_the_model_generates():
    # Regenerate with: make schema
    assert shipped_schema_text() == schema_text(network_schema())


def test_shipped_schema_file_is_the_one_in_the_source_tree():
    source = ROOT / "generator" / "ethnet" / "spec" / "network.schema.json"
    assert source.read_text(encoding="utf-8") == shipped_schema_text()


@pytest.mark.parametrize(
    "example", sorted(EXAMPLES.glob("*/network.yaml")), ids=lambda p: p.parent.name
)
def test_examples_validate_against_the_schema(example):
    validator = jsonschema.Draft202012Validator(network_schema())
    validator.validate(_yaml(example.read_text()))


def test_schema_rejects_unknown_fields_as_the_loader_does():
    validator = jsonschema.Draft202012Validator(network_schema())
    document = _yaml((EXAMPLES / "besu-qbft" / "network.yaml").read_text())
    document["spec"]["components"]["blockscot"] = True

    errors = list(validator.iter_errors(document))

    assert len(errors) == 1
    assert "blockscot" in errors[0].message
