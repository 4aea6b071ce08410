"""The contract as a checker: what a Letta server sends, against an OpenAPI document and Letta's stream rules.

Used by the tests, by ``letta-mock fixtures check`` and by ``letta-mock fuzz``:

* ``Contract``: JSON bodies and stream events against a document (Letta's, or ours), discriminator-aware and
  with ``message_type`` required;
* ``framing_problems`` and ``ending``: Letta's exact SSE framing, and the grammar of a whole stream;
* ``as_documented``: the real server's JSON quirks undone, so its answers (and the server profile's) are checked
  against the same document.
"""

from mockserver.contract.document import Contract, Problem
from mockserver.contract.server import as_documented
from mockserver.contract.stream import AGENT_TYPES, Ending, ending, framing_problems

__all__ = ["AGENT_TYPES", "Contract", "Ending", "Problem", "as_documented", "ending", "framing_problems"]
