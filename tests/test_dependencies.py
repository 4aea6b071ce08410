"""Dependency versions that break us in ways our own code cannot see."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema


def test_hypothesis_jsonschema_can_draw_an_object_schema() -> None:
    # hypothesis-jsonschema 0.23.1 crashes on every object schema with hypothesis >= 6.170.10
    # ("AttributeError: 'many' object has no attribute 'more'"); the `test` extra caps hypothesis below that (not
    # letta-mock's own dependency: it does not use hypothesis-jsonschema). The benchmark and the OpenAPI checks draw
    # from object schemas, so a bad upgrade must fail here first.
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(from_schema(schema))
    def check(value: Any) -> None:
        assert isinstance(value, dict)
        assert isinstance(value["a"], int)

    check()
