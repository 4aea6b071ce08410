"""The facts of Letta's document (tests/spec/letta-openapi.facts.json, made by tests/spec/reduce.py) are what the
tests validate against, so they must validate exactly what the full document validates.

With the full document beside the repository (../shared/spec/letta-openapi.json, as in CI): its sha256 is the one
PROVENANCE.md names, regenerating gives the committed file byte for byte, and both documents give the same
verdicts — the same problems, in the same words, at the same places — on every request, JSON answer and stream
event of the curated fixtures, on values drawn by the strategies, and on broken copies of all of them (a key
taken out, a value of the wrong type, an unknown key). On a fresh clone without it, those tests skip saying why
(the ``letta_full_spec`` fixture; ``LETTA_MOCK_REQUIRE_SHARED=1``, set by .ci/run, makes its absence a
failure). The reduction's own rules are tested on a small document either way.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from contract import SPEC_PATH
from hypothesis import HealthCheck, given, settings

import strategies
from mockserver.contract import Contract
from mockserver.recording.library import curated_names, load_library

HERE = Path(__file__).resolve().parent


def _load_reduce() -> ModuleType:
    found = importlib.util.spec_from_file_location("letta_spec_reduce", HERE / "spec" / "reduce.py")
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


reduce = _load_reduce()


@pytest.fixture(scope="module")
def both(letta_full_spec: Path) -> tuple[Contract, Contract]:
    return Contract.load(letta_full_spec), Contract.load(SPEC_PATH)


# -- provenance and regeneration ----------------------------------------------------------------------------------


def test_the_input_is_the_document_provenance_names(letta_full_spec: Path) -> None:
    assert reduce.FULL == letta_full_spec  # the script's default input
    named = re.search(r"sha256 `([0-9a-f]{64})`", (HERE / "spec" / "PROVENANCE.md").read_text())
    assert named is not None
    assert hashlib.sha256(letta_full_spec.read_bytes()).hexdigest() == named.group(1)


def test_regenerating_gives_the_committed_file_byte_for_byte(
    letta_full_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert reduce.render(json.loads(letta_full_spec.read_bytes())) == SPEC_PATH.read_bytes()
    assert reduce.main([str(letta_full_spec), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_the_structure_is_the_full_document_s(both: tuple[Contract, Contract]) -> None:
    full, facts = both

    def shape(contract: Contract) -> set[tuple[Any, ...]]:
        out = set()
        for method, template, operation in contract.operations():
            parameters = tuple((p["name"], p["in"], p.get("required", False)) for p in operation.get("parameters", ()))
            body = tuple(sorted((operation.get("requestBody") or {}).get("content", {})))
            responses = tuple((s, tuple(sorted(r.get("content", {})))) for s, r in operation["responses"].items())
            out.add((method, template, operation["operationId"], parameters, body, responses))
        return out

    assert shape(facts) == shape(full)
    assert len(shape(full)) == 302
    assert set(facts.document["components"]["schemas"]) == set(full.document["components"]["schemas"])


# -- the same verdicts --------------------------------------------------------------------------------------------


def broken(value: Any, limit: int = 40) -> Iterator[Any]:
    """Copies of ``value``, each broken in one place: a key taken out, a value of the wrong type, a key added."""
    count = 0
    for pointer, node in _nodes(value):
        if count >= limit:
            return
        for edit in ("drop", "retype", "add"):
            changed = copy.deepcopy(value)
            parent, key = _at(changed, pointer)
            if edit == "drop" and isinstance(parent, dict):
                del parent[key]
            elif edit == "retype" and parent is not None:
                parent[key] = 12345 if isinstance(node, str) else "not-what-it-was"
            elif edit == "add" and isinstance(node, dict):
                node_copy = changed
                for part in pointer:
                    node_copy = node_copy[part]
                node_copy["zz_not_a_field"] = True
            else:
                continue
            count += 1
            yield changed


def _nodes(value: Any, pointer: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield pointer, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*pointer, index))


def _at(value: Any, pointer: tuple[Any, ...]) -> tuple[Any, Any]:
    if not pointer:
        return None, None
    parent = value
    for part in pointer[:-1]:
        parent = parent[part]
    return parent, pointer[-1]


def verdicts(contract: Contract, kind: str, where: tuple[str, ...], value: Any) -> list[str]:
    """The problems ``contract`` finds with ``value``: a request body, a JSON answer or a stream event."""
    if kind == "event":
        return [str(p) for p in contract.validate_event(value, error_event=where == ("error",), compaction_events=True)]
    if kind == "component":
        return [str(p) for p in contract.validate(where[0], value)]
    method, path, status = where
    template = contract.operation(method, path)
    if template is None:
        return [f"no operation {method} {path}"]
    operation = contract.document["paths"][template][method.lower()]
    if kind == "request":
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    else:
        schema = contract.json_schema(method, template, int(status))
    return [str(p) for p in contract.validate(schema, value)] if schema is not None else ["no schema"]


@cache
def curated_values() -> tuple[tuple[str, tuple[str, ...], Any], ...]:
    """(kind, where, value) of every request body, JSON answer and stream event of the curated fixtures."""
    found: list[tuple[str, tuple[str, ...], Any]] = []
    for entry in load_library(list(curated_names())).entries:
        request, response = entry.exchange.request, entry.exchange.response
        path = request.path
        if request.has_json and request.json_body is not None:
            found.append(("request", (request.method, path, "0"), request.json_body))
        if response.stream is not None:
            for event in response.stream.events:
                if isinstance(event.data, dict):  # not [DONE]
                    found.append(("event", (event.event or "",), event.data))
        elif response.has_json:
            found.append(("response", (request.method, path, str(response.status)), response.json_body))
    return tuple(found)


def test_the_curated_fixtures_are_a_corpus_worth_the_name() -> None:
    kinds = [kind for kind, _, _ in curated_values()]
    assert kinds.count("request") >= 40
    assert kinds.count("response") >= 10
    assert kinds.count("event") >= 200


def test_the_same_verdicts_on_the_curated_fixtures_and_their_broken_copies(both: tuple[Contract, Contract]) -> None:
    full, facts = both
    compared = failing = 0
    for kind, where, value in curated_values():
        for candidate in (value, *broken(value)):
            expected = verdicts(full, kind, where, candidate)
            assert verdicts(facts, kind, where, candidate) == expected, (kind, where, candidate)
            compared += 1
            failing += bool(expected)
    assert compared > 5000
    assert failing > compared // 3  # the broken copies do break: the verdicts compared include refusals


DRAWN = {  # as the strategies' tests serialise them (tests/test_strategies.py)
    "LettaMessageUnion": strategies.messages().map(lambda m: m.model_dump(mode="json")),
    "LettaResponse": strategies.letta_responses().map(lambda r: r.model_dump(mode="json")),
    "LettaRequest": strategies.letta_requests().map(lambda r: r.model_dump(mode="json", exclude_unset=True)),
    "LettaStreamingResponse": strategies.stream_events().map(lambda e: e.model_dump(mode="json")),
}


@pytest.mark.parametrize("component", DRAWN)
def test_the_same_verdicts_on_drawn_values(both: tuple[Contract, Contract], component: str) -> None:
    full, facts = both

    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(value=DRAWN[component])
    def check(value: Any) -> None:
        for candidate in (value, *broken(value, limit=10)):
            expected = verdicts(full, "component", (component,), candidate)
            assert verdicts(facts, "component", (component,), candidate) == expected
            outcomes.add(bool(expected))

    outcomes: set[bool] = set()
    check()
    assert outcomes == {False, True}  # valid values and refused ones


# -- the reduction's rules, on a small document (no full document needed) -------------------------------------------

SMALL = {
    "openapi": "3.1.0",
    "info": {"title": "T", "version": "1", "description": "prose"},
    "servers": [{"url": "https://x", "description": "prose"}],
    "paths": {
        "/v1/things/{id}": {
            "get": {
                "operationId": "get_thing",
                "summary": "prose",
                "tags": ["things"],
                "parameters": [{"name": "id", "in": "path", "required": True, "description": "prose",
                                "schema": {"type": "string", "title": "Id", "pattern": "^t-", "examples": ["t-1"]}}],
                "responses": {"200": {"description": "prose", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}, "example": {"a": 1}}}}},
            }
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "title": "Thing",
                "description": "prose",
                "type": "object",
                "properties": {"title": {"type": "string", "description": "prose", "maxLength": 3},
                               "description": {"enum": ["a", "b"], "default": "a"}},
                "required": ["title"],
                "additionalProperties": False,
            }
        }
    },
}  # fmt: skip


def test_the_reduction_keeps_constraints_and_drops_prose_even_in_fields_named_like_it() -> None:
    facts = json.loads(reduce.render(SMALL))
    assert facts["info"] == {"title": "T", "version": "1"}
    assert "servers" not in facts
    operation = facts["paths"]["/v1/things/{id}"]["get"]
    assert operation == {
        "operationId": "get_thing",
        "tags": ["things"],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^t-"}}],
        "responses": {"200": {"description": "", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}},
    }  # fmt: skip
    assert facts["components"]["schemas"]["Thing"] == {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 3},
            "description": {"enum": ["a", "b"], "default": "a"},
        },
        "required": ["title"],
        "additionalProperties": False,
    }


def test_a_keyword_the_reduction_has_no_rule_for_stops_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = copy.deepcopy(SMALL)
    odd["components"]["schemas"]["Thing"]["properties"]["title"]["maxContains"] = 2
    source = tmp_path / "odd.json"
    source.write_text(json.dumps(odd))
    assert reduce.main([str(source), "--out", str(tmp_path / "facts.json")]) == 2
    assert "/components/schemas/Thing/properties/title: no rule for 'maxContains'" in capsys.readouterr().err
    assert not (tmp_path / "facts.json").exists()


def test_the_committed_facts_hold_no_prose() -> None:
    facts = json.loads(SPEC_PATH.read_bytes())
    assert facts.pop("info") == {"title": "Letta API", "version": "1.0.0"}  # the document's name, as it calls itself
    prose = reduce.ANNOTATIONS | {"servers"}
    found: list[tuple[str, Any]] = []

    def walk(node: Any, names: bool = False) -> None:
        # ``names``: the keys of this object are names (of schemas, paths, properties), not keywords.
        if isinstance(node, dict):
            for key, value in node.items():
                if not names and key in prose:
                    found.append((key, value))
                walk(value, names=not names and key in {*reduce.NAMED_SUBSCHEMAS, "schemas", "paths", "mapping"})
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(facts)
    # A response's required description is the only one, and it is empty.
    assert {key for key, _ in found} == {"description"}
    assert {value for _, value in found} == {""}
