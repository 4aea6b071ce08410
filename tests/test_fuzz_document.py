"""What the fuzzer makes of a document (``mockserver.fuzz.document``, ``schema``): our links in both documents and
read by schemathesis as transitions, streaming examples, the union rules generators miss, the credentials rule."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
import pytest
from contract import SPEC_PATH

from mockserver.contract import Contract
from mockserver.fuzz import MESSAGES_OPERATIONS
from mockserver.fuzz.document import (
    EXAMPLES,
    FuzzError,
    add_examples,
    add_links,
    bound_limits,
    credentials,
    load_document,
    operation_ids,
    state_union_rules,
)
from mockserver.fuzz.schema import letta_schema
from mockserver.openapi import LINKS, openapi_document

DOCUMENTS = {"ours": "mock", "Letta's": str(SPEC_PATH)}


def upstream() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return document


def test_the_messages_operations_are_in_both_documents() -> None:
    assert len(MESSAGES_OPERATIONS) == 17
    assert set(MESSAGES_OPERATIONS) <= set(operation_ids(openapi_document()))
    assert set(MESSAGES_OPERATIONS) <= set(operation_ids(upstream()))


def test_our_document_carries_every_link_and_each_names_an_operation_of_it() -> None:
    operations = operation_ids(openapi_document())
    for source, links in LINKS.items():
        assert operations[source]["responses"]["200"]["links"] == links
        for link in links.values():
            assert link["operationId"] in operations


def test_letta_s_document_gets_the_same_links_on_a_copy() -> None:
    document = upstream()
    assert add_links(document) == sum(len(links) for links in LINKS.values())
    assert add_links(document) == 0  # once
    assert "links" not in json.dumps(upstream())  # the file itself is not touched


@pytest.mark.parametrize("spec", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_schemathesis_reads_every_link_as_a_transition(spec: str) -> None:
    schema = letta_schema("http://letta.invalid", spec=spec)
    machine = schema.as_state_machine()
    rules = {name for name in dir(machine) if "___200_" in name}
    for source, links in LINKS.items():
        for name in links:
            assert any(f"___200_{name}__" in rule for rule in rules), (source, name)


def test_streaming_examples_are_added_beside_the_document_s_own() -> None:
    document = upstream()
    assert add_examples(document) == sum(len(examples) for examples in EXAMPLES.values())
    body = operation_ids(document)["send_message"]["requestBody"]["content"]["application/json"]
    assert body["examples"]["letta_mock_tokens"]["value"]["stream_tokens"] is True
    contract = Contract(document)
    for operation_id, examples in EXAMPLES.items():
        schema = operation_ids(document)[operation_id]["requestBody"]["content"]["application/json"]["schema"]
        for name, value in examples.items():
            assert not contract.validate(schema, value), (operation_id, name)


def _valid(document: dict[str, Any], component: str, value: Any) -> bool:
    registry = jsonschema_rs.Registry([("urn:doc", document)])
    return jsonschema_rs.validator_for({"$ref": f"urn:doc#/components/schemas/{component}"},
                                       registry=registry).is_valid(value)  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [{"input": [{}]}, {"messages": [{"foo": 1}]}],
    ids=["a content part without type", "an untyped item that is no message"],
)
def test_letta_s_document_read_plainly_admits_what_letta_refuses_and_the_rules_say_so(body: dict[str, Any]) -> None:
    document = upstream()
    assert _valid(document, "LettaStreamingRequest", body)
    assert state_union_rules(document) > 0
    assert not _valid(document, "LettaStreamingRequest", body)


def test_our_document_states_the_union_rules_already() -> None:
    assert state_union_rules(copy.deepcopy(openapi_document())) == 0


def test_without_a_token_the_server_s_authentication_is_not_under_test() -> None:
    document = upstream()
    assert credentials(document, None) == []
    assert "security" not in document
    assert all("security" not in op for op in operation_ids(document).values())


def test_with_a_token_a_bearer_scheme_is_required_even_of_our_document() -> None:
    ours = copy.deepcopy(openapi_document())
    assert credentials(ours, "secret") == ["bearerAuth"]
    assert ours["security"] == [{"bearerAuth": []}]
    assert credentials(upstream(), "secret") == ["bearerAuth"]


def test_a_document_that_cannot_be_loaded_is_a_usage_error(tmp_path: Any) -> None:
    with pytest.raises(FuzzError, match="no such file"):
        load_document(str(tmp_path / "missing.json"), {}, "http://letta.invalid")
    (tmp_path / "x.json").write_text('{"swagger": "2.0"}')
    with pytest.raises(FuzzError, match="not an OpenAPI 3 document"):
        load_document(str(tmp_path / "x.json"), {}, "http://letta.invalid")
    with pytest.raises(FuzzError, match="--operations: not in"):
        letta_schema("http://letta.invalid", spec="mock", operations=("no_such_operation",))
    with pytest.raises(FuzzError, match="--phases: unknown"):
        letta_schema("http://letta.invalid", phases=("warmup",))
    with pytest.raises(FuzzError, match=r"--spec letta from http://letta.invalid/openapi.json: .*--spec mock"):
        letta_schema("http://letta.invalid")


def test_a_spec_is_a_file_a_url_or_a_name(tmp_path: Any, letta_mock_url: str) -> None:
    ours, where = load_document("mock", {}, "http://letta.invalid")  # no server asked
    assert where == "letta-mock's own document"
    served, where = load_document("letta", {}, letta_mock_url)  # the server's own /openapi.json
    assert where == f"{letta_mock_url}/openapi.json"
    assert served == ours  # the mock serves its own document there
    fetched, where = load_document(f"{letta_mock_url}/openapi.json", {}, "http://letta.invalid")
    assert (fetched, where) == (ours, f"{letta_mock_url}/openapi.json")
    letta, where = load_document(str(SPEC_PATH), {}, "http://letta.invalid")
    assert where == str(SPEC_PATH)
    assert letta["info"]["title"] == "Letta API"


def test_unbounded_limits_get_the_bounds_letta_s_server_can_serve_and_bounded_ones_stay() -> None:
    document = upstream()
    assert bound_limits(document) > 10
    listing = document["paths"]["/v1/agents/{agent_id}/messages"]["get"]["parameters"]
    (limit,) = [p for p in listing if p["name"] == "limit"]
    assert {"type": "integer", "minimum": 0, "maximum": 2**63 - 1} in limit["schema"]["anyOf"]
    runs = [p for p in document["paths"]["/v1/runs/{run_id}/trace"]["get"]["parameters"] if p["name"] == "limit"]
    assert (runs[0]["schema"]["minimum"], runs[0]["schema"]["maximum"]) == (1, 5000)  # its own bounds kept
    assert bound_limits(document) == 0  # once is enough
