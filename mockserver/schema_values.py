"""A JSON value valid against a JSON schema, deterministic for a seed: the arguments the mock's agent passes to a
tool, and its reply when the agent's ``response_format`` is a JSON schema.

Plain and predictable on purpose: a ``default`` or ``const`` wins, then the first ``enum`` value, then a value of
the declared type within its bounds; a number written in the user's text is used for a number the schema asks
for ("roll a die with 16 sides" -> ``{"num_sides": 16}``). Local ``$ref``s (``#/$defs/...``) are followed.
"""

from __future__ import annotations

import random
import re
from typing import Any

__all__ = ["value_for"]

_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
_DEPTH = 8  # deeper schemas (recursive $refs) end in the simplest value of their type


def value_for(schema: Any, *, text: str = "", seed: int | None = None) -> Any:
    """A value valid against ``schema`` (a JSON schema object)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]
    return _Builder(schema if isinstance(schema, dict) else {}, numbers, random.Random(seed or 0)).build(schema, 0)


class _Builder:
    def __init__(self, root: dict[str, Any], numbers: list[float], rng: random.Random) -> None:
        self.root, self.numbers, self.rng = root, numbers, rng

    def build(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        for key in ("default", "const"):
            if key in schema:
                return schema[key]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = [o for o in schema.get(key, ()) if isinstance(o, dict) and o.get("type") != "null"]
            if options:
                return self.build(options[0], depth + 1)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return self.build(merged, depth + 1)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        return getattr(self, f"_{kind}", self._string)(schema, depth)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        if depth >= _DEPTH or not isinstance(properties, dict):
            return {}
        wanted = schema.get("required") or list(properties)  # no "required": fill every property
        return {name: self.build(properties[name], depth + 1) for name in properties if name in wanted}

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        count = int(schema.get("minItems", 0)) if depth < _DEPTH else 0
        return [self.build(schema.get("items", {}), depth + 1) for _ in range(count)]

    def _string(self, schema: dict[str, Any], depth: int) -> str:
        text = self.rng.choice(_WORDS)
        if schema.get("format") == "date-time":
            text = "2025-01-01T00:00:00+00:00"
        elif schema.get("format") == "date":
            text = "2025-01-01"
        low = int(schema.get("minLength", 0))
        high = int(schema.get("maxLength", max(low, len(text))))
        return (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]

    def _integer(self, schema: dict[str, Any], depth: int) -> int:
        return int(self._number(schema, depth, whole=True))

    def _number(self, schema: dict[str, Any], depth: int, whole: bool = False) -> float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", None))
        high = schema.get("maximum", schema.get("exclusiveMaximum", None))
        candidates = [n for n in self.numbers if (not whole or n.is_integer())]
        value = candidates[0] if candidates else 1.0
        if low is not None and value <= low:
            value = low + (0 if "minimum" in schema else 1)
        if high is not None and value >= high:
            value = high - (0 if "maximum" in schema else 1)
        return float(int(value)) if whole else value

    def _boolean(self, schema: dict[str, Any], depth: int) -> bool:
        return True

    def _null(self, schema: dict[str, Any], depth: int) -> None:
        return None
