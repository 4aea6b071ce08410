"""Reading requests and writing responses: strict body parsing, JSON and SSE, and the rules a request follows
(``rules``). Query and path parameters are read through their records (``parameters``).

Every check raises an ``HTTPError`` from ``errors`` before a handler touches state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from mockserver.errors import PayloadTooLarge, RequestInvalid, validation_detail
from mockserver.rules import Rules

__all__ = ["json_response", "parse_body", "rules", "sse_response"]

Model = TypeVar("Model", bound=BaseModel)


def rules(request: Request, *, created: bool = False) -> Rules:
    """Which of Letta's rules apply to this request (``mockserver.rules``), about a resource a client ``created``
    or not: the app's profile and world decide the rest."""
    return Rules.of_config(request.app.state.config, created=created)


async def parse_body(request: Request, model: type[Model], *, required: bool = True, nullable: bool = False) -> Model:
    """The JSON body validated strictly against ``model``; an absent optional body counts as ``{}``, and so does
    a JSON ``null`` where the document allows one."""
    limit: int = request.app.state.config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
    body = await _read_body(request)
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
    if not body:  # only no bytes at all is no body: whitespace is JSON that does not parse (a 422), as in FastAPI
        if required:
            raise RequestInvalid.single(["body"], "Field required", "missing")
        body = b"{}"
    elif not _declares_json(request):
        # FastAPI hands bytes it was not told are JSON to the model, which refuses them: nothing is parsed or stored.
        raise RequestInvalid.single(
            ["body"], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type"
        )
    elif nullable and body.strip() == b"null":
        body = b"{}"
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as error:
        raise RequestInvalid(validation_detail(error, "body", body)) from None


async def _read_body(request: Request) -> bytes:
    """What ``Request.body`` reads, kept where it keeps it, without its async generator (a fifth of parsing a
    send's body): the request's messages to the last."""
    if hasattr(request, "_body") or request._stream_consumed:
        return await request.body()
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._stream_consumed = True
    request._body = body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return body


def _declares_json(request: Request) -> bool:
    """``application/json`` or ``application/*+json``, parameters aside. Without a content type the real server
    parses the body as JSON anyway; the document's request bodies are ``application/json`` only, so the contract
    profile refuses it (a client that forgot the header would break against a stricter server)."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return rules(request).json_without_content_type
    if content_type == "application/json":  # what nearly every client sends
        return True
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def json_response(
    content: Any,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    background: BackgroundTask | None = None,
) -> Response:
    """Compact JSON: pydantic models dumped with every field, plain data through the same encoder."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json().encode()
    else:
        body = to_json(content)
    return Response(
        body, status_code=status_code, media_type="application/json", headers=headers, background=background
    )


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    # Starlette appends "; charset=utf-8" to text/ media types, which is exactly Letta's content type.
    return StreamingResponse(_taking_turns(frames), media_type="text/event-stream")


async def _taking_turns(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The frames, with the event loop run between two: an unpaced stream writes without ever waiting, so it would
    hold every other client up until its end and write on into a connection its client already closed."""
    async for frame in frames:
        yield frame
        await asyncio.sleep(0)
