"""Checks every response against Letta's OpenAPI document, the contract (../shared/spec/letta-openapi.json).

Three things the document does not say on its own are made explicit here:

* Discriminated unions (``oneOf`` + ``discriminator``) are checked the way the SDKs read them: the member is
  picked by the discriminator value and the object is validated against that member only. A plain ``oneOf``
  would reject valid objects that happen to fit two members (``LettaUsageStatistics`` has no required field, so
  it fits almost anything) and say nothing useful when one fails.
* ``message_type`` is required on every message and stream event, although the document marks it optional:
  the server always sends it and both SDKs dispatch on it (wire doc §0 rule 6, §2).
* ``text/event-stream`` responses carry no schema in the document; every ``data:`` event is validated against
  ``LettaStreamingResponse``, an ``event: error`` against ``LettaErrorMessage``, and the framing is Letta's
  (wire doc §0 rule 1, §6.1): ``data: <json>\\n\\n`` per event, ``[DONE]`` only as the last event.

Statuses the document does not list for an operation (Letta documents only 200 and 422) must still be Letta's
error shape ``{"detail": ...}`` (wire doc §15.1). A 5xx is always a violation: the mock never fails.

``ContractChecker.sync_hook`` / ``async_hook`` plug into ``httpx`` as response event hooks, so every response an
SDK test receives is checked before the SDK sees it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs

__all__ = [
    "SPEC_PATH",
    "ContractChecker",
    "ContractViolation",
    "check_sse_body",
    "operation_template",
    "schema_validator",
    "validate_json_body",
    "validate_stream_event",
]

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/spec/letta-openapi.json"
_BASE = "urn:letta-openapi"  # the document is registered under this URI so "#/components/..." refs resolve


class ContractViolation(BaseException):
    """A response broke the contract.

    A ``BaseException`` on purpose: the SDKs turn any ``Exception`` raised while sending (event hooks included)
    into a retried ``APIConnectionError``, which would hide the violation behind a connection error.
    """


# -- the document ---------------------------------------------------------------------------------------------


@cache
def _document() -> dict[str, Any]:
    with SPEC_PATH.open() as spec:
        document: dict[str, Any] = json.load(spec)
    return document


def _rewrite(node: Any) -> Any:
    """The document with absolute refs, discriminator-aware unions and ``message_type`` required."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = _BASE + ref
    if "discriminator" in out and "oneOf" in out:
        out = _discriminated(out)
    properties = out.get("properties")
    if isinstance(properties, dict) and "const" in properties.get("message_type", {}):
        out["required"] = sorted({*out.get("required", []), "message_type"})
    return out


def _discriminated(union: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI: the discriminator property must be present and names the member to validate against.
    name = union["discriminator"]["propertyName"]
    mapping: dict[str, str] = dict(union["discriminator"].get("mapping", {}))
    if not mapping:
        for member in union["oneOf"]:
            target = _resolve(member["$ref"])
            value = target.get("properties", {}).get(name, {}).get("const")
            if value is not None:
                mapping[value] = member["$ref"]
    mapping = {value: (ref if ref.startswith(_BASE) else _BASE + ref) for value, ref in mapping.items()}
    rest = {k: v for k, v in union.items() if k not in ("oneOf", "discriminator")}
    return {
        **rest,
        "type": "object",
        "required": [name],
        "properties": {name: {"enum": sorted(mapping)}},
        "allOf": [
            {"if": {"properties": {name: {"const": value}}, "required": [name]}, "then": {"$ref": ref}}
            for value, ref in sorted(mapping.items())
        ],
    }


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = _document()
    for part in ref.removeprefix(_BASE).removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    result: dict[str, Any] = node
    return result


@cache
def _registry() -> jsonschema_rs.Registry:
    # Only the components are needed to resolve refs; the paths are read directly by operation_template.
    return jsonschema_rs.Registry([(_BASE, _rewrite({"components": _document()["components"]}))])


_validators: dict[str, jsonschema_rs.Validator] = {}


def schema_validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A compiled validator for a schema taken from the document (refs resolve against the whole document)."""
    key = json.dumps(schema, sort_keys=True)
    validator = _validators.get(key)
    if validator is None:
        validator = jsonschema_rs.validator_for(
            _rewrite(copy.deepcopy(schema)), registry=_registry(), validate_formats=True
        )
        _validators[key] = validator
    return validator


def _component(name: str) -> jsonschema_rs.Validator:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def _errors(validator: jsonschema_rs.Validator, instance: Any) -> list[str]:
    return [
        f"at /{'/'.join(map(str, error.instance_path))}: {error.message}" for error in validator.iter_errors(instance)
    ]


# -- operations -----------------------------------------------------------------------------------------------


@cache
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    templates = []
    for template in _document()["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        templates.append((re.compile(f"^{pattern}$"), template, template.count("{")))
    # A literal segment beats a parameter: /v1/messages/search before /v1/messages/{message_id}.
    return sorted(templates, key=lambda entry: entry[2])


def operation_template(method: str, path: str) -> str | None:
    """The document's path template for a concrete request path, or None if the document has no such operation."""
    for pattern, template, _ in _templates():
        if pattern.match(path) and method.lower() in _document()["paths"][template]:
            return template
    return None


def _response_spec(method: str, template: str, status: int) -> dict[str, Any] | None:
    responses: dict[str, Any] = _document()["paths"][template][method.lower()]["responses"]
    return responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")


def validate_json_body(method: str, template: str, status: int, body: Any, *, fidelity: str = "contract") -> None:
    """Check a JSON body against the response schema of (method, path template, status).

    Statuses the document does not list must carry Letta's ``{"detail": ...}`` error shape. With
    ``fidelity="server"`` a 422 is the real server's ``{"trace_id": "", "detail": "<repr>"}`` (wire doc §15.2).
    """
    where = f"{method} {template} -> {status}"
    if status >= 500:
        raise ContractViolation(f"{where}: the mock answered with a server error: {body!r}")
    if status == 422 and fidelity == "server":
        # Validation errors: {"trace_id": "", "detail": "<repr>"[, "examples"]}; route checks: {"detail": "<text>"}.
        keys = set(body) if isinstance(body, dict) else set()
        shaped = keys in ({"detail"}, {"trace_id", "detail"}, {"trace_id", "detail", "examples"})
        if not (shaped and isinstance(body["detail"], str) and body.get("trace_id", "") == ""):
            raise ContractViolation(
                f"{where}: not a server 422 ({{trace_id, detail: str}} or {{detail: str}}): {body!r}"
            )
        return
    if fidelity == "server" and template.endswith("/runs/{run_id}") and isinstance(body, dict):
        # The real server writes these two without a timezone (wire doc §1.5): a naive ISO date is its quirk.
        for key in ("completed_at", "callback_sent_at"):
            value = body.get(key)
            if isinstance(value, str):
                if value.endswith("Z") or "+" in value:
                    raise ContractViolation(f"{where}: {key} {value!r} has a timezone; the server writes none")
                body = {**body, key: value + "Z"}
    spec = _response_spec(method, template, status)
    if spec is None:
        if status >= 400 and isinstance(body, dict) and "detail" in body:
            return
        raise ContractViolation(f"{where}: status not in the document and body is not {{'detail': ...}}: {body!r}")
    schema = spec.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        raise ContractViolation(f"{where}: the document declares no JSON body for this response")
    errors = _errors(schema_validator(schema), body)
    if errors:
        raise ContractViolation(f"{where}: body does not match the document:\n  " + "\n  ".join(errors[:20]))


def validate_stream_event(event: Any, *, error_event: bool = False) -> None:
    """Check one SSE event against ``LettaStreamingResponse`` (or ``LettaErrorMessage`` for ``event: error``)."""
    validator = _component("LettaErrorMessage" if error_event else "LettaStreamingResponse")
    errors = _errors(validator, event)
    if errors:
        raise ContractViolation(f"stream event does not match the document: {event!r}\n  " + "\n  ".join(errors[:20]))


_EVENT = re.compile(r"\A(?:event: (?P<name>[a-z_]+)\n)?data: (?P<data>[^\n]*)\Z")


def check_sse_body(text: str) -> list[tuple[str | None, str]]:
    """Check Letta's SSE framing and every event in it; returns the events as (name, data) pairs."""
    if not text.endswith("\n\n"):
        raise ContractViolation(f"SSE body does not end with a blank line: {text[-80:]!r}")
    events: list[tuple[str | None, str]] = []
    for block in text[:-2].split("\n\n"):
        match = _EVENT.match(block)
        if match is None:
            raise ContractViolation(f"not Letta's SSE framing (one data line, optional event line): {block!r}")
        name, data = match.group("name"), match.group("data")
        if events and events[-1][1] == "[DONE]":
            raise ContractViolation(f"an event after [DONE]: {block!r}")
        if data == "[DONE]":
            if name is not None:
                raise ContractViolation(f"[DONE] in a named event: {block!r}")
        elif name == "error":
            validate_stream_event(json.loads(data), error_event=True)
        elif name is None:
            try:
                payload = json.loads(data)
            except json.JSONDecodeError as error:
                raise ContractViolation(f"unnamed SSE event is not JSON ({error}): {data!r}") from None
            validate_stream_event(payload)
        else:
            raise ContractViolation(f"unexpected event name {name!r} (Letta names only error events): {block!r}")
        events.append((name, data))
    return events


# -- the httpx hook -------------------------------------------------------------------------------------------


class ContractChecker:
    """Validates responses as they arrive; ``checked`` counts them so a test can prove the hook ran."""

    def __init__(self, *, fidelity: str = "contract", on_response: Callable[[httpx.Response], None] | None = None):
        self.fidelity = fidelity
        self.checked = 0
        self.on_response = on_response

    def sync_hook(self, response: httpx.Response) -> None:
        response.read()  # the mock's streams always end, so buffering them here is safe
        self.check(response)

    async def async_hook(self, response: httpx.Response) -> None:
        await response.aread()
        self.check(response)

    def check(self, response: httpx.Response) -> None:
        request = response.request
        method, path, status = request.method, request.url.path, response.status_code
        if path.startswith("/latest/"):  # Letta mounts the same routers under /latest (wire doc §1.1)
            path = "/v1/" + path.removeprefix("/latest/")
        if status >= 500:
            raise ContractViolation(f"{method} {path} -> {status}: {response.text!r}")
        template = operation_template(method, path)
        content_type = response.headers.get("content-type", "")
        if template is None:
            # Unknown routes and wrong methods: FastAPI's {"detail": "Not Found" | "Method Not Allowed"}.
            if status not in (404, 405) or content_type != "application/json" or "detail" not in response.json():
                raise ContractViolation(f"{method} {path} is not in the document but answered {status} {content_type}")
        elif content_type.startswith("text/event-stream"):
            if content_type != "text/event-stream; charset=utf-8" or status != 200:
                raise ContractViolation(f"{method} {path}: stream with status {status} and type {content_type!r}")
            check_sse_body(response.text)
        elif content_type == "application/json":
            validate_json_body(method, template, status, response.json(), fidelity=self.fidelity)
        else:
            raise ContractViolation(f"{method} {path} -> {status}: unexpected content type {content_type!r}")
        self.checked += 1
        if self.on_response is not None:
            self.on_response(response)
