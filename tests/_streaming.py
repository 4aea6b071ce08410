"""Helpers of the streaming tests; their fixtures are in ``_stream_fixtures`` (loaded with ``pytest_plugins``).

One uvicorn server runs for the session (the pytest plugin's ``letta_mock_server``); each test puts a fresh app
behind it (``Mock``), so state never leaks
between tests and no test pays for a server start. Streams need a real socket: httpx's
ASGITransport buffers whole bodies, which would hide pacing, drops and splits.

Clients made by ``Mock.sdk`` / ``Mock.async_sdk`` check every stream they receive before the SDK parses it:
Letta's framing, each event against the OpenAPI document, and the grammar of the whole stream
(``_stream_contract``). Fault tests ask for ``checked=False``: breaking the contract is the point there.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from _sdk import call, drain
from contract import Event, StreamContractError, check_grammar, parse_stream
from letta_client import AsyncLetta, DefaultAsyncHttpxClient, DefaultHttpxClient, Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.live import LiveServer

__all__ = ["AGENT", "OTHER_AGENT", "Mock", "call", "drain", "drain_until_error", "payloads", "types"]

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
OTHER_AGENT = "agent-0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
# Raw httpx requests carry the SDK's package header, so they pass Letta's "1.x SDK" gate (wire doc §4 step 4).
SDK_HEADERS = {"X-Stainless-Package-Version": "1.12.1"}
# One TLS context for every client: building one per client loads the CA bundle each time (~50 ms), and the
# mock speaks plain HTTP anyway.
_TLS = ssl.create_default_context()


class StreamRecorder:
    """An httpx response hook: reads each SSE body, checks it against the contract and keeps its events."""

    def __init__(self) -> None:
        self.streams: list[list[Event]] = []

    def sync_hook(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            self._check(response, response.read())

    async def async_hook(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            self._check(response, await response.aread())

    def _check(self, response: httpx.Response, body: bytes) -> None:
        # StreamContractError, not assert: the SDK would turn an Exception from a hook into a connection error.
        head = (response.status_code, response.headers["content-type"])
        if head != (200, "text/event-stream; charset=utf-8"):
            raise StreamContractError(f"a stream must be 200 text/event-stream; charset=utf-8, not {head}")
        events = parse_stream(body)
        check_grammar(events)
        self.streams.append(events)

    @property
    def last(self) -> list[Event]:
        return self.streams[-1]


class Mock:
    """The mock of one test: its app behind the live server, raw HTTP, SDK clients and the admin API."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.recorder = StreamRecorder()
        self._closers: list[Any] = []
        self.use(create_app(seed=7))
        self.http = self._keep(httpx.Client(base_url=self.url, headers=SDK_HEADERS, timeout=10, verify=_TLS))

    def use(self, app: Starlette) -> Starlette:
        """Serve ``app`` from now on (e.g. ``create_app(admin=False)``)."""
        self.server.serve(app)
        self.app = app
        return app

    @property
    def url(self) -> str:
        return self.server.url

    def _keep(self, client: Any) -> Any:
        self._closers.append(client)
        return client

    def close(self) -> None:
        for client in self._closers:
            client.close()

    # -- SDK clients ----------------------------------------------------------------------------------------

    def sdk(self, *, strict: bool = True, max_retries: int = 0, checked: bool = True) -> Letta:
        hooks = {"response": [self.recorder.sync_hook]} if checked else {}
        http_client = DefaultHttpxClient(event_hooks=hooks, verify=_TLS)
        client = Letta(
            base_url=self.url,
            api_key="test",
            max_retries=max_retries,
            _strict_response_validation=strict,
            http_client=http_client,
        )
        return self._keep(client)  # type: ignore[no-any-return]

    def async_sdk(self, *, strict: bool = True, max_retries: int = 0, checked: bool = True) -> AsyncLetta:
        hooks = {"response": [self.recorder.async_hook]} if checked else {}
        return AsyncLetta(
            base_url=self.url,
            api_key="test",
            max_retries=max_retries,
            _strict_response_validation=strict,
            http_client=DefaultAsyncHttpxClient(event_hooks=hooks, verify=_TLS),
        )

    # -- raw HTTP -------------------------------------------------------------------------------------------

    def post_stream(
        self, body: dict[str, Any], *, controls: str | None = None, agent: str = AGENT, path: str | None = None
    ) -> list[Event]:
        """POST a streaming send (or any SSE endpoint) and return its events, framing and schemas checked."""
        headers = {"X-Letta-Mock": controls} if controls else {}
        response = self.http.post(path or f"/v1/agents/{agent}/messages", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        return parse_stream(response.content)

    def send(self, text: str, *, controls: str | None = None, agent: str = AGENT, **body: Any) -> list[Event]:
        return self.post_stream({"input": text, "streaming": True, **body}, controls=controls, agent=agent)

    def resume(self, run_id: str, starting_after: int | None = None) -> list[Event]:
        body = {} if starting_after is None else {"starting_after": starting_after}
        return self.post_stream(body, path=f"/v1/runs/{run_id}/stream")

    def history(self, agent: str = AGENT) -> list[dict[str, Any]]:
        response = self.http.get(f"/v1/agents/{agent}/messages", params={"order": "asc", "limit": 1000})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()
        return items

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        return run

    # -- admin API ------------------------------------------------------------------------------------------

    def journal(self, operation: str | None = None) -> list[dict[str, Any]]:
        params = {"operation": operation} if operation else None
        entries: list[dict[str, Any]] = self.http.get("/_mock/journal", params=params).json()
        return entries

    def calls(self) -> dict[str, int]:
        counts: dict[str, int] = self.http.get("/_mock/calls").json()
        return counts


async def drain_until_error(stream: Any) -> tuple[list[Any], BaseException]:
    """Read an SDK stream until it raises; the events it yielded first and the exception. Fails if none."""
    received: list[Any] = []
    try:
        stream = await call(stream)
        if hasattr(stream, "__aiter__"):
            async for event in stream:
                received.append(event)
        else:
            for event in stream:
                received.append(event)
    except Exception as error:
        return received, error
    raise AssertionError(f"the stream ended without raising after {[e.message_type for e in received]}")


def types(events: list[Any]) -> list[str]:
    """``message_type`` of SDK objects or contract ``Event``s."""
    return [e.type if isinstance(e, Event) else e.message_type for e in events]


def payloads(events: list[Event]) -> list[dict[str, Any]]:
    return [e.payload for e in events if not e.done]
