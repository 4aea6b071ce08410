"""The state of one mock server, as plain collections; ``clear`` starts it over. The stores built on this class
(messages, tools, agents, conversations, runs) are the only code that changes these collections."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

from mockserver.models import Tool
from mockserver.records import AgentRecord, ConversationRecord, RunRecord, StoredMessage
from mockserver.sources import Clock, Ids

__all__ = ["DEFAULT_LOG_BOUND", "PACK_BEYOND", "PACK_BLOCK", "ZDICT_SIZE", "State"]

# Finished runs whose event logs are kept for a resumed stream (``POST /v1/runs/{id}/stream``); older ones are
# dropped (the run itself, its messages and steps stay). Letta keeps a run's stream 3 hours (wire doc §13.3); a
# mock's test rarely resumes a run more than a few hundred runs back, and a log costs ~2-4 KB.
DEFAULT_LOG_BOUND = 1000
# The newest stored messages kept as they were made; older ones are packed (``store.messages.pack``): reading one costs
# ~10 us more (its block), and a client pages through the newest first.
PACK_BEYOND = 2000
PACK_BLOCK = 16  # stored messages packed together: one compressor for all, a block unpacked for a page
ZDICT_SIZE = 2048  # bytes of typical item JSON the packing learns from


class State:
    def __init__(
        self,
        *,
        seed: int | None = None,
        agents: Iterable[str] | None = None,
        on_growth: Callable[[], None] | None = None,
        growth_every: int = 2000,
        log_bound: int = DEFAULT_LOG_BOUND,
    ) -> None:
        self.seed = seed
        self.ids = Ids(seed)
        self.clock = Clock(seed)
        self.known_agents = tuple(agents) if agents is not None else None
        self.closed_world = agents is not None
        # Called every `growth_every` stored messages: `letta-mock serve` freezes what it keeps out of the
        # garbage collector's way there (a process-wide choice, so the process owner makes it, not the store).
        self._on_growth = on_growth
        self._growth_every = growth_every
        self.agents: dict[str, AgentRecord] = {}
        self.messages: dict[str, StoredMessage] = {}
        # Every stored message in seq order, and per conversation (None: the default ones of all agents): what
        # the organization-wide listing pages over without sorting anything (``paging.View``).
        self.sequence: list[StoredMessage] = []
        self.by_conversation: dict[str | None, list[StoredMessage]] = {}
        self.runs: dict[str, RunRecord] = {}
        # Agent id -> its active runs (created or running), kept by the run methods: no send scans every run.
        self.active: dict[str, dict[str, RunRecord]] = {}
        # (agent id, conversation id) -> its runs, oldest first: a conversation's latest run without a scan.
        self.conversation_runs: dict[tuple[str, str | None], dict[str, RunRecord]] = {}
        # Agent id -> its runs, oldest first: an agent's runs listed without reading everyone's.
        self.agent_runs: dict[str, dict[str, RunRecord]] = {}
        # Finished runs whose event logs are still kept, oldest first (``RunStore``: at most ``log_bound``). Ordered:
        # its oldest is taken off each send past the bound, in O(1) (a dict's first entry is found by skipping the
        # slots of those taken off before it).
        self.logged: OrderedDict[str, RunRecord] = OrderedDict()
        self.log_bound = log_bound
        self.pinged: set[RunRecord] = set()  # runs with keep-alive pings in their logs, not yet spent
        self._runs_kept = 0
        self.conversations: dict[str, ConversationRecord] = {}
        self.tools: dict[str, Tool] = {}
        self.tool_names: dict[str, str] = {}  # tool name -> id (names are unique, as Letta's are per organization)
        self.scripts: dict[str, deque[Any]] = {}  # agent id -> its next turns' controls (admin API)
        self.replay_counts: dict[str, int] = {}  # replay: answers given per recorded exchange group
        self.replay_aliases: dict[str, str] = {}  # replay: a client's ids -> placeholders of normalised fixtures
        # Ids a client deleted: they are 404 from then on, in the open world too.
        self.deleted: set[str] = set()
        self._seq = 0
        self.pack_beyond = PACK_BEYOND
        self.pack_block = PACK_BLOCK
        self._zdict: bytes | None = None
        self._packing: list[StoredMessage] = []  # old messages waiting to be packed, a block at a time
        self._populate()

    def _populate(self) -> None:
        """What a new store holds: the closed world's agents (see ``AgentStore``)."""

    def clear(self) -> None:
        """Forget everything, in place (the admin reset): runs still producing are told to stop first."""
        for record in self.runs.values():
            record.cancel_requested = True
        self.ids, self.clock = Ids(self.seed), Clock(self.seed)  # a seeded mock starts over as it started
        for collection in (self.agents, self.messages, self.runs, self.conversations, self.tools, self.tool_names,
                           self.scripts, self.replay_counts, self.replay_aliases, self.by_conversation, self.active,
                           self.conversation_runs, self.agent_runs, self.logged, self.pinged):  # fmt: skip
            collection.clear()
        self.sequence.clear()
        self.deleted.clear()
        self._seq = 0
        self._runs_kept = 0
        self._zdict = None
        self._packing = []
        self._populate()
