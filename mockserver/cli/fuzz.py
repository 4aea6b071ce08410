"""``letta-mock fuzz URL``: schemathesis against any Letta server, with checks that understand agent streams.

Options map onto ``mockserver.fuzz.runner.FuzzOptions``; the run itself is ``mockserver.fuzz.runner.fuzz``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from mockserver.cli.options import add_header_option

__all__ = ["EPILOG", "add_arguments", "command_of", "replay_command_of", "run"]

EPILOG = """\
examples:
  letta-mock fuzz http://127.0.0.1:8283             # with the server's own document, URL/openapi.json
  letta-mock fuzz http://127.0.0.1:8284 --spec mock --max-examples 5
                                                    # with letta-mock's document (every event stream described)
  letta-mock fuzz https://letta.example --auth "$LETTA_API_KEY" --max-cases 500 \\
      --header 'X-Stainless-Package-Version: 1.12.0' --report junit:fuzz.xml --report json:fuzz.json

checks (all by default; --checks NAME,NAME picks some), besides schemathesis' own:
  letta_stream_events    every stream event as it arrives, against the event union, message_type required
  letta_stream_grammar   framing; one stop_reason, usage_statistics, [DONE] last; token chunks share id and otid;
                         seq_id increasing in background streams
  letta_stream_finished  the stream ends within --stream-timeout / --stream-max-events and closes after [DONE]
  letta_error_shape      422 {"detail": [{loc, msg, type}]}, other 4xx {"detail": ...}
  letta_history          stateful: what a send answered is listed after it; a completed run lists its messages

exit status: 0 nothing failed, 1 failures found, 2 a usage or connection error. docs/fuzz.md says more.
"""


def _report(text: str) -> tuple[str, Path]:
    kind, sep, path = text.partition(":")
    if not sep or kind not in ("junit", "json") or not path:
        raise argparse.ArgumentTypeError(f"expected junit:PATH or json:PATH, got {text!r}")
    return kind, Path(path)


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mockserver.contract.names import LETTA, SPEC_HELP
    from mockserver.fuzz import MESSAGES_OPERATIONS, PHASES

    add = parser.add_argument
    add("url", metavar="URL", help="the Letta server to fuzz, e.g. http://127.0.0.1:8283")
    add(
        "--spec",
        metavar="FILE|URL|letta|mock",
        default=LETTA,
        help=f"the OpenAPI document: {SPEC_HELP} (default: letta)",
    )
    add(
        "--operations",
        metavar="ID,ID",
        type=_names,
        default=MESSAGES_OPERATIONS,
        help=f"operationIds to fuzz, or 'all' (default: the {len(MESSAGES_OPERATIONS)} messages operations)",
    )
    add(
        "--checks",
        metavar="NAME,NAME",
        type=_names,
        default=("all",),
        help="checks to run, schemathesis' and ours (default: all)",
    )
    add("--exclude-checks", metavar="NAME,NAME", type=_names, default=(), help="checks not to run")
    add(
        "--max-examples",
        metavar="N",
        type=_positive(int),
        default=20,
        help="at most N cases per operation in each of the examples, coverage and fuzzing phases, and N stateful "
        "scenarios (of up to 6 requests each); a failure found is then minimised with more (not with --no-shrink) "
        "(default: 20)",
    )
    add(
        "--max-cases",
        metavar="N",
        type=_positive(int),
        default=None,
        help="stop after N requests in all, whatever the phase (default: no limit)",
    )
    add("--seed", metavar="N", type=int, default=None, help="reproduce a run (its seed is printed at its end)")
    add_header_option(parser)
    add(
        "--auth",
        metavar="TOKEN",
        default=None,
        help="a bearer token; then requests without it must also be refused (checked)",
    )
    add(
        "--phases",
        metavar="P,P",
        type=_names,
        default=PHASES,
        help=f"phases to run, of {', '.join(PHASES)} (default: all)",
    )
    add(
        "--stream-timeout",
        metavar="SECONDS",
        type=_positive(float),
        default=30.0,
        help="how long one stream may take to finish (default: 30)",
    )
    add(
        "--stream-max-events",
        metavar="N",
        type=_positive(int),
        default=1000,
        help="how many events one stream may send before [DONE] (default: 1000)",
    )
    add("--workers", metavar="N", type=_positive(int), default=1, help="concurrent workers (default: 1)")
    add(
        "--report",
        metavar="junit:PATH|json:PATH",
        type=_report,
        action="append",
        default=[],
        help="write a report (repeatable)",
    )
    add(
        "--request-timeout",
        metavar="SECONDS",
        type=_positive(float),
        default=30.0,
        help="how long a JSON answer may take (default: 30)",
    )
    add("--no-shrink", action="store_true", help="report failures as found, without minimising them")
    add(
        "--replay",
        metavar="ID",
        default=None,
        help="send the requests of an earlier run's failure ID again and run its checks (a run prints the command "
        "for each failure); exit 1 while it still fails",
    )
    resources = parser.add_argument_group(
        "real resources (default: created through the API when the server offers it, and deleted after)"
    )
    for name in ("agent", "conversation", "run", "message"):
        resources.add_argument(f"--{name}-id", metavar="ID", default=None, help=f"an existing {name} to fuzz with")
    resources.add_argument("--no-create", action="store_true", help="create nothing; ids not given are generated")
    resources.add_argument(
        "--model",
        metavar="HANDLE",
        default=None,
        help="the model of a created agent (default: the first listed, not letta/*)",
    )
    resources.add_argument("--embedding", metavar="HANDLE", default=None, help="the embedding of a created agent")


def _target_of(args: argparse.Namespace) -> list[str]:
    """What a rerun and a replay share: the server, the document, the headers and how answers are read."""
    command = ["letta-mock", "fuzz", args.url]
    if args.spec != "letta":
        command += ["--spec", args.spec]
    for name, value in args.header:
        command += ["--header", f"{name}: {value}"]
    for option, default in (("stream_timeout", 30.0), ("stream_max_events", 1000), ("request_timeout", 30.0)):
        if getattr(args, option) != default:
            command += [f"--{option.replace('_', '-')}", f"{getattr(args, option):g}"]
    return command


def _joined(args: argparse.Namespace, command: list[str]) -> str:
    # The token itself is never printed: the command names it by a variable the user sets.
    return shlex.join(command) + (' --auth "$TOKEN"' if args.auth is not None else "")


def replay_command_of(args: argparse.Namespace, case_id: str) -> str:
    """The command that replays one failure of this run."""
    return _joined(args, [*_target_of(args), "--replay", case_id])


def command_of(args: argparse.Namespace, seed: int | None) -> list[str]:
    """The command that runs the same cases again: these options with this seed."""
    from mockserver.fuzz import MESSAGES_OPERATIONS, PHASES

    command = _target_of(args)
    if tuple(args.operations) != MESSAGES_OPERATIONS:
        command += ["--operations", ",".join(args.operations)]
    if tuple(args.phases) != PHASES:
        command += ["--phases", ",".join(args.phases)]
    if tuple(args.checks) != ("all",):
        command += ["--checks", ",".join(args.checks)]
    if args.exclude_checks:
        command += ["--exclude-checks", ",".join(args.exclude_checks)]
    command += ["--max-examples", str(args.max_examples)]
    if args.max_cases is not None:
        command += ["--max-cases", str(args.max_cases)]
    if seed is not None:
        command += ["--seed", str(seed)]
    for option in ("agent_id", "conversation_id", "run_id", "message_id"):
        if getattr(args, option):
            command += [f"--{option.replace('_', '-')}", getattr(args, option)]
    return command


def run(args: argparse.Namespace) -> int:
    try:
        import schemathesis  # noqa: F401
    except ImportError as error:  # a dependency of letta-mock: only a broken environment lacks it
        print(f"letta-mock fuzz: error: schemathesis cannot be imported ({error}); it comes with letta-mock: "
              "reinstall letta-mock in this environment", file=sys.stderr)  # fmt: skip
        return 2
    from mockserver.fuzz.resources import Resources
    from mockserver.fuzz.runner import FuzzOptions, fuzz
    from mockserver.fuzz.streams import StreamBounds

    options = FuzzOptions(
        url=args.url.rstrip("/"),
        spec=args.spec,
        operations=() if tuple(args.operations) == ("all",) else tuple(args.operations),
        checks=tuple(args.checks),
        exclude_checks=tuple(args.exclude_checks),
        max_examples=int(args.max_examples),
        max_cases=None if args.max_cases is None else int(args.max_cases),
        seed=args.seed,
        headers=dict(args.header),
        auth=args.auth,
        phases=tuple(args.phases),
        stream=StreamBounds(args.stream_timeout, int(args.stream_max_events), min(1.0, args.stream_timeout)),
        workers=int(args.workers),
        junit=tuple(path for kind, path in args.report if kind == "junit"),
        json=tuple(path for kind, path in args.report if kind == "json"),
        resources=Resources(args.agent_id, args.conversation_id, args.run_id, args.message_id),
        create_resources=not args.no_create,
        model=args.model,
        embedding=args.embedding,
        request_timeout=args.request_timeout,
        shrink=not args.no_shrink,
        rerun=lambda seed: _joined(args, command_of(args, seed)),
        replay=args.replay,
        replay_command=lambda case_id: replay_command_of(args, case_id),
    )
    return fuzz(options)
