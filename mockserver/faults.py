"""Faults for client resilience tests, applied to one HTTP response — never to the run behind it.

A fault changes what one client receives (a dropped connection, a malformed event, a stall…); the run still
completes in the store, so a client that recovers (lists history, resumes a background run from its last
``seq_id``) finds everything. Faults are deterministic: they act at event positions, not at random.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

from mockserver import sse
from mockserver.control import Controls
from mockserver.errors import HTTPError, ProviderError
from mockserver.models import LettaPing, LettaStopReason
from mockserver.store import Store

__all__ = ["STREAM_ONLY", "ConnectionDropped", "before_response", "faulty_frames", "http_fault"]

STREAM_ONLY = {
    "drop_after", "stall_after", "silent_stall_after", "no_done", "malformed", "split", "no_stop_reason",
    "duplicate_stop_reason", "unknown_type",
}  # fmt: skip

# Provider errors as Letta answers non-streaming requests (wire doc §15.1): status -> (type, message).
_PROVIDER_ERRORS: dict[int, tuple[str, str]] = {
    400: ("llm_bad_request", "The request to the LLM model provider was invalid."),
    401: ("llm_authentication", "Authentication failed with the LLM model provider."),
    402: ("llm_insufficient_credits", "Insufficient credits for the LLM model provider."),
    429: ("llm_rate_limit", "Rate limit exceeded for LLM model provider. Please wait before making another request."),
    500: ("llm_error", "An error occurred with the LLM request."),
    504: ("llm_timeout", "The LLM request timed out. Please try again."),
}


class ConnectionDropped(Exception):
    """Raised inside a streaming body to make the server close the connection mid-response."""


def http_fault(status: int, retry_after: int | None) -> HTTPError:
    """The answer of ``fault=http:<status>``: Letta's body for that status, and Retry-After if asked."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    if status in _PROVIDER_ERRORS:
        error_type, message = _PROVIDER_ERRORS[status]
        return ProviderError(status, error_type, message, f"letta-mock: simulated HTTP {status}", headers=headers)
    error = HTTPError(f"letta-mock: simulated HTTP {status}", headers=headers)
    error.status_code = status
    return error


async def before_response(request: Request, controls: Controls) -> None:
    """Faults that act before anything is sent: ``slow_first_byte`` and ``http:<status>[:<attempts>]``."""
    for fault in controls.faults("slow_first_byte"):
        await asyncio.sleep((fault.arg or 0) / 1000)
    for fault in controls.faults("http"):
        # The SDKs retry 408/409/429/5xx twice, numbering tries in x-stainless-retry-count: `attempts` lets a
        # test fail the first tries only and watch the retry succeed.
        attempt = int(request.headers.get("x-stainless-retry-count", "0") or 0)
        if fault.attempts is None or attempt < fault.attempts:
            raise http_fault(fault.arg or 500, controls.retry_after)


async def faulty_frames(
    events: AsyncIterator[Any], controls: Controls, store: Store, run_id: str
) -> AsyncIterator[bytes]:
    """SSE bytes of ``events`` with the stream faults of ``controls`` applied."""
    kinds = {f.kind: f for f in controls.fault or ()}
    sent = 0
    last_seq: int | None = None  # keep-alive pings carry the last seq_id seen (wire doc §6.4)
    async for event in events:
        last_seq = getattr(event, "seq_id", None) or last_seq
        if event == sse.DONE and "no_done" in kinds:
            continue
        if isinstance(event, LettaStopReason) and "no_stop_reason" in kinds:
            continue
        if "unknown_type" in kinds and sent + 1 == kinds["unknown_type"].arg:
            yield b'data: {"message_type":"mock_unknown_event","id":"mock-unknown","detail":"not a Letta type"}\n\n'
            sent += 1
        frame = sse.encode(event)
        sent += 1
        if "malformed" in kinds and sent == kinds["malformed"].arg:
            cut = frame.index(b"\n\n") // 2 or 1
            frame = frame[:cut] + b"\n\n"  # the JSON ends half-way: not parseable
        if "split" in kinds and sent == kinds["split"].arg:
            middle = len(frame) // 2
            yield frame[:middle]
            await asyncio.sleep(0.01)  # a second write, so the halves travel in separate TCP segments
            yield frame[middle:]
        else:
            yield frame
        if isinstance(event, LettaStopReason) and "duplicate_stop_reason" in kinds:
            yield frame
        if "drop_after" in kinds and sent >= (kinds["drop_after"].arg or 0):
            raise ConnectionDropped(f"fault drop_after:{kinds['drop_after'].arg}")
        for name, pings in (("stall_after", True), ("silent_stall_after", False)):
            if name in kinds and sent == kinds[name].arg:
                async for ping in _stall(controls, pings, store, run_id, last_seq):
                    yield ping


async def _stall(
    controls: Controls, pings: bool, store: Store, run_id: str, seq_id: int | None
) -> AsyncIterator[bytes]:
    """Silence for ``stall_ms``; with pings, one after every full ``ping_interval_ms`` (whole milliseconds)."""
    remaining = controls.get("stall_ms", 60000)
    interval = max(controls.get("ping_interval_ms", 20000), 1)
    while pings and remaining >= interval:
        await asyncio.sleep(interval / 1000)
        remaining -= interval
        yield sse.encode(LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=run_id, seq_id=seq_id))
    await asyncio.sleep(remaining / 1000)
