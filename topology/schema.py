"""A JSON Schema (draft 2020-12) for topology files, for editors (e.g. the YAML language
server: ``# yaml-language-server: $schema=wirelab-topology.json``).

It is generated from the models that validate the file (:class:`~topology.declared.LabFile`,
pydantic's ``model_json_schema``), so it follows them: stack options, kinds, apps and the
fault vocabulary included. The schema checks shape; the loader remains the authority on
meaning (references, addresses, subnet sizes).
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from topology.declared import LabFile

SCHEMA_ID = "https://wirelab.invalid/schema/topology-v1.json"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, with a mapping's key rules as ``propertyNames`` (pydantic writes
    a key pattern as ``patternProperties``, which lets keys of any other shape through, and
    drops an enum of keys)."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        out: JsonSchemaValue = {"type": "object"}
        keys = self.generate_inner(schema["keys_schema"]) if "keys_schema" in schema else {}
        keys = {k: v for k, v in keys.items() if k not in ("title", "type", "description")}
        values = (
            dict(self.generate_inner(schema["values_schema"])) if "values_schema" in schema else {}
        )
        values.pop("title", None)
        out["additionalProperties"] = values or True
        if keys:
            out["propertyNames"] = keys
        self.update_with_validations(out, schema, self.ValidationsMapping.object)
        return out


def json_schema() -> dict[str, Any]:
    """The topology file schema as a JSON-able dict."""
    schema = LabFile.model_json_schema(mode="validation", schema_generator=_Generator)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "wirelab topology",
        **{k: v for k, v in schema.items() if k != "title"},
    }
