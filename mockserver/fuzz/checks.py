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
* ``letta_history`` (``history``): in stateful runs, what a send answered is in the history listed after it, and
  a run lists its messages.

A stream is judged from ``failures.stream_of``: as our transport read it (events checked as they arrived, with
their times), else from its body. Each check raises a ``Failure`` of its own class, so reports name it; each
returns ``True`` (skipped) where it does not apply.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import schemathesis
from schemathesis import CheckContext, Response

from mockserver.contract import ending, framing_problems
from mockserver.fuzz.failures import (
    FRAME_TYPES,
    Case,
    NotLettaErrorShape,
    StreamBreaksGrammar,
    StreamEventInvalid,
    StreamNotFinished,
    fail,
    json_of,
    operation_id,
    stream_of,
)
from mockserver.fuzz.history import letta_history
from mockserver.fuzz.streams import Arrival
from mockserver.fuzz.transport import reading_of

__all__ = [
    "CHECKS",
    "letta_error_shape",
    "letta_history",
    "letta_stream_events",
    "letta_stream_finished",
    "letta_stream_grammar",
]


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
        fail(StreamEventInvalid, case, lines, key=f"{first.type}:{problem.path}")
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
        kinds = "+".join(sorted({kind for kind, _ in found}))  # streams flawed in other ways are other findings
        fail(StreamBreaksGrammar, case, [line for _, line in found], key=kinds)
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
        fail(StreamNotFinished, case, [f"stream did not finish within {within} ({count} events, no [DONE]{nothing})"],
              key="timeout")  # fmt: skip
    if reading.outcome == "max_events":
        fail(StreamNotFinished, case, [f"stream did not finish within {bounds.max_events} events (no [DONE])"],
              key="max_events")  # fmt: skip
    if reading.outcome == "open_after_done":
        fail(StreamNotFinished, case, [f"the body stayed open {bounds.close_grace:g} s after [DONE] (event "
                                        f"#{count - 1})"], key="open_after_done")  # fmt: skip
    if reading.outcome == "dropped":
        fail(StreamNotFinished, case, [f"the connection broke after {count} events: {reading.error}"], key="dropped")
    return None


# -- error bodies -----------------------------------------------------------------------------------------------


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
    parsed, body = json_of(response)
    where = f"{status} {response.message}".strip()
    if not parsed or not isinstance(body, dict):
        content = (response.content or b"")[:200]
        fail(NotLettaErrorShape, case, [f"{where}: the body is not a JSON object: {content!r}"], key=f"{status}:json")
    if status == 422:
        if "detail" not in body:
            fail(NotLettaErrorShape, case, [f"{where}: no detail: {str(body)[:200]}"], key="422:detail")
        problems = _validation_items(body["detail"])
        if problems:
            fail(NotLettaErrorShape, case, [f"{where}: {problems[0]}", *problems[1:]], key="422:list")
        return None
    provider = isinstance(body.get("error"), dict) and {"type", "message"} <= set(body["error"])
    if "detail" not in body and not provider:
        fail(NotLettaErrorShape, case, [f"{where}: neither {{detail}} nor {{error: {{type, message}}}}: "
                                         f"{str(body)[:200]}"], key=f"{status}:detail")  # fmt: skip
    return None


CHECKS = (letta_stream_events, letta_stream_grammar, letta_stream_finished, letta_error_shape, letta_history)
