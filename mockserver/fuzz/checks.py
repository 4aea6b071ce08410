"""letta-mock's checks for schemathesis: what a Letta server must do that an OpenAPI document cannot say.

Importing this module registers them with schemathesis (``schemathesis.check``), next to its own
(``not_a_server_error``, ``response_schema_conformance``, ``negative_data_rejection``, ...):

* ``letta_stream_events``: every event of an event stream, as it arrived, against the document's event union
  (``message_type`` required; ``event: error`` against ``LettaErrorMessage``);
* ``letta_stream_grammar``: Letta's framing and the order of a stream — at most one ``stop_reason``, then
  ``usage_statistics``, ``[DONE]`` last (or one of Letta's error endings, wire doc §6.6), pings anywhere; the token
  chunks of one message sharing ``id`` and ``otid``; ``seq_id`` increasing in background streams;
* ``letta_stream_finished``: the stream ended within the fuzzer's bounds (``--stream-timeout``,
  ``--stream-max-events``) and the body closed after ``[DONE]``;
* ``letta_error_shape``: Letta's error bodies — a 422 ``detail`` list of ``{loc, msg, type}``, 4xx ``{"detail": …}``
  (or an LLM provider's ``{"error": {type, message}}``);
* ``letta_history``: in stateful runs, what a send answered is in the history listed after it, and a completed run
  lists its messages.

A stream read by ``transport.StreamingTransport`` is judged from its ``StreamReading`` (events checked as they
arrived, with their times); any other response's stream (schemathesis' own transports) from its body. Each check
raises a ``Failure`` of its own class, so reports name it; each returns ``True`` (skipped) where it does not apply.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import schemathesis
from schemathesis import Case as _Case
from schemathesis import CheckContext, Response
from schemathesis.core.failures import CustomFailure, Failure
from schemathesis.core.transport import is_event_stream

from mockserver.contract import Contract, ending, framing_problems
from mockserver.fuzz.streams import Arrival, FrameSplitter, StreamBounds, StreamReading, check_event
from mockserver.fuzz.transport import reading_of

Case = _Case[Any]

__all__ = [
    "CHECKS",
    "HistoryInconsistent",
    "NotLettaErrorShape",
    "StreamBreaksGrammar",
    "StreamEventInvalid",
    "StreamNotFinished",
    "letta_error_shape",
    "letta_history",
    "letta_stream_events",
    "letta_stream_finished",
    "letta_stream_grammar",
]

SHOWN = 5  # problems listed per failure
# Not agent chunks: what a stream carries around the agent's messages.
FRAME_TYPES = frozenset({"ping", "stop_reason", "usage_statistics", "error_message", "[DONE]"})


class LettaFailure(Failure):
    """A failure of one of our checks (schemathesis' custom-check code, so ``st explain`` is not pointed at it).

    ``key`` names the kind of flaw: schemathesis reports one failure per operation, class and key, so the same flaw
    on every case is one finding and two different flaws are two.
    """

    code: ClassVar[str] = CustomFailure.code

    def __init__(self, *, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    @property
    def _unique_key(self) -> str:
        return self.key


class StreamEventInvalid(LettaFailure):
    kind_title = "Stream event breaks the document"


class StreamBreaksGrammar(LettaFailure):
    kind_title = "Stream breaks Letta's grammar"


class StreamNotFinished(LettaFailure):
    kind_title = "Stream did not finish"


class NotLettaErrorShape(LettaFailure):
    kind_title = "Not Letta's error shape"


class HistoryInconsistent(LettaFailure):
    kind_title = "History is inconsistent"


def _fail(kind: type[LettaFailure], case: Case, lines: list[str], key: str) -> None:
    shown = lines[:SHOWN] + ([f"... and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else [])
    raise kind(operation=case.operation.label, message="\n".join(shown), case_id=case.id, key=key)


# -- the stream of a response -----------------------------------------------------------------------------------

_CONTRACTS: dict[int, tuple[Any, Contract]] = {}


def _contract(case: Case) -> Contract:
    transport = getattr(type(case.operation.schema), "transport", None)
    contract = getattr(transport, "contract", None)
    if isinstance(contract, Contract):
        return contract
    raw = case.operation.schema.raw_schema
    cached = _CONTRACTS.get(id(raw))
    if cached is None or cached[0] is not raw:
        cached = (raw, Contract(raw))
        _CONTRACTS[id(raw)] = cached
    return cached[1]


def stream_of(response: Response, case: Case) -> StreamReading | None:
    """The stream answering ``case``: what our transport read, or ``response``'s event-stream body, else None."""
    if not is_event_stream((response.headers.get("content-type") or [""])[0]):
        return None
    reading = reading_of(response.request)
    if reading is not None:
        return reading
    # Read by another transport: the whole body is there already (as far as schemathesis read it).
    reading = StreamReading(StreamBounds(), content=bytearray(response.content or b""))
    contract = _contract(case)
    for frame in FrameSplitter().feed(response.content or b""):
        payload, problems = check_event(contract, frame)
        reading.arrivals.append(Arrival(len(reading.arrivals), frame, 0.0, payload, problems))
    done = any(arrival.frame.done for arrival in reading.arrivals)
    reading.outcome = "timeout" if response.stream_cut_short else ("done" if done else "eof")
    return reading


def _where(arrival: Arrival, timed: bool) -> str:
    when = f", {arrival.at:.3f} s after the headers" if timed else ""
    return f"event #{arrival.index} ({arrival.type}{when})"


@schemathesis.check
def letta_stream_events(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every stream event, as it arrived, is a member of the document's event union (message_type required)."""
    reading = stream_of(response, case)
    if reading is None:
        return True
    timed = reading_of(response.request) is not None
    wrong = [(arrival, problem) for arrival in reading.arrivals for problem in arrival.problems]
    if wrong:
        first, problem = wrong[0]
        lines = [f"{_where(arrival, timed)}: {problem}" for arrival, problem in wrong]
        _fail(StreamEventInvalid, case, lines, key=f"{first.type}:{problem.path}")
    return None


@schemathesis.check
def letta_stream_grammar(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Letta's framing and stream order, token chunks of one message sharing id and otid, seq_ids increasing."""
    reading = stream_of(response, case)
    if reading is None:
        return True
    found: list[tuple[str, str]] = []  # (kind, line)
    whole = reading.outcome in ("done", "eof")
    _, framing = framing_problems(bytes(reading.content) if whole else reading.complete)
    found += [("framing", f"framing {problem}") for problem in framing]
    if reading.outcome in ("done", "eof", "open_after_done"):
        # Pings may come anywhere (a keep-alive fills any silence); the order is the order of everything else.
        parsed = [a for a in reading.arrivals if a.frame.done or isinstance(a.payload, dict)]
        types = [a.type for a in parsed if a.type != "ping"]
        run_ids = [a.payload.get("run_id") for a in parsed if isinstance(a.payload, dict)]
        end, why = ending(types, run_ids)
        if end is None and not (operation_id(case) in RESUMES and _is_tail(types)):
            found.append(("order", f"order: {why}"))
    found += [("chunks", line) for line in _chunk_problems(reading.arrivals)]
    found += [("seq_id", line) for line in _seq_problems(reading.arrivals)]
    if found:
        _fail(StreamBreaksGrammar, case, [line for _, line in found], key=found[0][0])
    return None


# A resumed stream is what follows a seq_id: any suffix of a stream, the empty one included (wire doc §13.3).
RESUMES = {"retrieve_stream_for_run", "retrieve_conversation_stream"}
_TAILS = (("stop_reason", "usage_statistics", "[DONE]"), ("stop_reason", "error_message", "[DONE]"),
          ("stop_reason", "error_message"))  # fmt: skip


def _is_tail(types: list[str]) -> bool:
    """``types`` is a suffix of one of Letta's stream endings (what a resume after the stop reason gets)."""
    return any(tuple(types) == tail[len(tail) - len(types) :] for tail in _TAILS if len(types) <= len(tail))


def _chunk_problems(arrivals: list[Arrival]) -> Iterator[str]:
    """Token chunks of one message share ``id`` and ``otid`` (wire doc §0 rule 4, §6.3)."""
    chunks = [a for a in arrivals if isinstance(a.payload, dict) and a.type not in FRAME_TYPES]
    by_otid: dict[str, Arrival] = {}
    for arrival in chunks:
        otid = arrival.payload.get("otid")
        if otid is None:
            continue
        first = by_otid.setdefault(otid, arrival)
        if (first.payload.get("id"), first.type) != (arrival.payload.get("id"), arrival.type):
            yield (f"event #{arrival.index} shares otid {otid!r} with event #{first.index} but not its id and "
                   f"message_type ({arrival.payload.get('id')!r} {arrival.type} vs {first.payload.get('id')!r} "
                   f"{first.type})")  # fmt: skip
    for previous, arrival in itertools.pairwise(chunks):
        same = (previous.payload.get("id"), previous.type) == (arrival.payload.get("id"), arrival.type)
        if same and previous.payload.get("otid") != arrival.payload.get("otid"):
            yield (f"events #{previous.index} and #{arrival.index} are chunks of one {arrival.type} "
                   f"({arrival.payload.get('id')!r}) with different otids")  # fmt: skip


def _seq_problems(arrivals: list[Arrival]) -> Iterator[str]:
    """In a background stream every event's ``seq_id`` is above the last one (a keep-alive ping repeats it, §6.8)."""
    last: int | None = None
    for arrival in arrivals:
        seq = arrival.payload.get("seq_id") if isinstance(arrival.payload, dict) else None
        if not isinstance(seq, int):
            continue
        if last is not None and (seq < last if arrival.type == "ping" else seq <= last):
            yield f"event #{arrival.index} ({arrival.type}) has seq_id {seq} after {last}"
        last = seq if last is None else max(last, seq)


@schemathesis.check
def letta_stream_finished(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The stream ended within the fuzzer's bounds, and the body closed after [DONE]."""
    reading = stream_of(response, case)
    if reading is None:
        return True
    bounds, count = reading.bounds, len(reading.arrivals)
    timed = reading_of(response.request) is not None
    if reading.outcome == "timeout":
        within = f"{bounds.timeout:g} s" if timed else "schemathesis' request timeout"
        nothing = "" if count else ", nothing sent"
        _fail(StreamNotFinished, case, [f"stream did not finish within {within} ({count} events, no [DONE]{nothing})"],
              key="timeout")  # fmt: skip
    if reading.outcome == "max_events":
        _fail(StreamNotFinished, case, [f"stream did not finish within {bounds.max_events} events (no [DONE])"],
              key="max_events")  # fmt: skip
    if reading.outcome == "open_after_done":
        _fail(StreamNotFinished, case, [f"the body stayed open {bounds.close_grace:g} s after [DONE] (event "
                                        f"#{count - 1})"], key="open_after_done")  # fmt: skip
    if reading.outcome == "dropped":
        _fail(StreamNotFinished, case, [f"the connection broke after {count} events: {reading.error}"], key="dropped")
    return None


# -- error bodies -----------------------------------------------------------------------------------------------


def _json(response: Response) -> tuple[bool, Any]:
    try:
        return True, json.loads(response.content or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False, None


def _validation_items(detail: Any) -> list[str]:
    if not isinstance(detail, list):
        return [f"detail is {type(detail).__name__}, not a list of {{loc, msg, type}}: {str(detail)[:200]!r}"]
    wrong = []
    for index, item in enumerate(detail):
        fields = isinstance(item, dict) and isinstance(item.get("loc"), list) and isinstance(item.get("msg"), str)
        if not (fields and isinstance(item.get("type"), str)):
            wrong.append(f"detail[{index}] is not {{loc: list, msg: str, type: str}}: {str(item)[:200]}")
    return wrong


@schemathesis.check
def letta_error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A 4xx body is Letta's: 422 ``{"detail": [{loc, msg, type}, ...]}``, else ``{"detail": ...}`` (wire doc §15)."""
    status = response.status_code
    if not 400 <= status < 500:
        return True
    if status in (401, 403) and not (response.content or b"").strip():
        return None  # a gateway's refusal of credentials may carry no body
    parsed, body = _json(response)
    where = f"{status} {response.message}".strip()
    if not parsed or not isinstance(body, dict):
        content = (response.content or b"")[:200]
        _fail(NotLettaErrorShape, case, [f"{where}: the body is not a JSON object: {content!r}"], key=f"{status}:json")
    if status == 422:
        if "detail" not in body:
            _fail(NotLettaErrorShape, case, [f"{where}: no detail: {str(body)[:200]}"], key="422:detail")
        problems = _validation_items(body["detail"])
        if problems:
            _fail(NotLettaErrorShape, case, [f"{where}: {problems[0]}", *problems[1:]], key="422:list")
        return None
    provider = isinstance(body.get("error"), dict) and {"type", "message"} <= set(body["error"])
    if "detail" not in body and not provider:
        _fail(NotLettaErrorShape, case, [f"{where}: neither {{detail}} nor {{error: {{type, message}}}}: "
                                         f"{str(body)[:200]}"], key=f"{status}:detail")  # fmt: skip
    return None


# -- history in stateful runs -----------------------------------------------------------------------------------

SENDS = {"send_message", "create_agent_message_stream", "send_conversation_message", "create_agent_message_async"}
LISTINGS = {"list_messages", "list_conversation_messages", "list_messages_for_run"}
ENDED = {"end_turn", "max_steps", "requires_approval"}  # a turn that ended this way stored what it answered


def operation_id(case: Case) -> str | None:
    value = case.operation.definition.raw.get("operationId")
    return value if isinstance(value, str) else None


def _answered(case: Case, response: Response) -> tuple[list[str], str | None] | None:
    """The message ids a successful send answered with and the run they belong to, or None if not known."""
    if response.status_code != 200:
        return None
    reading = stream_of(response, case)
    if reading is not None:
        if reading.outcome != "done":
            return None
        events = [a.payload for a in reading.arrivals if isinstance(a.payload, dict)]
    else:
        parsed, body = _json(response)
        messages = body.get("messages") if parsed and isinstance(body, dict) else None
        if not isinstance(messages, list):
            return None
        events = [*messages, {"message_type": "stop_reason", **(body.get("stop_reason") or {})}]
    stops = [e.get("stop_reason") for e in events if isinstance(e, dict) and e.get("message_type") == "stop_reason"]
    if not stops or stops[-1] not in ENDED:
        return None
    messages = [e for e in events if isinstance(e, dict) and e.get("message_type") not in FRAME_TYPES]
    ids = list(dict.fromkeys(str(m["id"]) for m in messages if isinstance(m.get("id"), str)))
    runs = {m.get("run_id") for m in messages if isinstance(m.get("run_id"), str)}
    return ids, (runs.pop() if len(runs) == 1 else None)


def _complete_listing(case: Case, needed: int) -> bool:
    """The listing shows the whole recent history: no cursor, no filter, newest first, room for ``needed``."""
    query = case.query or {}
    if any(query.get(name) not in (None, "") for name in ("before", "after", "include_return_message_types",
                                                             "group_id", "conversation_id")):  # fmt: skip
        return False
    if operation_id(case) != "list_messages_for_run" and query.get("order") == "asc":
        return False
    limit = query.get("limit")
    return limit is None or (isinstance(limit, int) and limit >= needed)


def _same_target(parent: Case, child: Case) -> bool:
    names = ("agent_id", "conversation_id")
    return all((parent.path_parameters or {}).get(n) == (child.path_parameters or {}).get(n) for n in names
               if n in (child.path_parameters or {}))  # fmt: skip


def _sends_between(ctx: CheckContext, parent: Case, child: Case) -> bool:
    seen = False
    for other in ctx.internals.find_all_cases():
        if other.id == parent.id:
            seen = True
        elif other.id == child.id:
            return False
        elif seen and operation_id(other) in SENDS | {"reset_messages", "summarize_messages", "compact_conversation"}:
            return True
    return False


@schemathesis.check
def letta_history(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """After a send, its messages are in the history listed by the link that follows it; a run lists its own."""
    child = operation_id(case)
    if child not in LISTINGS or response.status_code != 200:
        return True
    parent = ctx.internals.find_parent(case_id=case.id)
    if parent is None or _sends_between(ctx, parent, case):
        return True
    parent_response = ctx.internals.find_response(case_id=parent.id)
    if parent_response is None:
        return True
    parsed, listed = _json(response)
    if not parsed or not isinstance(listed, list):
        return True  # response_schema_conformance says what is wrong with it
    listed_ids = {str(item.get("id")) for item in listed if isinstance(item, dict)}
    if operation_id(parent) == "retrieve_run" and child == "list_messages_for_run":
        parsed, run = _json(parent_response)
        same = isinstance(run, dict) and run.get("id") == (case.path_parameters or {}).get("run_id")
        if same and run.get("status") == "completed" and not listed and _complete_listing(case, 1):
            _fail(HistoryInconsistent, case, [f"run {run['id']} is completed but lists no messages"], key="run")
        return None
    if operation_id(parent) not in SENDS - {"create_agent_message_async"}:
        return True
    answered = _answered(parent, parent_response)
    if answered is None:
        return True
    ids, run_id = answered
    if child == "list_messages_for_run":
        if run_id is None or (case.path_parameters or {}).get("run_id") != run_id:
            return True
    elif not _same_target(parent, case):
        return True
    if not ids or not _complete_listing(case, len(ids) + 1):
        return True
    missing = [i for i in ids if i not in listed_ids]
    if missing:
        what = f"run {run_id}" if child == "list_messages_for_run" else "the history"
        _fail(HistoryInconsistent, case, [f"{len(missing)} of the {len(ids)} messages the send answered with are not "
                                          f"in {what}: {missing[:3]}"], key=child)  # fmt: skip
    return None


CHECKS = (letta_stream_events, letta_stream_grammar, letta_stream_finished, letta_error_shape, letta_history)
