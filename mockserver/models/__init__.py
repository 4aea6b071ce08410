"""The contract: Letta's messages API stated as pydantic models (field facts from Letta's OpenAPI document).

The models' modules do not use ``from __future__ import annotations``: their annotations are objects when a class
is made, so pydantic does not evaluate ~580 annotation strings when they are imported (~10 ms of every start-up)."""

from mockserver.models._base import (
    AGENT_ID_PATTERN,
    CONV_ID_PATTERN,
    CONVERSATION_ID_PATTERN,
    MESSAGE_ID_PATTERN,
    RUN_ID_PATTERN,
    TOOL_ID_PATTERN,
    JsonInt,
    MessageDate,
    RequestModel,
    TimestampDate,
    WireModel,
)
from mockserver.models.agents import *  # noqa: F403
from mockserver.models.agents import __all__ as _agents_all
from mockserver.models.content import *  # noqa: F403
from mockserver.models.content import __all__ as _content_all
from mockserver.models.conversations import *  # noqa: F403
from mockserver.models.conversations import __all__ as _conversations_all
from mockserver.models.messages import *  # noqa: F403
from mockserver.models.messages import __all__ as _messages_all
from mockserver.models.requests import *  # noqa: F403
from mockserver.models.requests import __all__ as _requests_all
from mockserver.models.responses import *  # noqa: F403
from mockserver.models.responses import __all__ as _responses_all
from mockserver.models.tools import *  # noqa: F403
from mockserver.models.tools import __all__ as _tools_all

__all__ = [
    "AGENT_ID_PATTERN",
    "CONVERSATION_ID_PATTERN",
    "CONV_ID_PATTERN",
    "TOOL_ID_PATTERN",
    "JsonInt",
    "MESSAGE_ID_PATTERN",
    "RUN_ID_PATTERN",
    "MessageDate",
    "RequestModel",
    "TimestampDate",
    "WireModel",
    *_agents_all,
    *_content_all,
    *_conversations_all,
    *_messages_all,
    *_requests_all,
    *_responses_all,
    *_tools_all,
]
