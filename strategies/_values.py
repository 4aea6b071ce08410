"""Leaf values as a Letta server writes them: ids, otids, dates, texts, tool names and JSON arguments.

Everything here is a plain ``str``/``datetime`` strategy; the model strategies combine them. Rules (wire doc §1.4,
§1.5): ids are ``<prefix>-<uuid4>`` in lower case; an item's ``otid`` is derived from its stored message id; message
dates are UTC with whole seconds (the serializer drops microseconds, so a drawn date equals its round trip).
"""

from __future__ import annotations

import json
import string
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from hypothesis import strategies as st

from mockserver.wire.ids import approval_request_id, otid_for

__all__ = [
    "TOOL_CALL_ID_VALUES",
    "TOOL_NAMES",
    "TYPICAL_ARGUMENTS_JSON",
    "agent_ids",
    "approval_request_id",
    "choice",
    "conversation_ids",
    "generated_objects",
    "json_objects",
    "json_values",
    "date_from",
    "maybe",
    "message_dates",
    "message_ids",
    "otid_for",
    "ping_ids",
    "run_ids",
    "short_texts",
    "step_ids",
    "texts",
    "texts_or",
    "timestamps",
    "tool_arguments",
    "tool_call_id",
    "tool_call_ids",
    "tool_names",
    "uuid4s",
]

T = TypeVar("T")


@st.composite
def _chosen(draw: st.DrawFn, index: st.SearchStrategy[int], options: tuple[st.SearchStrategy[Any], ...]) -> Any:
    return draw(options[draw(index)])


def choice(*options: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``st.one_of`` without its per-draw cost: it shrinks the same way (towards the first option), but does not
    build a filtered ``sampled_from`` on every draw, which makes ``one_of`` cost as much as several plain draws in
    Hypothesis 6.170 (measured: ~15 % of ``messages()``'s time when used only for the top-level union).
    """
    return _chosen(st.integers(0, len(options) - 1), options)


def maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """``None`` or a value; ``None`` first, so optional fields shrink to ``null``."""
    return choice(st.none(), strategy)


# --- ids -------------------------------------------------------------------------------------------------------


def uuid4s() -> st.SearchStrategy[str]:
    """Bare lower-case version-4 UUIDs (otids of user input, event-message ids, fallback tool-call ids)."""
    return st.uuids(version=4).map(str)


def _prefixed(prefix: str) -> st.SearchStrategy[str]:
    return st.uuids(version=4).map(lambda value: f"{prefix}-{value}")


def message_ids() -> st.SearchStrategy[str]:
    """``message-<uuid4>``: the id of a *stored* message, shared by every item it expands into."""
    return _prefixed("message")


def run_ids() -> st.SearchStrategy[str]:
    """``run-<uuid4>`` (the run manager's strict format, which also matches the spec's looser pattern)."""
    return _prefixed("run")


def step_ids() -> st.SearchStrategy[str]:
    return _prefixed("step")


def agent_ids() -> st.SearchStrategy[str]:
    return _prefixed("agent")


def ping_ids() -> st.SearchStrategy[str]:
    """Every ping gets a fresh ``ping-<uuid4>``."""
    return _prefixed("ping")


def conversation_ids() -> st.SearchStrategy[str]:
    return _prefixed("conv")


_ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _base62(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        digits.append(_ALNUM[digit])
    return "".join(reversed(digits))


_ID_SPACE = 62**24


TOOL_CALL_ID_VALUES = 3 * _ID_SPACE


_SCRAMBLE = 2**521 - 1  # a prime larger than TOOL_CALL_ID_VALUES: multiplying by it permutes the ids


def tool_call_id(value: int) -> str:
    """The tool-call id numbered ``value`` (``0 <= value < TOOL_CALL_ID_VALUES``): three styles, one integer.

    Numbers are scrambled first, so the small numbers Hypothesis favours still give random-looking ids of every
    style; 0 (the shrink target) stays ``call_000…``.
    """
    style, rest = divmod(value * _SCRAMBLE % TOOL_CALL_ID_VALUES, _ID_SPACE)
    if style == 0:
        return "call_" + _base62(rest, 24)
    if style == 1:
        return "toolu_01" + _base62(rest, 22)
    return str(uuid.UUID(int=rest % 2**128, version=4))


def tool_call_ids() -> st.SearchStrategy[str]:
    """The provider's ids: OpenAI ``call_…``, Anthropic ``toolu_01…``, or a bare uuid4 when the provider gave none."""
    # One integer per id, not one choice per character: ids carry nothing worth shrinking letter by letter.
    return st.integers(0, TOOL_CALL_ID_VALUES - 1).map(tool_call_id)


# --- dates -----------------------------------------------------------------------------------------------------

# Drawn as one integer each (seconds or microseconds since the epoch): one choice per date keeps generation fast and
# shrinks towards the earliest date.
_EARLIEST = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
_LATEST = int(datetime(2030, 12, 31, tzinfo=timezone.utc).timestamp())
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def message_dates() -> st.SearchStrategy[datetime]:
    """LettaMessage ``date``: UTC, whole seconds (serialised ``2025-06-01T12:00:05+00:00``)."""
    return st.integers(_EARLIEST, _LATEST).map(lambda seconds: _EPOCH + timedelta(seconds=seconds))


def timestamps() -> st.SearchStrategy[datetime]:
    """Run timestamps: UTC with microseconds (serialised ``2025-06-01T12:00:00.123456Z``)."""
    return st.integers(_EARLIEST * 10**6, _LATEST * 10**6).map(lambda micros: _EPOCH + timedelta(microseconds=micros))


def date_from(value: int) -> datetime:
    """A message date (in the same range as ``message_dates``) derived from any integer."""
    return _EPOCH + timedelta(seconds=_EARLIEST + value % (_LATEST - _EARLIEST))


# --- text ------------------------------------------------------------------------------------------------------

# Ordinary sentences an agent and a user exchange, simplest first. One choice each: cheap to draw, readable in a
# failing example.
_SENTENCES = (
    "",
    "Hello!",
    "How can I help?",
    "The user greeted me.",
    "I should look this up.",
    "It is sunny in Paris, 24 C.",
    "Let me check the weather for you.",
    "What's the weather like in Paris today?",
    "Done. Anything else?",
    "I'll remember that you prefer metric units.",
)

# Texts that break naive clients: whitespace, SSE framing look-alikes (JSON escapes the newlines, so they are
# harmless on the wire), RTL scripts and a bidi override, emoji sequences (ZWJ, skin tone, flag), combining marks,
# a BOM, the JS line separators U+2028/U+2029 and NEL (pydantic writes them raw, so a client splitting the stream
# with str.splitlines() breaks), and control characters, which JSON allows escaped (NUL included).
_EDGE_TEXTS = (
    " ",
    "\n",
    "\r\n\r\n",
    "[DONE]",
    "data: [DONE]\n\n",
    "event: error\ndata: {}\n\n",
    ": comment\n\n",
    "مرحبا، كيف يمكنني مساعدتك؟",
    "שלום עולם",
    "abc \u202eRTL override\u202c def",
    "👋🏽 👨\u200d👩\u200d👧\u200d👦 🇫🇷",
    "e\u0301 n\u0303 Å",
    "\ufeffBOM first",
    "line\u2028separator\u2029paragraph\x85nel",
    "\x00\x01\x07\x08\t\x0b\x0c\x1b\x1f\x7f",
    '{"looks": ["like", "json"]}',
    "\\u0000 is not an escape here",
    "日本語のテキストです。",
)
_TEXT_TABLE = (*_SENTENCES, *_EDGE_TEXTS)
_REPEATED = ("lorem ipsum ", "日本語のテキスト", "🙂", "שלום עולם ")


def _long(piece: str) -> str:
    return piece * (3000 // len(piece))  # a few KB


# One integer picks a table entry, "any unicode" or a long text (70/20/10 %): a single draw in the common case,
# and small values (the shrink target) are the plainest texts. A caller may add an alternative (say, a list of
# content parts), picked by the last few values.
_UNICODE_PICKS = 8
_ALTERNATIVE_PICKS = 4


@st.composite
def _texts(
    draw: st.DrawFn,
    picks: st.SearchStrategy[int],
    table: tuple[str, ...],
    any_text: st.SearchStrategy[str],
    alternative: st.SearchStrategy[Any] | None,
) -> Any:
    pick = draw(picks)
    if pick < len(table):
        return table[pick]
    pick -= len(table)
    if pick < _UNICODE_PICKS:
        return draw(any_text)
    pick -= _UNICODE_PICKS
    if pick < len(_REPEATED):
        return _long(_REPEATED[pick])
    assert alternative is not None
    return draw(alternative)


def _text_strategy(
    table: tuple[str, ...], any_text: st.SearchStrategy[str], alternative: st.SearchStrategy[Any] | None = None
) -> st.SearchStrategy[Any]:
    count = len(table) + _UNICODE_PICKS + len(_REPEATED) + (_ALTERNATIVE_PICKS if alternative is not None else 0)
    return _texts(st.integers(0, count - 1), table, any_text, alternative)


def texts() -> st.SearchStrategy[str]:
    """Message text: ordinary sentences first (shrinks to ``""``), edge cases, any unicode, or long texts."""
    # The default alphabet of st.text excludes surrogates, which JSON cannot carry.
    return _text_strategy(_TEXT_TABLE, st.text(max_size=24))


def texts_or(alternative: st.SearchStrategy[T]) -> st.SearchStrategy[str | T]:
    """``texts()``, or now and then (about 1 in 11) a value of ``alternative``: one draw for the common case."""
    return _text_strategy(_TEXT_TABLE, st.text(max_size=24), alternative)


def short_texts() -> st.SearchStrategy[str]:
    """Names, reasons, small results: a sentence or arbitrary unicode, never very long."""
    return _text_strategy(_SENTENCES, st.text(max_size=12))


# --- tools and JSON --------------------------------------------------------------------------------------------

TOOL_NAMES = (
    "web_search",
    "get_weather",
    "send_message",
    "run_code",
    "memory_insert",
    "memory_replace",
    "conversation_search",
    "archival_memory_search",
    "fetch_webpage",
    # Unusual but valid identifiers: one letter, digits and underscores, very long, a client tool's style.
    "x",
    "tool_2",
    "get_weather_v2__beta",
    "a_tool_name_that_is_much_longer_than_most_clients_expect_to_render_in_one_line",
    "client_side_confirm_payment",
)


def tool_names() -> st.SearchStrategy[str]:
    """Plausible tool names: Letta's built-ins first, then unusual but valid identifiers."""
    return st.sampled_from(TOOL_NAMES)


# Keys: the usual argument names, then edge cases (empty, Cyrillic, emoji, space, newline). One choice each, and
# no uniqueness bookkeeping: objects are built from (key, value) pairs, a repeated key keeps its last value.
_JSON_KEYS = st.sampled_from(("query", "city", "location", "limit", "code", "content", "", "ключ", "🔑", "a b", "\n"))
_JSON_SCALARS = choice(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),  # NaN and infinities are not JSON
    short_texts(),
)


def _objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(st.tuples(_JSON_KEYS, values), max_size=3).map(dict)


# Arguments a model typically sends, simplest first: one choice each.
_TYPICAL_ARGUMENTS: tuple[dict[str, Any], ...] = (
    {},
    {"query": "weather Paris"},
    {"city": "Paris", "units": "metric"},
    {"label": "human", "content": "Prefers metric units.", "insert_line": 0},
    {"code": "print(6 * 7)", "language": "python"},
    {"url": "https://example.com", "max_chars": 2000, "follow_links": False},
    {"query": "lunch", "limit": 5, "tags": ["food", "paris"], "filters": {"after": "2025-06-01", "score": 0.5}},
)


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, nested a few levels."""
    return st.recursive(
        _JSON_SCALARS, lambda children: st.lists(children, max_size=3) | _objects(children), max_leaves=4
    )


TYPICAL_ARGUMENTS_JSON = tuple(json.dumps(arguments) for arguments in _TYPICAL_ARGUMENTS)
# Typical arguments seven times out of eight (one draw), any nested object otherwise.
_ARGUMENT_PICKS = st.integers(0, 8 * len(_TYPICAL_ARGUMENTS) - 1)


@st.composite
def _json_objects(draw: st.DrawFn, generated: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    pick = draw(_ARGUMENT_PICKS)
    if pick < 7 * len(_TYPICAL_ARGUMENTS):
        # A fresh copy: a test that mutates a drawn value must not change the table for later draws.
        fresh: dict[str, Any] = json.loads(TYPICAL_ARGUMENTS_JSON[pick % len(_TYPICAL_ARGUMENTS)])
        return fresh
    return draw(generated)


def generated_objects() -> st.SearchStrategy[dict[str, Any]]:
    """Any JSON object, values nested a few levels (``st.recursive``)."""
    return _objects(json_values())


def json_objects() -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object: typical tool arguments (cheap, readable, the shrink target), or any object, nested."""
    return _json_objects(generated_objects())


def tool_arguments() -> st.SearchStrategy[str]:
    """A tool call's ``arguments``: a JSON object as ``json.dumps`` writes it (``": "``, ``", "``), or ``{}``."""
    return json_objects().map(json.dumps)
