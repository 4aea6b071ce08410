"""The hot paths build the mock's own objects without validating them again (``models._base.trusted``): the same
requests get the same bytes as when every object is validated, across scenarios, faults, errors and profiles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

from mockserver.app import create_app
from mockserver.catalogue import ERRORS
from mockserver.inprocess import InProcessTransport
from mockserver.models import LettaUsageStatistics, Run, UserMessage
from mockserver.models._base import WireModel, _message_date, _timestamp, trusted, validate_trusted
from mockserver.scenarios import SCENARIOS

AGENT = "agent-7e57ed00-0000-4000-8000-000000000001"
SDK = {"x-stainless-package-version": "1.12.0"}  # looks like the official SDK (server fidelity streams only to it)
# Faults that end on their own (the stalls wait out a minute; drop_after closes the connection under the client).
FAULTS = ["http:503", "http:429", "no_done", "no_stop_reason", "unknown_type:2", "malformed:2", "split:2",
          "duplicate_stop_reason"]  # fmt: skip
# The arbitrary scenario draws its turn with Hypothesis (tests/test_arbitrary_scenario.py), not nested in here.
NAMES = [name for name in SCENARIOS if name != "arbitrary"]


@contextmanager
def validating(on: bool) -> Iterator[None]:
    previous = validate_trusted(on)
    try:
        yield
    finally:
        validate_trusted(previous)


controls = st.fixed_dictionaries(
    {"scenario": st.sampled_from(NAMES)},
    optional={
        "fault": st.sampled_from(FAULTS),
        "error": st.sampled_from(list(ERRORS)),
        "error_at": st.sampled_from(["start", "mid"]),
        "steps": st.integers(1, 3),
        "tokens": st.integers(1, 12),
    },
)
sends = st.lists(
    st.tuples(
        controls,
        st.sampled_from(["send", "stream", "tokens", "background", "conversation"]),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20),
    ),
    min_size=1,
    max_size=3,
)


def exchange(client: httpx.Client, sent: list[tuple[dict[str, Any], str, str]]) -> list[tuple[int, bytes]]:
    """Every answer to ``sent`` and to the reads of what it left (history, runs, steps), in order."""
    answers = []
    conversation = client.post("/v1/conversations/", params={"agent_id": AGENT}, json={}, headers=SDK)
    answers.append((conversation.status_code, conversation.content))
    conversation_id = conversation.json().get("id") if conversation.status_code == 200 else None
    for asked, how, text in sent:
        if "fault" in asked and how in ("send", "conversation") and asked["fault"].split(":")[0] != "http":
            asked = {k: v for k, v in asked.items() if k != "fault"}  # stream faults need a streaming request
        header = {**SDK, "X-Letta-Mock": "; ".join(f"{k}={v}" for k, v in asked.items())}
        body: dict[str, Any] = {"input": text, "streaming": how != "send"}
        if how == "tokens":
            body["stream_tokens"] = True
        if how == "background":
            body["background"] = True
        path = f"/v1/agents/{AGENT}/messages"
        if how == "conversation" and conversation_id is not None:
            path = f"/v1/conversations/{conversation_id}/messages"
        answer = client.post(path, json=body, headers=header)
        answers.append((answer.status_code, answer.content))
    for path in (f"/v1/agents/{AGENT}/messages", f"/v1/agents/{AGENT}/messages?limit=3&order=asc",
                 f"/v1/runs/?agent_id={AGENT}", "/v1/messages/?limit=5"):  # fmt: skip
        listed = client.get(path, headers=SDK)
        answers.append((listed.status_code, listed.content))
    runs = client.get(f"/v1/runs/?agent_id={AGENT}", headers=SDK).json()
    for run in runs if isinstance(runs, list) else []:
        for tail in ("", "/steps", "/messages", "/usage"):
            read = client.get(f"/v1/runs/{run['id']}{tail}", headers=SDK)
            answers.append((read.status_code, read.content))
    return answers


def answers(sent: list[tuple[dict[str, Any], str, str]], *, validate: bool, fidelity: str) -> list[tuple[int, bytes]]:
    transport = InProcessTransport(create_app(seed=3, fidelity=fidelity))
    with validating(validate), httpx.Client(transport=transport, base_url="http://testserver") as client:
        return exchange(client, sent)


@pytest.mark.parametrize("fidelity", ["contract", "server"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sent=sends)
def test_the_same_requests_get_the_same_bytes_validated_or_not(
    fidelity: str, sent: list[tuple[dict[str, Any], str, str]]
) -> None:
    fast = answers(sent, validate=False, fidelity=fidelity)
    checked = answers(sent, validate=True, fidelity=fidelity)
    assert [status for status, _ in fast] == [status for status, _ in checked]
    assert fast == checked
    assert any(status == 200 for status, _ in fast)


def test_a_trusted_object_is_the_validated_one() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    fields: dict[str, Any] = {"id": "message-1", "date": now, "otid": "o", "run_id": "run-1", "content": "hi"}
    fast = trusted(UserMessage, **fields)
    with validating(True):
        checked = trusted(UserMessage, **fields)
    assert fast == checked
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == checked.model_fields_set
    run = {"id": "run-0123abcd", "created_at": now, "agent_id": AGENT}
    assert trusted(Run, **run).model_dump_json() == Run(**run).model_dump_json()
    # Defaults made per object (factories) are never shared between two objects.

    class Bag(WireModel):
        tags: list[str] = Field(default_factory=list)
        names: list[str] = ["a"]  # noqa: RUF012  (pydantic copies it per object; so must trusted)

    first, second = trusted(Bag), trusted(Bag)
    first.tags.append("x")
    first.names.append("b")
    assert second.model_dump() == Bag().model_dump() == {"tags": [], "names": ["a"]}
    usage, other = trusted(LettaUsageStatistics), trusted(LettaUsageStatistics)
    usage.prompt_tokens += 5  # assignment works as on a validated object, and changes no other object
    assert usage.model_dump()["prompt_tokens"] == 5
    assert other.model_dump() == LettaUsageStatistics().model_dump()
    copied = usage.model_copy(update={"step_count": 2})
    assert (copied.prompt_tokens, copied.step_count, usage.step_count) == (5, 2, 0)


OFFSETS = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))
NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


@given(st.datetimes(timezones=st.one_of(st.just(timezone.utc), OFFSETS)))
def test_dates_already_in_utc_are_written_as_any_other_date(value: datetime) -> None:
    # The mock's own dates are in UTC and skip the conversion: the same text as any aware date converted to UTC.
    utc = value.astimezone(timezone.utc)
    assert _message_date(value) == utc.replace(microsecond=0).isoformat()
    assert _timestamp(value) == utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    assert _message_date(utc) == _message_date(value)
    assert _timestamp(utc) == _timestamp(value)


def test_objects_built_from_the_same_names_in_another_order_are_the_same() -> None:
    # trusted prepares each (model, names in order) once: a different order is its own entry, with the same object.
    one = trusted(UserMessage, id="message-1", date=NOW, content="hi", otid=None)
    other = trusted(UserMessage, content="hi", otid=None, date=NOW, id="message-1")
    assert one.model_dump_json() == other.model_dump_json() == UserMessage(**one.model_dump()).model_dump_json()
    assert list(one.__dict__) == list(other.__dict__) == list(UserMessage.model_fields)


def test_a_date_written_again_is_its_own_text_whatever_came_between() -> None:
    # Each kind remembers the last date it wrote (by identity): a page alternating dates gets each one's text.
    one, two = NOW, NOW.replace(second=6, microsecond=5)
    for _ in range(2):
        assert _message_date(one) == "2026-01-02T03:04:05+00:00"
        assert _message_date(one) == "2026-01-02T03:04:05+00:00"
        assert _message_date(two) == "2026-01-02T03:04:06+00:00"
        assert _timestamp(two) == "2026-01-02T03:04:06.000005Z"
        assert _timestamp(one) == "2026-01-02T03:04:05.678901Z"
