"""How one mock server behaves — its settings, in one table. Immutable once the app is built.

``MockConfig``'s fields are the table: a field is one setting, its row (``setting(...)``) says its default, what it
does, how a value is checked, and where else it is offered. ``create_app``'s keywords are these fields,
``letta-mock serve``'s options are the rows with a ``serve`` flag, and the pytest plugin's settings the rows with a
``plugin`` parser (``SETTINGS`` lists them). To add a setting: one field here, and read it where it acts
(``app.state.config``).

Rule: this module imports nothing heavy at the top — the pytest plugin reads the table when pytest starts — so the
checks import what they need when they run.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mockserver.control import Controls

__all__ = [
    "CREATED_TOOL_MS", "SETTINGS", "Fidelity", "Flag", "MockConfig", "Setting", "host_name", "web_origins", "words",
]  # fmt: skip

Fidelity = Literal["contract", "server"]
# A server tool of an agent a client created runs this long (ms) unless the turn's tool_ms control says otherwise.
# Letta runs a tool's code in a sandbox (a fresh process): against its stub LLM a turn calling one took 3.3-4.5 s on
# a 2-core machine where a plain turn took 0.2-0.3 s. Two seconds keeps that order, so a client can cancel such a
# run in flight (Letta's own tests cancel 0.5 s and 1.5 s after starting one), while turns without a server tool,
# and every turn of the open world's agents, stay instant.
CREATED_TOOL_MS = 2000


def _fail(message: str) -> Exception:
    from mockserver.errors import ConfigurationError

    return ConfigurationError(message)


def words(text: str) -> list[str]:
    """Values given as text (a command-line or ini value): separated by spaces or commas."""
    return text.replace(",", " ").split()


@dataclass(frozen=True)
class Flag:
    """How ``letta-mock serve`` offers a setting: ``--<name-with-dashes>`` unless ``option`` says otherwise, with
    argparse's ``type``, ``nargs``, ``action``, ``choices`` and ``metavar`` as given; ``env``: the environment
    variable its default comes from."""

    option: str | None = None
    help: str | None = None  # the command line's own words, when the setting's help does not fit there
    env: str | None = None
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(
        cls, option: str | None = None, *, help: str | None = None, env: str | None = None, **arguments: Any
    ) -> Flag:
        return cls(option, help, env, arguments)


@dataclass(frozen=True)
class Setting:
    """One row of the table (a field of ``MockConfig``)."""

    name: str
    default: Any
    help: str
    check: Callable[[Any], Any] | None  # the value as the server keeps it; raises ConfigurationError naming the fix
    serve: Flag | None  # ``letta-mock serve``'s option (None: not on the command line)
    plugin: Callable[[str], Any] | None  # parses the plugin's ``--letta-mock-<name>`` and ini text (None: not there)


def setting(
    default: Any,
    help: str,
    *,
    check: Callable[[Any], Any] | None = None,
    serve: Flag | None = None,
    plugin: Callable[[str], Any] | None = None,
) -> Any:
    """A ``MockConfig`` field: a setting's row."""
    row = Setting("", default, help, check, serve, plugin)
    return dataclasses.field(default=default, metadata={"setting": row})


# -- the checks ---------------------------------------------------------------------------------------------------


def _fidelity(value: Any) -> Fidelity:
    if value not in ("contract", "server"):
        raise _fail(f"fidelity must be 'contract' or 'server', not {value!r}")
    return value  # type: ignore[no-any-return]


def _agents(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from mockserver.models import AGENT_ID_PATTERN

    chosen = tuple(value)
    for agent_id in chosen:
        if not re.match(AGENT_ID_PATTERN, agent_id):
            raise _fail(f"{agent_id!r} is not an agent id: expected 'agent-<uuid4>' in lower case")
    return chosen


def _positive(value: int) -> int:
    if value <= 0:
        raise _fail(f"max_body_bytes must be positive, not {value}")
    return value


def _token(value: str | None) -> str | None:
    if value is not None and (not value or not all("!" <= c <= "~" for c in value)):
        raise _fail("auth_token must be visible ASCII characters without spaces (a header carries it)")
    return value


def web_origins(origins: Iterable[str] | None) -> tuple[str, ...]:
    """Origins browsers may call from besides loopback ones, checked (``ConfigurationError``)."""
    chosen = () if origins is None else tuple(origins)
    for origin in chosen:
        # "null": what a page opened from disk sends, and sandboxed frames of any site; allowed only when named.
        if origin not in ("*", "null") and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise _fail(f"cors origin {origin!r}: expected scheme://host[:port] (no path), 'null' or '*'")
    return chosen


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*\.?")  # a host name, or *.name (lower case)


def host_name(value: str) -> str:
    """An allowed host as the Host check compares it (``mockserver.allowlists``): lower case, IPv6 addresses in
    brackets; ``ConfigurationError`` for anything else."""
    name = value.strip().lower()
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if name == "*" or _HOST_NAME.fullmatch(name):
            return name
        raise _fail(
            f"allowed host {value!r}: expected a host name ('example.test', '*.example.test'), an IP address or "
            "'*', without scheme or port (every port of an allowed name is answered)"
        ) from None
    return f"[{address}]" if address.version == 6 else str(address)


def _host_names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    names = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    return tuple(host_name(name) for name in names)


def _controls(value: str | dict[str, Any] | Controls | None) -> Controls:
    from mockserver.control import Controls, parse_controls
    from mockserver.errors import ControlError

    if isinstance(value, Controls):
        return value
    try:
        return parse_controls(value, where="controls")
    except ControlError as error:
        raise _fail(str(error.detail)) from None


def _created_tool_ms(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(f"created_tool_ms must be whole milliseconds >= 0, not {value!r}")
    return value


def _journal_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"journal_size must be a whole number >= 1, not {value!r}")
    return value


def _paths(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None or (not isinstance(value, str) and not value):
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _on_miss(value: str | None) -> str | None:
    if value not in (None, "error", "synthesize"):
        raise _fail(f"on_miss must be 'error' or 'synthesize', not {value!r}")
    return value


def _rules(value: str | os.PathLike[str] | Iterable[Any] | None) -> tuple[Any, ...]:
    """Rule files and rules as given: one file, or a list of them and of rules (read when the app is built)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str | os.PathLike) else tuple(value)


# -- the table ----------------------------------------------------------------------------------------------------

_TOKEN_ENV = "LETTA_MOCK_AUTH_TOKEN"


@dataclass(frozen=True)
class MockConfig:
    """Settings of a mock server. ``agents`` None is the open world (any well-formed id names a resource); a tuple
    closes the world to those agents, as a real server with those agents would. ``fidelity="server"`` adds the real
    server's quirks (``rules.Rules``)."""

    seed: int | None = setting(
        None, "make ids and dates reproducible", serve=Flag.of(type=int), plugin=int,
    )  # fmt: skip
    fidelity: Fidelity = setting(
        "contract", "'contract' (default): the OpenAPI document's behaviour; 'server': the real server's quirks",
        check=_fidelity, serve=Flag.of(choices=("contract", "server")), plugin=str,
    )  # fmt: skip
    agents: tuple[str, ...] | None = setting(
        None, "close the world to these agent ids (default: any well-formed agent-<uuid4> exists)", check=_agents,
        serve=Flag.of(nargs="+", metavar="ID"), plugin=words,
    )  # fmt: skip
    max_body_bytes: int = setting(8 * 1024 * 1024, "a larger request body is a 413", check=_positive)
    auth_token: str | None = setting(
        None, "answer only callers sending 'Authorization: Bearer TOKEN' (the SDKs' api_key); everything else, the "
        "admin API and dashboard included, gets 401", check=_token,
        serve=Flag.of(metavar="TOKEN", env=_TOKEN_ENV), plugin=str,
    )  # fmt: skip
    cors_origins: tuple[str, ...] = setting(
        (), "web pages' origins answered besides loopback ones, e.g. https://app.example.test; 'null' for a page "
        "opened from disk, '*' for any (default: pages on localhost, 127.0.0.1 and [::1], any port)",
        check=web_origins, plugin=words,
        serve=Flag.of("--cors-origin", action="append", metavar="ORIGIN",
                      help="a web page's origin that may call it besides loopback ones, e.g. https://app.example.test; "
                      "repeatable; 'null' for a page opened from disk, '*' for any (default: pages on localhost, "
                      "127.0.0.1 and [::1], any port)"),
    )  # fmt: skip
    # Acts where the app is served on a socket (``letta-mock serve``, ``LiveServer``: mockserver.allowlists); an
    # in-process client has no socket a browser could reach, so it is not checked there.
    allowed_hosts: tuple[str, ...] = setting(
        (), "Host names answered besides localhost, 127.0.0.1, [::1] and the bound address (against DNS rebinding), "
        "e.g. mock.example.test or *.example.test; '*' turns the check off", check=_host_names,
        serve=Flag.of("--allowed-host", action="append", metavar="NAME",
                      help="a Host name to answer besides localhost, 127.0.0.1, [::1] and the --host address (against "
                      "DNS rebinding), e.g. mock.example.test or *.example.test; repeatable; '*' turns the check off"),
    )  # fmt: skip
    controls: Controls | None = setting(
        None, "default turn controls, the X-Letta-Mock header's grammar (e.g. 'token_delay_ms=20; fault=no_done')",
        check=_controls, serve=Flag.of("--control", metavar="'KEY=VALUE; ...'"), plugin=str,
    )  # fmt: skip
    created_tool_ms: int = setting(
        CREATED_TOOL_MS, "how long (ms) a server tool of an agent a client created runs, so a run can be cancelled "
        "in flight (Letta's sandbox order of time; 0: instant)", check=_created_tool_ms,
        serve=Flag.of(type=int, metavar="MS"), plugin=int,
    )  # fmt: skip
    journal_size: int = setting(
        1000, "exchanges the request journal keeps, oldest dropped first", check=_journal_size,
        serve=Flag.of(type=int, metavar="N"), plugin=int,
    )  # fmt: skip
    admin: bool = setting(
        True, "the /_mock/ admin API and dashboard",
        serve=Flag.of("--no-admin", action="store_false", help="leave out the /_mock/ admin API and dashboard"),
    )  # fmt: skip
    freeze_gc: bool = setting(False, "keep stored state out of full garbage collections (a long-running server)")
    # Record and replay (mockserver.recording, docs/fixtures.md); checked when fixtures are given.
    fixtures: tuple[str, ...] | None = setting(
        None, "replay recorded exchanges: a directory, a fixture or HAR file, or a curated fixture's name "
        "(`letta-mock fixtures list`); repeatable", check=_paths,
        serve=Flag.of(action="append", metavar="PATH"), plugin=words,
    )  # fmt: skip
    replay_speed: float = setting(
        1.0, "replayed timing: 1 (default) as recorded, 2 twice as fast, 0 as fast as possible",
        serve=Flag.of(type=float, metavar="X"), plugin=float,
    )  # fmt: skip
    # Record and replay, and authored turns, share what a miss is (mockserver.recording, mockserver.authored).
    on_miss: str | None = setting(
        None, "a request no fixture (or send no rule) matches: 'error' (a 404 naming the nearest recording or rule) "
        "or 'synthesize' (default: error for fixtures, synthesize for rules)", check=_on_miss,
        serve=Flag.of(choices=("error", "synthesize")), plugin=str,
    )  # fmt: skip
    # Authored turns (mockserver.authored, docs/authored.md); read and checked when the app is built.
    rules: tuple[Any, ...] = setting(
        (), "authored turns matched to requests: YAML or JSON rule files (re-read when they change), or rules (dicts "
        "or MatchRule objects); consulted in order before synthesis", check=_rules, plugin=words,
        serve=Flag.of(action="append", metavar="FILE",
                      help="authored turns matched to requests, a YAML or JSON rule file (docs/authored.md), re-read "
                      "when it changes; repeatable, consulted in order"),
    )  # fmt: skip

    @classmethod
    def build(cls, **settings: Any) -> MockConfig:
        """The settings given, checked (``ConfigurationError`` naming what is wrong), the rest at their defaults.
        An unknown name is a ``TypeError``, as a keyword argument a function does not take is."""
        unknown = sorted(set(settings) - {row.name for row in SETTINGS})
        if unknown:
            close = get_close_matches(unknown[0], [row.name for row in SETTINGS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"create_app() got an unexpected keyword argument {unknown[0]!r}{hint}")
        values = {}
        for row in SETTINGS:
            value = settings.get(row.name, row.default)
            values[row.name] = row.check(value) if row.check is not None else value
        return cls(**values)


SETTINGS: tuple[Setting, ...] = tuple(
    dataclasses.replace(field.metadata["setting"], name=field.name) for field in dataclasses.fields(MockConfig)
)
