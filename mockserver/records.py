"""The records the store keeps: agents, conversations, stored messages, pending approvals, runs with their logs.

Plain data. Other modules read them; only ``Store`` methods change them (see ``store``).

A *stored message* is Letta's database row; listing expands it into one or more LettaMessage *items* that share
its id (a step's reasoning, assistant text and tool calls are one stored message).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from mockserver.catalogue import MODEL_ENDPOINTS, Reasoning, model_family
from mockserver.models import (
    ApprovalRequestMessage,
    Block,
    LettaMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    Message,
    Run,
    Step,
    StopReasonType,
    ToolCall,
)
from mockserver.models._base import trusted
from mockserver.models.messages import message_adapter
from mockserver.prompts import DEFAULT_SYSTEM_PROMPT
from mockserver.scenarios import PlannedCall, TurnPlan

__all__ = [
    "SPENT",
    "AgentProfile",
    "AgentRecord",
    "ConversationRecord",
    "KeepAlive",
    "PendingApproval",
    "RunRecord",
    "StepRecord",
    "StoredMessage",
    "freeze",
    "shared",
    "item_json",
    "read_log",
    "split",
    "thaw",
]


@dataclass(eq=False, slots=True, init=False, repr=False)
class StoredMessage:
    """One stored message as kept: its items' JSON joined by commas (made once, when it is stored: what a listing
    joins, with no work per item) and the few fields the indexes and filters read. ``json`` gives each item's JSON;
    ``items`` rebuilds the items when a reader needs objects (retrieve, search, compaction, a run's outcome): three
    items kept as objects cost ~2 KB a stored message, and nothing on a listing's path reads one."""

    id: str
    seq: int  # global insertion order: the cursor order (it only grows, so every history is sorted by it)
    agent_id: str
    conversation_id: str | None
    run_id: str | None
    created_at: datetime
    chunk: bytes | Sequence[bytes]  # its items' JSON joined by commas, or once old packed (``store.messages``)
    ends: tuple[int, ...]  # where each item but the last ends in the chunk (its comma): () for one, or once packed
    types: tuple[str, ...]  # each item's message_type

    def __init__(self, id: str, seq: int, agent_id: str, conversation_id: str | None, run_id: str | None,
                 created_at: datetime, items: Sequence[Message]) -> None:  # fmt: skip
        self.id = id
        self.seq = seq
        self.agent_id = agent_id
        self.conversation_id = conversation_id
        self.run_id = run_id
        self.created_at = created_at
        self.chunk, self.ends, self.types = item_json(items)

    @property
    def json(self) -> Sequence[bytes]:
        """Each item's JSON (a tuple; a packed message's packed form, which unpacks when read)."""
        chunk = self.chunk
        return split(chunk, self.ends, len(self.types)) if isinstance(chunk, bytes) else chunk

    @property
    def items(self) -> list[Message]:
        """The items, rebuilt from their JSON: objects that serialise to the very bytes kept (tested)."""
        return [message_adapter.validate_json(data) for data in self.json]

    def __repr__(self) -> str:
        return f"StoredMessage({self.id!r}, seq={self.seq}, types={self.types!r})"


_TYPES: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per combination of item types, shared


def item_json(items: Sequence[Message]) -> tuple[bytes, tuple[int, ...], tuple[str, ...]]:
    """The items' JSON joined by commas, where each but the last ends (``split``), and their ``message_type``s."""
    kinds = tuple(item.message_type for item in items)
    types = _TYPES.setdefault(kinds, kinds)
    json = [item.__pydantic_serializer__.to_json(item) for item in items]
    if len(json) == 1:  # the most common stored message
        return json[0], (), types
    ends = tuple(accumulate((1 + len(data) for data in json[:-1]), initial=-1))[1:]  # each comma, from -1 on
    return b",".join(json), ends, types


def split(chunk: bytes, ends: tuple[int, ...], count: int) -> tuple[bytes, ...]:
    """Each of the ``count`` items' JSON in ``chunk`` (``item_json``): a lone item is the chunk itself."""
    if not ends:
        return (chunk,) if count else ()
    starts = (0, *(end + 1 for end in ends))
    return tuple(chunk[start:end] for start, end in zip(starts, (*ends, len(chunk)), strict=True))


Model = TypeVar("Model", bound=BaseModel)
Value = TypeVar("Value")

_SHARED: dict[Any, Any] = {}  # values many kept objects hold alike (a run's metadata, its request config): one each
_SHARED_AT_MOST = 4096  # distinct values shared; beyond, a value is kept as it is


_SCALARS = frozenset({str, int, float, bool, type(None)})
_AS_IS = _SCALARS | {datetime, list}  # what ``_shared`` gives back as it is, told without calling it


def _key(value: Any) -> Any:
    """A hashable key that equal values, and only values serialised alike, share: each scalar with its type (True is
    not 1, 1 is not 1.0), a list apart from a tuple. Raises TypeError for what it cannot tell apart so cheaply."""
    kind = value.__class__
    if kind in _SCALARS:
        return kind, value
    if kind is dict:
        return kind, tuple((name, _key(item)) for name, item in value.items())
    if kind is list or kind is tuple:
        return kind, tuple(_key(item) for item in value)
    if isinstance(value, BaseModel) and not value.__pydantic_extra__ and not value.__pydantic_private__:
        return kind, _key(value.__dict__)
    raise TypeError(kind)


_SHARED_IDS: set[int] = set()  # ids of the shared values (alive as long as the process: an id is never reused)


def shared(key: Hashable, make: Callable[[], Value]) -> Value:
    """One value for every object that would hold an equal one (a run's metadata, its request config), made once
    by ``make``: ``freeze`` keeps it as it is, at no cost. Nothing changes a shared value in place (the store
    replaces a run's fields, never mutates them; ``thaw`` gives copies)."""
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= _SHARED_AT_MOST:
            return make()
        found = _SHARED[key] = make()
        _SHARED_IDS.add(id(found))
    return cast("Value", found)


def _shared(value: Any) -> Any:
    if value.__class__ in _SCALARS or id(value) in _SHARED_IDS:
        return value
    if (value.__class__ is dict or isinstance(value, BaseModel)) and len(_SHARED) < _SHARED_AT_MOST:
        try:
            key = _key(value)
        except TypeError:
            return value  # kept as it is
        return shared(key, lambda: copy.deepcopy(value))  # its own copy: nothing else holds it
    return value


_NAMES: dict[type[BaseModel], tuple[str, ...]] = {}


def _names(model: type[BaseModel]) -> tuple[str, ...]:
    """A model's field names in order (asking pydantic each time costs more than the rest of ``freeze``)."""
    names = _NAMES.get(model)
    if names is None:
        names = _NAMES[model] = tuple(model.model_fields)
    return names


def freeze(obj: BaseModel, *, share: bool = False) -> tuple[Any, ...]:
    """A wire object kept as its field values in order (``thaw`` makes it again): a tuple instead of the object
    and its dictionary. Dicts and models many objects hold alike are kept once; ``share``: the tuple too (a stop
    reason: a handful of distinct values)."""
    fields = obj.__dict__
    as_is = _AS_IS
    values = tuple(
        [value if value.__class__ in as_is else _shared(value) for value in map(fields.__getitem__, _names(type(obj)))]
    )
    if share and len(_SHARED) < _SHARED_AT_MOST:
        try:
            key = (type(obj), _key(values))
        except TypeError:
            return values
        return cast("tuple[Any, ...]", _SHARED.setdefault(key, values))
    return values


def thaw(model: type[Model], values: tuple[Any, ...]) -> Model:
    """The object ``freeze`` kept: equal to it, serialised to the same bytes (tested). A dict is given as a copy of
    its own; a model is given as it is kept, shared as ``shared`` shares it with the live objects (nothing changes
    a field's model in place). ~3 us: a listing of old runs reads many."""
    fields = dict(zip(_names(model), values, strict=True))
    for name, value in fields.items():
        if value.__class__ is dict:
            fields[name] = dict(value)
    return trusted(model, **fields)


@dataclass
class PendingApproval:
    """Tool calls the agent is waiting on (for a decision, or for a client tool's result)."""

    request: ApprovalRequestMessage
    calls: list[ToolCall]
    run_id: str
    planned: dict[str, PlannedCall] = field(default_factory=dict)  # by tool_call_id: what an approved call returns
    continuation: TurnPlan | None = None  # the turn's steps after these calls, taken once the client answers


@dataclass(slots=True)
class KeepAlive:
    """A keep-alive ping in a run's log. Unlike every other chunk it takes no ``seq_id`` of its own: it carries
    the last one (wire doc §6.4), and a resumed stream skips those sent before its ``starting_after``.

    An open stream logs one every interval for as long as its turn thinks, so the log keeps the ping's id and
    date (~0.2 KB) and its reader gets the ``LettaPing`` made of them (~0.8 KB, were it kept)."""

    id: str | None  # None once spent
    date: datetime | None = None
    run_id: str | None = None

    @property
    def ping(self) -> LettaPing | None:
        if self.id is None or self.date is None:
            return None
        return LettaPing(id=self.id, date=self.date, run_id=self.run_id)


SPENT = KeepAlive(None)


@dataclass
class AgentProfile:
    """How an agent is configured: what ``agents.create`` and ``agents.update`` set, and what shapes its turns."""

    name: str = "mock-agent"
    model: str = "letta-mock/mock-1"  # the model handle
    embedding: str | None = None
    agent_type: str = "letta_v1_agent"
    system: str = DEFAULT_SYSTEM_PROMPT
    blocks: list[Block] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    metadata: dict[str, Any] | None = None
    tool_rules: list[dict[str, Any]] = field(default_factory=list)
    response_format: dict[str, Any] | None = None
    model_settings: dict[str, Any] | None = None
    compaction_settings: dict[str, Any] | None = None
    context_window: int | None = None  # None: the model's
    max_tokens: int | None = None
    reasoning: bool | None = None  # None: as the model does
    message_buffer_autoclear: bool = False
    enable_sleeptime: bool | None = None
    timezone: str = "UTC"
    hidden: bool | None = None

    @property
    def reasons(self) -> Reasoning:
        """How its turns reason: as its model does, unless ``reasoning`` was set on the agent (§2.3, §6.3)."""
        family = model_family(self.model).reasoning
        if self.reasoning is None:
            return family
        return ("visible" if family == "none" else family) if self.reasoning else "none"

    @property
    def response_schema(self) -> dict[str, Any] | None:
        """The JSON schema its replies must follow (``response_format`` of type ``json_schema``), if any."""
        for given in (self.response_format, (self.model_settings or {}).get("response_format")):
            if isinstance(given, dict) and given.get("type") == "json_schema":
                schema = given.get("json_schema")
                if isinstance(schema, dict):
                    # OpenAI's form wraps the schema: {"name": ..., "schema": {...}, "strict": ...}.
                    inner = schema.get("schema")
                    return inner if isinstance(inner, dict) else schema
        return None


@dataclass
class AgentRecord:
    id: str
    created_at: datetime
    system_message_id: str
    profile: AgentProfile = field(default_factory=AgentProfile)
    created: bool = False  # a client created it: Letta's own rules apply to it (refusals, 404 once deleted)
    updated_at: datetime | None = None
    messages: list[StoredMessage] = field(default_factory=list)  # its whole history, in seq order
    # Its history per conversation (None: the default one), in seq order: what a listing filtered by
    # conversation pages over without looking at the rest.
    by_conversation: dict[str | None, list[StoredMessage]] = field(default_factory=dict)
    item_count: int = 0  # items of all its stored messages (what its prompt size is counted from)
    system_count: int = 0  # its stored system messages (the agent's and its conversations')
    in_context: list[str] = field(default_factory=list)  # stored ids in the context window, system first
    summary: str | None = None
    pending: PendingApproval | None = None
    last_run_id: str | None = None
    last_stop_reason: StopReasonType | None = None


@dataclass
class ConversationRecord:
    id: str
    agent_id: str
    created_at: datetime
    created: bool = False  # a client created it (else the open world made it up from its id)
    updated_at: datetime | None = None
    summary: str | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None
    last_message_at: datetime | None = None
    in_context: list[str] = field(default_factory=list)  # stored ids in its context window, system first
    # A fork's messages of the conversation it was forked from (in seq order, all older than the fork).
    shared: list[StoredMessage] = field(default_factory=list)
    compacted: str | None = None  # the summary its context was last compacted into


_RUN_FIELDS = {name: index for index, name in enumerate(Run.model_fields)}  # a frozen run's values, in this order
OVER = asyncio.Event()  # what a finished run's readers would wait on: set, so nobody waits
OVER.set()
_LAST_THAWED: list[tuple[tuple[Any, ...], Run] | None] = [None]  # the frozen run read last, made again


def read_log(events: Iterable[Any]) -> tuple[list[LettaMessage], LettaStopReason | None, LettaUsageStatistics | None]:
    """A run's log read once: its messages (keep-alive pings aside), its first stop reason and its first usage (a
    non-streaming answer, ``runs.collect``, and what a dropped log keeps, ``store.runs``, read it alike)."""
    messages: list[LettaMessage] = []
    stop: LettaStopReason | None = None
    usage: LettaUsageStatistics | None = None
    for event in events:
        if isinstance(event, LettaMessage):
            if not isinstance(event, LettaPing):
                messages.append(event)
        elif isinstance(event, LettaStopReason):
            stop = event if stop is None else stop
        elif isinstance(event, LettaUsageStatistics):
            usage = event if usage is None else usage
    return messages, stop, usage


@dataclass(eq=False, slots=True)  # one per turn, kept: slots save its attribute dict
class RunRecord:
    """A run and the log of every stream chunk it produced, so any reader can replay or follow it."""

    live: Run | None  # the run as an object while it is recent; None once it is kept ``frozen``
    # Stream events in order ("[DONE]" is the string); beyond the bound on logs kept, its outcome (``store.runs``).
    events: Sequence[Any] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)  # stored messages of this run, in seq order
    steps: list[StepRecord] = field(default_factory=list)  # one per LLM call
    finished: bool = False
    cancel_requested: bool = False
    task: asyncio.Future[Any] | None = None  # the turn producing a paced stream, kept referenced
    readers: int = 0  # live SSE readers: keep-alive pings are only made for someone waiting
    input_otids: tuple[str, ...] = ()  # otids the client gave its messages: a retry with the same ones re-attaches
    # The Event readers wait on (``changed``): made by the first reader to wait, set and let go by the next write.
    waiting: asyncio.Event | None = None
    number: int = 0  # the order runs were kept in (``Store.runs``'s order), for the active-runs index
    log_dropped: bool = False  # its log was dropped, beyond the bound on finished runs' logs (``Store.log_bound``)

    frozen: tuple[Any, ...] | None = None  # the run's values (``freeze``) once its log was dropped: ~0.5 KB less

    @property
    def run(self) -> Run:
        """The run (a long finished one is made again from its values: change it only through the store)."""
        live = self.live
        if live is not None:
            return live
        frozen = self.frozen
        assert frozen is not None
        last = _LAST_THAWED[0]
        if last is not None and last[0] is frozen:  # a listing's filters read one run's fields one after another
            return last[1]
        run = thaw(Run, frozen)
        _LAST_THAWED[0] = (frozen, run)  # holds the tuple: its id is not reused while it is the key
        return run

    def value(self, name: str) -> Any:
        """One field of the run (a scalar: an id, its status, stop reason, background...), read from its values
        when it is frozen without making it again: a listing's filters pass over many old runs."""
        live = self.live
        if live is not None:
            return getattr(live, name)
        assert self.frozen is not None
        return self.frozen[_RUN_FIELDS[name]]

    @property
    def changed(self) -> asyncio.Event:
        """What a reader waits on for the log's next change: take it before reading the log, then wait on it. A
        write sets it (``store.runs``) only if a reader took one: most runs are never waited on (a non-streaming
        send's 6 writes made 6 Events). A finished run's is always set: nothing more will come."""
        if self.finished:
            return OVER
        waiting = self.waiting
        if waiting is None:
            waiting = self.waiting = asyncio.Event()
        return waiting

    @property
    def active(self) -> bool:
        return self.value("status") in ("created", "running")


@dataclass(eq=False, slots=True)
class StepRecord:
    """One LLM call of a run as kept: what varies from step to step. ``GET /v1/runs/{id}/steps`` sees it as Letta's
    ``Step`` (``model``), built when read: a ``Step`` kept per turn cost ~0.9 KB (its 30 fields' dictionary)."""

    id: str
    run_id: str
    agent_id: str
    model_handle: str  # the agent's model then
    context_window_limit: int
    prompt_tokens: int
    completion_tokens: int
    stop_reason: StopReasonType | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def model(self) -> Step:
        family = model_family(self.model_handle)
        provider, _, model = self.model_handle.partition("/")
        return trusted(
            Step, id=self.id, run_id=self.run_id, agent_id=self.agent_id,
            provider_name=provider or None, provider_category="base", model=model or self.model_handle,
            model_handle=self.model_handle, model_endpoint=MODEL_ENDPOINTS.get(family.endpoint_type),
            context_window_limit=self.context_window_limit, prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens, total_tokens=self.total_tokens,
            completion_tokens_details={"reasoning_tokens": 0},
            prompt_tokens_details={"cached_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0},
            status="success", stop_reason=self.stop_reason,
        )  # fmt: skip
