"""The document a fuzz run works from: loaded, then given what stateful, stream-aware fuzzing needs.

The rule: the fuzzer never trusts a document to say everything, and never changes one the user owns (it works on a
copy). It adds

* our OpenAPI links (``mockserver.openapi.LINKS``, by operationId) where the document has none — Letta's has none:
  send → list → retrieve, async → run → run messages → run stream, cancel;
* request examples that stream (``streaming``, ``stream_tokens``, ``background``), so the examples phase reads
  every kind of Letta stream on every run instead of waiting for generation to draw them;
* the discriminators' rule: a union with a ``discriminator`` requires its property (OpenAPI: it names the member
  to validate against), which generators reading the union as plain JSON Schema otherwise leave out — ``[{}]``
  is then a "valid" list of content parts that Letta refuses with ``union_tag_not_found``;
* Letta's rule for input messages without ``type`` (wire doc §3: an approval when it has ``approve`` or
  ``approval_request_id``, else a message), which Letta's plain ``anyOf`` cannot state — ``{"foo": 1}`` would pass
  as an all-optional ``ApprovalCreate``; our document states it the same way;
* the bounds of ``limit`` (0 to 2^63-1) where a document states none, as ours does: Letta's server cannot serve
  others (its database refuses them: a 500) and the mock refuses them with a 422 naming ``limit``; beyond the
  bounds they are invalid data, which the negative phase still sends (and a 500 is still a failure);
* the credentials rule: without ``--auth`` the server's authentication is not under test (the document's
  ``security`` goes); with it the document requires a bearer token (ours declares none, so one is added).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from mockserver.catalogue import INT64_MAX
from mockserver.contract.names import LETTA, spec_location
from mockserver.openapi import LINKS, input_message_union, is_input_message_union

__all__ = ["EXAMPLES", "OUR_DOCUMENT", "DocumentUnreachable", "FuzzError", "add_examples", "add_links", "bound_limits",
           "credentials", "link_pairs", "load_document", "operation_ids", "state_union_rules"]  # fmt: skip

OUR_DOCUMENT = "letta-mock's own document"
_HELLO = "Hello!"
# Request bodies by operationId: every stream shape Letta has (step, token, background), and one of each send.
EXAMPLES: dict[str, dict[str, Any]] = {
    "send_message": {
        "json": {"input": _HELLO},
        "stream": {"input": _HELLO, "streaming": True},
        "tokens": {"messages": [{"role": "user", "content": _HELLO}], "streaming": True, "stream_tokens": True},
        "background": {"input": _HELLO, "streaming": True, "background": True},
    },
    "create_agent_message_stream": {
        "tokens": {"input": _HELLO, "stream_tokens": True},
        "background": {"input": _HELLO, "background": True, "stream_tokens": True},
    },
    "send_conversation_message": {
        "stream": {"input": _HELLO},
        "json": {"input": _HELLO, "streaming": False},
        "background": {"input": _HELLO, "background": True},
    },
    "create_agent_message_async": {"run": {"input": _HELLO}},
    "retrieve_stream_for_run": {"replay": {"starting_after": 0}},
    "retrieve_conversation_stream": {"replay": {"starting_after": 0}},
    "search_all_messages": {"query": {"query": "Hello"}},
}


class FuzzError(Exception):
    """A usage or connection problem: the run cannot start (exit status 2)."""


class DocumentUnreachable(FuzzError):
    """The document's URL did not answer with one (the server may be down)."""


def load_document(spec: str, headers: dict[str, str], server: str) -> tuple[dict[str, Any], str]:
    """The document to fuzz ``server`` with (a copy of it: it is changed) and where it came from: ``spec`` is a file,
    a URL or a name (``contract.names``: ``letta``, the server's own ``/openapi.json``; ``mock``, ours)."""
    location = spec_location(spec, server)
    if location is None:
        from mockserver.openapi import openapi_document

        return copy.deepcopy(openapi_document()), OUR_DOCUMENT
    if location.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(location, headers=headers, timeout=30, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as error:
            hint = " (--spec mock: letta-mock's own document; or a file)" if spec == LETTA else ""
            raise DocumentUnreachable(f"cannot load --spec {spec} from {location}: {error}{hint}") from None
        return _parse(response.text, location), location
    path = Path(location)
    if not path.is_file():
        raise FuzzError(f"--spec {spec}: no such file (or 'letta', 'mock', a URL)")
    return _parse(path.read_text(), spec), spec


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        import yaml  # a dependency of ours (rule files) and of schemathesis

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise FuzzError(f"--spec {source} is neither JSON nor YAML: {error}") from None
    if not isinstance(document, dict) or "openapi" not in document:
        raise FuzzError(f"--spec {source} is not an OpenAPI 3 document")
    return document


def operation_ids(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operationId -> operation object, for every operation of ``document``."""
    found: dict[str, dict[str, Any]] = {}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                found[operation["operationId"]] = operation
    return found


def link_pairs(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(source, target) operation labels (``"POST /v1/..."``) of our links, for those in ``document``."""
    labels = {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and isinstance(operation.get("operationId"), str)
    }
    return {(labels[source], labels[link["operationId"]]) for source, links in LINKS.items() if source in labels
            for link in links.values() if link["operationId"] in labels}  # fmt: skip


def add_links(document: dict[str, Any]) -> int:
    """Our links, where their source and target are in ``document`` and the source has no link of that name."""
    operations = operation_ids(document)
    added = 0
    for source, links in LINKS.items():
        success = operations.get(source, {}).get("responses", {}).get("200")
        if not isinstance(success, dict):
            continue
        existing = success.setdefault("links", {})
        for name, link in links.items():
            if link["operationId"] in operations and name not in existing:
                existing[name] = copy.deepcopy(link)
                added += 1
    return added


def add_examples(document: dict[str, Any]) -> int:
    """Our request examples, beside the document's own, for the operations that take a JSON body."""
    operations = operation_ids(document)
    added = 0
    for operation_id, examples in EXAMPLES.items():
        media = operations.get(operation_id, {}).get("requestBody", {}).get("content", {}).get("application/json")
        if not isinstance(media, dict):
            continue
        existing = media.setdefault("examples", {})
        if "example" in media:  # OpenAPI allows one of the two: keep the document's as a named example
            existing.setdefault("example", {"value": media.pop("example")})
        for name, value in examples.items():
            if f"letta_mock_{name}" not in existing:
                existing[f"letta_mock_{name}"] = {"value": copy.deepcopy(value)}
                added += 1
    return added


def state_union_rules(node: Any) -> int:
    """Write the discriminators' rule and the input-message rule into every union of ``node`` (in place); how many
    unions were changed."""
    if isinstance(node, list):
        return sum(state_union_rules(item) for item in node)
    if not isinstance(node, dict):
        return 0
    count = sum(state_union_rules(value) for value in node.values())
    name = (node.get("discriminator") or {}).get("propertyName")
    if isinstance(name, str) and ("oneOf" in node or "anyOf" in node) and name not in node.get("required", []):
        node["required"] = sorted({*node.get("required", []), name})
        count += 1
    if is_input_message_union(node):
        rewritten = input_message_union(node)
        node.clear()
        node.update(rewritten)
        count += 1
    return count


def bound_limits(document: dict[str, Any]) -> int:
    """Bound every integer ``limit`` query parameter that states no bounds (in place); how many were bounded."""
    count = 0
    for item in document.get("paths", {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                if parameter.get("name") != "limit" or parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                for member in [schema, *schema.get("anyOf", ())]:
                    if member.get("type") == "integer" and not {"minimum", "maximum"} & member.keys():
                        member.update(minimum=0, maximum=INT64_MAX)
                        count += 1
    return count


def credentials(document: dict[str, Any], token: str | None) -> list[str]:
    """Apply the credentials rule (module docstring); the names of the document's bearer schemes."""
    if token is None:
        document.pop("security", None)
        for item in document.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("security", None)
        return []
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    bearer = [name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme") == "bearer"]
    if not bearer:
        schemes["bearerAuth"] = {"type": "http", "scheme": "bearer"}
        bearer = ["bearerAuth"]
    document.setdefault("security", [{name: [] for name in bearer}])
    return bearer
