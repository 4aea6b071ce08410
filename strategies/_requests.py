"""What clients send: message items and the three send-message request bodies.

Request strategies draw *models whose unset fields were not sent*: the body on the wire is
``request.model_dump(mode="json", exclude_unset=True)``, exactly like an SDK call that passes only some
parameters. Every body is one the real server accepts (wire doc §3, §4): exactly one of ``input``/``messages``, no
empty ``messages``, and streaming options only together with ``streaming: true``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hypothesis import strategies as st
from pydantic import BaseModel

from mockserver.models import (
    MESSAGE_TYPES,
    ApprovalCreate,
    ClientSkillSchema,
    ClientToolSchema,
    LettaAsyncRequest,
    LettaRequest,
    LettaStreamingRequest,
    MessageCreate,
    ToolReturnCreate,
)
from strategies._content import (
    approval_decisions,
    input_content_parts,
    message_content_parts,
    tool_returns,
)
from strategies._values import agent_ids, choice, maybe, message_ids, short_texts, texts, texts_or, tool_names, uuid4s

__all__ = [
    "approval_creates",
    "client_tools",
    "letta_async_requests",
    "letta_requests",
    "letta_streaming_requests",
    "message_creates",
    "tool_return_creates",
]

R = TypeVar("R", bound=BaseModel)
Strategies = Mapping[str, st.SearchStrategy[Any]]


def _model(cls: type[R], required: Strategies, optional: Strategies | None = None) -> st.SearchStrategy[R]:
    """``cls`` built from the required fields and any subset of the optional ones (the others stay unset)."""
    return st.fixed_dictionaries(dict(required), optional=dict(optional or {})).map(lambda fields: cls(**fields))


def _threading() -> dict[str, st.SearchStrategy[Any]]:
    # Optional on every input item: the client's otid (Letta de-duplicates on it in background mode) and group id.
    return {"otid": maybe(uuid4s()), "group_id": st.none()}


def message_creates() -> st.SearchStrategy[MessageCreate]:
    """A message to the agent; ``type`` is often left out, as the SDKs' examples do."""
    return _model(
        MessageCreate,
        {
            "role": st.sampled_from(("user", "system", "assistant")),
            "content": texts_or(st.lists(message_content_parts(), min_size=1, max_size=3)),
        },
        {
            "type": st.just("message"),
            **_threading(),
            "name": maybe(short_texts()),
            "sender_id": maybe(agent_ids()),
            "batch_item_id": st.none(),
        },
    )


def approval_creates() -> st.SearchStrategy[ApprovalCreate]:
    """Decisions on pending tool calls: the ``approvals`` list, or the deprecated single-approval form.

    The deprecated form may leave ``type`` out (Letta recognises it by ``approve``/``approval_request_id``); the
    ``approvals`` form always says ``"type": "approval"``, or the server would read it as a message.
    """
    decisions = st.lists(approval_decisions(), min_size=1, max_size=3)
    modern = _model(ApprovalCreate, {"type": st.just("approval"), "approvals": decisions}, _threading())
    legacy = _model(
        ApprovalCreate,
        {"approve": st.booleans(), "approval_request_id": message_ids()},
        {"type": st.just("approval"), "reason": maybe(short_texts()), **_threading()},
    )
    return choice(modern, legacy)


def tool_return_creates() -> st.SearchStrategy[ToolReturnCreate]:
    """Results of client-side tools."""
    return _model(
        ToolReturnCreate,
        {"type": st.just("tool_return"), "tool_returns": st.lists(tool_returns(), min_size=1, max_size=3)},
        _threading(),
    )


def _parameters() -> st.SearchStrategy[dict[str, Any]]:
    # A JSON schema for the tool's arguments, as clients declare them.
    names = st.lists(st.sampled_from(("query", "city", "limit", "units", "code")), min_size=1, max_size=3, unique=True)
    return names.map(
        lambda keys: {
            "type": "object",
            "properties": {key: {"type": "integer" if key == "limit" else "string"} for key in keys},
            "required": keys[:1],
        }
    )


def client_tools() -> st.SearchStrategy[ClientToolSchema]:
    """A tool the client executes; calling it stops the turn with ``requires_approval``."""
    return _model(
        ClientToolSchema,
        {"name": tool_names()},
        {"description": maybe(short_texts()), "parameters": maybe(_parameters())},
    )


def _client_skills() -> st.SearchStrategy[ClientSkillSchema]:
    return st.builds(
        ClientSkillSchema,
        name=tool_names(),
        description=short_texts(),
        location=st.sampled_from(("/skills/weather/SKILL.md", "skills/summarise.md")),
    )


def _input_messages() -> st.SearchStrategy[MessageCreate | ApprovalCreate | ToolReturnCreate]:
    return choice(message_creates(), approval_creates(), tool_return_creates())


def _letta_fields() -> tuple[st.SearchStrategy[dict[str, Any]], dict[str, st.SearchStrategy[Any]]]:
    """The input (exactly one of ``messages``/``input``) and the optional fields every send request has."""
    source = choice(
        st.fixed_dictionaries({"messages": st.lists(_input_messages(), min_size=1, max_size=3)}),
        st.fixed_dictionaries({"input": texts_or(st.lists(input_content_parts(), min_size=1, max_size=3))}),
    )
    optional: dict[str, st.SearchStrategy[Any]] = {
        "max_steps": st.integers(1, 100),
        "include_return_message_types": maybe(st.lists(st.sampled_from(MESSAGE_TYPES), unique=True)),
        "client_tools": maybe(st.lists(client_tools(), max_size=3)),
        "client_skills": maybe(st.lists(_client_skills(), max_size=2)),
        "override_model": maybe(st.sampled_from(("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"))),
        "include_compaction_messages": st.booleans(),
        "use_assistant_message": st.booleans(),
        # Deprecated and ignored; declared a string by Letta (its default is the boolean true, which the spec
        # cannot express), so only strings are sent.
        "enable_thinking": st.sampled_from(("true", "false")),
        "return_logprobs": st.booleans(),
        "top_logprobs": maybe(st.integers(0, 20)),
        "return_token_ids": st.booleans(),
        "override_system": maybe(texts()),
    }
    return source, optional


def _request(cls: type[R]) -> Callable[..., R]:
    def build(*parts: dict[str, Any]) -> R:
        return cls(**{key: value for part in parts for key, value in part.items()})

    build.__qualname__ = build.__name__ = cls.__name__
    return build


def letta_requests() -> st.SearchStrategy[LettaRequest]:
    """Body of a non-streaming send (``LettaRequest``)."""
    source, optional = _letta_fields()
    return st.builds(_request(LettaRequest), source, st.fixed_dictionaries({}, optional=optional))


def _streaming_options() -> st.SearchStrategy[dict[str, Any]]:
    # The server refuses stream_tokens/include_pings=false/background without streaming=true (wire doc §4.3).
    return choice(
        st.fixed_dictionaries({}, optional={"streaming": st.just(False)}),
        st.fixed_dictionaries(
            {"streaming": st.just(True)},
            optional={"stream_tokens": st.booleans(), "include_pings": st.booleans(), "background": st.booleans()},
        ),
    )


def letta_streaming_requests() -> st.SearchStrategy[LettaStreamingRequest]:
    """Body of ``POST /v1/agents/{agent_id}/messages``: a send that may stream (``streaming``) and how."""
    source, optional = _letta_fields()
    return st.builds(
        _request(LettaStreamingRequest), source, st.fixed_dictionaries({}, optional=optional), _streaming_options()
    )


def letta_async_requests() -> st.SearchStrategy[LettaAsyncRequest]:
    """Body of ``POST /v1/agents/{agent_id}/messages/async``: a send plus an optional callback URL."""
    source, optional = _letta_fields()
    callback = st.fixed_dictionaries({}, optional={"callback_url": maybe(st.just("https://example.com/callback"))})
    return st.builds(_request(LettaAsyncRequest), source, st.fixed_dictionaries({}, optional=optional), callback)
