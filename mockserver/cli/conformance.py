"""``letta-mock conformance URL``: does the mock still answer like your Letta server?

Runs one fixed session of official-SDK calls (``mockserver.conformance.session``, every operation the mock serves)
against the server at URL and against a fresh mock of the ``--fidelity server`` profile, then reports every
difference in status and shape (key paths, JSON types, null or not) per operation. What it creates is named
``letta-mock-conformance-<hex>`` and deleted at its end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mockserver.cli.options import add_header_option

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  letta-mock conformance http://127.0.0.1:8283
  letta-mock conformance https://letta.example --api-key $LETTA_API_KEY --model openai/gpt-4o-mini --json out.json
  letta-mock conformance http://127.0.0.1:8283 --list          # the session's steps, without running them

The server needs a model that can call tools ("Call the lookup_weather_<hex> tool ..."); with Letta's stub LLM
(../shared/real-letta) or a real model it does.

exit status: 0 every answer has the server's status and shape, 1 differences found, 2 a usage or connection error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mockserver.conformance import DEFAULT_EMBEDDING, DEFAULT_MODEL

    add = parser.add_argument
    add("url", metavar="URL", nargs="?", help="the Letta server to compare the mock with, e.g. http://127.0.0.1:8283")
    add("--api-key", metavar="KEY", default=None, help="the server's API key or password (sent as a bearer token)")
    add_header_option(parser)
    add(
        "--model", metavar="HANDLE", default=DEFAULT_MODEL, help=f"the created agent's model (default: {DEFAULT_MODEL})"
    )
    add(
        "--embedding",
        metavar="HANDLE",
        default=DEFAULT_EMBEDDING,
        help=f"the created agent's embedding (default: {DEFAULT_EMBEDDING})",
    )
    add(
        "--fidelity",
        choices=("server", "contract"),
        default="server",
        help="the mock's profile to compare with (default: server; contract: the default profile, whose documented "
        "differences are listed apart)",
    )
    add("--timeout", metavar="SECONDS", type=float, default=60.0, help="how long one request may take (default: 60)")
    add("--json", metavar="FILE", type=Path, default=None, help="also write every difference as JSON")
    add("--verbose", "-v", action="store_true", help="list the operations that match too")
    add("--list", action="store_true", help="print the session's steps and exit")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from mockserver.conformance.session import STEPS

    if args.list:
        print("\n".join(f"{i:>3}. {step.name}" for i, step in enumerate(STEPS, 1)))
        return 0
    if args.url is None:
        print("letta-mock conformance: error: the URL of a Letta server is required", file=sys.stderr)
        return 2
    try:
        import letta_client  # noqa: F401
    except ImportError as error:  # a dependency of letta-mock: only a broken environment lacks it
        print(f"letta-mock conformance: error: the official SDK (letta-client) cannot be imported ({error}); it comes "
              "with letta-mock: reinstall letta-mock in this environment", file=sys.stderr)  # fmt: skip
        return 2
    import httpx

    from mockserver.conformance import conform, documented
    from mockserver.conformance.report import render
    from mockserver.rules import Rules

    url = args.url.rstrip("/")
    headers = {**dict(args.header), **({"authorization": f"Bearer {args.api_key}"} if args.api_key else {})}
    try:
        health = httpx.get(f"{url}/v1/health/", headers=headers, timeout=10)
    except httpx.HTTPError as error:
        print(f"letta-mock conformance: error: {url} does not answer: {error}", file=sys.stderr)
        return 2
    if health.status_code != 200:
        print(f"letta-mock conformance: error: {url}/v1/health/ answered {health.status_code}", file=sys.stderr)
        return 2
    result = conform(url, fidelity=args.fidelity, api_key=args.api_key, headers=dict(args.header) or None,
                     model=args.model, embedding=args.embedding, timeout=args.timeout)  # fmt: skip
    report = result.report
    profile = Rules.of(args.fidelity, closed_world=False)  # the mock's, as conform runs it
    known = [d for d in report.differences if documented(d, profile)]
    report.differences = [d for d in report.differences if d not in known]
    print(f"letta-mock conformance: {url} (Letta {health.json().get('version', '?')}) against the mock's "
          f"--fidelity {args.fidelity} profile, {len(STEPS)} steps")  # fmt: skip
    print(render(report, {"server": result.server.outcomes, "mock": result.mock.outcomes}, verbose=args.verbose))
    if known:
        print(f"  ({len(known)} documented difference(s) of the default profile left out)")
    if args.json is not None:
        payload = {**report.to_json(), "documented": [d.to_json() for d in known]}
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 1 if report.differences else 0
