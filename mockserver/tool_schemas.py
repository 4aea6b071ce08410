"""A tool's JSON schema from its Python source, as Letta derives it — without running the code.

Letta reads the last function of ``source_code`` (the ones before it are its helpers): its name is the tool's name,
the docstring's first paragraph its description, the parameters (type annotations, Google-style ``Args:``
descriptions, defaults) its ``parameters`` schema, parameters without a default required. The mock parses the
source with ``ast`` only: uploaded code is never executed.
"""

from __future__ import annotations

import ast
import hashlib
import re
from typing import Any

__all__ = ["ToolSchemaError", "check_json_schema", "schema_from_source", "tool_hash"]

_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object", "list": "array"}


class ToolSchemaError(ValueError):
    """The source or schema does not describe a tool; the message says why."""


def schema_from_source(source: str) -> dict[str, Any]:
    """``{"name", "description", "parameters"}`` of the last top-level function in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ToolSchemaError(f"Failed to parse source code: {error.msg} (line {error.lineno})") from None
    function = next((n for n in reversed(tree.body) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)
    if function is None:
        raise ToolSchemaError("The source code defines no function")
    docstring = ast.get_docstring(function) or ""
    summary, described = _docstring(docstring)
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    properties: dict[str, Any] = {}
    required: list[str] = []
    keyword_only = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    for argument, default in [*zip(positional, defaults, strict=True), *keyword_only]:
        if argument.arg in ("self", "agent_state"):  # Letta injects these; they are not the model's to fill
            continue
        schema = _annotation_schema(argument.annotation)
        if argument.arg in described:
            schema["description"] = described[argument.arg]
        properties[argument.arg] = schema
        if default is None:
            required.append(argument.arg)
    return {
        "name": function.name,
        "description": summary,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def check_json_schema(schema: dict[str, Any]) -> None:
    """A tool's ``json_schema`` must name the tool and describe its parameters as an object schema."""
    name = schema.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", name):
        raise ToolSchemaError(f"json_schema.name must be a function name, not {name!r}")
    parameters = schema.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise ToolSchemaError("json_schema.parameters must be an object schema")
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        raise ToolSchemaError("json_schema.parameters.properties must map names to schemas")
    required = parameters.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) and r in properties for r in required):
        raise ToolSchemaError("json_schema.parameters.required must list properties it defines")


def _annotation_schema(annotation: ast.expr | None) -> dict[str, Any]:
    """The JSON schema of a type annotation: builtins, ``list[X]``, ``Optional[X]``/``X | None``, ``Literal``."""
    if annotation is None:
        return {"type": "string"}
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a string annotation
        try:
            return _annotation_schema(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return {"type": "string"}
    if isinstance(annotation, ast.Name):
        return {"type": _TYPES.get(annotation.id, "string")}
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):  # X | None
        parts = [p for p in (annotation.left, annotation.right) if not _is_none(p)]
        return _annotation_schema(parts[0]) if parts else {"type": "null"}
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name | ast.Attribute):
        outer = annotation.value.id if isinstance(annotation.value, ast.Name) else annotation.value.attr
        inner = annotation.slice
        if outer in ("list", "List", "Sequence"):
            return {"type": "array", "items": _annotation_schema(inner)}
        if outer in ("dict", "Dict", "Mapping"):
            return {"type": "object"}
        if outer == "Optional":
            return _annotation_schema(inner)
        if outer == "Literal":
            values = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            constants = [v.value for v in values if isinstance(v, ast.Constant)]
            kind = {str: "string", int: "integer", float: "number", bool: "boolean"}.get(type(constants[0]), "string")
            return {"type": kind, "enum": constants}
    return {"type": "string"}


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _docstring(text: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and the ``Args:`` descriptions by parameter name."""
    sections = re.split(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Examples?|Yields):\s*$", text, flags=re.M)
    summary = " ".join(sections[0].split()) if sections else ""
    described: dict[str, str] = {}
    for heading, body in zip(sections[1::2], sections[2::2], strict=False):
        if heading not in ("Args", "Arguments", "Parameters"):
            continue
        current: str | None = None
        for line in body.splitlines():
            match = re.match(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", line)
            if match:
                current = match.group(1).lstrip("*")
                described[current] = match.group(3).strip()
            elif current and line.strip():
                described[current] = f"{described[current]} {line.strip()}".strip()
    return summary, described


def tool_hash(source_code: str | None, source_type: str | None, requirements: str = "") -> str:
    """The version tag Letta keeps in a tool's ``metadata_.tool_hash``: 12 hex digits that change with its source,
    source type or requirements (the mock's digest of them; a client compares it, never recomputes it)."""
    text = "|".join((source_code or "", source_type or "", requirements))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
