"""Content parts, tool calls and tool returns: the pieces messages and requests are made of.

They appear both in what clients send and in what the server sends, so they are plain models that are strict
when a request model validates them (strictness is inherited from the validating call) and fully serialised
when a wire model dumps them.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mockserver.models._base import JsonInt

__all__ = [
    "ApprovalReturn",
    "AssistantContentPart",
    "Base64Image",
    "ImageContent",
    "ImageSource",
    "InputContentPart",
    "LettaImage",
    "MessageContentPart",
    "OmittedReasoningContent",
    "ReasoningContent",
    "RedactedReasoningContent",
    "SummarizedReasoningContent",
    "SummarizedReasoningContentPart",
    "TextContent",
    "ToolCall",
    "ToolCallContent",
    "ToolCallDelta",
    "ToolReturn",
    "ToolReturnContent",
    "ToolReturnContentPart",
    "UrlImage",
    "UserContentPart",
]


class Part(BaseModel):
    """A value object: all fields serialised, defaults required in the serialisation schema."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True, extra="ignore", defer_build=True)


class TextContent(Part):
    type: Literal["text"] = "text"
    text: str
    signature: str | None = None


class UrlImage(Part):
    type: Literal["url"] = "url"
    url: str


class Base64Image(Part):
    type: Literal["base64"] = "base64"
    media_type: str
    data: str
    detail: str | None = None


class LettaImage(Part):
    type: Literal["letta"] = "letta"
    file_id: str
    media_type: str | None = None
    data: str | None = None
    detail: str | None = None


ImageSource = Annotated[UrlImage | Base64Image | LettaImage, Field(discriminator="type")]


class ImageContent(Part):
    type: Literal["image"] = "image"
    source: ImageSource


class ToolCallContent(Part):
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    input: dict[str, Any]
    signature: str | None = None


class ToolReturnContent(Part):
    type: Literal["tool_return"] = "tool_return"
    tool_call_id: str
    content: str
    is_error: bool


class ReasoningContent(Part):
    type: Literal["reasoning"] = "reasoning"
    is_native: bool
    reasoning: str
    signature: str | None = None


class RedactedReasoningContent(Part):
    type: Literal["redacted_reasoning"] = "redacted_reasoning"
    data: str


class OmittedReasoningContent(Part):
    type: Literal["omitted_reasoning"] = "omitted_reasoning"
    signature: str | None = None


class SummarizedReasoningContentPart(Part):
    index: JsonInt
    text: str


def no_default_in_schema(schema: dict[str, Any]) -> None:
    """For a field that may be left out but not sent as null: its schema states no default (null is not one)."""
    schema.pop("default", None)


class SummarizedReasoningContent(Part):
    type: Literal["summarized_reasoning"] = "summarized_reasoning"
    id: str
    summary: list[SummarizedReasoningContentPart]
    # Optional non-null in the document: a missing value is left out rather than written as null, and a request
    # that sends null is refused (as the real server refuses it).
    encrypted_content: str = Field(  # type: ignore[assignment]
        default=None, exclude_if=lambda value: value is None, json_schema_extra=no_default_in_schema
    )


UserContentPart = Annotated[TextContent | ImageContent, Field(discriminator="type")]
AssistantContentPart = TextContent
ToolReturnContentPart = Annotated[TextContent | ImageContent, Field(discriminator="type")]

# `MessageCreate.content` parts. Upstream maps "tool_return" to ToolCallContent in this union's discriminator
# mapping, which cannot be right (the member that carries type "tool_return" is ToolReturnContent); we route it
# to ToolReturnContent.
_MessageParts = (
    TextContent
    | ImageContent
    | ToolCallContent
    | ToolReturnContent
    | ReasoningContent
    | RedactedReasoningContent
    | OmittedReasoningContent
)
MessageContentPart = Annotated[_MessageParts, Field(discriminator="type")]

# `input` parts of the send-message requests: the same plus summarized reasoning.
InputContentPart = Annotated[_MessageParts | SummarizedReasoningContent, Field(discriminator="type")]


class ToolCall(Part):
    """One complete tool call: ``arguments`` is a JSON text."""

    name: str
    arguments: str
    tool_call_id: str


class ToolCallDelta(Part):
    """A fragment of a tool call in token streaming; the ``arguments`` of all fragments concatenate to JSON."""

    name: str | None = None
    arguments: str | None = None
    tool_call_id: str | None = None


class ToolReturn(Part):
    """The result of one tool call (upstream ``letta.schemas.letta_message.ToolReturn``)."""

    type: Literal["tool"] = "tool"
    tool_return: list[ToolReturnContentPart] | str
    status: Literal["success", "error"]
    tool_call_id: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None


class ApprovalReturn(Part):
    """A decision on one tool call that waited for approval."""

    type: Literal["approval"] = "approval"
    tool_call_id: str
    approve: bool
    reason: str | None = None
