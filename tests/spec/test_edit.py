"""Editing network.yaml by program keeps comments and layout, and refuses invalid results."""

from __future__ import annotations

import pytest

from ethnet.errors import SpecError
from ethnet.spec.edit import get_field, set_field
from tests.conftest import EXAMPLES

TEXT = (EXAMPLES / "besu-qbft" / "network.yaml").read_text()


def test_setting_a_field_changes_only_that_line():
    edited = set_field(TEXT, ("spec", "nodes", "validators"), 5)

    before, after = TEXT.splitlines(), edited.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("    validators: 4", "    validators: 5")]


def test_comments_survive_and_new_sections_are_added_in_place():
    edited = set_field(TEXT, ("spec", "environments", "prod", "nodes", "validators"), 7)

    for line in TEXT.splitlines():
        if "#" in line:
            assert line in edited.splitlines()
    assert get_field(edited, ("spec", "environments", "prod", "nodes", "validators")) == 7
    assert get_field(edited, ("spec", "environments", "prod", "chainId")) == 1337003
    assert get_field(edited, ("spec", "no", "such")) is None


def test_an_edit_that_breaks_the_network_is_refused():
    with pytest.raises(SpecError, match="must be a positive integer"):
        set_field(TEXT, ("spec", "nodes", "validators"), 0)
