"""Shared building blocks of the contract: model bases, date types and id patterns.

Two kinds of model live in this package:

* *wire* models (what the server sends): every field is serialised, nulls included, in declaration order
  (wire doc §1.6), and the generated JSON schema marks defaulted fields such as ``message_type`` as required,
  because the server always sends them.
* *request* models (what clients send): validated strictly, so ``"5"`` is not an integer and a naive datetime is
  not a date. Unknown keys are ignored, as Letta's own request models do.
"""

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

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
]

_UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
AGENT_ID_PATTERN = f"^agent-{_UUID4}$"
MESSAGE_ID_PATTERN = f"^message-{_UUID4}$"
RUN_ID_PATTERN = f"^run-{_UUID4}$"
CONVERSATION_ID_PATTERN = f"^(default|conv-{_UUID4}|agent-{_UUID4})$"
CONV_ID_PATTERN = f"^conv-{_UUID4}$"
TOOL_ID_PATTERN = f"^tool-{_UUID4}$"


def _message_date(value: datetime) -> str:
    # LettaMessage dates: UTC, whole seconds, "+00:00" (wire doc §1.5).
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _timestamp(value: datetime) -> str:
    # Run and agent timestamps: UTC with microseconds and a "Z" suffix, pydantic style (wire doc §1.5).
    # The real server writes completed_at without any suffix; that quirk belongs to the server-fidelity
    # profile, the default profile gives every date a timezone.
    # isoformat, not strftime: %Y does not pad years before 1000 to four digits.
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _integral(value: object) -> object:
    # JSON Schema counts 5.0 as an integer and so does Letta; strictness is about "5", not 5.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(_integral)]
MessageDate = Annotated[AwareDatetime, PlainSerializer(_message_date, return_type=str)]
TimestampDate = Annotated[AwareDatetime, PlainSerializer(_timestamp, return_type=str)]


class WireModel(BaseModel):
    """Base of everything the server sends."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True, populate_by_name=True, defer_build=True)


class RequestModel(BaseModel):
    """Base of everything a client sends: strict types, unknown keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)
