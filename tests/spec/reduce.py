"""The facts of Letta's OpenAPI document, for the tests: what validates and what is routed, nothing that is prose.

    python tests/spec/reduce.py                    # ../shared/spec/letta-openapi.json -> letta-openapi.facts.json
    python tests/spec/reduce.py FULL.json --check  # exit 1 unless the committed file is what FULL.json reduces to

Kept: paths, methods, operationIds and tags, parameters, request bodies, responses and their media types,
component schemas with every keyword that constrains a value (types, enums, consts, formats, patterns, bounds,
required lists, discriminators, defaults, ``deprecated``), the security schemes. Dropped: titles, descriptions,
summaries, examples, servers — and a response's description, which OpenAPI requires, becomes "". A keyword this
script does not know stops it (exit 2, naming where), so a new kind of fact is never dropped unseen. The output is
deterministic: the same input gives the same bytes (the tests check it against the committed file when ../shared
is present).
PROVENANCE.md beside the output says where the input comes from and its sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FULL = HERE.parents[2] / "shared" / "spec" / "letta-openapi.json"
FACTS = HERE / "letta-openapi.facts.json"

# JSON Schema / OpenAPI schema keywords: what a value must be (kept), what only describes it (dropped).
CONSTRAINTS = {
    "type", "enum", "const", "format", "pattern", "required", "default", "deprecated", "nullable", "readOnly",
    "writeOnly", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "$ref", "contentMediaType",
}  # fmt: skip
SUBSCHEMA = {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
             "unevaluatedProperties", "unevaluatedItems", "itemSchema"}  # fmt: skip
SUBSCHEMAS = {"anyOf", "oneOf", "allOf", "prefixItems"}
NAMED_SUBSCHEMAS = {"properties", "patternProperties", "$defs", "dependentSchemas"}
ANNOTATIONS = {"title", "description", "summary", "examples", "example", "$comment", "externalDocs"}
OPERATION_FACTS = {"operationId", "tags", "deprecated", "security"}  # tags: the SDKs' namespaces (client.agents...)
OPERATION_ANNOTATIONS = {"summary", "description", "externalDocs"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class UnknownKeyword(Exception):
    """A key the reduction has no rule for (where, which)."""


def _known(node: dict[str, Any], where: str, facts: set[str], prose: set[str]) -> None:
    for key in node:
        if key not in facts and key not in prose and not key.startswith("x-"):
            raise UnknownKeyword(f"{where}: no rule for {key!r}")


def schema(node: Any, where: str) -> Any:
    """A schema with its constraints only."""
    if not isinstance(node, dict):
        return node  # `true` / `false` schemas
    _known(node, where, CONSTRAINTS | SUBSCHEMA | SUBSCHEMAS | NAMED_SUBSCHEMAS | {"discriminator"}, ANNOTATIONS)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in CONSTRAINTS:
            out[key] = value
        elif key in SUBSCHEMA:
            out[key] = schema(value, f"{where}/{key}")
        elif key in SUBSCHEMAS:
            out[key] = [schema(item, f"{where}/{key}/{i}") for i, item in enumerate(value)]
        elif key in NAMED_SUBSCHEMAS:
            out[key] = {name: schema(item, f"{where}/{key}/{name}") for name, item in value.items()}
        elif key == "discriminator":
            _known(value, f"{where}/discriminator", {"propertyName", "mapping"}, set())
            out[key] = value
    return out


def _media(content: dict[str, Any], where: str) -> dict[str, Any]:
    out = {}
    for media_type, media in content.items():
        _known(media, f"{where}/{media_type}", {"schema", "itemSchema"}, ANNOTATIONS)
        out[media_type] = {k: schema(v, f"{where}/{media_type}/{k}") for k, v in media.items() if k not in ANNOTATIONS}
    return out


def _parameter(parameter: dict[str, Any], where: str) -> dict[str, Any]:
    facts = {"name", "in", "required", "deprecated", "allowEmptyValue", "style", "explode", "allowReserved"}
    _known(parameter, where, facts | {"schema", "$ref"}, ANNOTATIONS)
    out = {k: v for k, v in parameter.items() if k in facts or k == "$ref"}
    if "schema" in parameter:
        out["schema"] = schema(parameter["schema"], f"{where}/schema")
    return out


def _operation(operation: dict[str, Any], where: str) -> dict[str, Any]:
    structure = {"parameters", "requestBody", "responses"}
    _known(operation, where, OPERATION_FACTS | structure, OPERATION_ANNOTATIONS)
    out = {k: v for k, v in operation.items() if k in OPERATION_FACTS}
    if "parameters" in operation:
        out["parameters"] = [_parameter(p, f"{where}/parameters/{i}") for i, p in enumerate(operation["parameters"])]
    if "requestBody" in operation:
        body = operation["requestBody"]
        _known(body, f"{where}/requestBody", {"required", "content"}, {"description"})
        out["requestBody"] = {k: v for k, v in body.items() if k == "required"}
        out["requestBody"]["content"] = _media(body.get("content", {}), f"{where}/requestBody/content")
    responses = {}
    for status, response in operation.get("responses", {}).items():
        _known(response, f"{where}/responses/{status}", {"content"}, {"description"})
        responses[status] = {"description": ""}  # required by OpenAPI; its text is prose
        if "content" in response:
            responses[status]["content"] = _media(response["content"], f"{where}/responses/{status}/content")
    out["responses"] = responses
    return out


def reduce(document: dict[str, Any]) -> dict[str, Any]:
    """The facts of an OpenAPI 3.x document (module docstring)."""
    _known(document, "", {"openapi", "info", "paths", "components", "security"}, {"servers", "tags", "externalDocs"})
    paths = {}
    for template, item in document.get("paths", {}).items():
        _known(item, f"/paths/{template}", set(METHODS) | {"parameters"}, {"summary", "description"})
        reduced = {m: _operation(op, f"/paths/{template}/{m}") for m, op in item.items() if m in METHODS}
        if "parameters" in item:
            reduced["parameters"] = [_parameter(p, f"/paths/{template}/parameters") for p in item["parameters"]]
        paths[template] = reduced
    components = document.get("components", {})
    _known(components, "/components", {"schemas", "securitySchemes"}, set())
    schemes = {}
    for name, scheme in components.get("securitySchemes", {}).items():
        facts = {"type", "scheme", "bearerFormat", "in", "name"}
        _known(scheme, f"/components/securitySchemes/{name}", facts, {"description"})
        schemes[name] = {k: v for k, v in scheme.items() if k in facts}
    out: dict[str, Any] = {
        "openapi": document["openapi"],
        "info": {"title": document["info"]["title"], "version": document["info"]["version"]},
    }
    if "security" in document:
        out["security"] = document["security"]
    out["paths"] = paths
    out["components"] = {
        "schemas": {n: schema(s, f"/components/schemas/{n}") for n, s in components.get("schemas", {}).items()},
        **({"securitySchemes": schemes} if schemes else {}),
    }
    return out


def render(document: dict[str, Any]) -> bytes:
    return (json.dumps(reduce(document), indent=1, ensure_ascii=False) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", nargs="?", type=Path, default=FULL, help=f"the full document (default: {FULL})")
    parser.add_argument("--out", type=Path, default=FACTS, help=f"where to write (default: {FACTS})")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    raw = args.full.read_bytes()
    try:
        facts = render(json.loads(raw))
    except UnknownKeyword as error:
        print(f"reduce: {args.full}: {error}", file=sys.stderr)
        return 2
    digest = hashlib.sha256(raw).hexdigest()
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == facts
        print(f"{args.out}: {'up to date' if same else 'DIFFERS from what'} {args.full} (sha256 {digest}) reduces to")
        return 0 if same else 1
    args.out.write_bytes(facts)
    print(f"{args.out}: {len(facts):,} bytes from {args.full} ({len(raw):,} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
