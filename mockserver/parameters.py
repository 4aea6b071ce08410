"""The parameters of Letta's operations as records: name, where it goes, its default, bounds and choices — what our
OpenAPI document says of it (``document``) and how a handler reads it (``read``), from the one record.

An operation row (``operations.OPERATIONS``) names its parameters by key: the name, or ``name@variant`` where the
same name means another thing elsewhere (``limit@50``: the page size of a resource listing). A handler reads the
record itself (``LIMIT_50.read(request)``), so the default it applies is the one the document states. Reading is
FastAPI's: an absent parameter is the default, a present one is parsed strictly or refused with a 422 naming it.
Handlers read query and path parameters only here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from mockserver.catalogue import INT64_MAX
from mockserver.errors import RequestInvalid
from mockserver.http import rules
from mockserver.models import (
    AGENT_ID_PATTERN,
    CONV_ID_PATTERN,
    CONVERSATION_ID_PATTERN,
    MESSAGE_ID_PATTERN,
    MESSAGE_TYPES,
    TOOL_ID_PATTERN,
)

__all__ = [
    "PARAMETERS",
    "Choice",
    "Flag",
    "Integer",
    "MessageTypes",
    "Parameter",
    "Path",
    "PathId",
    "RequiredText",
    "Strings",
    "Text",
    "path_id",
]

JsonSchema = dict[str, Any]
_REF = "#/components/schemas/{}"
_UUID = "123e4567-e89b-42d3-8456-426614174000"


def _query(request: Request) -> QueryParams:
    """The request's query parameters, parsed once per distinct query string (a client repeats its own: the same
    page polled, ``limit=10``), as Starlette parses them; immutable, so shared."""
    return _parsed_query(request.scope.get("query_string", b""))


@lru_cache(maxsize=1024)
def _parsed_query(raw: bytes) -> QueryParams:
    return QueryParams(raw)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    name: str
    description: str
    variant: str | None = None  # its key is name@variant: the same name means another thing elsewhere
    where: str = "query"
    required: bool = False
    deprecated: bool = False
    repeated: bool = False  # ?x=a&x=b (OpenAPI's form style, exploded)

    @property
    def key(self) -> str:
        return self.name if self.variant is None else f"{self.name}@{self.variant}"

    def schema(self) -> JsonSchema:
        return {"type": "string"}

    def document(self) -> JsonSchema:
        """The parameter as our OpenAPI document describes it."""
        out: JsonSchema = {"name": self.name, "in": self.where, "required": self.required,
                           "description": self.description, "schema": self.schema()}  # fmt: skip
        if self.repeated:
            out.update(style="form", explode=True)
        if self.deprecated:
            out["deprecated"] = True
        return out

    def _invalid(self, message: str, kind: str, *index: int) -> RequestInvalid:
        return RequestInvalid.single([self.where, self.name, *index], message, kind)


@dataclass(frozen=True, kw_only=True)
class Text(Parameter):
    default: str | None = None
    component: str | None = None  # a value of one of Letta's named enums (not checked: Letta's filters take any)

    def schema(self) -> JsonSchema:
        if self.component is not None:
            return {"$ref": _REF.format(self.component)}
        return {"type": "string"} if self.default is None else {"type": "string", "default": self.default}

    def read(self, request: Request) -> str | None:
        return _query(request).get(self.name) if self.where == "query" else request.headers.get(self.name)


@dataclass(frozen=True, kw_only=True)
class RequiredText(Text):
    required: bool = True

    def read(self, request: Request) -> str:
        value = super().read(request)
        if value is None:
            raise self._invalid("Field required", "missing")
        return value


@dataclass(frozen=True, kw_only=True)
class Strings(Parameter):
    """A repeated parameter of strings; ``choices`` and a ``default`` only documented (Letta accepts any)."""

    repeated: bool = True
    choices: tuple[str, ...] | None = None
    default: tuple[str, ...] | None = None

    def schema(self) -> JsonSchema:
        items: JsonSchema = {"type": "string"}
        if self.choices is not None:
            items["enum"] = list(self.choices)
        out: JsonSchema = {"type": "array", "items": items}
        return out if self.default is None else {**out, "default": list(self.default)}

    def read(self, request: Request) -> list[str]:
        return _query(request).getlist(self.name)


@dataclass(frozen=True, kw_only=True)
class MessageTypes(Parameter):
    """A repeated parameter of message types (``include_return_message_types``); None when absent."""

    repeated: bool = True

    def schema(self) -> JsonSchema:
        return {"type": "array", "items": {"$ref": _REF.format("MessageType")}}

    def read(self, request: Request) -> list[str] | None:
        values = _query(request).getlist(self.name)
        if not values:
            return None
        for index, value in enumerate(values):
            if value not in MESSAGE_TYPES:
                expected = ", ".join(f"'{t}'" for t in MESSAGE_TYPES)
                raise self._invalid(f"Input should be {expected}", "enum", index)
        return values


@dataclass(frozen=True, kw_only=True)
class Flag(Parameter):
    default: bool | None = None

    def schema(self) -> JsonSchema:
        return {"type": "boolean"} if self.default is None else {"type": "boolean", "default": self.default}

    def read(self, request: Request) -> bool | None:
        raw = _query(request).get(self.name)
        if raw is None:
            return self.default
        lowered = raw.lower()
        if lowered in {"true", "1", "yes", "on", "t", "y"}:
            return True
        if lowered in {"false", "0", "no", "off", "f", "n"}:
            return False
        raise self._invalid("Input should be a valid boolean, unable to interpret input", "bool_parsing")


_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,4000}\s*")


@dataclass(frozen=True, kw_only=True)
class Integer(Parameter):
    """An integer, bounded: the real server answers 500 to a negative ``limit`` or one beyond a 64-bit integer (its
    database refuses them), so the mock refuses them as a 422 naming the parameter."""

    default: int
    minimum: int = 0
    maximum: int = INT64_MAX

    def schema(self) -> JsonSchema:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum, "default": self.default}

    def read(self, request: Request) -> int:
        raw = _query(request).get(self.name)
        if raw is None:
            return self.default
        if not _INTEGER.fullmatch(raw):  # int() would also take "1_000" and other scripts' digits
            raise self._invalid("Input should be a valid integer, unable to parse string as an integer", "int_parsing")
        value = int(raw)
        if value < self.minimum:
            raise self._invalid(f"Input should be greater than or equal to {self.minimum}", "greater_than_equal")
        if value > self.maximum:
            raise self._invalid(f"Input should be less than or equal to {self.maximum}", "less_than_equal")
        return value


@dataclass(frozen=True, kw_only=True)
class Choice(Parameter):
    choices: tuple[str, ...]
    default: str

    def schema(self) -> JsonSchema:
        if len(self.choices) == 1:
            return {"type": "string", "const": self.choices[0], "default": self.default}
        return {"type": "string", "enum": list(self.choices), "default": self.default}

    def read(self, request: Request) -> str:
        raw = _query(request).get(self.name)
        if raw is None:
            return self.default
        if raw not in self.choices:
            expected = " or ".join(f"'{c}'" for c in self.choices)
            raise self._invalid(f"Input should be {expected}", "literal_error")
        return raw


@dataclass(frozen=True, kw_only=True)
class Path(Parameter):
    where: str = "path"
    required: bool = True
    examples: tuple[str, ...] = ()

    def schema(self) -> JsonSchema:
        return {"type": "string", "examples": list(self.examples)} if self.examples else {"type": "string"}

    def read(self, request: Request) -> str:
        value: str = request.path_params[self.name]
        return value


@dataclass(frozen=True, kw_only=True)
class PathId(Path):
    """A path id the document constrains: its pattern and length, the prefix FastAPI's error names, and its form
    in words (said after pydantic's message in the contract profile: a newcomer who sends "agent-1" learns the
    form, not only a length)."""

    pattern: str
    shortest: int
    longest: int
    prefix: str
    form: str

    def schema(self) -> JsonSchema:
        return {"type": "string", "minLength": self.shortest, "maxLength": self.longest, "pattern": self.pattern,
                "examples": list(self.examples)}  # fmt: skip

    @cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)  # not re.match's cache lookup on every request

    def read(self, request: Request) -> str:
        """The id, checked against the pattern as FastAPI checks it."""
        value: str = request.path_params[self.name]
        if self.shortest <= len(value) <= self.longest and self._compiled.match(value):
            return value
        if rules(request).uniform_path_422:
            # The real server rewrites every path-id error to one pattern message and adds an example (§15.2).
            message = f"String should match pattern '{self.prefix}-{{uuid4}}'"
            error = {"type": "string_pattern_mismatch", "loc": ["path", self.name], "msg": message, "input": value,
                     "ctx": {"pattern": self.pattern}}  # fmt: skip
            example = f"{'conv' if self.prefix == 'conversation' else self.prefix}-{_UUID}"
            raise RequestInvalid([error], examples=[example])
        if len(value) < self.shortest:
            raise self._invalid(f"String should have at least {self.shortest} characters: {self.form}",
                                "string_too_short")  # fmt: skip
        if len(value) > self.longest:
            raise self._invalid(f"String should have at most {self.longest} characters: {self.form}",
                                "string_too_long")  # fmt: skip
        raise self._invalid(f"String should match pattern '{self.pattern}': {self.form}", "string_pattern_mismatch")


def _id(name: str, what: str, pattern: str, shortest: int, longest: int, prefix: str, *examples: str,
        variant: str | None = None, description: str | None = None, forms: str | None = None) -> PathId:  # fmt: skip
    text = description or f"The {what} id, `{examples[0]}`."
    # What the id looks like, in words: "an agent id is agent-<uuid4> in lower case, e.g. agent-123e…".
    form = f"{'an' if what[0] in 'aeiou' else 'a'} {what} id is {forms or prefix + '-<uuid4>'} in lower case, " \
           f"e.g. {examples[0]}"  # fmt: skip
    return PathId(name=name, description=text, variant=variant, pattern=pattern, shortest=shortest, longest=longest,
                  prefix=prefix, form=form, examples=examples)  # fmt: skip


def _limit(default: int, what: str, variant: str | None = None) -> Integer:
    # Bounded where Letta's document is not: its server answers 500 beyond these (a database error).
    return Integer(name="limit", description=f"How many {what} the page holds at most.", default=default,
                   variant=variant)  # fmt: skip


def _order(default: str, what: str = "the history the page is taken from", variant: str | None = None) -> Choice:
    return Choice(name="order", description=f"Which end of {what}: `desc` the newest first, `asc` the oldest.",
                  choices=("asc", "desc"), default=default, variant=variant)  # fmt: skip


def _cursor(name: str, what: str) -> Text:
    side = "before" if name == "before" else "after"
    return Text(name=name, description=f"A {what} id; the page holds those {side} it, in the chosen order.",
                variant=what + "s")  # fmt: skip


_CURSOR = "A message id; the page holds the messages {} it, in the chosen order."
_ACCEPTED = "Deprecated; accepted."
_INCLUDES = ("agent.blocks", "agent.identities", "agent.managed_group", "agent.pending_approval", "agent.secrets",
             "agent.sources", "agent.tags", "agent.tools")  # fmt: skip

# -- path -----------------------------------------------------------------------------------------------------------
AGENT_ID = _id("agent_id", "agent", AGENT_ID_PATTERN, 42, 42, "agent", f"agent-{_UUID}")
CONVERSATION_ID = _id(
    "conversation_id", "conversation", CONVERSATION_ID_PATTERN, 1, 42, "conversation", f"conv-{_UUID}", "default",
    f"agent-{_UUID}", description="`conv-<uuid4>`, `default` (the agent's default conversation, agent named by "
    "`agent_id`) or, deprecated, an agent id standing for that agent's default conversation.",
    forms="default, conv-<uuid4> or agent-<uuid4>",
)  # fmt: skip
CONV_ID = _id("conversation_id", "conversation", CONV_ID_PATTERN, 41, 41, "conv", f"conv-{_UUID}", variant="conv",
              forms="conv-<uuid4> here")  # fmt: skip
MESSAGE_ID = _id("message_id", "message", MESSAGE_ID_PATTERN, 44, 44, "message", f"message-{_UUID}")
TOOL_ID = _id("tool_id", "tool", TOOL_ID_PATTERN, 41, 41, "tool", f"tool-{_UUID}")
RUN_ID = Path(name="run_id", examples=(f"run-{_UUID}",), description="The run id, `run-<uuid4>`. Letta puts no "
              "pattern on it; a closed-world or server-fidelity mock answers 400 to any other form.")  # fmt: skip
BLOCK_LABEL = Path(name="block_label", description="The block's label, e.g. `human`.")
X_PROJECT = Text(name="X-Project", where="header", description="A project slug (Letta Cloud); accepted, ignored.")

# -- messages -------------------------------------------------------------------------------------------------------
AGENT_ID_QUERY = Text(name="agent_id", variant="query",
                      description="The agent (for the `default` conversation, or to filter by).")  # fmt: skip
AGENT_ID_REQUIRED = RequiredText(name="agent_id", variant="required",
                                 description="The agent the conversation belongs to.")  # fmt: skip
CONVERSATION_ID_QUERY = Text(name="conversation_id", variant="query", description="Only those of this conversation "
                             "(`default`: messages outside any conversation).")  # fmt: skip
BEFORE = Text(name="before", description=_CURSOR.format("before"))
AFTER = Text(name="after", description=_CURSOR.format("after"))
LIMIT = _limit(100, "stored messages")
ORDER = _order("desc")
ORDER_ASC = _order("asc", variant="asc")
ORDER_BY = Choice(name="order_by", description="Sort key.", choices=("created_at",), default="created_at")
GROUP_ID = Text(name="group_id", description="Group filter (accepted, ignored by the mock).")
USE_ASSISTANT_MESSAGE = Flag(name="use_assistant_message", description=_ACCEPTED, default=True, deprecated=True)
ASSISTANT_MESSAGE_TOOL_NAME = Text(name="assistant_message_tool_name", description=_ACCEPTED, default="send_message",
                                   deprecated=True)  # fmt: skip
ASSISTANT_MESSAGE_TOOL_KWARG = Text(name="assistant_message_tool_kwarg", description=_ACCEPTED, default="message",
                                    deprecated=True)  # fmt: skip
INCLUDE_ERR = Flag(name="include_err", description="Include error messages (accepted, ignored).")
INCLUDE_RETURN_MESSAGE_TYPES = MessageTypes(
    name="include_return_message_types",
    description="Only these message types (repeat the parameter for several); all types when absent.",
)

# -- agents ---------------------------------------------------------------------------------------------------------
NAME = Text(name="name", description="Only those of this name.")
TAGS = Strings(name="tags", description="Only agents with these tags.")
MATCH_ALL_TAGS = Flag(name="match_all_tags", description="Only agents with every tag given (else any).", default=False)
MATCH_ALL_TAGS_COUNT = Flag(name="match_all_tags", variant="count", default=False,
                            description="Count only agents with every tag given (else any).")  # fmt: skip
BEFORE_AGENTS = _cursor("before", "agent")
AFTER_AGENTS = _cursor("after", "agent")
LIMIT_50 = _limit(50, "resources", variant="50")
QUERY_TEXT = Text(name="query_text", description="Only agents whose name contains this text.")
PROJECT_ID = Text(name="project_id", description="Project filter (accepted, ignored).")
TEMPLATE_ID = Text(name="template_id", description="Template filter (accepted, ignored).")
BASE_TEMPLATE_ID = Text(name="base_template_id", description="Template filter (accepted, ignored).")
IDENTITY_ID = Text(name="identity_id", description="Identity filter (accepted, ignored).")
IDENTIFIER_KEYS = Strings(name="identifier_keys", description="Identity filter (accepted, ignored).")
INCLUDE_RELATIONSHIPS = Strings(
    name="include_relationships", deprecated=True,
    description="Deprecated: relations to include (`tools`, `sources`, `memory`, ...); without it and `include`, a "
    "client that is not a 1.x SDK gets them all, as from Letta.",
)  # fmt: skip
INCLUDE = Strings(name="include", description="Relations to include (none by default for a 1.x SDK).",
                  choices=_INCLUDES, default=())  # fmt: skip
ORDER_AGENTS = _order("desc", "the agents", variant="agents")
ORDER_BY_AGENTS = Choice(name="order_by", variant="agents", description="Sort key.", default="created_at",
                         choices=("created_at", "updated_at", "last_run_completion"))  # fmt: skip
ASCENDING = Flag(name="ascending", description="Deprecated: use `order`.", default=False, deprecated=True)
SORT_BY = Text(name="sort_by", description="Deprecated: use `order_by`.", default="created_at", deprecated=True)
LAST_STOP_REASON = Text(name="last_stop_reason", description="Only agents whose last run ended so.",
                        component="StopReasonType")  # fmt: skip
CREATED_BY_ID = Text(name="created_by_id", description="Creator filter (accepted, ignored).")
DRY_RUN = Flag(name="dry_run", description="Only show the recompiled system message; do not store it.", default=False)

# -- tools ----------------------------------------------------------------------------------------------------------
BEFORE_TOOLS = _cursor("before", "tool")
AFTER_TOOLS = _cursor("after", "tool")
LIMIT_10 = _limit(10, "tools", variant="10")
ORDER_TOOLS = _order("desc", "the tools", variant="tools")
NAMES = Strings(name="names", description="Only tools of these names.")
TOOL_IDS = Strings(name="tool_ids", description="Only tools of these ids (repeated, or comma-separated).")
SEARCH = Text(name="search", description="Only tools whose name contains this text (case-insensitive).")
TOOL_TYPES = Strings(name="tool_types", description="Only tools of these types (repeated, or comma-separated).")
EXCLUDE_TOOL_TYPES = Strings(name="exclude_tool_types",
                             description="No tools of these types (repeated, or comma-separated).")  # fmt: skip
RETURN_ONLY_LETTA_TOOLS = Flag(name="return_only_letta_tools", default=False,
                               description="Only Letta's own tools (`letta_…` types).")  # fmt: skip
RETURN_ONLY_LETTA_TOOLS_COUNT = Flag(name="return_only_letta_tools", variant="count", default=False,
                                     description="Count only Letta's own tools.")  # fmt: skip
EXCLUDE_LETTA_TOOLS = Flag(name="exclude_letta_tools", description="Leave Letta's own tools out of the count.",
                           default=False)  # fmt: skip

# -- conversations --------------------------------------------------------------------------------------------------
LIMIT_CONVERSATIONS = _limit(50, "conversations", variant="conversations")
AFTER_CONVERSATIONS = _cursor("after", "conversation")
SUMMARY_SEARCH = Text(name="summary_search", description="Only conversations whose summary contains this text.")
ORDER_CONVERSATIONS = _order("desc", "the conversations", variant="conversations")
ORDER_BY_CONVERSATIONS = Choice(name="order_by", variant="conversations", description="Sort key.",
                                choices=("created_at", "last_run_completion", "last_message_at"),
                                default="created_at")  # fmt: skip

# -- runs -----------------------------------------------------------------------------------------------------------
AGENT_IDS = Strings(name="agent_ids", description="Deprecated: use `agent_id`.", deprecated=True)
STATUSES = Strings(name="statuses", description="Only runs of these statuses.")
BACKGROUND = Flag(name="background", description="Only background runs (true) or only foreground ones (false).")
STOP_REASON = Text(name="stop_reason", description="Only runs that ended so.", component="StopReasonType")
BEFORE_RUNS = _cursor("before", "run")
AFTER_RUNS = _cursor("after", "run")
LIMIT_RUNS = Integer(name="limit", variant="runs", description="How many runs the page holds at most.", default=100,
                     minimum=1, maximum=1000)  # fmt: skip
ORDER_RUNS = _order("desc", "the runs", variant="runs")
ACTIVE = Flag(name="active", description="Only runs still running.", default=False)
BEFORE_STEPS = _cursor("before", "step")
AFTER_STEPS = _cursor("after", "step")
LIMIT_STEPS = _limit(100, "steps", variant="steps")
ORDER_STEPS = _order("desc", "the steps", variant="steps")

# Every record above, by key: what an operation row names.
PARAMETERS: Mapping[str, Parameter] = {
    value.key: value for value in dict(globals()).values() if isinstance(value, Parameter)
}
_PATH_IDS = {record.name: record for record in (AGENT_ID, CONVERSATION_ID, MESSAGE_ID, TOOL_ID)}


def path_id(request: Request, name: str) -> str:
    """The path id ``name`` (``agent_id``, ``conversation_id``, ``message_id``, ``tool_id``), checked."""
    return _PATH_IDS[name].read(request)
