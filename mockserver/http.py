"""Reading requests and writing responses: strict body parsing, JSON and SSE, errors in Letta's shapes
(``ERROR_HANDLERS``), and the rules a request follows (``rules``). Query and path parameters are read through their
records (``parameters``).

Every check raises an ``HTTPError`` from ``errors`` before a handler touches state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ExceptionHandler

from mockserver.catalogue import Texts
from mockserver.errors import HTTPError, PayloadTooLarge, RequestInvalid, validation_detail
from mockserver.faults import ConnectionDropped
from mockserver.rules import Rules

__all__ = ["ERROR_HANDLERS", "JsonBody", "json_response", "parse_body", "rules", "sse_response"]

Model = TypeVar("Model", bound=BaseModel)
log = logging.getLogger("letta_mock")


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
    if headers is None:
        return JsonBody(body, status_code, background)
    return Response(
        body, status_code=status_code, media_type="application/json", headers=headers, background=background
    )


class JsonBody(Response):
    """Starlette's ``Response`` of a JSON body already made, with the head its ``init_headers`` gives such a one
    (content-length, then content-type), written without working that out again for every answer."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200, background: BackgroundTask | None = None) -> None:
        self.status_code = status_code
        self.background = background
        self.body = body
        if status_code < 200 or status_code in (204, 304):  # a body-less status: no content-length
            self.raw_headers = [_JSON_TYPE]
        else:
            self.raw_headers = [(b"content-length", str(len(body)).encode()), _JSON_TYPE]


_JSON_TYPE = (b"content-type", b"application/json")


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    # Starlette appends "; charset=utf-8" to text/ media types, which is exactly Letta's content type.
    return StreamingResponse(_taking_turns(frames), media_type="text/event-stream")


async def _taking_turns(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The frames, with the event loop run between two: an unpaced stream writes without ever waiting, so it would
    hold every other client up until its end and write on into a connection its client already closed."""
    async for frame in frames:
        yield frame
        await asyncio.sleep(0)


async def _letta_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    body = exc.body()
    if exc.status_code == 422 and rules(request).repr_422:
        body = _server_validation_body(body)
    return json_response(body, exc.status_code, headers=exc.headers)


def _server_validation_body(body: dict[str, object]) -> dict[str, object]:
    # The real server's 422: "detail" is the Python repr of the error list (wire doc §15.2).
    detail = body["detail"]
    if isinstance(detail, list):
        errors = [{**e, "loc": tuple(e["loc"])} for e in detail]
        extra = {k: v for k, v in body.items() if k != "detail"}
        return {"trace_id": "", "detail": repr(errors), **extra}
    return body


async def _starlette_error(request: Request, exc: Exception) -> Response:
    # Unknown routes and wrong methods, in FastAPI's JSON shape: {"detail": "Not Found"}.
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug in the mock. Answer as Letta does for unhandled errors, and log it loudly for the test author.
    # (A dropped connection is a fault on purpose: the response has started, nothing more is sent.)
    if not isinstance(exc, ConnectionDropped):
        log.exception("letta-mock failed on %s %s", request.method, request.url.path)
    return json_response({"detail": Texts.UNKNOWN_ERROR}, 500)


# The app's exception handlers (``create_app``): Letta's errors, Starlette's (404, 405), and the mock's own bugs.
ERROR_HANDLERS: dict[Any, ExceptionHandler] = {
    HTTPError: _letta_error,
    HTTPException: _starlette_error,
    Exception: _unexpected,
}
