"""Which of Letta's rules apply to a request: one frozen value, built once from the profile, the world and whether
the resource the request is about was created by a client.

Three switches decide them (README, "Profiles"):

* the profile: ``fidelity="server"`` adds the real server's quirks (wire doc §18) to the documented contract;
* the world: a closed world (``agents=``) has only the agents it was given, so an unknown id names nothing;
* created: what a client *created* (agent, conversation) follows the real server's refusals in any profile, while
  what the open world made up answers whatever the document allows.

Rule: code asks a ``Rules`` field, never the switches themselves. Every combination of them is written once, in
``Rules.of``; a field that server fidelity turns on names its README line (``readme``), and
``tests/test_architecture.py`` holds the README's list of server-fidelity differences against these fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.config import MockConfig

__all__ = ["CONTRACT", "Rules"]


def _rule(readme: str | None = None) -> Any:
    """A field; ``readme`` is how the README's list of server-fidelity differences says it."""
    return dataclasses.field(metadata={"readme": readme} if readme else {})


@dataclass(frozen=True)
class Rules:
    # -- the real server's quirks: server fidelity only ---------------------------------------------------------
    repr_422: bool = _rule('its 422 body (`{"trace_id": "", "detail": "<repr>"}`)')
    """A validation error's ``detail`` is the repr of the error list (§15.2)."""
    uniform_path_422: bool = _rule("one 422 text for every malformed path id, with an example id")
    """Every malformed path id gets the one pattern message, with an example (§15.2)."""
    json_without_content_type: bool = _rule("a body without a content type read as JSON")
    """A body without a content type is read as JSON (the contract wants ``application/json``)."""
    streaming_options_need_streaming: bool = _rule(
        "the 422 for `stream_tokens`, `include_pings: false` or `background` without `streaming: true`"
    )
    """Streaming options without ``streaming: true`` are a 422 (§4 step 3)."""
    sdk_only_streaming: bool = _rule("the refusal of `streaming: true` from non-SDK user agents")
    """``streaming: true`` from a client that is not a 1.x SDK is a 422 (§4 step 4)."""
    null_error_fields: bool = _rule("error events with `detail` and `seq_id` written even when null")
    """In-band error events are written as the real server writes them, null fields included (§2.2)."""
    model_required: bool = _rule("the 400 for an agent created without a model")
    """Creating an agent needs ``model`` or ``llm_config``."""
    reply_as_reasoning: bool = _rule("a `letta_v1_agent`'s reply retrieved as reasoning (`GET /v1/messages/{id}`)")
    """``GET /v1/messages/{id}`` shows a letta_v1_agent's reply as reasoning (§18.8)."""
    naive_run_dates: bool = _rule("run completion times without a timezone")
    """A run's ``completed_at`` and ``callback_sent_at`` have no timezone (§1.5)."""
    background_only_resume: bool = _rule("the 400 from resuming a non-background run")
    """Only a background run's stream can be resumed (§13.3)."""
    expiring_streams: bool = _rule("410 `EXPIRED` for a run whose stream is no longer kept")
    """A run whose log is no longer kept answers 410, as an expired stream does (§13.3)."""
    packed_summary: bool = _rule("a compaction's summary stored as a user message holding a `system_alert`")
    """A compaction stores its summary as the server does inside a turn (§17.5)."""
    templates_take_literals: bool = _rule(
        "a path template tried before its literal siblings (`PATCH …/messages/async`: a 422 for the id, not a 405)"
    )
    """A path parameter also matches the words of literal sibling paths, as FastAPI's routing does."""
    search_needs_turbopuffer: bool = _rule("message search refused (400), as by a Letta without Turbopuffer")
    """Message search is a 400: a self-hosted Letta searches messages only with Turbopuffer set up."""
    steps_name_organization: bool = _rule("steps with their `organization_id`")
    """A run's steps carry their ``organization_id``, which the document's ``Step`` does not allow."""

    # -- Letta's refusals: server fidelity, the closed world, or what a client created ---------------------------
    refuse_empty: bool = _rule('the 422 for both or neither of `input` and `messages`; "Messages must not be empty"')
    """A send needs exactly one of ``input``/``messages`` and some messages (§3, §4 step 2)."""
    approval_names_call: bool = _rule("an approval response's `approval_request_id` naming the answered tool call")
    """A stored approval response names the (first) answered tool call, not the approval request."""
    strict_run_ids: bool = _rule("the 400 for a run id not of the form `run-<uuid4>`")
    """A run id not of the form ``run-<uuid4>`` is a 400 (§13.1); the document puts no pattern on it."""
    strict_compaction: bool = _rule("the 400s for compacting what cannot shrink")
    """Compacting a context with nothing to fold, or that would not shrink, is a 400 (§12)."""
    nothing_to_cancel_409: bool = _rule(
        "the 409 from cancel with nothing to cancel (an agent that never ran, a conversation with nothing running)"
    )
    """Cancelling with nothing to cancel is a 409 (§9). An agent with nothing running names its last run instead, in
    every profile: Letta with Redis, as background streams need, does (§18.4)."""
    no_active_run_400: bool = _rule("the 400 from resuming a conversation with no active run")
    """Resuming a conversation's stream with no active run is a 400 (§14)."""
    strict_approvals: bool = _rule()
    """An approval when nothing waits for one is a 400 (§5); the open world takes it to answer a call it made up."""
    unknown_ids_missing: bool = _rule()
    """An id nobody created names nothing (404s; a cancelled unknown run "failed"), not an empty resource."""
    slow_tools: bool = _rule()
    """A server tool runs for the ``created_tool_ms`` setting (Letta's sandbox takes its time), so a client can
    cancel the run in flight; only what a client created (the open world's agents answer at once)."""
    known_tools_only: bool = _rule()
    """An agent calls only the tools it has: an authored call of another tool returns Letta's ToolConstraintError.
    Only what a client created has a known tool list; an agent the open world made up (or a closed world's, which
    a client never gave tools) may call any."""

    @classmethod
    def of(cls, fidelity: str, *, closed_world: bool, created: bool = False) -> Rules:
        """The rules for a request under ``fidelity``, in a closed or open world, about a resource a client
        ``created`` (or not). Every combination of the three switches is here."""
        return _rules(fidelity == "server", closed_world, created)

    @classmethod
    def of_config(cls, config: MockConfig, *, created: bool = False) -> Rules:
        """The rules of a mock configured by ``config`` (its profile; ``agents`` given: a closed world)."""
        return _rules(config.fidelity == "server", config.agents is not None, created)

    def fields(self) -> dict[str, bool]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@cache
def _rules(server: bool, closed: bool, created: bool) -> Rules:
    letta = server or closed or created  # Letta's refusals, wherever the mock follows the real server
    return Rules(
        repr_422=server,
        uniform_path_422=server,
        json_without_content_type=server,
        streaming_options_need_streaming=server,
        sdk_only_streaming=server,
        null_error_fields=server,
        model_required=server,
        reply_as_reasoning=server,
        naive_run_dates=server,
        background_only_resume=server,
        expiring_streams=server,
        packed_summary=server,
        templates_take_literals=server,
        search_needs_turbopuffer=server,
        steps_name_organization=server,
        refuse_empty=server or created,
        approval_names_call=server or created,
        strict_run_ids=server or closed,
        strict_compaction=letta,
        nothing_to_cancel_409=letta,
        no_active_run_400=letta,
        strict_approvals=closed or created,
        unknown_ids_missing=closed,
        known_tools_only=created,
        slow_tools=created,
    )


CONTRACT = Rules.of("contract", closed_world=False)  # the default profile, open world: what the document allows
