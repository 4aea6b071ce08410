"""The conformance session: one fixed sequence of official-SDK calls that touches every operation the mock
serves, run alike against a Letta server and against the mock, so their answers can be compared exchange by
exchange (``compare``). ``letta-mock conformance`` and the ``real_letta`` test tier both run it (this is the one
definition).

Everything it creates is named ``letta-mock-conformance-<hex>`` and deleted at its end, whatever happened. It
uses ``openai-proxy/gpt-4o-mini`` unless told another model; the texts it sends ask for tools by name ("Call the
lookup_weather tool"), which Letta's stub LLM (../shared/real-letta) and the mock's created agents both honour.
Waiting for a run to finish is not recorded (servers differ in how often one must ask), only the answer after it.

The steps, in order (each a row of ``STEPS``; ``letta-mock conformance --list`` prints them):
"""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STEPS", "Session", "Step", "run_session"]

WEATHER = '''def lookup_weather_{tag}(city: str) -> str:
    """Look up the weather of a city.

    Args:
        city: the city to look up

    Returns:
        str: the weather there
    """
    return "Sunny in " + city
'''
DICE = '''def roll_dice_{tag}(num_sides: int) -> str:
    """Roll a die.

    Args:
        num_sides: how many sides the die has

    Returns:
        str: the number rolled
    """
    return "4"
'''
APPROVE = '''def erase_notes_{tag}(topic: str) -> str:
    """Erase the notes on a topic (asks for approval first).

    Args:
        topic: the topic whose notes go

    Returns:
        str: what was erased
    """
    return "erased " + topic
'''
WAIT_S = 60.0


@dataclass
class Session:
    """A session in progress: the SDK client, the ids it made (by name) and what it still has to delete."""

    client: Any  # letta_client.Letta
    prefix: str
    model: str
    embedding: str
    ids: dict[str, str] = field(default_factory=dict)
    ids_at: dict[str, float] = field(default_factory=dict)  # when each was made (time.monotonic())
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, id) still to delete
    recorder: Any = None  # conformance.recorder.Recorder

    @property
    def tag(self) -> str:
        """The hex that makes this session's names its own (tool names are unique on a server)."""
        return self.prefix.rsplit("-", 1)[-1]

    def source(self, template: str) -> str:
        return template.replace("{tag}", self.tag)

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Requests made inside are not recorded (waiting, cleaning up)."""
        step, self.recorder.step = self.recorder.step, None
        try:
            yield
        finally:
            self.recorder.step = step

    def finished(self, run_id: str) -> None:
        """Wait (unrecorded) until the run is no longer created or running."""
        deadline = time.monotonic() + WAIT_S
        with self.quiet():
            while time.monotonic() < deadline:
                if self.client.runs.retrieve(run_id).status not in ("created", "running"):
                    return
                time.sleep(0.1)

    def answer(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, or None when the server answers it with an error status (some servers refuse
        what others allow; the answer is recorded and compared either way)."""
        from letta_client import APIStatusError

        try:
            return call(*args, **kwargs)
        except APIStatusError:
            return None

    def made(self, kind: str, name: str, resource_id: str) -> str:
        self.ids[name] = resource_id
        self.ids_at[name] = time.monotonic()
        self.created.append((kind, resource_id))
        return resource_id

    def gone(self, resource_id: str) -> None:
        self.created = [(kind, i) for kind, i in self.created if i != resource_id]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Session], None]


def _drain(stream: Any) -> list[Any]:
    return list(stream)


# -- the steps -------------------------------------------------------------------------------------------------


def _health(s: Session) -> None:
    s.client.health()


def _tools(s: Session) -> None:
    s.made("tool", "weather", s.client.tools.create(source_code=s.source(WEATHER), tags=[s.prefix]).id)
    s.made("tool", "dice", s.client.tools.upsert(source_code=s.source(DICE), tags=[s.prefix]).id)
    s.made("tool", "approve", s.client.tools.create(source_code=s.source(APPROVE), default_requires_approval=True).id)


def _read_tools(s: Session) -> None:
    s.client.tools.retrieve(s.ids["weather"])
    s.client.tools.list(name=f"lookup_weather_{s.tag}")
    s.client.get("/v1/tools/count", options={"params": {"name": f"lookup_weather_{s.tag}"}}, cast_to=object)
    s.client.tools.update(s.ids["dice"], description="Roll a die with this many sides.")
    s.client.tools.upsert(source_code=s.source(DICE), description="Roll a die (upserted again).")


def _agent(s: Session) -> None:
    agent = s.client.agents.create(
        name=s.prefix, model=s.model, embedding=s.embedding, tool_ids=[s.ids["weather"], s.ids["dice"]],
        memory_blocks=[{"label": "human", "value": "The user is testing."}, {"label": "persona", "value": "Helpful."}],
        tags=[s.prefix],
    )  # fmt: skip
    s.made("agent", "agent", agent.id)


def _read_agent(s: Session) -> None:
    agent = s.ids["agent"]
    s.client.agents.retrieve(agent)
    s.client.agents.retrieve(agent, include=["agent.blocks", "agent.tools", "agent.tags"])
    s.client.agents.list(name=s.prefix)
    s.client.get("/v1/agents/count", options={"params": {"name": s.prefix}}, cast_to=object)
    s.client.agents.update(agent, description="An agent of letta-mock's conformance session.")


def _agent_tools(s: Session) -> None:
    agent = s.ids["agent"]
    s.client.agents.tools.list(agent)
    s.client.agents.tools.attach(s.ids["approve"], agent_id=agent)
    s.client.agents.tools.detach(s.ids["dice"], agent_id=agent)
    s.client.agents.tools.list(agent)


def _blocks(s: Session) -> None:
    s.client.agents.blocks.retrieve("human", agent_id=s.ids["agent"])
    s.client.agents.blocks.update("human", agent_id=s.ids["agent"], value="The user is running a session.")


def _send(s: Session) -> None:
    agent = s.ids["agent"]
    response = s.client.agents.messages.create(agent, input="hello there")
    s.ids["message"] = response.messages[-1].id
    _drain(s.client.agents.messages.create(agent, input="hello again", streaming=True))
    _drain(s.client.agents.messages.create(agent, input="and once more", streaming=True, stream_tokens=True))


def _send_tools(s: Session) -> None:
    agent = s.ids["agent"]
    asking = f"Call the lookup_weather_{s.tag} tool for"
    s.client.agents.messages.create(agent, input=f"{asking} Paris")
    _drain(s.client.agents.messages.create(agent, input=f"{asking} Rome", streaming=True))
    with warnings.catch_warnings():  # the SDK warns that the route is deprecated; it is still Letta's
        warnings.simplefilter("ignore", DeprecationWarning)
        _drain(s.client.agents.messages.stream(agent, input="hello by the deprecated route"))


def _history(s: Session) -> None:
    agent = s.ids["agent"]
    s.client.agents.messages.list(agent)
    s.client.agents.messages.list(agent, order="asc", limit=3)
    s.client.messages.retrieve(s.ids["message"])
    s.answer(s.client.messages.search, query="Paris", agent_id=agent)
    # Within the second its system message was compiled in, Letta shows the stored message, later a new one: the
    # session reads the window later, on a fast server too.
    time.sleep(max(0.0, s.ids_at["agent"] + 1.1 - time.monotonic()))
    s.client.get(f"/v1/agents/{agent}/context", cast_to=object)


def _run(s: Session) -> None:
    run = s.client.agents.messages.create_async(s.ids["agent"], input="hello in the background")
    s.ids["async_run"] = run.id
    s.finished(run.id)
    s.client.runs.retrieve(run.id)
    s.client.runs.messages.list(run.id)
    s.client.runs.usage.retrieve(run.id)
    s.client.runs.steps.list(run.id)
    s.client.runs.list(agent_id=s.ids["agent"])
    s.client.get("/v1/runs/active", options={"params": {"agent_id": s.ids["agent"]}}, cast_to=object)


def _resume(s: Session) -> None:
    events = _drain(s.client.agents.messages.create(s.ids["agent"], input="hello", streaming=True, background=True))
    run_id = next(e.run_id for e in events if getattr(e, "run_id", None))
    _drain(s.client.runs.messages.stream(run_id, starting_after=2))


def _cancel(s: Session) -> None:
    s.answer(s.client.agents.messages.cancel, s.ids["agent"])


def _approval(s: Session) -> None:
    agent = s.ids["agent"]
    asking = f"Call the erase_notes_{s.tag} tool"
    call = _approval_request(s.client.agents.messages.create(agent, input=asking))
    s.client.agents.messages.list(agent, limit=4)
    s.client.agents.retrieve(agent)
    s.client.agents.messages.create(agent, messages=[_decision(call, approve=True)])
    s.client.agents.messages.list(agent, limit=4)
    call = _approval_request(s.client.agents.messages.create(agent, input=asking))
    s.client.agents.messages.create(agent, messages=[_decision(call, approve=False, reason="Not today.")])
    s.client.agents.messages.list(agent, limit=6)
    s.client.get(f"/v1/agents/{agent}/context", cast_to=object)


def _approval_request(response: Any) -> str:
    """The tool call id of the approval request in a send's answer."""
    request = next(m for m in response.messages if m.message_type == "approval_request_message")
    return str(request.tool_call.tool_call_id)


def _decision(call_id: str, *, approve: bool, reason: str | None = None) -> dict[str, Any]:
    decision: dict[str, Any] = {"type": "approval", "approve": approve, "tool_call_id": call_id}
    if reason is not None:
        decision["reason"] = reason
    return {"type": "approval", "approvals": [decision]}


def _compact(s: Session) -> None:
    agent = s.ids["agent"]
    s.answer(s.client.agents.messages.compact, agent)
    s.client.agents.messages.list(agent, limit=3)
    s.client.agents.messages.reset(agent)
    s.client.agents.messages.list(agent, limit=3)
    s.client.agents.retrieve(agent)
    s.answer(s.client.agents.messages.compact, agent)


def _conversation(s: Session) -> None:
    agent = s.ids["agent"]
    conversation = s.client.conversations.create(agent_id=agent, summary=s.prefix)
    s.made("conversation", "conversation", conversation.id)
    _drain(s.client.conversations.messages.create(conversation.id, input="hello in a conversation"))
    s.client.conversations.messages.list(conversation.id)
    s.client.messages.list(conversation_id=conversation.id)
    _drain(s.client.conversations.messages.create(conversation.id, input="hello later", background=True))
    s.answer(lambda: _drain(s.client.conversations.messages.stream(conversation.id, starting_after=1)))
    s.answer(s.client.conversations.messages.compact, conversation.id)


def _conversations(s: Session) -> None:
    conversation = s.ids["conversation"]
    s.client.conversations.list(agent_id=s.ids["agent"])
    s.client.conversations.retrieve(conversation)
    s.client.conversations.update(conversation, summary="A conversation of letta-mock's conformance session.")
    fork = s.client.conversations.fork(conversation)
    s.made("conversation", "fork", fork.id)
    s.answer(s.client.conversations.cancel, conversation)
    s.client.conversations.recompile(conversation)
    s.client.conversations.delete(fork.id)
    s.gone(fork.id)


def _edit_message(s: Session) -> None:
    path = f"/v1/agents/{s.ids['agent']}/messages/{s.ids['message']}"
    s.answer(s.client.patch, path, body={"content": "edited"}, cast_to=object)


def _delete(s: Session) -> None:
    s.answer(s.client.delete, f"/v1/runs/{s.ids['async_run']}", cast_to=object)
    s.client.conversations.delete(s.ids["conversation"])
    s.gone(s.ids["conversation"])
    s.client.agents.delete(s.ids["agent"])
    s.gone(s.ids["agent"])
    s.answer(s.client.agents.retrieve, s.ids["agent"])


def _delete_tools(s: Session) -> None:
    for name in ("weather", "dice", "approve"):
        s.client.tools.delete(s.ids[name])
        s.gone(s.ids[name])
    s.answer(s.client.tools.retrieve, s.ids["weather"])


STEPS: tuple[Step, ...] = (
    Step("health", _health),
    Step("create tools (from source, upsert, one needing approval)", _tools),
    Step("read and change tools", _read_tools),
    Step("create an agent with two tools and two memory blocks", _agent),
    Step("read, list, count and change the agent", _read_agent),
    Step("list, attach and detach the agent's tools", _agent_tools),
    Step("read and change a memory block", _blocks),
    Step("send: JSON, a stream, a token stream", _send),
    Step("send turns that call a tool (JSON, stream, the deprecated stream route)", _send_tools),
    Step("list history; one message; search; the context window", _history),
    Step("an async run: its status, messages, usage, steps; the agent's runs", _run),
    Step("a background stream, resumed after its second event", _resume),
    Step("cancel with nothing running", _cancel),
    Step("tool calls waiting for approval: history while pending, approved, denied; the context window", _approval),
    Step("compact, reset, compact again; history after each", _compact),
    Step("a conversation: send, list, background and resume, compact", _conversation),
    Step("list, read, change, fork, cancel and recompile conversations", _conversations),
    Step("edit a message (Letta refuses)", _edit_message),
    Step("delete a run, the conversation and the agent; read the deleted agent", _delete),
    Step("delete the tools; read a deleted tool", _delete_tools),
)
__doc__ = (__doc__ or "") + "\n".join(f"{i:>3}. {step.name}" for i, step in enumerate(STEPS, 1)) + "\n"


@dataclass
class Outcome:
    """How a step ended: ``ok``, or the error that stopped it (an SDK error after an error answer is expected of
    some steps; the answers themselves are compared)."""

    step: str
    error: str | None = None


def run_session(client: Any, recorder: Any, *, model: str, embedding: str) -> list[Outcome]:
    """Run every step with ``client`` (an official ``letta_client.Letta`` whose transport is ``recorder``); each
    step runs whatever became of the ones before. What it created is deleted at the end."""
    session = Session(client, f"letta-mock-conformance-{uuid.uuid4().hex[:8]}", model, embedding, recorder=recorder)
    outcomes = []
    try:
        for step in STEPS:
            recorder.step = step.name
            try:
                step.run(session)
                outcomes.append(Outcome(step.name))
            except Exception as error:  # the step's error is reported; the session goes on
                outcomes.append(Outcome(step.name, f"{type(error).__name__}: {error}"[:300]))
            finally:
                recorder.step = None
    finally:
        _clean_up(session)
    return outcomes


def _clean_up(session: Session) -> None:
    deleters = {"agent": session.client.agents.delete, "tool": session.client.tools.delete,
                "conversation": session.client.conversations.delete}  # fmt: skip
    for kind, resource_id in reversed(session.created):
        try:
            deleters[kind](resource_id)
        except Exception:  # best effort: it may be gone with its agent
            pass
