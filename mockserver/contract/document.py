"""An OpenAPI document as a contract: validate JSON bodies and stream events against it, the way clients read it.

Three things an OpenAPI document does not say on its own are made explicit:

* a ``oneOf`` with a ``discriminator`` picks its member by the discriminator (which is then required) and the
  value is validated against that member only, as the SDKs read it — a plain ``oneOf`` rejects valid objects
  that happen to fit two members and says nothing useful when one fails;
* ``message_type`` is required on every schema that declares it with a ``const``, although Letta's document marks
  it optional: the server always sends it and both SDKs dispatch on it (wire doc §0 rule 6, §2);
* ``format: date-time`` is checked.

Works with Letta's document (OpenAPI 3.1) and with ours (3.2, ``GET /openapi.json``:
``Contract(mockserver.openapi.openapi_document())``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Contract", "Problem"]

_BASE = "urn:letta-mock:openapi"  # the document is registered under this URI so "#/components/..." refs resolve
# Streamed by the server with include_compaction_messages, absent from LettaStreamingResponse (wire doc §17.4).
COMPACTION_EVENTS = {"summary_message": "SummaryMessage", "event_message": "EventMessage"}
# The real server writes these null in error events (wire doc §2.2) where Letta's document types them non-null.
NULL_IN_PRACTICE = ("detail", "seq_id")


@dataclass(frozen=True)
class Problem:
    """One way a value breaks the contract: where (a JSON pointer into the value) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"at {self.path or '/'}: {self.message}"


class Contract:
    """Validators for the components and operations of one OpenAPI document."""

    def __init__(self, document: dict[str, Any], *, source: str = "<document>") -> None:
        self.document = document
        self.source = source
        self._validators: dict[str, Any] = {}
        self._registry: Any = None
        paths: dict[str, Any] = document.get("paths", {})
        templates = []
        for template in paths:
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            templates.append((re.compile(f"^{pattern}$"), template, template.count("{")))
        # A literal segment beats a parameter: a path with fewer parameters is tried first.
        self._templates = sorted(templates, key=lambda entry: entry[2])

    @classmethod
    def load(cls, source: str | Path) -> Contract:
        """The document at a file path or an ``http(s)://`` URL."""
        text = str(source)
        if text.startswith(("http://", "https://")):
            import httpx

            response = httpx.get(text, timeout=30, follow_redirects=True)
            response.raise_for_status()
            return cls(response.json(), source=text)
        return cls(json.loads(Path(source).read_text()), source=text)

    # -- schemas ------------------------------------------------------------------------------------------------

    def has(self, component: str) -> bool:
        return component in self.document.get("components", {}).get("schemas", {})

    def validate(self, schema: dict[str, Any] | str, instance: Any) -> list[Problem]:
        """Problems of ``instance`` against a component (by name) or a schema taken from the document."""
        if isinstance(schema, str):
            schema = {"$ref": f"#/components/schemas/{schema}"}
        validator = self._validator(schema)
        return [
            Problem("/" + "/".join(map(str, error.instance_path)), error.message)
            for error in validator.iter_errors(instance)
        ]

    def validate_event(
        self,
        event: Any,
        *,
        error_event: bool = False,
        compaction_events: bool = False,
        null_error_fields: bool = False,
    ) -> list[Problem]:
        """One decoded stream event: the member of ``LettaStreamingResponse`` its ``message_type`` names, or
        ``LettaErrorMessage`` for the data of an ``event: error`` (and error messages come only that way).

        ``compaction_events`` also admits ``summary_message``/``event_message``, which the server streams with
        ``include_compaction_messages`` though the union lacks them; ``null_error_fields`` admits the server's
        null ``detail``/``seq_id`` in error events.
        """
        if not isinstance(event, dict):
            return [Problem("", f"a stream event is not a JSON object: {event!r}")]
        message_type = event.get("message_type")
        if message_type is None:
            return [Problem("", "a stream event without message_type")]
        if error_event != (message_type == "error_message"):
            return [Problem("/message_type", "error_message must come as (and only as) `event: error`")]
        if error_event:
            if null_error_fields:
                event = {k: v for k, v in event.items() if not (k in NULL_IN_PRACTICE and v is None)}
            return self.validate("LettaErrorMessage", event)
        if compaction_events and message_type in COMPACTION_EVENTS:
            return self.validate(COMPACTION_EVENTS[message_type], event)
        return self.validate("LettaStreamingResponse", event)

    def _validator(self, schema: dict[str, Any]) -> Any:
        import jsonschema_rs

        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            if self._registry is None:
                components = _rewrite({"components": self.document.get("components", {})}, self.document)
                self._registry = jsonschema_rs.Registry([(_BASE, components)])
            rewritten = _rewrite(copy.deepcopy(schema), self.document)
            validator = jsonschema_rs.validator_for(rewritten, registry=self._registry, validate_formats=True)
            self._validators[key] = validator
        return validator

    # -- operations ---------------------------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> str | None:
        """The document's path template for a concrete request path, or None if it has no such operation."""
        paths = self.document.get("paths", {})
        for pattern, template, _ in self._templates:
            if pattern.match(path) and method.lower() in paths[template]:
                return template
        return None

    def response(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        """The document's response object for (method, template, status), if it lists one."""
        responses: dict[str, Any] = self.document["paths"][template][method.lower()].get("responses", {})
        found: dict[str, Any] | None = (
            responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
        )
        return found

    def json_schema(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        spec = self.response(method, template, status)
        if spec is None:
            return None
        schema: dict[str, Any] | None = spec.get("content", {}).get("application/json", {}).get("schema")
        return schema

    def operations(self) -> Sequence[tuple[str, str, dict[str, Any]]]:
        """Every (method, template, operation) of the document."""
        return [
            (method.upper(), template, operation)
            for template, item in self.document.get("paths", {}).items()
            for method, operation in item.items()
            if isinstance(operation, dict) and "responses" in operation
        ]


def _rewrite(node: Any, document: dict[str, Any]) -> Any:
    """A schema with absolute refs, discriminator-aware unions and ``message_type`` required."""
    if isinstance(node, list):
        return [_rewrite(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value, document) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = _BASE + ref
    if "discriminator" in out and "oneOf" in out:
        out = _discriminated(out, document)
    properties = out.get("properties")
    if isinstance(properties, dict) and "const" in (properties.get("message_type") or {}):
        out["required"] = sorted({*out.get("required", []), "message_type"})
    return out


def _discriminated(union: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI: the discriminator property must be present and names the member to validate against.
    name = union["discriminator"]["propertyName"]
    mapping: dict[str, str] = dict(union["discriminator"].get("mapping", {}))
    if not mapping:
        for member in union["oneOf"]:
            if "$ref" not in member:
                continue
            target = _resolve(member["$ref"].removeprefix(_BASE), document)
            value = target.get("properties", {}).get(name, {}).get("const")
            if value is not None:
                mapping[value] = member["$ref"]
    mapping = {value: (ref if ref.startswith(_BASE) else _BASE + ref) for value, ref in mapping.items()}
    rest = {k: v for k, v in union.items() if k not in ("oneOf", "discriminator")}
    return {
        **rest,
        "type": "object",
        "required": sorted({*rest.get("required", []), name}),
        "properties": {**rest.get("properties", {}), name: {"enum": sorted(mapping)}},
        "allOf": [
            *rest.get("allOf", []),
            *(
                {"if": {"properties": {name: {"const": value}}, "required": [name]}, "then": {"$ref": ref}}
                for value, ref in sorted(mapping.items())
            ),
        ],
    }


def _resolve(ref: str, document: dict[str, Any]) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    result: dict[str, Any] = node
    return result
