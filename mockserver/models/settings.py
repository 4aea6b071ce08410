"""``model_settings`` of a compaction request: one model per LLM provider, picked by ``provider_type``.

The mock ignores these settings, but validates them as Letta does: a discriminated union on ``provider_type``
(``{}`` or an unknown provider is a 422, ``union_tag_not_found``), each member typed as Letta's document types it.
Defaults are the document's.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from mockserver.models._base import JsonInt, RequestModel

__all__ = ["ModelSettings"]


class OpenAIReasoning(RequestModel):
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] = "minimal"


class AnthropicThinking(RequestModel):
    type: Literal["enabled", "disabled"] = "enabled"
    budget_tokens: JsonInt = 1024


class GeminiThinkingConfig(RequestModel):
    include_thoughts: bool = True
    thinking_budget: JsonInt = 1024


class ZAIThinking(RequestModel):
    type: Literal["enabled", "disabled"] = "enabled"
    clear_thinking: bool = False


class TextResponseFormat(RequestModel):
    type: Literal["text"] = "text"


class JsonSchemaResponseFormat(RequestModel):
    type: Literal["json_schema"] = "json_schema"
    json_schema: dict[str, Any]


class JsonObjectResponseFormat(RequestModel):
    type: Literal["json_object"] = "json_object"


ResponseFormat = Annotated[
    TextResponseFormat | JsonSchemaResponseFormat | JsonObjectResponseFormat, Field(discriminator="type")
]


class _Settings(RequestModel):
    max_output_tokens: JsonInt = 4096
    parallel_tool_calls: bool = True
    temperature: float = 0.7


class _Formatted(_Settings):
    response_format: ResponseFormat | None = None


class OpenAIModelSettings(_Formatted):
    provider_type: Literal["openai"] = "openai"
    reasoning: OpenAIReasoning = OpenAIReasoning.model_construct(reasoning_effort="high")
    strict: bool = True


class SGLangModelSettings(OpenAIModelSettings):
    provider_type: Literal["sglang"] = "sglang"  # type: ignore[assignment]
    tool_call_parser: str | None = None


class AnthropicModelSettings(_Formatted):
    provider_type: Literal["anthropic"] = "anthropic"
    temperature: float = 1
    thinking: AnthropicThinking = AnthropicThinking.model_construct()
    verbosity: Literal["low", "medium", "high"] | None = None
    effort: Literal["low", "medium", "high", "max"] | None = None
    strict: bool = False


class GoogleAIModelSettings(_Settings):
    provider_type: Literal["google_ai"] = "google_ai"
    max_output_tokens: JsonInt = 65536
    thinking_config: GeminiThinkingConfig = GeminiThinkingConfig.model_construct()
    response_schema: ResponseFormat | None = None


class GoogleVertexModelSettings(GoogleAIModelSettings):
    provider_type: Literal["google_vertex"] = "google_vertex"  # type: ignore[assignment]


class AzureModelSettings(_Formatted):
    provider_type: Literal["azure"] = "azure"


class XAIModelSettings(_Formatted):
    provider_type: Literal["xai"] = "xai"


class ZAIModelSettings(_Formatted):
    provider_type: Literal["zai"] = "zai"
    thinking: ZAIThinking = ZAIThinking.model_construct()


class GroqModelSettings(_Formatted):
    provider_type: Literal["groq"] = "groq"


class DeepseekModelSettings(_Formatted):
    provider_type: Literal["deepseek"] = "deepseek"


class TogetherModelSettings(_Formatted):
    provider_type: Literal["together"] = "together"


class BedrockModelSettings(_Formatted):
    provider_type: Literal["bedrock"] = "bedrock"


class BasetenModelSettings(_Settings):
    provider_type: Literal["baseten"] = "baseten"


class OpenRouterModelSettings(_Formatted):
    provider_type: Literal["openrouter"] = "openrouter"


class ChatGPTOAuthModelSettings(_Settings):
    provider_type: Literal["chatgpt_oauth"] = "chatgpt_oauth"
    reasoning: OpenAIReasoning = OpenAIReasoning.model_construct(reasoning_effort="medium")


ModelSettings = Annotated[
    OpenAIModelSettings | SGLangModelSettings | AnthropicModelSettings | GoogleAIModelSettings
    | GoogleVertexModelSettings | AzureModelSettings | XAIModelSettings | ZAIModelSettings | GroqModelSettings
    | DeepseekModelSettings | TogetherModelSettings | BedrockModelSettings | BasetenModelSettings
    | OpenRouterModelSettings | ChatGPTOAuthModelSettings,
    Field(discriminator="provider_type"),
]  # fmt: skip
