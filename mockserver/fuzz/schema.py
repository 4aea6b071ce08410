"""``letta_schema``: a schemathesis schema ready to fuzz a Letta server, for the CLI and for pytest.

The rule: the document is prepared (``document``: links, streaming examples, union rules, the credentials rule),
loaded by schemathesis with a configuration built from the options, narrowed to the operations asked for, and
bound to our transport (``transport.bind``); our checks are registered. What schemathesis does with it is its own.

    schema = letta_schema("http://127.0.0.1:8283")   # its own /openapi.json, the 17 messages operations, every check
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.contract.names import LETTA
from mockserver.fuzz import MESSAGES_OPERATIONS, PHASES
from mockserver.fuzz.bounds import CaseBudget, limit_examples
from mockserver.fuzz.document import (
    FuzzError,
    add_examples,
    add_links,
    bound_limits,
    credentials,
    load_document,
    operation_ids,
    state_union_rules,
)
from mockserver.fuzz.streams import StreamBounds
from mockserver.fuzz.transport import bind

__all__ = ["letta_schema", "prepare"]


def prepare(document: dict[str, Any], *, auth: str | None) -> list[str]:
    """Make ``document`` (in place) what the fuzzer needs; the names of its bearer schemes."""
    add_links(document)
    add_examples(document)
    state_union_rules(document)
    bound_limits(document)
    return credentials(document, auth)


def _checks(names: Sequence[str], excluded: Sequence[str], *, authenticated: bool) -> dict[str, Any]:
    import schemathesis.specs.openapi.checks  # noqa: F401 - registers schemathesis' OpenAPI checks
    from schemathesis.checks import CHECKS

    import mockserver.fuzz.checks  # noqa: F401 - registers ours

    known = set(CHECKS.get_all_names())
    unknown = (set(names) | set(excluded)) - known - {"all"}
    if unknown:
        raise FuzzError(f"--checks: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    config: dict[str, Any] = {
        name: {"enabled": ("all" in names or name in names) and name not in excluded} for name in sorted(known)
    }
    # A server that accepts any credentials is no failure unless a token was given to hold it to.
    if not authenticated:
        config["ignored_auth"] = {"enabled": False}
    return config


def letta_schema(
    base_url: str,
    *,
    spec: str = LETTA,
    headers: Mapping[str, str] | None = None,
    auth: str | None = None,
    operations: Sequence[str] = MESSAGES_OPERATIONS,
    checks: Sequence[str] = ("all",),
    exclude_checks: Sequence[str] = (),
    phases: Sequence[str] = PHASES,
    max_examples: int = 20,
    seed: int | None = None,
    stream: StreamBounds | None = None,
    parameters: Mapping[str, str] | None = None,
    workers: int = 1,
    request_timeout: float = 30.0,
    shrink: bool = True,
    budget: CaseBudget | None = None,
) -> Any:
    """A schemathesis schema of the Letta server at ``base_url``: ``spec`` (a file, a URL, ``"letta"`` — the
    server's own ``/openapi.json``, the default — or ``"mock"``, letta-mock's own document), ``operations`` by
    operationId (``()``: all), schemathesis' and our ``checks`` (but ``exclude_checks``), streams read within
    ``stream``'s bounds, at most ``max_examples`` cases per operation in the examples, coverage and fuzzing phases
    and ``max_examples`` stateful scenarios (``bounds``). ``parameters`` fix path parameters
    (``{"path.agent_id": "agent-…"}``); ``budget`` bounds the requests of a whole run (the CLI's ``--max-cases``).
    Raises ``FuzzError`` for what cannot be used."""
    import schemathesis

    unknown = set(phases) - set(PHASES)
    if unknown:
        raise FuzzError(f"--phases: unknown {', '.join(sorted(unknown))} (choose from {', '.join(PHASES)})")
    enabled_checks = _checks(checks, exclude_checks, authenticated=auth is not None)  # before the server is asked
    bounds = stream or StreamBounds()
    document, location = load_document(spec, dict(headers or {}), base_url)
    bearer = prepare(document, auth=auth)
    missing = set(operations) - set(operation_ids(document))
    if missing:
        raise FuzzError(f"--operations: not in {location}: {', '.join(sorted(missing))}")
    data: dict[str, Any] = {
        "base-url": base_url.rstrip("/"),
        "headers": dict(headers or {}),
        "workers": workers,
        # No example database and no cache: a run is its seed, and nothing is written where it runs (the cache
        # would replay earlier runs' requests, and make schemathesis suggest `st replay`, which cannot work here).
        "generation": {"max-examples": max_examples, "no-shrink": not shrink, "database": "none"},
        "cache": {"enabled": False},
        "phases": {phase: {"enabled": phase in phases} for phase in PHASES},
        "max-stream-events": bounds.max_events + 1,  # above ours: schemathesis never cuts what we hand it
        "request-timeout": request_timeout,
        # Every distinct flaw of an operation, not only the first: the report is the point of a fuzz run.
        "continue-on-failure": True,
        "checks": enabled_checks,
    }
    if seed is not None:
        data["seed"] = seed
    if bearer and auth is not None:
        data["auth"] = {"openapi": {name: {"bearer": auth} for name in bearer}}
    if parameters:
        data["parameters"] = dict(parameters)
    schema: Any
    try:
        config = schemathesis.Config.from_dict(data)
        schema = schemathesis.openapi.from_dict(document, config=config)
    except Exception as error:  # schemathesis' ConfigError, InvalidSchema, ...
        raise FuzzError(f"cannot fuzz with {location}: {error}") from None
    if operations:
        schema = schema.include(operation_id=list(operations))
    limit_examples(schema, max_examples)
    return bind(schema, bounds, source=location, coverage_limit=max_examples, budget=budget)
