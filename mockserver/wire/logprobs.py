"""Token log probabilities and token ids of a turn (``return_logprobs``, ``top_logprobs``, ``return_token_ids``), in
Letta's ``ChoiceLogprobs`` and ``TurnTokenData`` shapes, for RL clients.

No model runs, so the figures are made up, but by rule, and consistent with what the turn streams: an LLM call's
tokens are the fragments token streaming sends (``tokens.words`` for reasoning and text, ``tokens.pieces`` for
tool-call arguments), in that order; a token's id depends on its text alone (the same token has the same id
everywhere) and its log probability on its text and position (the same turn gives the same figures). Alternatives
(``top_logprobs``) are common words, each less likely than the token chosen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.models import (
    ChatCompletionTokenLogprob,
    ChoiceLogprobs,
    TopLogprob,
    TurnTokenData,
)
from mockserver.wire.tokens import pieces, words

__all__ = ["Generation", "choice_logprobs", "generations", "token_id", "turn_token_data"]

VOCABULARY = 100_277  # token ids fall in a cl100k-sized vocabulary
_ALTERNATIVES = (" the", " a", " and", " to", " of", " I", " it", " you", ".", ",", " is", " that", " in", " for")
_AGENT = ("reasoning_message", "hidden_reasoning_message", "assistant_message", "tool_call_message",
          "approval_request_message")  # fmt: skip


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def token_id(token: str) -> int:
    return _digest(token) % VOCABULARY


def _logprob(token: str, position: int) -> float:
    """In (-2.5, -0.001]: likely, as chosen tokens are."""
    return -round(0.001 + (_digest(f"{position}\x00{token}") % 2500) / 1000, 4)


@dataclass
class Generation:
    """One LLM call of the turn (``tokens``, the assistant ``text`` of it) or one tool result (``tool``)."""

    tokens: list[str] = field(default_factory=list)
    text: str | None = None
    tool: tuple[str | None, str] | None = None  # (tool name, returned text)


def generations(items: Sequence[Any]) -> list[Generation]:
    """The LLM calls and tool results of a turn, from its items in order (an LLM call's items share an id)."""
    out: list[Generation] = []
    last_id: str | None = None
    for item in items:
        kind = item.message_type
        if kind == "tool_return_message":
            out.append(Generation(tool=(item.name, item.tool_return)))
            last_id = None
            continue
        if kind not in _AGENT:
            continue
        if item.id != last_id:
            out.append(Generation())
            last_id = item.id
        generation = out[-1]
        if kind == "reasoning_message":
            generation.tokens += words(item.reasoning)
        elif kind == "assistant_message" and isinstance(item.content, str):
            generation.tokens += words(item.content)
            generation.text = (generation.text or "") + item.content
        elif kind in ("tool_call_message", "approval_request_message") and isinstance(item.tool_calls, list):
            for call in item.tool_calls:
                generation.tokens += pieces(call.arguments)
    return out


def _token(token: str, position: int, top: int) -> ChatCompletionTokenLogprob:
    chosen = _logprob(token, position)
    others = [a for a in _ALTERNATIVES if a != token][: max(top - 1, 0)]
    alternatives = [TopLogprob(token=token, bytes=list(token.encode()), logprob=chosen)] if top > 0 else []
    alternatives += [
        TopLogprob(token=other, bytes=list(other.encode()), logprob=round(chosen - 0.5 * (rank + 1), 4))
        for rank, other in enumerate(others)
    ]
    encoded = list(token.encode())
    return ChatCompletionTokenLogprob(token=token, bytes=encoded, logprob=chosen, top_logprobs=alternatives)


def choice_logprobs(turn: Sequence[Generation], top: int | None) -> ChoiceLogprobs:
    """The last LLM call's text tokens with their log probabilities and ``top`` alternatives each (Letta answers the
    last call's; a call that only called tools has no text tokens)."""
    calls = [g for g in turn if g.tool is None]
    text = calls[-1].text if calls else None
    tokens = words(text) if text else []
    return ChoiceLogprobs(content=[_token(t, i, top or 0) for i, t in enumerate(tokens)])


def turn_token_data(turn: Sequence[Generation]) -> list[TurnTokenData]:
    """Every LLM call (its token ids and ``[logprob, token_id, null]`` triples) and tool result, in order."""
    out = []
    for generation in turn:
        if generation.tool is not None:
            name, text = generation.tool
            out.append(TurnTokenData(role="tool", content=text, tool_name=name))
            continue
        ids = [token_id(t) for t in generation.tokens]
        triples: list[list[Any]] = [[_logprob(t, i), ids[i], None] for i, t in enumerate(generation.tokens)]
        out.append(TurnTokenData(role="assistant", output_ids=ids, output_token_logprobs=triples,
                                 content=generation.text))  # fmt: skip
    return out
