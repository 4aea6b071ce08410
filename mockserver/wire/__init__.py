"""Letta's wire rules as pure functions, shared by the server and the strategies so that the two cannot drift.

* ``sse``: the exact framing of a stream, and a decoder;
* ``ids``: how Letta derives otids and approval-request ids from message ids;
* ``tokens``: how a token stream cuts messages into chunks, and how chunks merge back;
* ``seq``: ``seq_id`` numbering of background and resumed streams.

No I/O, no Starlette, no state: these modules import only ``mockserver.models``.
"""
