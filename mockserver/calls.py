"""What the mock was called with, for assertions in tests: respx's ``calls`` over the request journal.

    calls = letta_mock_journal                  # or letta_mock.calls (the in-process client)
    calls.count, calls.last.request.json        # every exchange of this test, oldest first
    calls.last.response.message_types           # what a stream sent, in order
    calls.assert_called_once_with("send_message", agent_id=AGENT, input="hello")

A view reads the journal when asked (never a stale copy), so keep it and ask again after more requests. Fields of
``assert_called_*_with`` match a call's path parameters, query parameters and top-level JSON body keys (in that
order, the body's winning), compared with ``==`` (``unittest.mock.ANY`` matches anything).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, overload
from urllib.parse import parse_qsl

from mockserver.journal import Entry, Journal
from mockserver.wire.sse import DONE

__all__ = ["Call", "CallRequest", "CallResponse", "Calls", "describe"]


@dataclass(frozen=True)
class CallRequest:
    method: str
    path: str
    query: dict[str, str]
    params: dict[str, str]  # the route's path parameters, e.g. {"agent_id": "agent-…"}
    headers: dict[str, str]  # lower-case names; authorization and cookies masked
    json: Any  # the parsed body (its text if it was not JSON; None without a body)


@dataclass(frozen=True)
class CallResponse:
    status_code: int
    content_type: str | None
    json: Any  # the parsed body of a JSON response; None for a stream
    events: list[Any]  # a stream's events in order: parsed objects, "[DONE]" as the string
    offsets_ms: list[float]  # when each event was sent, since the request arrived
    stop_reason: str | None
    state: str  # done | dropped (a fault closed the connection) | failed (the mock failed) | open

    @property
    def message_types(self) -> list[str]:
        """``message_type`` of each event, ``"[DONE]"`` included: what a client iterating the stream saw."""
        return [DONE if event == DONE else str(event.get("message_type")) if isinstance(event, dict) else "unparsable"
                for event in self.events]  # fmt: skip

    @property
    def streamed(self) -> bool:
        return bool(self.content_type and self.content_type.startswith("text/event-stream"))


@dataclass(frozen=True)
class Call:
    id: int
    operation: str | None  # the operationId, e.g. "send_message"; None for routes Letta does not have
    request: CallRequest
    response: CallResponse
    duration_ms: float | None
    rule: str | None = None  # the authored rule that answered it (``mockserver.authored``), if one did

    @classmethod
    def of(cls, entry: Entry) -> Call:
        detail = entry.detail()
        response = detail["response"]
        stream = response.get("stream", [])
        return cls(
            id=entry.id,
            operation=entry.operation,
            request=CallRequest(
                entry.method, entry.path, dict(parse_qsl(entry.query)), dict(entry.params), dict(entry.headers),
                entry.body,
            ),
            response=CallResponse(
                entry.status, entry.content_type, response.get("body"), [e["data"] for e in stream],
                [e["at_ms"] for e in stream], entry.stop_reason, entry.state,
            ),
            duration_ms=entry.duration_ms,
            rule=entry.rule,
        )  # fmt: skip

    @property
    def fields(self) -> dict[str, Any]:
        """Path parameters, then query parameters, then the body's top-level keys (later ones win)."""
        body = self.request.json if isinstance(self.request.json, dict) else {}
        return {**self.request.params, **self.request.query, **body}

    def matches(self, operation: str | None, fields: dict[str, Any]) -> bool:
        if operation is not None and self.operation != operation:
            return False
        own = self.fields
        return all(key in own and value == own[key] for key, value in fields.items())

    def __str__(self) -> str:
        return describe(self)


class Calls:
    """The calls the mock received (this test's), oldest first; filtered views with ``of`` and ``where``."""

    def __init__(self, journal: Callable[[], Journal], predicate: Callable[[Call], bool] | None = None) -> None:
        self._journal = journal
        self._predicate = predicate

    def _calls(self) -> list[Call]:
        calls = [Call.of(entry) for entry in self._journal().entries]
        return [c for c in calls if self._predicate(c)] if self._predicate is not None else calls

    @overload
    def __getitem__(self, index: int) -> Call: ...
    @overload
    def __getitem__(self, index: slice) -> list[Call]: ...
    def __getitem__(self, index: int | slice) -> Call | list[Call]:
        return self._calls()[index]

    def __len__(self) -> int:
        return len(self._calls())

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls())

    def __repr__(self) -> str:
        calls = self._calls()
        return f"<Calls: {len(calls)}>" + "".join(f"\n  {describe(call)}" for call in calls)

    @property
    def count(self) -> int:
        return len(self)

    @property
    def called(self) -> bool:
        return bool(self._calls())

    @property
    def last(self) -> Call:
        calls = self._calls()
        if not calls:
            raise AssertionError("the mock received no call" + self._scope())
        return calls[-1]

    @property
    def first(self) -> Call:
        calls = self._calls()
        if not calls:
            raise AssertionError("the mock received no call" + self._scope())
        return calls[0]

    def of(self, operation: str) -> Calls:
        """Only the calls of one operation (``"send_message"``, ``"list_messages"``, … the operationIds)."""
        return self.where(operation)

    def where(self, operation: str | None = None, **fields: Any) -> Calls:
        """Only the calls of ``operation`` (any when None) whose fields equal ``fields``."""
        return Calls(self._journal, lambda call: self._keeps(call) and call.matches(operation, fields))

    def _keeps(self, call: Call) -> bool:
        return self._predicate is None or self._predicate(call)

    @property
    def streams(self) -> list[list[Any]]:
        """The events of every streamed response, in order (one list per stream)."""
        return [call.response.events for call in self._calls() if call.response.streamed]

    # -- assertions -----------------------------------------------------------------------------------------

    def assert_called(self, operation: str | None = None, **fields: Any) -> Call:
        """At least one matching call; the last one."""
        found = self.where(operation, **fields)._calls()
        if not found:
            raise AssertionError(self._expected("at least one", operation, fields, 0))
        return found[-1]

    def assert_not_called(self, operation: str | None = None, **fields: Any) -> None:
        found = self.where(operation, **fields)._calls()
        if found:
            raise AssertionError(self._expected("no", operation, fields, len(found)))

    def assert_called_once(self, operation: str | None = None, **fields: Any) -> Call:
        """Exactly one matching call; that call."""
        found = self.where(operation, **fields)._calls()
        if len(found) != 1:
            raise AssertionError(self._expected("exactly one", operation, fields, len(found)))
        return found[0]

    def assert_called_times(self, times: int, operation: str | None = None, **fields: Any) -> Call | None:
        found = self.where(operation, **fields)._calls()
        if len(found) != times:
            raise AssertionError(self._expected(f"exactly {times}", operation, fields, len(found)))
        return found[-1] if found else None

    def assert_called_once_with(self, operation: str | None, **fields: Any) -> Call:
        """Exactly one call of ``operation`` and it has ``fields`` (path, query or body); that call."""
        of_operation = self.where(operation)._calls()
        matching = [call for call in of_operation if call.matches(None, fields)]
        if len(of_operation) != 1 or len(matching) != 1:
            raise AssertionError(self._expected("exactly one", operation, fields, len(of_operation), matching))
        return matching[0]

    def assert_called_with(self, operation: str | None, **fields: Any) -> Call:
        """The last call of ``operation`` has ``fields``."""
        of_operation = self.where(operation)._calls()
        if not of_operation or not of_operation[-1].matches(None, fields):
            raise AssertionError(self._expected("the last", operation, fields, len(of_operation)))
        return of_operation[-1]

    def _expected(
        self, how_many: str, operation: str | None, fields: dict[str, Any], found: int, matching: Any = None
    ) -> str:
        what = operation or "any operation"
        wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        text = f"expected {how_many} call of {what}" + (f" with {wanted}" if wanted else "")
        text += f"; the mock saw {found} call(s) of {what}" + self._scope()
        if matching is not None and found:
            text += f", {len(matching)} with those fields"
        every = self._calls()
        return text + (":" + "".join(f"\n  {describe(call)}" for call in every) if every else " and no call at all.")

    def _scope(self) -> str:
        return "" if self._predicate is None else " (in this filtered view)"


def describe(call: Call) -> str:
    """One line: ``#3 POST /v1/agents/…/messages send_message {"input": …} -> 200 SSE 9 events end_turn``."""
    request = call.request
    target = request.path + ("?" + "&".join(f"{k}={v}" for k, v in request.query.items()) if request.query else "")
    body = "" if request.json is None else " " + _short(request.json, 80)
    response = call.response
    if response.streamed:
        answer = f"SSE {len(response.events)} events [{', '.join(_compact(response.message_types))}]"
    else:
        answer = "" if response.json is None else _short(response.json, 60)
    state = "" if response.state == "done" else f" ({response.state})"
    head = f"#{call.id} {request.method} {target} {call.operation or '-'}{body}"
    return f"{head} -> {response.status_code}{state} {answer}".rstrip()


def _compact(types: list[str]) -> list[str]:
    """Runs of one type shown once with a count: token streams have hundreds of chunks."""
    out: list[str] = []
    previous, run = None, 0
    for kind in [*types, None]:
        if kind == previous:
            run += 1
            continue
        if previous is not None:
            out.append(previous if run == 1 else f"{previous} x{run}")
        previous, run = kind, 1
    return out


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"
