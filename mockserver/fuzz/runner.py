"""One fuzz run: a Letta document, schemathesis' engine with our transport and checks, its console output, reports.

The rule: schemathesis does the work (generation, phases, its checks, its console output and JUnit report); this
module checks the options (a usage error before anything is sent), checks the server answers, provides real
resources (``resources``), has ``schema.letta_schema`` prepare the rest, runs the engine with schemathesis' console
output and JUnit report beside our ``report.Tally``, and returns the exit status: 0 nothing failed, 1 failures,
2 a usage or connection error (or nothing could be tested).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.fuzz import MESSAGES_OPERATIONS, PHASES
from mockserver.fuzz.bounds import CaseBudget
from mockserver.fuzz.document import DocumentUnreachable, FuzzError
from mockserver.fuzz.resources import Resources
from mockserver.fuzz.streams import StreamBounds

__all__ = ["FuzzOptions", "fuzz"]


@dataclass(frozen=True)
class FuzzOptions:
    url: str
    spec: str = "letta"  # a file, a URL, "letta" (the server's own /openapi.json) or "mock" (ours)
    operations: tuple[str, ...] = MESSAGES_OPERATIONS  # operationIds; () for every operation of the document
    checks: tuple[str, ...] = ("all",)
    exclude_checks: tuple[str, ...] = ()
    max_examples: int = 20  # cases per operation in the examples, coverage and fuzzing phases; stateful scenarios
    max_cases: int | None = None  # requests in all: the run stops at the last
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
    replay: str | None = None  # a failure's case id: replay it instead of running (``replay``)
    replay_command: Callable[[str], str] | None = None  # the command replaying a failure, given its case id


def _reachable(url: str) -> None:
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/v1/health/", timeout=10)
    except httpx.HTTPError as error:
        raise FuzzError(f"cannot connect to {url}: {error}") from None


def _events(schema: Any, location: str, budget: CaseBudget | None) -> Generator[Any, None, None]:
    from schemathesis.cli.events import LoadingFinished, LoadingStarted
    from schemathesis.engine import from_schema

    started = LoadingStarted(location=location)
    yield started
    yield LoadingFinished.from_schema(schema, location=location, start_time=started.timestamp,
                                      base_url=schema.get_base_url())  # fmt: skip
    from schemathesis.engine import Status
    from schemathesis.engine.events import EngineFinished, PhaseFinished, PhaseStarted

    engine = from_schema(schema).execute()
    if budget is not None:
        budget.stop = engine.stop  # the last request of the budget stops the engine before the next case
    open_phase = None
    for event in engine:
        if isinstance(event, PhaseStarted):
            open_phase = event.phase
        elif isinstance(event, PhaseFinished):
            open_phase = None
        elif isinstance(event, EngineFinished) and open_phase is not None:
            # A request past the budget (one more of the case in flight: a check's own request) interrupts the
            # engine inside a phase, which then never reports its end; schemathesis' console needs it to.
            yield PhaseFinished(phase=open_phase, status=Status.INTERRUPTED, payload=None)
        yield event


def _skips(handler: Any, event: Any) -> bool:
    """An end of the probing phase that schemathesis' console never saw begin: it asserts on one (its other phases'
    ends check for themselves). A guard, as for the end ``_events`` makes up for a phase the budget interrupted: the
    console has nothing of it to close, the other handlers still get it. (The failure once blamed on load came from
    two copies of schemathesis' event classes in one test process: ``tests/test_fuzz_cli.py`` says how.)"""
    from schemathesis.cli.commands.run.handlers.output import OutputHandler
    from schemathesis.engine.events import PhaseFinished
    from schemathesis.engine.run import PhaseName

    return (
        isinstance(handler, OutputHandler)
        and isinstance(event, PhaseFinished)
        and event.phase.name == PhaseName.PROBING
        and handler.probing_manager is None
    )


def fuzz(options: FuzzOptions) -> int:
    """Run ``options``; the exit status. Prints schemathesis' console output and our summary to stdout."""
    try:
        return _fuzz(options)
    except FuzzError as error:
        print(f"letta-mock fuzz: error: {error}", file=sys.stderr)
        return 2


def _fuzz(options: FuzzOptions) -> int:
    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.commands.run.handlers.crashes import CrashHandler
    from schemathesis.cli.commands.run.handlers.junitxml import JunitXMLHandler
    from schemathesis.cli.commands.run.handlers.output import OutputHandler
    from schemathesis.cli.constants import ExitCode

    from mockserver.fuzz.document import link_pairs
    from mockserver.fuzz.replay import crash_directory
    from mockserver.fuzz.report import Tally
    from mockserver.fuzz.resources import provide
    from mockserver.fuzz.schema import letta_schema
    from mockserver.fuzz.transport import contract_of

    budget = CaseBudget(options.max_cases) if options.max_cases is not None else None

    def schema_with(parameters: dict[str, str]) -> Any:
        return letta_schema(
            options.url,
            spec=options.spec,
            headers=options.headers,
            auth=options.auth,
            operations=options.operations,
            checks=options.checks,
            exclude_checks=options.exclude_checks,
            phases=options.phases,
            max_examples=options.max_examples,
            seed=options.seed,
            stream=options.stream,
            parameters=parameters,
            workers=options.workers,
            request_timeout=options.request_timeout,
            shrink=options.shrink,
            budget=budget,
        )

    try:
        checked = schema_with({})  # a usage error is one before anything is sent or created
    except DocumentUnreachable:
        _reachable(options.url)  # a server that does not answer is the reason its document could not be read
        raise
    _reachable(options.url)
    if options.replay is not None:
        from mockserver.fuzz.replay import replay

        return replay(checked, options.url, options.replay)
    headers = dict(options.headers)
    if options.auth is not None:
        headers["Authorization"] = f"Bearer {options.auth}"
    with provide(options.url, options.resources, headers=headers, create=options.create_resources,
                 model=options.model, embedding=options.embedding) as resources:  # fmt: skip
        schema = schema_with(resources.parameters())
        contract = contract_of(schema)
        location = contract.source if contract is not None else str(options.spec)
        project = schema.config
        rerun = options.rerun(project.seed) if options.rerun is not None else None
        tally = Tally(target=options.url, document=location, seed=project.seed, rerun=rerun, json_paths=options.json,
                      notes=resources.notes, budget=budget, our_links=link_pairs(schema.raw_schema),
                      replay=options.replay_command)  # fmt: skip
        # Each failure's requests are kept for `--replay` (replay.crash_directory), not where the run runs.
        crashes = CrashHandler(cache_directory=crash_directory(options.url), schema_location=location,
                               base_url=options.url, tls_verify=project.tls_verify,
                               sanitization=project.output.sanitization)  # fmt: skip
        handlers: list[Any] = [tally, *(JunitXMLHandler(path) for path in options.junit), crashes,
                               OutputHandler(config=project)]  # fmt: skip
        ctx = ExecutionContext(config=project)
        stream = _events(schema, location, budget)
        try:
            for handler in handlers:
                handler.start(ctx)
            for event in stream:
                ctx.on_event(event)
                for handler in handlers:
                    if not _skips(handler, event):
                        handler.handle_event(ctx, event)
        except KeyboardInterrupt:
            ctx.exit_code = ExitCode.INTERRUPTED
        finally:
            stream.close()
            for handler in handlers:
                handler.shutdown(ctx)
        if budget is not None and budget.spent and ctx.exit_code == ExitCode.INTERRUPTED:
            # Stopped by --max-cases, not by the user: the verdict is what the cases sent found.
            return int(ExitCode.FAILURES if ctx.statistic.failures else ExitCode.OK)
        return int(ctx.exit_code)
