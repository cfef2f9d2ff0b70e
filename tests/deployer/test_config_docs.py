"""docs/autostack-yml.md's key table is what the config models render today, every key is
described, and the renderer reads keys from the schema (so keys added to the models show up)."""

from __future__ import annotations

import pytest

from deployer import config_docs
from deployer.config import json_schema


def test_committed_key_table_is_current():
    committed = config_docs.DOC.read_text()
    assert config_docs.with_keys(committed, config_docs.current_keys()) == committed, (
        "docs/autostack-yml.md is stale: run `python -m deployer.config_docs`"
    )


def _keys(schema: dict, prefix: str = "") -> list[str]:
    defs = schema.get("$defs", {})
    found = []
    for name, node in schema.get("properties", {}).items():
        found.append(prefix + name)
        ref = node.get("$ref") or next((b["$ref"] for b in node.get("anyOf", []) if "$ref" in b), None)
        if ref:
            found += _keys({"$defs": defs, **defs[ref.rsplit("/", 1)[1]]}, f"{prefix}{name}.")
        item = node.get("items", {}).get("$ref") if node.get("type") == "array" else None
        if item:  # a list of mappings (apps:): its keys as name[].key
            found += _keys({"$defs": defs, **defs[item.rsplit("/", 1)[1]]}, f"{prefix}{name}[].")
    return found


def test_every_key_of_the_schema_has_a_described_row():
    table = config_docs.current_keys()
    rows = {line.split("`")[1]: line for line in table.splitlines() if line.startswith("| `")}
    keys = _keys(json_schema())
    assert "run.healthcheck.timeout" in keys and "previews.seed" in keys
    assert sorted(rows) == sorted(keys)
    undescribed = [key for key, line in rows.items() if not line.split(" | ")[3].strip(" |")]
    assert undescribed == [], "give these keys a description= in deployer/config.py"


SCHEMA = {
    "$defs": {
        "App": {
            "description": "One app of a monorepo",
            "properties": {
                "root": {"type": "string", "description": "Its folder."},
                "after": {"type": "array", "items": {"type": "string"}, "description": "Apps first."},
            },
            "type": "object",
        },
        "Deploy": {
            "properties": {
                "after": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}], "default": None}
            },
            "type": "object",
            "description": "When to deploy.",
        },
    },
    "properties": {
        "apps": {"type": "object", "additionalProperties": {"$ref": "#/$defs/App"}, "description": "Apps."},
        "deploy": {"$ref": "#/$defs/Deploy"},
        "mode": {"enum": ["a", "b"], "default": "a", "description": "Which."},
        "count": {"type": "integer", "minimum": 1, "maximum": 9, "description": "How many"},
    },
}


@pytest.mark.parametrize(
    "row",
    [
        "| `apps` | mapping of name → mapping | empty | Apps. |",
        "| `apps.<name>.root` | string | not set | Its folder. |",
        "| `apps.<name>.after` | list of string | not set | Apps first. |",
        "| `deploy` | mapping | not set | When to deploy. |",
        "| `deploy.after` | string | not set | Allowed: not empty. |",
        "| `mode` | `a` or `b` | `a` | Which. |",
        "| `count` | whole number | `3` | How many. Allowed: 1–9. |",
    ],
)
def test_keys_added_to_the_schema_are_rendered(row):
    rendered = config_docs.render_keys(SCHEMA, {"apps": {}, "count": 3})
    assert row in rendered.splitlines()


def test_lost_markers_are_an_error_naming_them():
    with pytest.raises(ValueError, match="has lost its markers"):
        config_docs.with_keys("# no markers here\n", "x")
