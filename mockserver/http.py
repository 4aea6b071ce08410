"""Reading requests and writing responses: strict body parsing, path and query validation, JSON and SSE.

Every check raises an ``HTTPError`` from ``errors`` before a handler touches state.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mockserver.catalogue import INT64_MAX
from mockserver.errors import PayloadTooLarge, RequestInvalid, validation_detail
from mockserver.models import (
    AGENT_ID_PATTERN,
    CONV_ID_PATTERN,
    CONVERSATION_ID_PATTERN,
    MESSAGE_ID_PATTERN,
    MESSAGE_TYPES,
    TOOL_ID_PATTERN,
)
from mockserver.rules import Rules

__all__ = [
    "PATH_PATTERNS",
    "json_response",
    "parse_body",
    "path_id",
    "query_bool",
    "query_choice",
    "query_int",
    "query_list",
    "rules",
    "sse_response",
]

Model = TypeVar("Model", bound=BaseModel)

# Path ids the spec constrains: key -> (pattern, shortest, longest, the prefix FastAPI's error names).
PATH_PATTERNS: dict[str, tuple[re.Pattern[str], int, int, str]] = {
    "agent_id": (re.compile(AGENT_ID_PATTERN), 42, 42, "agent"),
    "message_id": (re.compile(MESSAGE_ID_PATTERN), 44, 44, "message"),
    "conversation_id": (re.compile(CONVERSATION_ID_PATTERN), 1, 42, "conversation"),
    "conv_id": (re.compile(CONV_ID_PATTERN), 41, 41, "conv"),  # a conversation that must be a conv-… id
    "tool_id": (re.compile(TOOL_ID_PATTERN), 41, 41, "tool"),
}
_UUID = "123e4567-e89b-42d3-8456-426614174000"


def rules(request: Request, *, created: bool = False) -> Rules:
    """Which of Letta's rules apply to this request (``mockserver.rules``), about a resource a client ``created``
    or not: the app's profile and world decide the rest."""
    config = request.app.state.config
    return Rules.of(config.fidelity, closed_world=config.agents is not None, created=created)


def path_id(request: Request, name: str, kind: str | None = None) -> str:
    """The path parameter ``name``, checked against the pattern ``kind`` (default: the name) as FastAPI checks."""
    value: str = request.path_params[name]
    pattern, shortest, longest, prefix = PATH_PATTERNS[kind or name]
    if shortest <= len(value) <= longest and pattern.match(value):
        return value
    if rules(request).uniform_path_422:
        # The real server rewrites every path-id error to one pattern message and adds an example (§15.2).
        message = f"String should match pattern '{prefix}-{{uuid4}}'"
        error = {"type": "string_pattern_mismatch", "loc": ["path", name], "msg": message, "input": value,
                 "ctx": {"pattern": pattern.pattern}}  # fmt: skip
        raise RequestInvalid([error], examples=[f"{'conv' if prefix == 'conversation' else prefix}-{_UUID}"])
    if len(value) < shortest:
        raise RequestInvalid.single(
            ["path", name], f"String should have at least {shortest} characters", "string_too_short"
        )
    if len(value) > longest:
        raise RequestInvalid.single(
            ["path", name], f"String should have at most {longest} characters", "string_too_long"
        )
    raise RequestInvalid.single(
        ["path", name], f"String should match pattern '{pattern.pattern}'", "string_pattern_mismatch"
    )


async def parse_body(request: Request, model: type[Model], *, required: bool = True, nullable: bool = False) -> Model:
    """The JSON body validated strictly against ``model``; an absent optional body counts as ``{}``, and so does
    a JSON ``null`` where the document allows one."""
    limit: int = request.app.state.config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
    if not body:  # only no bytes at all is no body: whitespace is JSON that does not parse (a 422), as in FastAPI
        if required:
            raise RequestInvalid.single(["body"], "Field required", "missing")
        body = b"{}"
    elif not _declares_json(request.headers.get("content-type"), rules(request).json_without_content_type):
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


def _declares_json(content_type: str | None, without_content_type: bool) -> bool:
    """``application/json`` or ``application/*+json``, parameters aside. Without a content type the real server
    parses the body as JSON anyway; the document's request bodies are ``application/json`` only, so the contract
    profile refuses it (a client that forgot the header would break against a stricter server)."""
    if content_type is None:
        return without_content_type
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,4000}\s*")


def query_int(
    request: Request, name: str, default: int | None, *, minimum: int = 0, maximum: int = INT64_MAX
) -> int | None:
    """An integer query parameter (``limit``), FastAPI's way: absent is the default, ``?limit=`` does not parse.
    Bounded: the real server answers 500 to a negative ``limit`` or one beyond a 64-bit integer (its database
    refuses them), so the mock refuses them as a 422 naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # int() would also take "1_000" and other scripts' digits
        raise RequestInvalid.single(
            ["query", name], "Input should be a valid integer, unable to parse string as an integer", "int_parsing"
        )
    value = int(raw)
    if value < minimum:
        raise RequestInvalid.single(
            ["query", name], f"Input should be greater than or equal to {minimum}", "greater_than_equal"
        )
    if value > maximum:
        raise RequestInvalid.single(
            ["query", name], f"Input should be less than or equal to {maximum}", "less_than_equal"
        )
    return value


def query_bool(request: Request, name: str, default: bool | None) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"true", "1", "yes", "on", "t", "y"}:
        return True
    if lowered in {"false", "0", "no", "off", "f", "n"}:
        return False
    raise RequestInvalid.single(
        ["query", name], "Input should be a valid boolean, unable to interpret input", "bool_parsing"
    )


def query_choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in allowed:
        expected = " or ".join(f"'{a}'" for a in allowed)
        raise RequestInvalid.single(["query", name], f"Input should be {expected}", "literal_error")
    return raw


def query_list(request: Request, name: str) -> list[str] | None:
    """A repeated query parameter (``?x=a&x=b``, the SDKs' form) of message types, or None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    for index, value in enumerate(values):
        if value not in MESSAGE_TYPES:
            expected = ", ".join(f"'{t}'" for t in MESSAGE_TYPES)
            raise RequestInvalid.single(["query", name, index], f"Input should be {expected}", "enum")
    return values


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
