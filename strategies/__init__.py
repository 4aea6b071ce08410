"""Hypothesis strategies for valid Letta messages, stream events, responses, requests and SSE transcripts.

Everything drawn is valid by construction: it validates against Letta's OpenAPI document (discriminator-aware,
``message_type`` always present) and parses in the official SDK's types with strict response validation. Values
look like a real server's: ``message-<uuid4>`` ids with derived ``otid``s, UTC whole-second dates, unicode and
edge-case text, plausible tool names and JSON arguments. Strategies shrink towards the plainest value (an
assistant message, one tool call, ``{}`` arguments, no optional fields).

    from hypothesis import given
    from strategies import messages, sse_transcripts, reassemble

    @given(sse_transcripts(stream_tokens=True))
    def test_my_client_renders_streams(events):
        render(reassemble(events))

Models are ``mockserver.models`` instances: serialise wire values with ``model_dump(mode="json")`` and request
bodies with ``model_dump(mode="json", exclude_unset=True)`` (what an SDK sends). ``st.from_type`` works for our
models and, with ``letta-client`` installed, for the SDK's types (see ``register_type_strategies``).
``example_for_seed(strategy, seed)`` draws one value deterministically outside a test (the mock server's
"arbitrary" scenario).

Speed: ``messages()`` draws several hundred valid messages a second under ``@given`` (two orders of magnitude
faster than hypothesis-jsonschema on Letta's schema; ``bench/bench_strategies.py``). When a property fails,
Hypothesis's *explain* phase replays up to a few hundred variations of the failing example to annotate the report;
with whole transcripts that takes a minute or more. Leave ``Phase.explain`` out of ``settings(phases=...)`` if the
wait matters more than the annotations.
"""

from strategies._authored import authored_turns
from strategies._chunks import reassemble, token_chunks
from strategies._content import (
    approval_returns,
    image_contents,
    input_content_parts,
    message_content_parts,
    omitted_reasoning_contents,
    reasoning_contents,
    redacted_reasoning_contents,
    summarized_reasoning_contents,
    text_contents,
    tool_call_contents,
    tool_call_deltas,
    tool_calls,
    tool_return_contents,
    tool_returns,
    user_content_parts,
)
from strategies._events import error_messages, pings, stop_reasons, stream_events, usage_statistics
from strategies._messages import (
    approval_request_messages,
    approval_response_messages,
    assistant_messages,
    event_messages,
    hidden_reasoning_messages,
    messages,
    reasoning_messages,
    summary_messages,
    system_messages,
    tool_call_messages,
    tool_return_messages,
    user_messages,
)
from strategies._register import register_type_strategies
from strategies._requests import (
    approval_creates,
    client_tools,
    letta_async_requests,
    letta_requests,
    letta_streaming_requests,
    message_creates,
    tool_return_creates,
)
from strategies._responses import letta_responses, runs
from strategies._seed import example_for_seed
from strategies._transcripts import (
    FAULTS,
    FaultyTranscript,
    TranscriptEvent,
    decode_transcript,
    encode_transcript,
    faulty_sse_transcripts,
    sse_transcripts,
)
from strategies._values import (
    agent_ids,
    message_dates,
    message_ids,
    run_ids,
    step_ids,
    texts,
    tool_arguments,
    tool_call_ids,
    tool_names,
)

__all__ = [
    # values
    "agent_ids",
    "message_dates",
    "message_ids",
    "run_ids",
    "step_ids",
    "texts",
    "tool_arguments",
    "tool_call_ids",
    "tool_names",
    # content parts, tool calls and returns
    "approval_returns",
    "image_contents",
    "input_content_parts",
    "message_content_parts",
    "omitted_reasoning_contents",
    "reasoning_contents",
    "redacted_reasoning_contents",
    "summarized_reasoning_contents",
    "text_contents",
    "tool_call_contents",
    "tool_call_deltas",
    "tool_calls",
    "tool_return_contents",
    "tool_returns",
    "user_content_parts",
    # messages (LettaMessageUnion) and token chunks
    "approval_request_messages",
    "approval_response_messages",
    "assistant_messages",
    "event_messages",
    "hidden_reasoning_messages",
    "messages",
    "reasoning_messages",
    "summary_messages",
    "system_messages",
    "token_chunks",
    "tool_call_messages",
    "tool_return_messages",
    "user_messages",
    # stream events (LettaStreamingResponse)
    "error_messages",
    "pings",
    "stop_reasons",
    "stream_events",
    "usage_statistics",
    # responses
    "letta_responses",
    "runs",
    # requests
    "approval_creates",
    "client_tools",
    "letta_async_requests",
    "letta_requests",
    "letta_streaming_requests",
    "message_creates",
    "tool_return_creates",
    # SSE transcripts
    "FAULTS",
    "FaultyTranscript",
    "TranscriptEvent",
    "decode_transcript",
    "encode_transcript",
    "faulty_sse_transcripts",
    "reassemble",
    "sse_transcripts",
    # authored turns (mockserver.authored's rules format)
    "authored_turns",
    # registration and seeded draws
    "example_for_seed",
    "register_type_strategies",
]
