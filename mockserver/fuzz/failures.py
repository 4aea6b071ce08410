"""What our checks share: their failures (one class per check, so reports name it), and a response's stream.

``stream_of`` is a response's event stream as the fuzzer read it — ``transport.StreamingTransport``'s
``StreamReading`` (events checked as they arrived, with their times), or, for a response another transport read,
its body decoded and checked the same way.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from schemathesis import Case as _Case
from schemathesis import Response
from schemathesis.core.failures import CustomFailure, Failure
from schemathesis.core.transport import is_event_stream

from mockserver.contract import Contract
from mockserver.fuzz.streams import Arrival, FrameSplitter, StreamBounds, StreamReading, check_event
from mockserver.fuzz.transport import reading_of

Case = _Case[Any]

__all__ = [
    "FRAME_TYPES",
    "Case",
    "HistoryInconsistent",
    "LettaFailure",
    "NotLettaErrorShape",
    "StreamBreaksGrammar",
    "StreamEventInvalid",
    "StreamNotFinished",
    "fail",
    "json_of",
    "operation_id",
    "stream_of",
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


def fail(kind: type[LettaFailure], case: Case, lines: list[str], key: str) -> None:
    """Raise ``kind`` for ``case``: its first ``SHOWN`` problem lines, ``key`` its kind of flaw."""
    shown = lines[:SHOWN] + ([f"... and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else [])
    raise kind(operation=case.operation.label, message="\n".join(shown), case_id=case.id, key=key)


def operation_id(case: Case) -> str | None:
    value = case.operation.definition.raw.get("operationId")
    return value if isinstance(value, str) else None


def json_of(response: Response) -> tuple[bool, Any]:
    """(whether the body is JSON, the decoded body)."""
    try:
        return True, json.loads(response.content or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False, None


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
