"""A deliberately broken Letta-like server: letta-mock with one flaw per operation, for the fuzzer's proof tests.

Everything not listed answers as the mock does, so each flaw is the only thing wrong where it is. ``FLAWS`` names,
per operation (method and path template), the flaw and the check expected to report it:

* send_message, streaming: reasoning events without ``message_type``; each assistant message sent as two chunks
  (and its token chunks) each with its own ``otid``;
* create_agent_message_stream: the stream has no ``stop_reason``;
* send_conversation_message: ``usage_statistics`` before ``stop_reason`` (foreground) and ``seq_id`` going down
  (background);
* retrieve_run: a 500;
* retrieve_stream_for_run: a stream that never ends (a ping every 50 ms);
* retrieve_conversation_stream: the body stays open after ``[DONE]``;
* search_all_messages: a 200 for any body, an invalid one included;
* list_messages: its 422 is the real server's repr string, not the ``detail`` list;
* list_messages_for_run: always empty, whatever the run answered.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import create_app
from mockserver.fuzz.streams import FrameSplitter
from mockserver.wire.sse import DONE, Frame

__all__ = ["FLAWS", "BrokenLetta", "Flaw"]

PING = (b'data: {"id":"ping-00000000-0000-4000-8000-000000000000","date":"2025-06-01T12:00:00+00:00","name":null,'
        b'"message_type":"ping","otid":null,"sender_id":null,"step_id":null,"is_err":null,"seq_id":null,'
        b'"run_id":null}\n\n')  # fmt: skip


@dataclass(frozen=True)
class Flaw:
    operation: str  # operationId
    method: str
    path: str  # a regex over the request path
    what: str
    check: str  # the check that must report it
    says: str  # a phrase of its failure message
    reported_on: str = ""  # the operation whose case reports it, when not the flawed one


_ID = r"[^/]+"
FLAWS: tuple[Flaw, ...] = (
    Flaw("send_message", "POST", rf"/v1/agents/{_ID}/messages", "reasoning events without message_type",
         "letta_stream_events", "without message_type"),
    Flaw("send_message", "POST", rf"/v1/agents/{_ID}/messages", "token chunks of one message with their own otids",
         "letta_stream_grammar", "different otids"),
    Flaw("create_agent_message_stream", "POST", rf"/v1/agents/{_ID}/messages/stream", "no stop_reason",
         "letta_stream_grammar", "no stop_reason"),
    Flaw("send_conversation_message", "POST", rf"/v1/conversations/{_ID}/messages", "usage before stop_reason",
         "letta_stream_grammar", "before the stop_reason"),
    Flaw("retrieve_run", "GET", rf"/v1/runs/{_ID}", "a 500", "not_a_server_error", "500"),
    Flaw("retrieve_stream_for_run", "POST", rf"/v1/runs/{_ID}/stream", "a stream that never ends",
         "letta_stream_finished", "did not finish within"),
    Flaw("retrieve_conversation_stream", "POST", rf"/v1/conversations/{_ID}/stream", "open after [DONE]",
         "letta_stream_finished", "stayed open"),
    Flaw("search_all_messages", "POST", r"/v1/messages/search", "a 200 for an invalid body",
         "negative_data_rejection", "Schema-violating request accepted"),
    Flaw("list_messages", "GET", rf"/v1/agents/{_ID}/messages", "a 422 body in repr", "letta_error_shape",
         "detail is str"),
    Flaw("list_messages_for_run", "GET", rf"/v1/runs/{_ID}/messages", "a run with no messages", "letta_history",
         "are not in run", reported_on="send_message"),  # the check lists the run after a send
)  # fmt: skip


def _frames_of(chunks: list[bytes]) -> list[Frame]:
    splitter = FrameSplitter()
    return [frame for chunk in chunks for frame in splitter.feed(chunk)]


def _encode(frame: Frame) -> bytes:
    return frame.encode()


def _payload_frame(frame: Frame, payload: dict[str, Any]) -> Frame:
    return Frame(frame.event, json.dumps(payload, separators=(",", ":"), ensure_ascii=False))


class BrokenLetta:
    """ASGI: the mock behind one flaw per operation (``FLAWS``)."""

    def __init__(self, **options: Any) -> None:
        self.app: ASGIApp = create_app(seed=1, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        handler = self._handler(method, path)
        if handler is None:
            await self.app(scope, receive, send)
        else:
            await handler(scope, receive, send)

    def _handler(self, method: str, path: str) -> Callable[[Scope, Receive, Send], Awaitable[None]] | None:
        table: list[tuple[str, str, Callable[[Scope, Receive, Send], Awaitable[None]]]] = [
            ("POST", rf"/v1/agents/{_ID}/messages/stream", self._no_stop_reason),
            ("POST", rf"/v1/agents/{_ID}/messages", self._send_message),
            ("POST", rf"/v1/conversations/{_ID}/messages", self._conversation_send),
            ("POST", rf"/v1/conversations/{_ID}/stream", self._open_after_done),
            ("GET", rf"/v1/runs/{_ID}/messages", self._no_run_messages),
            ("POST", rf"/v1/runs/{_ID}/stream", self._never_ends),
            ("GET", rf"/v1/runs/{_ID}", self._server_error),
            ("POST", r"/v1/messages/search", self._accept_anything),
            ("GET", rf"/v1/agents/{_ID}/messages", self._repr_422),
        ]
        for verb, pattern, handler in table:
            if method == verb and re.fullmatch(pattern, path):
                return handler
        return None

    # -- helpers ------------------------------------------------------------------------------------------------

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[Message, list[bytes]]:
        """The mock's whole answer: its start message and its body chunks."""
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        return start, chunks

    @staticmethod
    async def _reply(send: Send, start: Message, body: bytes) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _is_stream(start: Message) -> bool:
        return any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in start["headers"])

    async def _rewrite_stream(self, scope: Scope, receive: Receive, send: Send,
                              rewrite: Callable[[list[Frame]], list[Frame]]) -> None:  # fmt: skip
        start, chunks = await self._answer(scope, receive)
        if not self._is_stream(start):
            await self._reply(send, start, b"".join(chunks))
            return
        body = b"".join(_encode(frame) for frame in rewrite(_frames_of(chunks)))
        await self._reply(send, start, body)

    # -- the flaws ----------------------------------------------------------------------------------------------

    async def _send_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        def rewrite(frames: list[Frame]) -> list[Frame]:
            out = []
            for index, frame in enumerate(frames):
                payload = None if frame.done else frame.json()
                if isinstance(payload, dict) and payload.get("message_type") == "reasoning_message":
                    payload.pop("message_type")
                    frame = _payload_frame(frame, payload)
                elif isinstance(payload, dict) and payload.get("message_type") == "assistant_message":
                    # Each chunk its own otid, and a whole message sent as two chunks too: the flaw shows in every
                    # streamed send, not only in those that happen to stream tokens.
                    out.append(_payload_frame(frame, {**payload, "otid": f"{payload.get('otid')}-{index}"}))
                    frame = _payload_frame(frame, {**payload, "otid": f"{payload.get('otid')}-{index}-rest"})
                out.append(frame)
            return out

        await self._rewrite_stream(scope, receive, send, rewrite)

    async def _no_stop_reason(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._rewrite_stream(scope, receive, send, lambda frames: [f for f in frames if f.type != "stop_reason"])

    async def _conversation_send(self, scope: Scope, receive: Receive, send: Send) -> None:
        def rewrite(frames: list[Frame]) -> list[Frame]:
            payloads = [None if f.done else f.json() for f in frames]
            if any(isinstance(p, dict) and p.get("seq_id") is not None for p in payloads):
                top = max(p["seq_id"] for p in payloads if isinstance(p, dict) and p.get("seq_id") is not None)
                return [_payload_frame(f, {**p, "seq_id": top - p["seq_id"] + 1})
                        if isinstance(p, dict) and p.get("seq_id") is not None else f
                        for f, p in zip(frames, payloads, strict=True)]  # fmt: skip
            types = [f.type for f in frames]
            if "stop_reason" in types and "usage_statistics" in types:
                stop, usage = types.index("stop_reason"), types.index("usage_statistics")
                frames[stop], frames[usage] = frames[usage], frames[stop]
            return frames

        await self._rewrite_stream(scope, receive, send, rewrite)

    async def _server_error(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
        await self._reply(send, start, b'{"detail":"An unknown error occurred"}')

    async def _never_ends(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, chunks = await self._answer(scope, receive)
        if start["status"] != 200:
            await self._reply(send, start, b"".join(chunks))
            return
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": headers})
        disconnected = asyncio.ensure_future(receive())
        try:
            while not disconnected.done():
                await send({"type": "http.response.body", "body": PING, "more_body": True})
                await asyncio.wait([disconnected], timeout=0.05)
        except OSError:
            pass
        finally:
            disconnected.cancel()

    async def _open_after_done(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, chunks = await self._answer(scope, receive)
        if not self._is_stream(start):
            await self._reply(send, start, b"".join(chunks))
            return
        frames = _frames_of(chunks)
        if not any(f.done for f in frames):
            frames.append(Frame(None, DONE))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(map(_encode, frames)), "more_body": True})
        try:
            await asyncio.wait_for(receive(), timeout=30)  # until the client gives up
        except asyncio.TimeoutError:
            pass
        await send({"type": "http.response.body", "body": b""})

    async def _accept_anything(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
        await self._reply(send, start, b"[]")

    async def _repr_422(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, chunks = await self._answer(scope, receive)
        body = b"".join(chunks)
        if start["status"] == 422:
            detail = json.loads(body)["detail"]
            body = json.dumps({"trace_id": "", "detail": repr(detail)}).encode()
        await self._reply(send, start, body)

    async def _no_run_messages(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, chunks = await self._answer(scope, receive)
        await self._reply(send, start, b"[]" if start["status"] == 200 else b"".join(chunks))
