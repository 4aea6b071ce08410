"""``/v1/agents/…``: create, list, count, retrieve, modify, delete an agent; its tools (attach, detach, list).

An agent a client creates gets Letta's rules (see ``store``); any other well-formed id still names an agent made up
on first use (the open world), so the SDK's generated tests, which never create anything, keep working.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue, model_config
from mockserver.catalogue import Texts
from mockserver.engine.items import input_item
from mockserver.errors import BadRequest, NotFound
from mockserver.handlers.common import id_page, looks_like_sdk, store
from mockserver.handlers.window import context_messages
from mockserver.http import json_response, parse_body, rules
from mockserver.models import (
    AgentState,
    Block,
    BlockUpdate,
    ContextWindowOverview,
    CreateAgentRequest,
    DeleteAgentResponse,
    Memory,
    UpdateAgent,
)
from mockserver.parameters import (
    AFTER_AGENTS,
    AFTER_TOOLS,
    BEFORE_AGENTS,
    BEFORE_TOOLS,
    CONVERSATION_ID_QUERY,
    INCLUDE,
    INCLUDE_RELATIONSHIPS,
    LAST_STOP_REASON,
    LIMIT_10,
    LIMIT_50,
    MATCH_ALL_TAGS,
    NAME,
    ORDER_AGENTS,
    ORDER_BY,
    ORDER_BY_AGENTS,
    ORDER_TOOLS,
    QUERY_TEXT,
    TAGS,
    path_id,
)
from mockserver.records import AgentProfile, AgentRecord
from mockserver.store import Store
from mockserver.store.agents import approval_rules

__all__ = [
    "agent_state",
    "attach_tool_to_agent",
    "count_agents",
    "create_agent",
    "delete_agent",
    "detach_tool_from_agent",
    "list_agents",
    "list_tools_for_agent",
    "modify_agent",
    "modify_core_memory_block",
    "retrieve_agent",
    "retrieve_agent_context_window",
    "retrieve_core_memory_block",
]

DEFAULT_MODEL = "letta-mock/mock-1"  # an agent created without a model (the document allows it): the mock's own

# UpdateAgent / CreateAgentRequest fields -> AgentProfile fields they set as they are.
_PROFILE_FIELDS = (
    "name", "tags", "system", "tool_rules", "description", "metadata", "model", "embedding", "model_settings",
    "compaction_settings", "response_format", "max_tokens", "message_buffer_autoclear", "enable_sleeptime",
    "timezone", "hidden", "reasoning",
)  # fmt: skip


async def create_agent(request: Request) -> Response:
    body = await parse_body(request, CreateAgentRequest, required=False)
    state = store(request)
    model = body.model or (body.llm_config or {}).get("handle")
    if model is None and rules(request).model_required:
        raise BadRequest(Texts.NO_MODEL)
    tool_ids = [*(state.base_tool_ids(body.agent_type) if body.include_base_tools else ()), *_tool_ids(state, body)]
    given = {name: getattr(body, name) for name in _PROFILE_FIELDS if getattr(body, name) is not None}
    tool_ids = list(dict.fromkeys(tool_ids))
    tool_rules = _distinct(given.pop("tool_rules", []))
    profile = AgentProfile(
        **given,
        agent_type=body.agent_type,
        blocks=[_block(state, block.model_dump(exclude_none=True)) for block in body.memory_blocks or ()],
        tool_ids=tool_ids,
        tool_rules=[*tool_rules, *approval_rules((state.tools[i] for i in tool_ids), tool_rules)],
        context_window=body.context_window_limit,
    )
    profile.model = model or DEFAULT_MODEL
    if body.enable_reasoner is not None and body.reasoning is None:
        profile.reasoning = body.enable_reasoner
    if not body.name:
        profile.name = "agent-" + state.ids.uuid4()[:8]
    agent = state.create_agent(profile)
    for message in body.initial_message_sequence or ():
        message_id, now = state.ids.new("message"), state.clock.now()
        item = input_item(message, message_id=message_id, now=now, run_id=None, step_id=None, otid=state.ids.uuid4())
        state.add_message(agent, message_id, [item], conversation_id=None, run_id=None, created_at=now)
    return json_response(agent_state(state, agent))


def _distinct(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool rules without repeats (Letta keeps one of identical rules; a different limit is another rule)."""
    return list({json.dumps(rule, sort_keys=True): rule for rule in rules}.values())


def _tool_ids(state: Store, body: CreateAgentRequest) -> list[str]:
    ids = [state.tool(tool_id).id for tool_id in body.tool_ids or ()]
    for name in body.tools or ():
        known = state.tool_names.get(name)
        if known is None:
            raise BadRequest(f"Tool not found with name={name}")
        ids.append(known)
    return ids


def _block(state: Store, fields: dict[str, Any]) -> Block:
    fields.setdefault("description", catalogue.BLOCK_DESCRIPTIONS.get(fields["label"]))
    return Block(id=state.ids.new("block"), **fields)


async def list_agents(request: Request) -> Response:
    state = store(request)
    agents = _filtered(request, state)
    order = ORDER_AGENTS.read(request)
    ORDER_BY_AGENTS.read(request)
    agents.sort(key=lambda a: a.created_at, reverse=order == "desc")
    page = id_page(request, agents, lambda a: a.id, limit=LIMIT_50, before=BEFORE_AGENTS, after=AFTER_AGENTS)
    include = relations(request)
    return json_response([agent_state(state, a, include).model_dump(mode="json") for a in page])


async def count_agents(request: Request) -> Response:
    return json_response(len(_filtered(request, store(request))))


def _filtered(request: Request, state: Store) -> list[AgentRecord]:
    agents = list(state.agents.values())
    name = NAME.read(request)
    if name is not None:
        agents = [a for a in agents if a.profile.name == name]
    text = QUERY_TEXT.read(request)
    if text:
        agents = [a for a in agents if text.lower() in a.profile.name.lower()]
    tags = TAGS.read(request)
    if tags:
        every = MATCH_ALL_TAGS.read(request)
        agents = [a for a in agents if (all if every else any)(t in a.profile.tags for t in tags)]
    stop = LAST_STOP_REASON.read(request)
    if stop is not None:
        agents = [a for a in agents if a.last_stop_reason == stop]
    return agents


async def retrieve_agent(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    return json_response(agent_state(state, state.agent(agent_id), relations(request)))


async def modify_agent(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, UpdateAgent)
    state = store(request)
    agent = state.agent(agent_id, not_found=Texts.agent_not_found_reset(agent_id))
    # As Letta updates: the fields given, a null meaning "leave it" (exclude_unset, exclude_none).
    changes = {name: getattr(body, name) for name in _PROFILE_FIELDS if getattr(body, name) is not None}
    if body.tool_ids is not None:
        changes["tool_ids"] = [state.tool(tool_id).id for tool_id in body.tool_ids]
    if body.context_window_limit is not None:
        changes["context_window"] = body.context_window_limit
    if "tool_rules" in changes:
        changes["tool_rules"] = _distinct(changes["tool_rules"])
    state.modify_agent(agent, changes)
    return json_response(agent_state(state, agent))


async def delete_agent(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    state.delete_agent(state.agent(agent_id, not_found=Texts.agent_not_found_reset(agent_id)))
    return json_response(DeleteAgentResponse(message=Texts.agent_deleted(agent_id)))


async def list_tools_for_agent(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    agent = state.agent(agent_id)
    tools = [state.tools[i] for i in agent.profile.tool_ids if i in state.tools]
    if ORDER_TOOLS.read(request) == "desc":
        tools.reverse()
    ORDER_BY.read(request)
    page = id_page(request, tools, lambda t: t.id, limit=LIMIT_10, before=BEFORE_TOOLS, after=AFTER_TOOLS)
    return json_response([tool.model_dump(mode="json") for tool in page])


async def attach_tool_to_agent(request: Request) -> Response:
    agent_id, tool_id = path_id(request, "agent_id"), path_id(request, "tool_id")
    state = store(request)
    agent = state.agent(agent_id)
    state.attach_tool(agent, state.tool(tool_id))
    return json_response(None)  # Letta 0.16.8 answers 200 with a JSON null (its document says AgentState)


async def detach_tool_from_agent(request: Request) -> Response:
    agent_id, tool_id = path_id(request, "agent_id"), path_id(request, "tool_id")
    state = store(request)
    agent = state.agent(agent_id)
    state.detach_tool(agent, tool_id)
    return json_response(None)


# -- the answer -------------------------------------------------------------------------------------------------

# What an agent's answer can carry besides its own fields (Letta's relationships), by the names of ``include``.
RELATIONS = frozenset({"blocks", "tags", "tools", "sources", "identities", "managed_group", "secrets"})
# ``include_relationships`` (deprecated) names them otherwise.
_LEGACY_RELATIONS = {
    "tools": {"tools"}, "sources": {"sources"}, "memory": {"blocks", "tags"}, "identity_ids": {"identities"},
    "tags": {"tags"}, "multi_agent_group": {"managed_group"}, "tool_exec_environment_variables": {"secrets"},
    "secrets": {"secrets"},
}  # fmt: skip


def relations(request: Request) -> frozenset[str]:
    """The relationships a read of agents includes: those ``include`` names (``agent.blocks`` brings the tags too)
    and those ``include_relationships`` names; with neither, none for a 1.x SDK and all for anything else (Letta
    keeps its old answer for old clients). ``pending_approval`` only when ``include`` names it."""
    legacy = INCLUDE_RELATIONSHIPS.read(request)
    if legacy:
        wanted = {name for given in legacy for name in _LEGACY_RELATIONS.get(given, ())}
    else:
        wanted = set() if looks_like_sdk(request) else set(RELATIONS)
    for given in INCLUDE.read(request):
        name = given.removeprefix("agent.")
        wanted |= {name, "tags"} if name == "blocks" else {name}
    return frozenset(wanted)


def agent_state(state: Store, agent: AgentRecord, include: frozenset[str] = RELATIONS) -> AgentState:
    """The agent as Letta shows it: its configuration, memory, context window and last run, with the relationships
    in ``include`` (see ``relations``; everything by default, as create, modify and reset answer)."""
    profile = agent.profile
    family = catalogue.model_family(profile.model)
    llm = model_config.llm_config(
        profile.model, context_window=profile.context_window, max_tokens=profile.max_tokens,
        reasons=profile.reasons != "none", response_format=profile.response_format, given=profile.model_settings,
    )  # fmt: skip
    # Only Letta's older agent loops record the last run's completion (letta_v1_agent's never does).
    last = state.runs.get(agent.last_run_id or "") if profile.agent_type in catalogue.LEGACY_AGENT_TYPES else None
    completed = last.run.completed_at if last is not None else None
    blocks = profile.blocks if "blocks" in include else []
    pending = "pending_approval" in include and agent.pending is not None
    return AgentState(
        created_by_id=catalogue.DEFAULT_USER_ID,
        last_updated_by_id=catalogue.DEFAULT_USER_ID,
        id=agent.id,
        name=profile.name,
        system=profile.system,
        agent_type=profile.agent_type,
        llm_config=llm,
        embedding_config=model_config.embedding_config(profile.embedding),
        model=profile.model,
        embedding=profile.embedding,
        model_settings=model_config.model_settings(llm, profile.model_settings),
        compaction_settings=model_config.compaction_settings(family.endpoint_type, profile.compaction_settings),
        response_format=profile.response_format,
        description=profile.description,
        metadata=profile.metadata,
        tool_rules=profile.tool_rules,
        memory=Memory(agent_type=profile.agent_type, blocks=blocks),
        blocks=blocks,
        tools=[state.tools[i] for i in profile.tool_ids if i in state.tools] if "tools" in include else [],
        sources=[],
        tags=profile.tags if "tags" in include else [],
        message_ids=list(agent.in_context),
        pending_approval=agent.pending.request if pending and agent.pending else None,
        message_buffer_autoclear=profile.message_buffer_autoclear,
        enable_sleeptime=profile.enable_sleeptime,
        last_run_completion=completed,
        last_run_duration_ms=last.run.total_duration_ns // 1_000_000 if last and last.run.total_duration_ns else None,
        last_stop_reason=agent.last_stop_reason,
        timezone=profile.timezone,
        hidden=profile.hidden,
        created_at=agent.created_at,
        updated_at=agent.updated_at or agent.created_at,
    )


# -- memory and context ---------------------------------------------------------------------------------------


async def retrieve_core_memory_block(request: Request) -> Response:
    agent_id, label = path_id(request, "agent_id"), request.path_params["block_label"]
    agent = store(request).agent(agent_id)
    block = next((b for b in agent.profile.blocks if b.label == label), None)
    if block is None:
        raise NotFound(Texts.block_not_found(label, agent_id))
    return json_response(block)


async def modify_core_memory_block(request: Request) -> Response:
    agent_id, label = path_id(request, "agent_id"), request.path_params["block_label"]
    body = await parse_body(request, BlockUpdate)
    state = store(request)
    changes = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    return json_response(state.modify_block(state.agent(agent_id), label, changes))


async def retrieve_agent_context_window(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    agent = state.agent(agent_id)
    window, summary = state.context(agent, CONVERSATION_ID_QUERY.read(request))
    system = state.messages[window[0]].items[0]
    system_text = str(getattr(system, "content", ""))
    core = "\n".join(f"{b.label}: {b.value}" for b in agent.profile.blocks)
    tools = [state.tools[i] for i in agent.profile.tool_ids if i in state.tools]
    schemas = [tool.json_schema for tool in tools if tool.json_schema]
    functions = [{"function": {**schema, "strict": None}, "type": "function"} for schema in schemas]
    message_tokens = sum(len(state.messages[i].types) for i in window[1:] if i in state.messages) * 40

    def tokens(text: str) -> int:  # ~4 characters a token, as the usage figures count
        return len(text) // 4

    system_tokens, core_tokens, profile_model = tokens(system_text), tokens(core), agent.profile.model
    function_tokens = tokens(json.dumps(functions))
    overview = ContextWindowOverview(
        context_window_size_max=agent.profile.context_window or catalogue.model_family(profile_model).context_window,
        context_window_size_current=system_tokens + core_tokens + function_tokens + message_tokens,
        num_messages=len(window), num_recall_memory=len(agent.messages), num_tokens_system=system_tokens,
        system_prompt=system_text, num_tokens_core_memory=core_tokens, core_memory=core,
        num_tokens_summary_memory=tokens(summary or ""), summary_memory=summary,
        num_tokens_functions_definitions=function_tokens, functions_definitions=functions,
        num_tokens_messages=message_tokens, messages=context_messages(state, agent, window),
    )  # fmt: skip
    return json_response(overview)
