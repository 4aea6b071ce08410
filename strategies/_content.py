"""Content parts, tool calls and tool returns: the pieces both messages and requests are made of.

Every part is built with its ``type`` passed explicitly, so it survives ``model_dump(exclude_unset=True)`` (how a
request body is written): the discriminated unions on the wire need that key.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Literal

from hypothesis import strategies as st

from mockserver.models import (
    ApprovalReturn,
    Base64Image,
    ImageContent,
    LettaImage,
    OmittedReasoningContent,
    ReasoningContent,
    RedactedReasoningContent,
    SummarizedReasoningContent,
    SummarizedReasoningContentPart,
    TextContent,
    ToolCall,
    ToolCallContent,
    ToolCallDelta,
    ToolReturn,
    ToolReturnContent,
    UrlImage,
)
from strategies._values import (
    TOOL_CALL_ID_VALUES,
    TOOL_NAMES,
    TYPICAL_ARGUMENTS_JSON,
    choice,
    generated_objects,
    json_objects,
    maybe,
    short_texts,
    texts,
    tool_call_id,
    tool_call_ids,
    tool_names,
    uuid4s,
)

__all__ = [
    "approval_decisions",
    "approval_returns",
    "base64_images",
    "image_contents",
    "input_content_parts",
    "letta_images",
    "message_content_parts",
    "omitted_reasoning_contents",
    "reasoning_contents",
    "redacted_reasoning_contents",
    "signatures",
    "summarized_reasoning_contents",
    "text_contents",
    "tool_call_contents",
    "tool_call_deltas",
    "tool_calls",
    "tool_return_contents",
    "tool_return_values",
    "tool_returns",
    "url_images",
    "user_content_parts",
]

_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Opaque values are drawn from small tables (one choice each): their content never matters to a client, only their
# presence and shape, and a table is far cheaper to draw than generated base64.
_SIGNATURES = (
    "EqQBCkgIBhABGAIiQL3kPZz1xq0Yw3rH8n1mJqVbA9kTt2u5W6cZ0oQfN4sLgE7pD1yR2aHc8vXmBnKj3lF9eU0iTqSo6wG5hYdC",
    "c2lnbmF0dXJlOjA=",
    "gAAAAABn",
)
_MAYBE_SIGNATURE = st.sampled_from((None, *_SIGNATURES))
_IMAGE_DATA = (
    "",
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "R0lGODlhAQABAAAAACw=",
)
_DETAILS = st.sampled_from((None, "auto", "low", "high"))


def signatures() -> st.SearchStrategy[str]:
    """Provider reasoning signatures: opaque base64 text."""
    return st.sampled_from(_SIGNATURES)


def text_contents() -> st.SearchStrategy[TextContent]:
    return st.builds(partial(TextContent, type="text"), text=texts(), signature=_MAYBE_SIGNATURE)


def url_images() -> st.SearchStrategy[UrlImage]:
    urls = ("https://example.com/image.png", "https://example.com/a%20b/photo.jpeg?size=large", "data:,")
    return st.builds(partial(UrlImage, type="url"), url=st.sampled_from(urls))


def base64_images() -> st.SearchStrategy[Base64Image]:
    return st.builds(
        partial(Base64Image, type="base64"),
        media_type=st.sampled_from(_MEDIA_TYPES),
        data=st.sampled_from(_IMAGE_DATA),
        detail=_DETAILS,
    )


def letta_images() -> st.SearchStrategy[LettaImage]:
    """An image stored by Letta (``file-<uuid4>``), optionally with its data inlined."""
    return st.builds(
        partial(LettaImage, type="letta"),
        file_id=uuid4s().map(lambda value: f"file-{value}"),
        media_type=st.sampled_from((None, *_MEDIA_TYPES)),
        data=st.sampled_from((None, *_IMAGE_DATA)),
        detail=_DETAILS,
    )


def image_contents() -> st.SearchStrategy[ImageContent]:
    return st.builds(partial(ImageContent, type="image"), source=choice(url_images(), base64_images(), letta_images()))


def user_content_parts() -> st.SearchStrategy[TextContent | ImageContent]:
    """Parts of a ``user_message`` (and of a tool return): text or image."""
    return choice(text_contents(), image_contents())


def tool_call_contents() -> st.SearchStrategy[ToolCallContent]:
    return st.builds(
        partial(ToolCallContent, type="tool_call"),
        id=tool_call_ids(),
        name=tool_names(),
        input=json_objects(),
        signature=_MAYBE_SIGNATURE,
    )


def tool_return_contents() -> st.SearchStrategy[ToolReturnContent]:
    return st.builds(
        partial(ToolReturnContent, type="tool_return"),
        tool_call_id=tool_call_ids(),
        content=texts(),
        is_error=st.booleans(),
    )


def reasoning_contents() -> st.SearchStrategy[ReasoningContent]:
    return st.builds(
        partial(ReasoningContent, type="reasoning"),
        is_native=st.booleans(),
        reasoning=texts(),
        signature=_MAYBE_SIGNATURE,
    )


def redacted_reasoning_contents() -> st.SearchStrategy[RedactedReasoningContent]:
    return st.builds(partial(RedactedReasoningContent, type="redacted_reasoning"), data=signatures())


def omitted_reasoning_contents() -> st.SearchStrategy[OmittedReasoningContent]:
    return st.builds(partial(OmittedReasoningContent, type="omitted_reasoning"), signature=_MAYBE_SIGNATURE)


def summarized_reasoning_contents() -> st.SearchStrategy[SummarizedReasoningContent]:
    # The spec types `encrypted_content` as a non-null string: it is either absent or a string, never null.
    parts = st.lists(short_texts(), max_size=3).map(
        lambda items: [SummarizedReasoningContentPart(index=i, text=text) for i, text in enumerate(items)]
    )
    return st.fixed_dictionaries(
        {"type": st.just("summarized_reasoning"), "id": uuid4s().map(lambda v: f"rs_{v}"), "summary": parts},
        optional={"encrypted_content": signatures()},
    ).map(lambda fields: SummarizedReasoningContent(**fields))


def message_content_parts() -> st.SearchStrategy[
    TextContent | ImageContent | ToolCallContent | ReasoningContent | RedactedReasoningContent | OmittedReasoningContent
]:
    """Parts of ``MessageCreate.content``.

    No ``tool_return`` part: the spec's discriminator mapping for this union sends ``tool_return`` to
    ``ToolCallContent``, so a real ``ToolReturnContent`` here fails discriminator-aware validation (and clients
    generated from the spec reject it). ``input_content_parts`` has the correct mapping and includes it.
    """
    return choice(
        text_contents(),
        image_contents(),
        tool_call_contents(),
        reasoning_contents(),
        redacted_reasoning_contents(),
        omitted_reasoning_contents(),
    )


def input_content_parts() -> st.SearchStrategy[
    TextContent
    | ImageContent
    | ToolCallContent
    | ToolReturnContent
    | ReasoningContent
    | RedactedReasoningContent
    | OmittedReasoningContent
    | SummarizedReasoningContent
]:
    """Parts of a send request's ``input``: every content type, summarized reasoning included."""
    return choice(
        message_content_parts(),
        tool_return_contents(),
        summarized_reasoning_contents(),
    )


# --- tool calls and returns ------------------------------------------------------------------------------------


# One integer per call: the low part picks the arguments (a typical object 7 times in 8, else a generated one),
# the rest the name and the id. 0, the shrink target, is web_search({}) with id call_000….
_ARGUMENT_SLOTS = 8 * len(TYPICAL_ARGUMENTS_JSON)
_CALLS = st.integers(0, _ARGUMENT_SLOTS * len(TOOL_NAMES) * TOOL_CALL_ID_VALUES - 1)


@st.composite
def _tool_calls(draw: st.DrawFn, generated: st.SearchStrategy[dict[str, Any]]) -> ToolCall:
    rest, pick = divmod(draw(_CALLS), _ARGUMENT_SLOTS)
    rest, name = divmod(rest, len(TOOL_NAMES))
    if pick < 7 * len(TYPICAL_ARGUMENTS_JSON):
        arguments = TYPICAL_ARGUMENTS_JSON[pick % len(TYPICAL_ARGUMENTS_JSON)]
    else:
        arguments = json.dumps(draw(generated))  # as the server writes it: ": " and ", "
    return ToolCall(name=TOOL_NAMES[name], arguments=arguments, tool_call_id=tool_call_id(rest))


def tool_calls() -> st.SearchStrategy[ToolCall]:
    """One complete tool call; ``arguments`` is a JSON object's text."""
    return _tool_calls(generated_objects())


def tool_call_deltas() -> st.SearchStrategy[ToolCallDelta]:
    """One token-streaming fragment of a tool call, nulls kept (wire doc §18.1). ``arguments`` is any JSON piece."""
    return st.builds(
        ToolCallDelta,
        name=maybe(tool_names()),
        arguments=maybe(st.sampled_from(('{"', "query", '": "', "Paris", '"}', "{}", "1"))),
        tool_call_id=maybe(tool_call_ids()),
    )


# Captured stdout/stderr lines of a tool run.
_OUTPUT: tuple[list[str] | None, ...] = (
    None,
    [],
    ["42"],
    ["Fetching https://example.com …", "done"],
    ["Traceback (most recent call last):"],
)


# What tools return: the JSON status object Letta's built-in tools write (json.dumps spacing), or plain text.
_RESULTS = (
    "",
    json.dumps({"status": "OK", "message": "None", "time": "2025-06-01 12:00:06 PM UTC+0000"}),
    json.dumps({"status": "OK", "message": "Sunny, 24 C"}),
    json.dumps({"status": "Failed", "message": "Error executing function web_search: TimeoutError: timed out"}),
    "Sunny, 24 C",
    "42",
    "[]",
    "Hello!",
)


@st.composite
def _tool_return_values(
    draw: st.DrawFn, picks: st.SearchStrategy[int], anything: st.SearchStrategy[str], parts: st.SearchStrategy[Any]
) -> Any:
    # One draw for a typical result; a third of the time any text at all; with `parts`, 1 in 13 multimodal.
    pick = draw(picks)
    if pick < len(_RESULTS):
        return _RESULTS[pick]
    return draw(anything if pick < len(_RESULTS) + 4 else parts)


def tool_return_values() -> st.SearchStrategy[str]:
    """What a tool returns: Letta's JSON status object, plain text, or any text (edge cases included)."""
    return _tool_return_values(st.integers(0, len(_RESULTS) + 3), texts(), st.nothing())


_STATUSES: tuple[Literal["success", "error"], ...] = ("success", "error")


def _tool_return(packed: int, value: str | list[Any]) -> ToolReturn:
    # Id, status and captured output come from one integer (bit 0 status, bits 1-3 stdout, 4-6 stderr).
    return ToolReturn(
        type="tool",
        tool_return=value,
        status=_STATUSES[packed & 1],
        tool_call_id=tool_call_id(packed >> 7),
        stdout=_OUTPUT[(packed >> 1 & 7) % len(_OUTPUT)],
        stderr=_OUTPUT[(packed >> 4 & 7) % len(_OUTPUT)],
    )


# A structured return: what a tool returns, or (1 in 13) a list of content parts.
_TOOL_RETURN_VALUES = _tool_return_values(
    st.integers(0, len(_RESULTS) + 4), texts(), st.lists(user_content_parts(), max_size=2)
)


def tool_returns() -> st.SearchStrategy[ToolReturn]:
    """A tool's result as carried in ``tool_returns`` / ``approvals`` (the ``{"type": "tool", …}`` object)."""
    return st.builds(_tool_return, st.integers(0, (TOOL_CALL_ID_VALUES << 7) - 1), _TOOL_RETURN_VALUES)


_REASON_TEXTS = (None, "", "Not now.", "The user denied this tool call.", "Нет, спасибо 🙅")


def _approval_return(packed: int) -> ApprovalReturn:
    # Id, decision (bit 0) and reason (bits 1-3) from one integer; 0 approves without a reason.
    return ApprovalReturn(
        type="approval",
        tool_call_id=tool_call_id(packed >> 4),
        approve=not packed & 1,
        reason=_REASON_TEXTS[(packed >> 1 & 7) % len(_REASON_TEXTS)],
    )


def approval_returns() -> st.SearchStrategy[ApprovalReturn]:
    """A decision on one pending tool call, with or without a reason."""
    return st.builds(_approval_return, st.integers(0, (TOOL_CALL_ID_VALUES << 4) - 1))


_DECISIONS = st.integers(0, (TOOL_CALL_ID_VALUES << 9) - 1)


@st.composite
def _approval_decisions(draw: st.DrawFn, values: st.SearchStrategy[str | list[Any]]) -> ApprovalReturn | ToolReturn:
    packed = draw(_DECISIONS)  # bits 0-1: a client tool's result one time in four, else an approval decision
    if packed & 3 == 3:
        return _tool_return(packed >> 2, draw(values))
    return _approval_return(packed >> 2)


def approval_decisions() -> st.SearchStrategy[ApprovalReturn | ToolReturn]:
    """One item of ``approvals``: a decision on a pending call, or a client-side tool's result."""
    return _approval_decisions(_TOOL_RETURN_VALUES)
