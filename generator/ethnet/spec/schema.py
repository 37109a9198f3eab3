"""The JSON Schema of network.yaml, generated from the model so the two cannot drift.

The package ships the generated file (``network.schema.json``) so editors can point at it;
a test fails if it differs from what the model generates.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ethnet.spec.model import Network

SCHEMA_FILE = "network.schema.json"
SCHEMA_ID = "https://ethnet.invalid/schemas/network.schema.json"


def network_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a network.yaml document."""
    schema = Network.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ethnet network.yaml",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def schema_text(schema: dict[str, Any]) -> str:
    """Stable text of a schema: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def shipped_schema_text() -> str:
    """The schema file inside the installed package."""
    return resources.files("ethnet.spec").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
