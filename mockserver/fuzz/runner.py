"""One fuzz run: a Letta document, schemathesis' engine with our transport and checks, its console output, reports.

The rule: schemathesis does the work (generation, phases, its checks, its console output and JUnit report); this
module prepares what it is given — the document with our links and the credentials rule, the configuration, real
resources, our transport — and returns the exit status: 0 nothing failed, 1 failures, 2 a usage or connection
error (or nothing could be tested).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.fuzz.document import FuzzError
from mockserver.fuzz.resources import Resources
from mockserver.fuzz.streams import StreamBounds

__all__ = ["MESSAGES_OPERATIONS", "PHASES", "FuzzOptions", "fuzz"]

# The messages API of Letta: the operations letta-mock serves, by operationId, in both documents.
MESSAGES_OPERATIONS = (
    "send_message", "list_messages", "create_agent_message_stream", "cancel_message", "create_agent_message_async",
    "reset_messages", "summarize_messages", "send_conversation_message", "list_conversation_messages",
    "retrieve_conversation_stream", "compact_conversation", "list_messages_for_run", "retrieve_stream_for_run",
    "list_all_messages", "retrieve_message", "search_all_messages", "retrieve_run",
)  # fmt: skip
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass(frozen=True)
class FuzzOptions:
    url: str
    spec: str | None = None  # a file or URL; None: our own document
    operations: tuple[str, ...] = MESSAGES_OPERATIONS  # operationIds; () for every operation of the document
    checks: tuple[str, ...] = ("all",)
    max_examples: int = 20
    seed: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: str | None = None
    phases: tuple[str, ...] = PHASES
    stream: StreamBounds = field(default_factory=StreamBounds)
    workers: int = 1
    junit: tuple[Path, ...] = ()
    json: tuple[Path, ...] = ()
    resources: Resources = field(default_factory=Resources)
    create_resources: bool = True
    model: str | None = None
    embedding: str | None = None
    request_timeout: float = 30.0
    shrink: bool = True  # minimise failing cases (schemathesis' default)
    rerun: Callable[[int | None], str] | None = None  # the command running the same cases again, given the seed


def _config(options: FuzzOptions, bearer: list[str], resources: Resources) -> Any:
    import schemathesis

    unknown = set(options.phases) - set(PHASES)
    if unknown:
        raise FuzzError(f"--phases: unknown {', '.join(sorted(unknown))} (choose from {', '.join(PHASES)})")
    data: dict[str, Any] = {
        "base-url": options.url,
        "headers": dict(options.headers),
        "workers": options.workers,
        "generation": {"max-examples": options.max_examples, "no-shrink": not options.shrink},
        "phases": {phase: {"enabled": phase in options.phases} for phase in PHASES},
        "max-stream-events": options.stream.max_events + 1,
        "request-timeout": options.request_timeout,
        "cache": {"enabled": False},
        "checks": _checks(options.checks, authenticated=options.auth is not None),
    }
    if options.seed is not None:
        data["seed"] = options.seed
    if bearer and options.auth is not None:
        data["auth"] = {"openapi": {name: {"bearer": options.auth} for name in bearer}}
    if resources.parameters():
        data["parameters"] = resources.parameters()
    try:
        return schemathesis.Config.from_dict(data)
    except Exception as error:  # schemathesis' ConfigError, or the validation of its config schema
        raise FuzzError(f"invalid options: {error}") from None


def _checks(names: Sequence[str], *, authenticated: bool) -> dict[str, Any]:
    import schemathesis.specs.openapi.checks  # noqa: F401 - registers schemathesis' OpenAPI checks
    from schemathesis.checks import CHECKS

    import mockserver.fuzz.checks  # noqa: F401 - registers ours

    known = set(CHECKS.get_all_names()) | {"max_response_time"}
    unknown = set(names) - known - {"all"}
    if unknown:
        raise FuzzError(f"--checks: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    everything = "all" in names
    config: dict[str, Any] = {name: {"enabled": everything or name in names} for name in sorted(known)}
    config.pop("max_response_time")
    # A server that accepts any credentials is no failure unless a token was given to hold it to.
    if not authenticated:
        config["ignored_auth"] = {"enabled": False}
    return config


def _reachable(url: str) -> None:
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/v1/health/", timeout=10)
    except httpx.HTTPError as error:
        raise FuzzError(f"cannot connect to {url}: {error}") from None


def _events(schema: Any, location: str) -> Generator[Any, None, None]:
    from schemathesis.cli.events import LoadingFinished, LoadingStarted
    from schemathesis.engine import from_schema

    started = LoadingStarted(location=location)
    yield started
    yield LoadingFinished.from_schema(schema, location=location, start_time=started.timestamp,
                                      base_url=schema.get_base_url())  # fmt: skip
    yield from from_schema(schema).execute()


def fuzz(options: FuzzOptions) -> int:
    """Run ``options``; the exit status. Prints schemathesis' console output and our summary to stdout."""
    try:
        return _fuzz(options)
    except FuzzError as error:
        print(f"letta-mock fuzz: error: {error}", file=sys.stderr)
        return 2


def _fuzz(options: FuzzOptions) -> int:
    import schemathesis
    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.commands.run.handlers.junitxml import JunitXMLHandler
    from schemathesis.cli.commands.run.handlers.output import OutputHandler
    from schemathesis.cli.constants import ExitCode

    from mockserver.fuzz.document import (
        add_examples,
        add_links,
        credentials,
        load_document,
        operation_ids,
        state_union_rules,
    )
    from mockserver.fuzz.report import Tally
    from mockserver.fuzz.resources import provide
    from mockserver.fuzz.transport import bind

    document, location = load_document(options.spec, options.headers)
    add_links(document)
    add_examples(document)
    state_union_rules(document)
    bearer = credentials(document, options.auth)
    _reachable(options.url)
    headers = dict(options.headers)
    if options.auth is not None:
        headers["Authorization"] = f"Bearer {options.auth}"
    with provide(options.url, options.resources, headers=headers, create=options.create_resources,
                 model=options.model, embedding=options.embedding) as resources:  # fmt: skip
        config = _config(options, bearer, resources)
        schema: Any
        try:
            schema = schemathesis.openapi.from_dict(document, config=config)
        except Exception as error:  # an invalid document
            raise FuzzError(f"cannot use the document {location}: {error}") from None
        if options.operations:
            missing = set(options.operations) - set(operation_ids(document))
            if missing:
                raise FuzzError(f"--operations: not in {location}: {', '.join(sorted(missing))}")
            schema = schema.include(operation_id=list(options.operations))
        bind(schema, options.stream)
        project = schema.config
        rerun = options.rerun(project.seed) if options.rerun is not None else None
        tally = Tally(target=options.url, document=location, seed=project.seed, rerun=rerun, json_paths=options.json,
                      notes=resources.notes)  # fmt: skip
        handlers: list[Any] = [tally, *(JunitXMLHandler(path) for path in options.junit), OutputHandler(config=project)]
        ctx = ExecutionContext(config=project)
        stream = _events(schema, location)
        try:
            for handler in handlers:
                handler.start(ctx)
            for event in stream:
                ctx.on_event(event)
                for handler in handlers:
                    handler.handle_event(ctx, event)
        except KeyboardInterrupt:
            ctx.exit_code = ExitCode.INTERRUPTED
        finally:
            stream.close()
            for handler in handlers:
                handler.shutdown(ctx)
        return int(ctx.exit_code)
