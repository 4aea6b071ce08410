"""The tests' side of the contract: ``mockserver.contract`` (the one validator) over Letta's OpenAPI document (its
facts, ``tests/spec/letta-openapi.facts.json``: see PROVENANCE.md there), raising instead of returning problems,
and plugged into httpx.

* ``validate_json_body`` / ``validate_stream_event`` / ``validate_against_spec``: a body, an event, any value
  against the document, discriminator-aware and with ``message_type`` required;
* ``parse_stream`` / ``check_grammar``: Letta's exact SSE framing and the grammar of a whole stream;
* ``ContractChecker.sync_hook`` / ``async_hook``: httpx response hooks, so every response an SDK test receives is
  checked before the SDK sees it.

Statuses the document does not list for an operation (Letta documents only 200 and 422) must still be Letta's
error shape ``{"detail": ...}`` (wire doc §15.1). A 5xx is always a violation: the mock never fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from mockserver.contract import Contract, Ending, as_documented, ending, framing_problems
from mockserver.wire.sse import DONE, Frame

__all__ = [
    "DONE",
    "FULL_SPEC_PATH",
    "SPEC_PATH",
    "ContractChecker",
    "ContractViolation",
    "Event",
    "StreamContractError",
    "check_grammar",
    "check_sse_body",
    "letta",
    "operation_template",
    "parse_stream",
    "validate_against_spec",
    "validate_event",
    "validate_json_body",
    "validate_stream_event",
]

# The facts of Letta's document (tests/spec/reduce.py): it validates exactly what the full document validates
# (tests/test_spec_facts.py), and it is in the repository, so the tests need nothing beside it.
SPEC_PATH = Path(__file__).resolve().parent / "spec" / "letta-openapi.facts.json"
# The full document, where CI has it (beside the repository); only the tests of the reduction and of what is not a
# fact (our operations' summaries are Letta's) need it: the `letta_full_spec` fixture.
FULL_SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "spec" / "letta-openapi.json"
Event = Frame  # one event of a stream: ``name`` is ``"error"`` for ``event: error``, else None


class ContractViolation(BaseException):
    """A response broke the contract.

    A ``BaseException`` on purpose: the SDKs turn any ``Exception`` raised while sending (event hooks included)
    into a retried ``APIConnectionError``, which would hide the violation behind a connection error.
    """


StreamContractError = ContractViolation


@cache
def letta() -> Contract:
    """Letta's document, the contract."""
    return Contract.load(SPEC_PATH)


def _raise(where: str, problems: Iterable[Any], instance: Any = None) -> None:
    shown = [str(p) for p in problems]
    if shown:
        text = f"{where}:\n  " + "\n  ".join(shown[:20])
        raise ContractViolation(text if instance is None else f"{text}\ninstance: {str(instance)[:600]}")


def validate_against_spec(schema_name: str, instance: Any) -> None:
    """``AssertionError`` listing how ``instance`` (JSON data) breaks ``components.schemas[schema_name]``."""
    if not letta().has(schema_name):
        raise KeyError(f"no schema {schema_name!r} in {SPEC_PATH.name}")
    problems = letta().validate(schema_name, instance)
    if problems:
        listed = "\n".join(f"  {p}"[:300] for p in problems[:8])
        raise AssertionError(f"not a valid {schema_name} ({len(problems)} errors):\n{listed}\ninstance: {instance}")


def validate_event(event: Any, *, error_event: bool = False) -> None:
    """One decoded event of a mock stream (which may carry compaction events, wire doc §17.4)."""
    problems = letta().validate_event(event, error_event=error_event, compaction_events=True)
    _raise(f"{event.get('message_type') if isinstance(event, dict) else 'event'} breaks the document", problems, event)


def validate_stream_event(event: Any, *, error_event: bool = False, server: bool = False) -> None:
    """One event against ``LettaStreamingResponse`` only (or ``LettaErrorMessage`` for ``event: error``);
    ``server``: the real server's null ``detail``/``seq_id`` in error events are its quirk (wire doc §2.2)."""
    problems = letta().validate_event(event, error_event=error_event, null_error_fields=server)
    _raise("stream event does not match the document", problems, event)


def parse_stream(body: bytes, *, validate: bool = True) -> list[Event]:
    """Events of an SSE body in Letta's exact framing; every JSON event validated unless ``validate`` is false."""
    frames, problems = framing_problems(body)
    _raise("not Letta's stream framing", problems)
    if validate:
        for frame in frames:
            if not frame.done:
                validate_event(frame.payload, error_event=frame.event == "error")
    return frames


def check_sse_body(text: str, *, fidelity: str = "contract") -> list[tuple[str | None, str]]:
    """Check Letta's SSE framing and every event against ``LettaStreamingResponse``; (name, data) pairs."""
    frames, problems = framing_problems(text.encode())
    _raise("not Letta's stream framing", problems)
    for frame in frames:
        if not frame.done:
            validate_stream_event(frame.payload, error_event=frame.event == "error", server=fidelity == "server")
    return [(frame.event, frame.data) for frame in frames]


def check_grammar(events: Iterable[Event]) -> Ending:
    """The ending of a well-formed stream: ``"done"``, ``"error_before_first_chunk"`` or ``"error_mid_stream"``."""
    events = list(events)
    run_ids = [e.payload.get("run_id") for e in events if not e.done]
    found, why = ending([e.type for e in events], run_ids)
    if found is None:
        raise ContractViolation(why)
    return found


def operation_template(method: str, path: str) -> str | None:
    return letta().operation(method, path)


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
            shape = "{trace_id, detail: str} or {detail: str}"
            raise ContractViolation(f"{where}: not a server 422 ({shape}): {body!r}")
        return
    if fidelity == "server" and template.endswith("/runs/{run_id}") and isinstance(body, dict):
        # The real server writes these two without a timezone (wire doc §1.5): a naive ISO date is its quirk.
        for key in ("completed_at", "callback_sent_at"):
            value = body.get(key)
            if isinstance(value, str) and (value.endswith("Z") or "+" in value):
                raise ContractViolation(f"{where}: {key} {value!r} has a timezone; the server writes none")
    if fidelity == "server":
        body = as_documented(template, body)  # its quirks undone (mockserver.contract.server)
    if letta().response(method, template, status) is None:
        if status >= 400 and isinstance(body, dict) and "detail" in body:
            return
        raise ContractViolation(f"{where}: status not in the document and body is not {{'detail': ...}}: {body!r}")
    schema = letta().json_schema(method, template, status)
    if schema is None:
        raise ContractViolation(f"{where}: the document declares no JSON body for this response")
    _raise(f"{where}: body does not match the document", letta().validate(schema, body))


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
            check_sse_body(response.text, fidelity=self.fidelity)
        elif content_type == "application/json":
            validate_json_body(method, template, status, response.json(), fidelity=self.fidelity)
        else:
            raise ContractViolation(f"{method} {path} -> {status}: unexpected content type {content_type!r}")
        self.checked += 1
        if self.on_response is not None:
            self.on_response(response)
