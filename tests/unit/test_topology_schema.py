"""The exported JSON Schema (generated from the pydantic models that validate the file):
well-formed, described, accepts every example and the README's sample, rejects what the
loader rejects structurally. Checked with the `jsonschema` package and with a small
validator for the subset the schema uses (so the subset stays small)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from topology import StackOptions, load_file, load_text
from topology.schema import json_schema

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "topology" / "examples").glob("*.yaml"))
README = Path(__file__).resolve().parents[2] / "topology" / "README.md"
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "title", "description", "default", "type", "properties",
    "additionalProperties", "required", "propertyNames", "minProperties", "items", "minItems",
    "maxItems", "enum", "const", "pattern", "minimum", "exclusiveMinimum", "maximum", "anyOf",
    "oneOf", "if", "then",
}  # fmt: skip
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(schema: dict[str, Any], value: Any, root: dict[str, Any], path: str = "") -> list[str]:
    """A minimal draft 2020-12 validator for the keywords in KEYWORDS."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return errors(target, value, root, path)
    out: list[str] = []
    if "type" in schema and not TYPES[schema["type"]](value):
        return [f"{path}: not {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} != const")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{path}: {value!r} does not match")
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: below minimum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{path}: not above the exclusive minimum")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: above maximum")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e9):
            out.append(f"{path}: bad length")
        for i, item in enumerate(value):
            if "items" in schema:
                out += errors(schema["items"], item, root, f"{path}[{i}]")
    if isinstance(value, dict):
        out += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        if len(value) < schema.get("minProperties", 0):
            out.append(f"{path}: too few properties")
        for key, item in value.items():
            if "propertyNames" in schema:
                out += errors(schema["propertyNames"], key, root, f"{path}.{key}(name)")
            if key in schema.get("properties", {}):
                out += errors(schema["properties"][key], item, root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unexpected {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(schema["additionalProperties"], item, root, f"{path}.{key}")
    if "if" in schema and not errors(schema["if"], value, root, path):
        out += errors(schema.get("then", {}), value, root, path)
    if "anyOf" in schema and all(errors(s, value, root, path) for s in schema["anyOf"]):
        out.append(f"{path}: matches no anyOf branch")
    if "oneOf" in schema:
        matching = sum(not errors(s, value, root, path) for s in schema["oneOf"])
        if matching != 1:
            out.append(f"{path}: matches {matching} oneOf branches")
    return out


def used_keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= used_keywords(sub)
            else:
                found |= used_keywords(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= used_keywords(item)
    return found


def validators() -> list[Any]:
    """(name, function(value) -> error list) for jsonschema and the mini validator."""
    schema = json_schema()
    checker = jsonschema.Draft202012Validator(schema)
    return [
        pytest.param(lambda v: [e.message for e in checker.iter_errors(v)], id="jsonschema"),
        pytest.param(lambda v: errors(schema, v, schema), id="mini"),
    ]


def test_schema_is_json_and_uses_only_known_keywords() -> None:
    schema = json.loads(json.dumps(json_schema()))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "wirelab topology"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert used_keywords(schema) <= KEYWORDS  # so the mini validator covers it all


def test_every_field_has_a_description() -> None:
    schema = json_schema()
    objects = [schema, *schema["$defs"].values()]
    for obj in objects:
        assert obj.get("description"), obj.get("title")
        for name, prop in obj.get("properties", {}).items():
            assert prop.get("description"), f"{obj.get('title')}.{name}"


def test_stack_options_come_from_the_model() -> None:
    for model in ("NodeFile", "DefaultsFile"):
        props = json_schema()["$defs"][model]["properties"]
        for name in StackOptions.option_names():
            assert name in props
            assert "default" in props[name]["description"]
        assert props["congestion_control"]["enum"] == ["cubic", "reno"]
        assert props["syn_retries"]["maximum"] == 127


@pytest.mark.parametrize("check", validators())
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates_against_the_schema(check: Any, path: Path) -> None:
    load_file(path)  # and the loader agrees
    assert check(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("check", validators())
def test_the_readme_sample_validates_against_the_schema(check: Any) -> None:
    match = re.search(r"```yaml\n(.*?)```", README.read_text(), re.S)
    assert match is not None
    assert check(yaml.safe_load(match.group(1))) == []


BAD = [
    "name: t\nnodes:\n  h1: {kind: hots}\n",
    "name: t\nnodes:\n  h1: {knd: host}\n",
    "name: t\nnodes: {}\n",
    "nodes:\n  h1: {kind: host}\n",
    "name: t\nnodes:\n  h1: {kind: host, apps: [ftp:21]}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nlinks:\n  - endpoints: [h1, h2, h3]\n",
    "name: t\nnodes:\n  h1: {kind: host}\nlinks:\n  - {endpoints: [h1, h2], subnet: 10.0.0.0/33}\n",
    "name: t\nnodes:\n  h1: {kind: host, congestion_control: vegas}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {node: h1, link: x, loss: 0.1}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {node: h1, loss: 1.5}\n",
    "name: t\nnodes:\n  r1: {kind: router, forward: true}\n",
    "name: t\nnodes:\n  lx: {kind: linux, forward: 'yes'}\n",
    "name: t\nnodes:\n  1h: {kind: host}\n",
    "name: t\nnodes:\n  h1: {kind: host, apps: {ftp: 21}}\n",
    "name: t\nnodes:\n  h1: {kind: host, msl: 'forever'}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {node: h1, rate: 10mbps}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {node: h1, delay: -5}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {loss: 0.1}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nfaults:\n  - {node: h1, ge: {p: 0.1}}\n",
    "name: t\nnodes:\n  h1: {kind: host}\nlinks:\n  - endpoints: [h1, {nod: h2}]\n",
]


@pytest.mark.parametrize("check", validators())
def test_schema_accepts_forward_on_linux_nodes(check: Any) -> None:
    assert check(yaml.safe_load("name: t\nnodes:\n  lx: {kind: linux, forward: true}\n")) == []
    assert check(yaml.safe_load("name: t\nnodes:\n  lx: {kind: linux, forward: false}\n")) == []
    node = json_schema()["$defs"]["NodeFile"]["properties"]
    assert node["forward"]["type"] == "boolean" and "linux" in node["forward"]["description"]


@pytest.mark.parametrize("check", validators())
@pytest.mark.parametrize("text", BAD)
def test_schema_rejects_structural_mistakes(check: Any, text: str) -> None:
    assert check(yaml.safe_load(text)) != []


@pytest.mark.parametrize("check", validators())
def test_the_unit_notations_the_loader_reads_are_in_the_schema(check: Any) -> None:
    durations = ["20ms", "1.5s", "200us", "2m", "1h", "20 MS", "3", "500msec", 0.5, 30]
    rates = ["10mbit", "512kbit", "1gbit", "100bit", "10Mbit/s", "10Mb/s", "1kibit", 64000]
    for msl in durations:
        text = f"name: t\nnodes:\n  h1: {{kind: host, msl: {msl}}}\n"
        load_text(text)
        assert check(yaml.safe_load(text)) == [], msl
    for rate in rates:
        text = f"name: t\nnodes:\n  h1: {{kind: host}}\nfaults:\n  - {{node: h1, rate: {rate}}}\n"
        load_text(text)
        assert check(yaml.safe_load(text)) == [], rate
