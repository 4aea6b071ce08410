"""``letta-mock fuzz``: schemathesis against any Letta server, with checks that understand agent streams.

The package builds on schemathesis (a dependency of letta-mock, imported only here) and re-writes none of it:

* ``document``: the document a run works from — ours or any Letta document, with links, streaming examples and
  the union rules generators miss;
* ``streams``, ``transport``: event streams read as they arrive, checked event by event, within time and event
  bounds (schemathesis reads a stream whole; a stream that never ends is reported, not waited for);
* ``checks`` (with ``history`` and their shared ``failures``): our checks, registered with schemathesis when
  imported;
* ``schema``: ``letta_schema(url)``, a schemathesis schema ready to fuzz a Letta server — the CLI's and pytest's;
* ``bounds``: how much a run sends (``--max-examples`` in every phase, ``--max-cases`` in all);
* ``resources``, ``report``, ``runner``, ``replay``: real agents to fuzz with, what a run found, the run itself,
  a failure sent again (``--replay ID``).

This module stays light (``letta-mock --help`` imports it): only the names of what is fuzzed by default.
"""

from __future__ import annotations

__all__ = ["MESSAGES_OPERATIONS", "PHASES"]

# Letta's messages API by operationId: the operations letta-mock serves, in both documents (its own and Letta's).
MESSAGES_OPERATIONS = (
    "send_message", "list_messages", "create_agent_message_stream", "cancel_message", "create_agent_message_async",
    "reset_messages", "summarize_messages", "send_conversation_message", "list_conversation_messages",
    "retrieve_conversation_stream", "compact_conversation", "list_messages_for_run", "retrieve_stream_for_run",
    "list_all_messages", "retrieve_message", "search_all_messages", "retrieve_run",
)  # fmt: skip
PHASES = ("examples", "coverage", "fuzzing", "stateful")  # schemathesis' test phases
