"""An agent's model configuration as Letta shows it, derived from its model handle and what the client gave:
``llm_config``, ``embedding_config``, ``model_settings`` and ``compaction_settings``.

Letta's rules (0.16.8), applied to the mock's own tables:

* ``llm_config`` carries the model's endpoint and its default output budget (``max_tokens``) unless given;
* ``model_settings`` is the provider's settings object built back from ``llm_config`` (budget, temperature,
  reasoning effort, strictness), with what the client gave on top;
* ``compaction_settings`` are the defaults (sliding window of 30 %, clip at 50,000 characters, the provider's
  light summarizer model) with what the client gave on top.
"""

from __future__ import annotations

from typing import Any

from mockserver import catalogue
from mockserver.models import EmbeddingConfig, LLMConfig
from mockserver.models.settings import (
    AnthropicModelSettings,
    AnthropicThinking,
    AzureModelSettings,
    GeminiThinkingConfig,
    GoogleAIModelSettings,
    OpenAIModelSettings,
    OpenAIReasoning,
)

__all__ = ["COMPACTION_PROMPT", "compaction_settings", "embedding_config", "llm_config", "model_settings"]

# The mock's own summarizer prompt (Letta's default is a longer one of its own).
COMPACTION_PROMPT = (
    "The messages below are leaving the start of your context window. Summarize them so that the messages that "
    "remain still make sense: the user's goals, what was asked and done, important names and facts, errors and "
    "their fixes. Write in the first person, under 300 words. Only output the summary."
)


def llm_config(
    handle: str, *, context_window: int | None, max_tokens: int | None, reasons: bool,
    response_format: dict[str, Any] | None, given: dict[str, Any] | None,
) -> LLMConfig:  # fmt: skip
    """The agent's ``llm_config``: its model family's, with the budget and temperature the client gave."""
    family = catalogue.model_family(handle)
    provider, _, model = handle.partition("/")
    given = given or {}
    return LLMConfig(
        model=model or handle, model_endpoint_type=family.endpoint_type,
        model_endpoint=catalogue.MODEL_ENDPOINTS.get(family.endpoint_type), provider_name=provider or None,
        provider_category="base", context_window=context_window or family.context_window, handle=handle,
        temperature=given.get("temperature", 1.0),
        max_tokens=max_tokens or given.get("max_output_tokens") or family.max_tokens, enable_reasoner=reasons,
        response_format=response_format,
    )  # fmt: skip


def model_settings(llm: LLMConfig, given: dict[str, Any] | None) -> dict[str, Any]:
    """The provider's settings object built back from ``llm`` (Letta's rule), what the client gave on top."""
    common: dict[str, Any] = {"max_output_tokens": llm.max_tokens or 4096, "temperature": llm.temperature}
    settings: Any
    if llm.model_endpoint_type == "anthropic":
        thinking = AnthropicThinking(type="enabled" if llm.enable_reasoner else "disabled",
                                     budget_tokens=llm.max_reasoning_tokens or 1024)  # fmt: skip
        settings = AnthropicModelSettings(**common, thinking=thinking, strict=llm.strict)
    elif llm.model_endpoint_type in ("google_ai", "google_vertex"):
        common["max_output_tokens"] = llm.max_tokens or 65536
        budget = llm.max_reasoning_tokens
        settings = GoogleAIModelSettings(
            **common, thinking_config=GeminiThinkingConfig(include_thoughts=budget > 0, thinking_budget=budget or 1024)
        )
    elif llm.model_endpoint_type == "azure":
        settings = AzureModelSettings(**common)
    else:
        effort = OpenAIReasoning(reasoning_effort=llm.reasoning_effort or "minimal")  # type: ignore[arg-type]
        settings = OpenAIModelSettings(**common, reasoning=effort, strict=llm.strict)
    derived: dict[str, Any] = settings.model_dump(mode="json")
    return {**derived, **(given or {})}


def compaction_settings(endpoint_type: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """Letta's default compaction settings for an agent of ``endpoint_type``, what the client gave on top."""
    defaults: dict[str, Any] = {
        "model": catalogue.SUMMARIZER_MODELS.get(endpoint_type),
        "model_settings": None,
        "prompt": COMPACTION_PROMPT,
        "prompt_acknowledgement": False,
        "clip_chars": 50000,
        "mode": "sliding_window",
        "sliding_window_percentage": 0.3,
    }
    return {**defaults, **{k: v for k, v in (given or {}).items() if v is not None}}


def embedding_config(handle: str | None) -> EmbeddingConfig | None:
    if handle is None:
        return None
    provider, _, model = handle.partition("/")
    endpoint_type = provider or "openai"
    return EmbeddingConfig(
        embedding_endpoint_type=endpoint_type, embedding_endpoint=catalogue.MODEL_ENDPOINTS.get(endpoint_type),
        embedding_model=model or handle, embedding_dim=1536, handle=handle,
    )  # fmt: skip
