"""Shared building blocks of the contract: model bases, date types and id patterns.

Two kinds of model live in this package:

* *wire* models (what the server sends): every field is serialised, nulls included, in declaration order
  (wire doc §1.6), and the generated JSON schema marks defaulted fields such as ``message_type`` as required,
  because the server always sends them.
* *request* models (what clients send): validated strictly, so ``"5"`` is not an integer and a naive datetime is
  not a date. Unknown keys are ignored, as Letta's own request models do.
"""

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any, TypeVar

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
    "trusted",
    "validate_trusted",
]

_UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
AGENT_ID_PATTERN = f"^agent-{_UUID4}$"
MESSAGE_ID_PATTERN = f"^message-{_UUID4}$"
RUN_ID_PATTERN = f"^run-{_UUID4}$"
CONVERSATION_ID_PATTERN = f"^(default|conv-{_UUID4}|agent-{_UUID4})$"
CONV_ID_PATTERN = f"^conv-{_UUID4}$"
TOOL_ID_PATTERN = f"^tool-{_UUID4}$"


# The last date written of each kind, with its text: the items of one stored message share their date object, so
# an answer or a page writes most dates once (a date is a third of an item's serialisation). One tuple, replaced
# whole: a reader in another thread sees a date with its own text.
_LAST_MESSAGE_DATE: list[tuple[datetime | None, str]] = [(None, "")]
_LAST_TIMESTAMP: list[tuple[datetime | None, str]] = [(None, "")]


def _remembered(last: list[tuple[datetime | None, str]], value: datetime, write: Callable[[datetime], str]) -> str:
    """``value`` in UTC as ``write`` writes it, or the text of ``last``'s date if it is that very date."""
    seen, text = last[0]
    if value is seen:
        return text
    utc = value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)  # the mock's own are UTC
    text = write(utc)
    last[0] = (value, text)
    return text


def _message_date(value: datetime) -> str:
    # LettaMessage dates: UTC, whole seconds, "+00:00" (wire doc §1.5).
    return _remembered(_LAST_MESSAGE_DATE, value, _whole_seconds)


def _timestamp(value: datetime) -> str:
    # Run and agent timestamps: UTC with microseconds and a "Z" suffix, pydantic style (wire doc §1.5).
    # The real server writes completed_at without any suffix; that quirk belongs to the server-fidelity
    # profile, the default profile gives every date a timezone.
    # isoformat, not strftime: %Y does not pad years before 1000 to four digits.
    return _remembered(_LAST_TIMESTAMP, value, _microseconds_z)


def _whole_seconds(utc: datetime) -> str:
    return utc.replace(microsecond=0).isoformat()


def _microseconds_z(utc: datetime) -> str:
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


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


Model = TypeVar("Model", bound=BaseModel)
_checking = [False]  # validate_trusted's switch
_IMMUTABLE = (type(None), str, int, float, bool, tuple, frozenset)
# A model's fields in order with their defaults (required ones as None, always given), and the fields whose
# default is made or copied per object (factories, mutable defaults).
_LAYOUT: dict[type[BaseModel], tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}
# Per model and the names given (in order): its defaults, the defaults still to make, and the fields-set shared
# by every object built from those names.
_PREPARED: dict[tuple[Any, ...], tuple[dict[str, Any], tuple[tuple[str, Any], ...], set[str]]] = {}
_set_slot = object.__setattr__  # BaseModel.__setattr__ would treat the slots as fields
# BaseModel's own slots, set through their descriptors (a tenth of a trusted object's cost less than by name).
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(model: type[Model], /, **fields: Any) -> Model:
    """A wire object the mock builds on its hot paths from values it made itself, already of the types the model
    holds (aware datetimes, model instances, never dicts for nested models): not validated again. What clients
    send is always validated. Built as ``model_construct`` builds it, from a table of the model's defaults made
    once (``model_construct`` asks ``inspect`` about each default of each object). The tests switch validation on
    (``validate_trusted``) and prove the answers byte-identical either way."""
    if _checking[0]:
        return model(**fields)
    prepared = _PREPARED.get((model, *fields)) or _prepare(model, fields)
    defaults, made, given = prepared
    values = defaults.copy()  # in the fields' order, as pydantic keeps them
    values.update(fields)
    for name, make in made:
        values[name] = make()
    built = model.__new__(model)
    _set_slot(built, "__dict__", values)
    # ``model_fields_set``, one set shared by every object of ``model`` built from the same fields: a set of its
    # own cost each object ~0.7 KB, a third of a stored message's memory, and nothing reads it of a wire object
    # (``exclude_unset`` is for what clients send). Assigning a field adds its name to the shared set.
    _SET_FIELDS_SET(built, given)
    _SET_EXTRA(built, None)
    _SET_PRIVATE(built, None)
    return built


def _prepare(
    model: type[BaseModel], fields: dict[str, Any]
) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...], set[str]]:
    defaults, made = _LAYOUT.get(model) or _layout(model)
    prepared = defaults, tuple((name, make) for name, make in made if name not in fields), set(fields)
    _PREPARED[(model, *fields)] = prepared
    return prepared


def _layout(model: type[BaseModel]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    defaults: dict[str, Any] = {}
    made: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        default = None if info.is_required() else info.default
        defaults[name] = default
        if info.default_factory is not None:
            made.append((name, info.default_factory))
        elif not isinstance(default, _IMMUTABLE):
            made.append((name, lambda value=default: copy.deepcopy(value)))
    _LAYOUT[model] = (defaults, tuple(made))
    return _LAYOUT[model]


def validate_trusted(on: bool) -> bool:
    """Validate what ``trusted`` builds (``on``) or not; returns the previous setting."""
    previous, _checking[0] = _checking[0], on
    return previous
