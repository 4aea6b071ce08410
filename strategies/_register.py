"""``st.from_type`` support: our models, and the official SDK's types when ``letta-client`` is installed.

Hypothesis runs ``_hypothesis_setup_hook`` at import through the ``hypothesis`` entry point, so
``st.from_type(AssistantMessage)`` works without importing ``strategies``; ``register_type_strategies()`` does the
same by hand (it is idempotent). SDK types are drawn as our models and then parsed by the SDK class, so they hold
exactly what the server would send.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from mockserver import models
from strategies import _content, _events, _messages, _requests, _responses

__all__ = ["OUR_STRATEGIES", "SDK_TYPES", "register_type_strategies"]

Factory = Callable[[], st.SearchStrategy[Any]]

OUR_STRATEGIES: dict[type[BaseModel], Factory] = {
    # messages
    models.LettaMessage: _messages.messages,
    models.SystemMessage: _messages.system_messages,
    models.UserMessage: _messages.user_messages,
    models.ReasoningMessage: _messages.reasoning_messages,
    models.HiddenReasoningMessage: _messages.hidden_reasoning_messages,
    models.ToolCallMessage: _messages.tool_call_messages,
    models.ToolReturnMessage: _messages.tool_return_messages,
    models.AssistantMessage: _messages.assistant_messages,
    models.ApprovalRequestMessage: _messages.approval_request_messages,
    models.ApprovalResponseMessage: _messages.approval_response_messages,
    models.SummaryMessage: _messages.summary_messages,
    models.EventMessage: _messages.event_messages,
    models.CompactionStats: _messages.compaction_stats,
    # stream-only events
    models.LettaPing: _events.pings,
    models.LettaStopReason: _events.stop_reasons,
    models.LettaUsageStatistics: _events.usage_statistics,
    models.LettaErrorMessage: _events.error_messages,
    # responses
    models.LettaResponse: _responses.letta_responses,
    models.Run: _responses.runs,
    # requests
    models.MessageCreate: _requests.message_creates,
    models.ApprovalCreate: _requests.approval_creates,
    models.ToolReturnCreate: _requests.tool_return_creates,
    models.ClientToolSchema: _requests.client_tools,
    models.LettaRequest: _requests.letta_requests,
    models.LettaStreamingRequest: _requests.letta_streaming_requests,
    models.LettaAsyncRequest: _requests.letta_async_requests,
    # content parts, tool calls and returns
    models.TextContent: _content.text_contents,
    models.ImageContent: _content.image_contents,
    models.UrlImage: _content.url_images,
    models.Base64Image: _content.base64_images,
    models.LettaImage: _content.letta_images,
    models.ToolCallContent: _content.tool_call_contents,
    models.ToolReturnContent: _content.tool_return_contents,
    models.ReasoningContent: _content.reasoning_contents,
    models.RedactedReasoningContent: _content.redacted_reasoning_contents,
    models.OmittedReasoningContent: _content.omitted_reasoning_contents,
    models.SummarizedReasoningContent: _content.summarized_reasoning_contents,
    models.ToolCall: _content.tool_calls,
    models.ToolCallDelta: _content.tool_call_deltas,
    models.ToolReturn: _content.tool_returns,
    models.ApprovalReturn: _content.approval_returns,
}

# letta-client 1.12 classes (in `letta_client.types.agents` unless a module is given) -> the strategy whose values
# they parse.
_SDK_AGENT_TYPES: dict[str, Factory] = {
    "SystemMessage": _messages.system_messages,
    "UserMessage": _messages.user_messages,
    "ReasoningMessage": _messages.reasoning_messages,
    "HiddenReasoningMessage": _messages.hidden_reasoning_messages,
    "ToolCallMessage": _messages.tool_call_messages,
    "AssistantMessage": _messages.assistant_messages,
    "ApprovalRequestMessage": _messages.approval_request_messages,
    "ApprovalResponseMessage": _messages.approval_response_messages,
    "SummaryMessage": _messages.summary_messages,
    "EventMessage": _messages.event_messages,
    "LettaResponse": _responses.letta_responses,
    "Run": _responses.runs,
    "TextContent": _content.text_contents,
    "ImageContent": _content.image_contents,
    "ToolCall": _content.tool_calls,
    "ToolCallDelta": _content.tool_call_deltas,
    "ToolReturn": _content.tool_returns,
    "ApprovalReturn": _content.approval_returns,
    "ToolCallContent": _content.tool_call_contents,
    "ToolReturnContent": _content.tool_return_contents,
    "ReasoningContent": _content.reasoning_contents,
    "RedactedReasoningContent": _content.redacted_reasoning_contents,
    "OmittedReasoningContent": _content.omitted_reasoning_contents,
}
SDK_TYPES: dict[tuple[str, str], Factory] = {
    **{("letta_client.types.agents", name): factory for name, factory in _SDK_AGENT_TYPES.items()},
    ("letta_client.types", "ToolReturnMessage"): _messages.tool_return_messages,
    ("letta_client.types.agents.letta_streaming_response", "LettaPing"): _events.pings,
    ("letta_client.types.agents.letta_streaming_response", "LettaErrorMessage"): _events.error_messages,
    ("letta_client.types.agents.letta_streaming_response", "LettaStopReason"): _events.stop_reasons,
    ("letta_client.types.agents.letta_streaming_response", "LettaUsageStatistics"): _events.usage_statistics,
    ("letta_client.types.agents.letta_response", "StopReason"): _events.stop_reasons,
    ("letta_client.types.agents.letta_response", "Usage"): _events.usage_statistics,
}

_registered = False


def _as_sdk(sdk_type: type[BaseModel], factory: Factory) -> Callable[[type[Any]], st.SearchStrategy[Any]]:
    # The SDK parses what the server sends; `model_validate` is what its strict response validation calls.
    return lambda _: factory().map(lambda ours: sdk_type.model_validate(ours.model_dump(mode="json")))


def _ours(factory: Factory) -> Callable[[type[Any]], st.SearchStrategy[Any]]:
    # Registered as a callable: the strategy is built when first asked for, not when Hypothesis is imported.
    return lambda _: factory()


def _sdk_types() -> dict[type[BaseModel], Factory]:
    found: dict[type[BaseModel], Factory] = {}
    for (module_name, name), factory in SDK_TYPES.items():
        try:
            sdk_type = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):  # letta-client absent, or a version without this type
            continue
        if isinstance(sdk_type, type) and issubclass(sdk_type, BaseModel):
            found[sdk_type] = factory
    return found


def register_type_strategies() -> None:
    """Register a strategy for every model we generate, and for the SDK's types if ``letta_client`` imports."""
    global _registered
    if _registered:
        return
    for model, factory in OUR_STRATEGIES.items():
        st.register_type_strategy(model, _ours(factory))
    for sdk_type, factory in _sdk_types().items():
        st.register_type_strategy(sdk_type, _as_sdk(sdk_type, factory))
    _registered = True


def _hypothesis_setup_hook() -> None:
    """Called by Hypothesis at import, via the ``hypothesis`` entry point."""
    register_type_strategies()
