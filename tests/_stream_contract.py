"""Letta's stream contract, as the streaming tests check it: framing, event schemas and the grammar of a stream.

Three layers, each usable on its own:

* ``parse_stream`` — Letta's exact framing (wire doc §0 rule 1, §6.1): every event is ``data: <compact JSON>``
  or ``event: error`` + ``data: <compact JSON>``, then a blank line; ``[DONE]`` only as a terminator.
* ``validate_event`` — the event against Letta's OpenAPI document, the member of ``LettaStreamingResponse`` picked
  by ``message_type`` (required, although the document marks it optional: the SDKs dispatch on it).
  ``summary_message`` / ``event_message`` are streamed by the server but missing from the document's union
  (wire doc §2.2, §17.4), so they are checked against their own message schemas.
* ``check_grammar`` — the order of a whole stream (wire doc §6.2, §6.5, §6.6): agent chunks and pings, then
  exactly one of ``stop_reason, usage_statistics, [DONE]`` (normal end), ``stop_reason, event: error, [DONE]``
  (an error before the first agent chunk) or ``stop_reason, event: error`` and the end of the body (an error after
  one). Faults break this on purpose; tests of faults check their own shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

__all__ = [
    "AGENT_TYPES",
    "DONE",
    "SPEC_PATH",
    "Event",
    "StreamContractError",
    "check_grammar",
    "parse_stream",
    "validate_event",
]

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/spec/letta-openapi.json"
_BASE = "https://letta-openapi.invalid/letta-openapi.json"  # the document's URI in the registry
DONE = "[DONE]"

# Stream events that are not agent output: they may appear in any stream and are never filtered (wire doc §6.4).
_CONTROL_TYPES = {"ping", "stop_reason", "usage_statistics", "error_message"}
# Streamed by the server with include_compaction_messages, absent from LettaStreamingResponse (wire doc §17.4).
_OUTSIDE_THE_UNION = {"summary_message": "SummaryMessage", "event_message": "EventMessage"}
# The real server sends these two as null (wire doc §2.2, §6.5 transcripts) although the document types them as
# non-null string / integer (the SDK types say Optional). The mock leaves a null out; null is accepted as well,
# so the check holds for recorded server streams too.
_NULL_IN_PRACTICE = ("detail", "seq_id")


class StreamContractError(BaseException):
    """A stream broke Letta's contract.

    A ``BaseException`` on purpose: raised from an httpx event hook, an ``Exception`` would be turned by the SDK
    into a retried ``APIConnectionError`` and hide what went wrong.
    """


# -- schemas --------------------------------------------------------------------------------------------------


@cache
def _document() -> dict[str, Any]:
    with SPEC_PATH.open() as spec:
        document: dict[str, Any] = json.load(spec)
    return document


@cache
def _registry() -> jsonschema_rs.Registry:
    # The whole document is one resource, so "#/components/schemas/…" refs inside it resolve against it.
    return jsonschema_rs.Registry([(_BASE, _document())])


@cache
def _validator(component: str) -> jsonschema_rs.Validator:
    schema = {"$ref": f"{_BASE}#/components/schemas/{component}"}
    return jsonschema_rs.validator_for(schema, registry=_registry(), validate_formats=True)


@cache
def _members() -> dict[str, str]:
    """message_type -> schema name: the discriminator mapping of LettaStreamingResponse, plus the two it lacks."""
    mapping = _document()["components"]["schemas"]["LettaStreamingResponse"]["discriminator"]["mapping"]
    members = {value: ref.rsplit("/", 1)[1] for value, ref in mapping.items()}
    return {**members, **_OUTSIDE_THE_UNION}


AGENT_TYPES = frozenset(_members()) - _CONTROL_TYPES


def validate_event(event: Any, *, error_event: bool = False) -> None:
    """One decoded event against its member schema; ``error_event`` for the data of an ``event: error``."""
    if not isinstance(event, dict):
        raise StreamContractError(f"a stream event is not a JSON object: {event!r}")
    message_type = event.get("message_type")
    if message_type is None:
        raise StreamContractError(f"a stream event without message_type: {event!r}")
    if error_event != (message_type == "error_message"):
        raise StreamContractError(f"error_message must come as (and only as) `event: error`: {event!r}")
    member = _members().get(message_type)
    if member is None:
        raise StreamContractError(f"unknown message_type {message_type!r}: {event!r}")
    instance = event
    if error_event:
        instance = {k: v for k, v in event.items() if not (k in _NULL_IN_PRACTICE and v is None)}
    errors = [f"/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _validator(member).iter_errors(instance)]
    if errors:
        raise StreamContractError(f"{message_type} does not match {member}: {event!r}\n  " + "\n  ".join(errors))


# -- framing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event of a Letta stream: ``name`` is ``"error"`` for ``event: error``, else None."""

    name: str | None
    data: str

    @property
    def done(self) -> bool:
        return self.data == DONE

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value

    @property
    def type(self) -> str:
        """``message_type``, or ``[DONE]``."""
        return DONE if self.done else str(self.payload.get("message_type"))


def parse_stream(body: bytes, *, validate: bool = True) -> list[Event]:
    """Events of an SSE body in Letta's exact framing; every JSON event validated unless ``validate`` is false."""
    text = body.decode("utf-8")
    if not text:
        return []
    if not text.endswith("\n\n"):
        raise StreamContractError(f"an SSE body must end with a blank line: {text[-120:]!r}")
    events: list[Event] = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        if len(lines) == 1 and lines[0].startswith("data: "):
            event = Event(None, lines[0][len("data: ") :])
        elif len(lines) == 2 and lines[0] == "event: error" and lines[1].startswith("data: "):
            event = Event("error", lines[1][len("data: ") :])
        else:
            raise StreamContractError(
                f"not Letta's framing (one data line, optionally after `event: error`): {block!r}"
            )
        if events and events[-1].done:
            raise StreamContractError(f"an event after [DONE]: {block!r}")
        if event.done and event.name is not None:
            raise StreamContractError(f"[DONE] in a named event: {block!r}")
        if not event.done:
            try:
                payload = json.loads(event.data)
            except json.JSONDecodeError as error:
                raise StreamContractError(f"event data is not JSON ({error}): {event.data!r}") from None
            if json.dumps(payload, separators=(",", ":"), ensure_ascii=False) != event.data:
                raise StreamContractError(f"event JSON is not compact (wire doc §1.6): {event.data!r}")
            if validate:
                validate_event(payload, error_event=event.name == "error")
        events.append(event)
    return events


# -- grammar --------------------------------------------------------------------------------------------------


def check_grammar(events: Iterable[Event]) -> str:
    """The ending of a well-formed stream: ``"done"``, ``"error_before_first_chunk"`` or ``"error_mid_stream"``.

    Also checks that every event naming a run names the same one.
    """
    events = list(events)
    types = [e.type for e in events]
    if "stop_reason" not in types:
        raise StreamContractError(f"no stop_reason: {types}")
    stop = types.index("stop_reason")
    body, ending = types[:stop], types[stop:]
    unexpected = [t for t in body if t not in AGENT_TYPES and t != "ping"]
    if unexpected:
        raise StreamContractError(f"{unexpected} before the stop_reason: {types}")
    agent_chunks = [t for t in body if t != "ping"]
    run_ids = {e.payload["run_id"] for e in events if not e.done and e.payload.get("run_id") is not None}
    if len(run_ids) > 1:
        raise StreamContractError(f"events of one stream name several runs: {sorted(run_ids)}")
    if ending == ["stop_reason", "usage_statistics", DONE]:
        return "done"
    if ending == ["stop_reason", "error_message", DONE] and not agent_chunks:
        return "error_before_first_chunk"
    if ending == ["stop_reason", "error_message"] and agent_chunks:
        return "error_mid_stream"
    raise StreamContractError(f"not one of Letta's stream endings (wire doc §6.6): {types}")
