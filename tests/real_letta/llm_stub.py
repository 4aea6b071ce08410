"""A deterministic OpenAI-compatible LLM for the real Letta server of the ``real_letta`` tier (loopback only).

    python llm_stub.py PORT [REQUEST_LOG.jsonl]     # run by tests/real_letta (needs only starlette and uvicorn)

Routes: ``GET /v1/models`` (one chat model, gpt-4o-mini, context_length 128000) and ``/v1/models/{id}``;
``POST /v1/chat/completions`` (JSON, or SSE with ``stream: true``, a usage chunk when
``stream_options.include_usage``); ``POST /v1/embeddings`` (unit vectors from a hash of the text, float lists or
base64 float32, ``dimensions`` honoured); ``GET /health``. The chat and embedding routes answer without the
``/v1`` prefix too; anything else is a 404 in OpenAI's error shape. Every request is appended to the log.

A chat answer follows the first rule that applies (``RULES``, in order) — the recorded fixtures and Letta's own
integration tests (tests/letta_itests) depend on these exact rules:

1. the last message is a tool result: the text "Tool result received: <its content>";
2. no tools are offered and a system or developer message mentions "evicted" or "summar": ``SUMMARY``;
3. the last user text says ``USE_TOOL <name>`` of an offered tool: one call of it with ``{"city": "Paris"}``;
4. the last user text asks for an offered tool other than send_message by name ("call / use / run / invoke /
   execute [the] <name>", any case; the earliest such request wins), unless ``tool_choice`` is "none" or names
   another offered tool: one call of it with arguments built from its parameters' schema (below);
5. ``tool_choice`` forces a tool (a named offered one; "required" / "any": send_message if offered, else the
   first): a call of it, with ``{"message": <the hello text>}`` for send_message, ``{"city": "Paris"}`` otherwise;
6. ``response_format`` is a ``json_schema`` one: the text of a JSON object built from that schema;
7. otherwise the hello text: "Hello from the stub! You said: <the last user text>".

A value built from a JSON schema: its ``default``, else its ``const``, else its first ``enum`` value, else its
first ``anyOf`` / ``oneOf`` / ``allOf`` option that is not ``{"type": "null"}``, else by type — an object has its
required properties (all of them when it marks none required), a string is the hello text, an integer or number
the first number in the last user text (1 when there is none), a boolean true, an array ``minItems`` items, null
null; local ``$ref``s are followed, 12 levels at most. Usage is always 42 prompt / 7 completion / 49 tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

MODEL = "gpt-4o-mini"
CONTEXT_LENGTH = 128_000
USAGE = {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
SUMMARY = (
    "Summary of the evicted conversation: the user greeted the assistant and exchanged a few short test messages "
    "with it; no tasks are pending."
)
CITY = {"city": "Paris"}
EMBEDDING_SIZE = 1536
MAX_DEPTH = 12
_COMPACT = (",", ":")
_ASK = r"\b(?:call|use|run|invoke|execute)\s+(?:the\s+)?[`'\"]?{}(?![A-Za-z0-9_\-])"  # asking for a tool by name

Answer = dict[str, str]  # {"content": text} or {"tool": name, "arguments": JSON text}


# -- reading a request ----------------------------------------------------------------------------------------------


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p["text"] if isinstance(p, dict) else p for p in content
                 if isinstance(p, str) or (isinstance(p, dict) and isinstance(p.get("text"), str))]  # fmt: skip
        return "".join(texts)
    return str(content)


def offered(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> parameters schema of every tool the request offers (``tools``, then the legacy ``functions``)."""
    found: dict[str, dict[str, Any]] = {}
    functions = [(t or {}).get("function") or {} for t in body.get("tools") or []]
    for function in [*functions, *((f or {}) for f in body.get("functions") or [])]:
        if function.get("name"):
            found[function["name"]] = function.get("parameters") or {}
    return found


class Turn:
    """What the rules look at in one chat request."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.messages: list[dict[str, Any]] = body.get("messages") or []
        self.tools = offered(body)
        self.last = self.messages[-1] if self.messages else {}
        users = [m for m in self.messages if m.get("role") == "user"]
        self.user_text = text_of(users[-1].get("content")) if users else ""
        self.hello = f"Hello from the stub! You said: {self.user_text}"
        self.choice = body.get("tool_choice")

    def forced(self) -> str | None:
        """The tool ``tool_choice`` forces, if it forces an offered one."""
        if isinstance(self.choice, dict):
            name = (self.choice.get("function") or {}).get("name") or self.choice.get("name")
            if name in self.tools:
                return str(name)
        if self.choice in ("required", "any") and self.tools:
            return "send_message" if "send_message" in self.tools else next(iter(self.tools))
        return None

    def asked_for(self) -> str | None:
        """The offered tool (not send_message) the user text asks for by name first."""
        earliest: tuple[int, str] | None = None
        for name in self.tools:
            if name == "send_message":
                continue
            match = re.search(_ASK.format(re.escape(name)), self.user_text, re.IGNORECASE)
            if match and (earliest is None or match.start() < earliest[0]):
                earliest = (match.start(), name)
        return earliest[1] if earliest else None


# -- the rules ------------------------------------------------------------------------------------------------------


def _tool_result(turn: Turn) -> Answer | None:
    if turn.last.get("role") in ("tool", "function"):
        return {"content": f"Tool result received: {text_of(turn.last.get('content'))}"}
    return None


def _summary(turn: Turn) -> Answer | None:
    if turn.tools:
        return None
    for message in turn.messages:
        if message.get("role") in ("system", "developer"):
            text = text_of(message.get("content")).lower()
            if "evicted" in text or "summar" in text:
                return {"content": SUMMARY}
    return None


def _use_tool(turn: Turn) -> Answer | None:
    match = re.search(r"USE_TOOL\s+([A-Za-z0-9_\-]+)", turn.user_text)
    if match and match.group(1) in turn.tools:
        return call(match.group(1), CITY)
    return None


def _named_tool(turn: Turn) -> Answer | None:
    name = turn.asked_for()
    if name is None or turn.choice == "none":
        return None
    forced = turn.forced() if isinstance(turn.choice, dict) else None
    if forced not in (None, name):
        return None
    arguments = from_schema(turn.tools.get(name) or {"type": "object"}, turn.user_text, turn.hello)
    return call(name, arguments if isinstance(arguments, dict) else {})


def _forced_tool(turn: Turn) -> Answer | None:
    name = turn.forced()
    if name is None:
        return None
    return call(name, {"message": turn.hello} if name == "send_message" else CITY)


def _response_format(turn: Turn) -> Answer | None:
    form = turn.body.get("response_format")
    if isinstance(form, dict) and form.get("type") == "json_schema":
        schema = (form.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return {"content": json.dumps(from_schema(schema, turn.user_text, turn.hello))}
    return None


def _hello(turn: Turn) -> Answer | None:
    return {"content": turn.hello}


RULES: tuple[Callable[[Turn], Answer | None], ...] = (
    _tool_result, _summary, _use_tool, _named_tool, _forced_tool, _response_format, _hello,
)  # fmt: skip


def call(name: str, arguments: dict[str, Any]) -> Answer:
    return {"tool": name, "arguments": json.dumps(arguments, separators=_COMPACT)}


def decide(body: dict[str, Any]) -> Answer:
    """The answer to a chat request: the first rule that applies."""
    turn = Turn(body)
    for rule in RULES:
        answer = rule(turn)
        if answer is not None:
            return answer
    raise AssertionError("the last rule always applies")


def from_schema(schema: Any, text: str, hello: str, root: Any = None, depth: int = 0) -> Any:
    """A value that fits ``schema`` (module docstring), from the user's ``text``."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return hello
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return from_schema(target, text, hello, root, depth + 1)
    for keyword in ("default", "const"):
        if keyword in schema:
            return schema[keyword]
    if schema.get("enum"):
        return schema["enum"][0]
    for keyword in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(keyword) or [] if not (isinstance(o, dict) and o.get("type") == "null")]
        if options:
            return from_schema(options[0], text, hello, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        required = schema.get("required")
        names = [n for n in properties if n in required] if isinstance(required, list) else list(properties)
        return {n: from_schema(properties[n], text, hello, root, depth + 1) for n in names}
    if kind in ("integer", "number"):
        number = re.search(r"-?\d+(?:\.\d+)?", text)
        value = float(number.group()) if number else 1
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "array":
        return [from_schema(schema.get("items"), text, hello, root, depth + 1)
                for _ in range(int(schema.get("minItems") or 0))]  # fmt: skip
    if kind == "null":
        return None
    return hello


# -- answering ------------------------------------------------------------------------------------------------------


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A chat.completion object carrying ``answer``."""
    if "tool" in answer:
        function = {"name": answer["tool"], "arguments": answer["arguments"]}
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_" + uuid.uuid4().hex[:24], "type": "function", "function": function}]}  # fmt: skip
        finish = "tool_calls"
    else:
        message, finish = {"role": "assistant", "content": answer["content"]}, "stop"
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_stub",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": dict(USAGE),
    }


def chunks(answer: Answer, model: str, *, usage: bool) -> list[dict[str, Any]]:
    """The chat.completion.chunk objects streaming ``answer`` (a tool's arguments in two pieces, text by words)."""
    head = {"id": _completion_id(), "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "system_fingerprint": "fp_stub"}  # fmt: skip

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    if "tool" in answer:
        call_id = "call_" + uuid.uuid4().hex[:24]
        arguments = answer["arguments"]
        cut = arguments.find(":") + 1 if ":" in arguments else len(arguments)
        out = [chunk({"role": "assistant", "content": None}),
               chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                      "function": {"name": answer["tool"], "arguments": ""}}]})]  # fmt: skip
        out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                for piece in (arguments[:cut], arguments[cut:]) if piece]  # fmt: skip
        finish = "tool_calls"
    else:
        out = [chunk({"role": "assistant", "content": ""})]
        out += [chunk({"content": piece}) for piece in re.findall(r"\S+\s*|\s+", answer["content"])]
        finish = "stop"
    out.append(chunk({}, finish))
    if usage:
        out.append({**head, "choices": [], "usage": dict(USAGE)})
    return out


def embedding(text: str, size: int) -> list[float]:
    """A unit vector from SHA-256 of ``counter:text``, 8 little-endian uint32 per digest, scaled to [-1, 1)."""
    values: list[float] = []
    counter = 0
    while len(values) < size:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values += [word / 2**32 * 2 - 1 for (word,) in struct.iter_unpack("<I", digest)]
        counter += 1
    values = values[:size]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    inputs = inputs or []
    size = int(body.get("dimensions") or EMBEDDING_SIZE)
    data = []
    for index, item in enumerate(inputs):
        vector = embedding(item if isinstance(item, str) else json.dumps(item), size)
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = max(1, sum(len(str(x)) // 4 for x in inputs))
    return {"object": "list", "data": data, "model": body.get("model") or "text-embedding-3-small",
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}  # fmt: skip


def _completion_id() -> str:
    return "chatcmpl-stub" + uuid.uuid4().hex[:20]


# -- the HTTP app (imported only when served: the rules above need nothing but the standard library) ---------------


def app(log_path: str | None) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    def log(method: str, path: str, body: Any) -> None:
        if log_path:
            with open(log_path, "a", encoding="utf-8") as out:
                out.write(json.dumps({"t": time.time(), "method": method, "path": path, "body": body}) + "\n")

    def error(message: str, status: int) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status)

    async def models(request: Request) -> Response:
        log("GET", request.url.path, None)
        entry = {"id": MODEL, "object": "model", "created": 1700000000, "owned_by": "stub",
                 "context_length": CONTEXT_LENGTH}  # fmt: skip
        if "model_id" not in request.path_params:
            return JSONResponse({"object": "list", "data": [entry]})
        return JSONResponse(entry) if request.path_params["model_id"] == MODEL else error("model not found", 404)

    async def chat(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            log("POST", request.url.path, {"raw": (await request.body()).decode("utf-8", "replace")})
            return error("invalid JSON", 400)
        log("POST", request.url.path, body)
        answer, model = decide(body), body.get("model") or MODEL
        if not body.get("stream"):
            return JSONResponse(completion(answer, model))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def sse() -> AsyncIterator[bytes]:
            for item in chunks(answer, model, usage=usage):
                yield f"data: {json.dumps(item)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def embed(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return error("invalid JSON", 400)
        logged = {k: f"<{len(json.dumps(v))} chars>" if k == "input" else v for k, v in body.items()}
        log("POST", request.url.path, logged)
        return JSONResponse(embeddings(body))

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def not_found(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        log(request.method, request.url.path, {"raw": body[:2000], "unhandled": True})
        return error(f"stub: no route {request.method} {request.url.path}", 404)

    return Starlette(routes=[
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", models, methods=["GET"]),
        *(Route(f"{prefix}/chat/completions", chat, methods=["POST"]) for prefix in ("/v1", "")),
        *(Route(f"{prefix}/embeddings", embed, methods=["POST"]) for prefix in ("/v1", "")),
        Route("/health", health, methods=["GET"]),
        Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ])  # fmt: skip


if __name__ == "__main__":
    import uvicorn

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18999
    uvicorn.run(app(sys.argv[2] if len(sys.argv) > 2 else None), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)  # fmt: skip
