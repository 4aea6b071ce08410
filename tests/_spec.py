"""The two proofs that a value is valid: Letta's OpenAPI document, and the official SDK's types in strict mode.

``validate_against_spec`` validates against a schema of ``shared/spec/letta-openapi.json`` (the whole document is
the resource, so every ``$ref`` resolves) the way OpenAPI means it, which plain JSON Schema does not:

* a ``oneOf`` with a ``discriminator`` picks its member by the discriminator's mapping (and requires the
  property), instead of "exactly one member matches";
* ``message_type`` is required on every message-like schema that declares it (the document marks it optional
  on most, the server always sends it);
* ``format: date-time`` is checked.

``parse_in_sdk`` parses JSON as ``letta-client`` does with ``_strict_response_validation=True``
(``letta_client._models.validate_type``) and checks the SDK picked the class named like ours.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

__all__ = ["SPEC_PATH", "parse_in_sdk", "validate_against_spec"]

# CI clones the repository with `shared/` beside it.
SPEC_PATH = Path(__file__).resolve().parents[1].parent / "shared/spec/letta-openapi.json"
_BASE = "urn:letta-openapi"


def _discriminated(node: dict[str, Any]) -> dict[str, Any]:
    """``oneOf`` + ``discriminator`` as JSON Schema: the property is required and its value picks the member."""
    discriminator = node["discriminator"]
    prop = discriminator["propertyName"]
    mapping: dict[str, str] = discriminator.get("mapping") or {
        member["$ref"].rsplit("/", 1)[1]: member["$ref"] for member in node["oneOf"]
    }
    rest = {key: value for key, value in node.items() if key not in ("oneOf", "discriminator")}
    return {
        **rest,
        "type": "object",
        "required": [prop],
        "properties": {prop: {"enum": sorted(mapping)}},
        "allOf": [
            {"if": {"properties": {prop: {"const": value}}}, "then": {"$ref": _BASE + ref}}
            for value, ref in mapping.items()
        ],
    }


def _rewrite(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _rewrite(value) for key, value in node.items()}
    if "discriminator" in node and "oneOf" in node:
        return _discriminated(node)
    return node


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    document["components"] = _rewrite(document["components"])
    return document


@cache
def _validator(schema_name: str) -> jsonschema_rs.Validator:
    document = _document()
    schemas = document["components"]["schemas"]
    if schema_name not in schemas:
        raise KeyError(f"no schema {schema_name!r} in {SPEC_PATH.name}")
    schema: dict[str, Any] = {"$ref": f"{_BASE}#/components/schemas/{schema_name}"}
    if "message_type" in schemas[schema_name].get("properties", {}):
        schema = {"allOf": [schema], "required": ["message_type"]}
    registry = jsonschema_rs.Registry([(_BASE, document)])
    return jsonschema_rs.Draft202012Validator(schema, registry=registry, validate_formats=True)


def validate_against_spec(schema_name: str, instance: Any) -> None:
    """Raise ``AssertionError`` listing how ``instance`` (JSON data) breaks ``components.schemas[schema_name]``."""
    errors = list(_validator(schema_name).iter_errors(instance))
    if errors:
        text = json.dumps(instance, ensure_ascii=False)
        shown = text if len(text) <= 600 else text[:600] + "…"
        problems = "\n".join(f"  at /{'/'.join(map(str, e.instance_path))}: {e.message[:300]}" for e in errors[:8])
        raise AssertionError(f"not a valid {schema_name} ({len(errors)} errors):\n{problems}\ninstance: {shown}")


# --- the SDK -----------------------------------------------------------------------------------------------------

_SDK_TYPES = {
    "LettaMessageUnion": ("letta_client.types.agents", "Message"),
    "LettaStreamingResponse": ("letta_client.types.agents", "LettaStreamingResponse"),
    "LettaResponse": ("letta_client.types.agents", "LettaResponse"),
    "Run": ("letta_client.types.agents", "Run"),
}


def parse_in_sdk(kind: str, data: Any, *, expected_class: str | None = None) -> Any:
    """Parse ``data`` as the SDK's ``kind`` type with strict response validation; check the class it picked."""
    import importlib

    from letta_client._models import validate_type

    module, name = _SDK_TYPES[kind]
    parsed = validate_type(type_=getattr(importlib.import_module(module), name), value=data)
    if expected_class is not None and type(parsed).__name__ != expected_class:
        raise AssertionError(f"the SDK parsed {expected_class} data as {type(parsed).__name__}: {data}")
    return parsed
