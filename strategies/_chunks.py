"""Token streaming as drawn chunks: where a message is cut is drawn, how it is cut is Letta's rule.

The rules themselves (chunk shapes, ``ToolCallDelta`` in both fields, the signature on the last fragment) and their
inverse ``reassemble`` live in ``mockserver.wire.tokens``, which the server follows too; this module only draws
the cut points. Chunks keep the message's ``date`` (the server stamps each chunk with the wall clock, in whole
seconds; a turn's chunks usually share it), so reassembling gives back the message exactly.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

from mockserver.models import ApprovalRequestMessage, AssistantMessage, Message, ReasoningMessage, ToolCallMessage
from mockserver.wire.tokens import call_chunks, reassemble, text_chunks

__all__ = ["reassemble", "token_chunks"]

_MAX_FRAGMENTS = 6


def _split(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _fragments(text: str) -> st.SearchStrategy[list[str]]:
    """Non-empty pieces of ``text`` in order (``[text]`` when it is too short to split); shrinks to one piece."""
    if len(text) < 2:
        return st.just([text])
    cuts = st.lists(st.integers(1, len(text) - 1), max_size=min(_MAX_FRAGMENTS - 1, len(text) - 1), unique=True)
    return cuts.map(lambda positions: _split(text, positions))


@st.composite
def _call_chunks(draw: st.DrawFn, message: ToolCallMessage | ApprovalRequestMessage) -> list[Any]:
    assert isinstance(message.tool_calls, list)
    repeat_name = draw(st.booleans())  # Anthropic style repeats the name on every fragment, OpenAI's does not
    fragments = [draw(_fragments(call.arguments)) for call in message.tool_calls]
    return call_chunks(message, fragments, repeat_name=repeat_name)


def token_chunks(message: Message) -> st.SearchStrategy[list[Any]]:
    """The chunks a token stream carries for ``message`` (``[message]`` for types that are not chunked)."""
    if isinstance(message, ReasoningMessage):
        return _fragments(message.reasoning).map(lambda parts: text_chunks(message, parts))
    if isinstance(message, AssistantMessage) and isinstance(message.content, str):
        return _fragments(message.content).map(lambda parts: text_chunks(message, parts))
    if isinstance(message, ToolCallMessage | ApprovalRequestMessage) and isinstance(message.tool_calls, list):
        if message.tool_calls:
            return _call_chunks(message)
    return st.just([message])
