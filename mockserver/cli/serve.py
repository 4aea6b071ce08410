"""``letta-mock serve``: run the mock Letta server on localhost."""

from __future__ import annotations

import argparse
import os
import sys

from mockserver import __version__
from mockserver.config import CREATED_TOOL_MS
from mockserver.control import TRIGGERS
from mockserver.faults import FAULTS
from mockserver.journal import DEFAULT_SIZE
from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS

__all__ = ["EPILOG", "REALISTIC_PACE", "TOKEN_ENV", "add_arguments", "run"]

TOKEN_ENV = "LETTA_MOCK_AUTH_TOKEN"
REALISTIC_PACE = {"first_event_delay_ms": 600, "token_delay_ms": 30, "jitter_ms": 10}


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name.ljust(width)}  {text}" for name, text in rows)


EPILOG = f"""\
examples:
  letta-mock serve                                  # http://127.0.0.1:8283, any agent-<uuid4> id works
  letta-mock serve --seed 7                         # reproducible ids and dates
  letta-mock serve --agents agent-123e4567-e89b-42d3-8456-426614174000
                                                    # only this agent exists; others get Letta's 404
  letta-mock serve --fidelity server                # the real server's quirks (422 repr bodies, SDK-only streaming)
  letta-mock serve --pace realistic --scenario tool_call
                                                    # front-end work: timed token streams, a tool call every turn
  letta-mock serve --control 'fault=drop_after:5'   # every stream drops after five events
  letta-mock serve --fixtures recorded/ --on-miss synthesize
                                                    # replay a recording; what it lacks is synthesized
  letta-mock serve --host 0.0.0.0 --auth-token s3cret --cors-origin http://localhost:5173
                                                    # reachable from other machines: callers need the token

scenarios (--scenario, or per request the header X-Letta-Mock: 'scenario=NAME; ...'):
{_table([(s.name, s.help) for s in SCENARIOS.values()])}

trigger phrases, typed as the message in a chat box:
{_table([(t.usage, t.help) for t in TRIGGERS.values()])}

faults (fault=SPEC,SPEC in a control, or /fault SPEC):
{_table([(kind.form, kind.help) for kind in FAULTS.values()])}

dashboard at http://127.0.0.1:8283/_mock/ in a browser: the journal live, agents, controls, reset
(with --auth-token T, open http://127.0.0.1:8283/_mock/?token=T once).
admin API under /_mock/ (scripts per agent, defaults, journal, reset).
then point a client at it, e.g. Letta(base_url="http://127.0.0.1:8283", api_key="anything")
"""


def add_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8283, help="port (default: 8283, Letta's)")
    serve.add_argument("--seed", type=int, default=None, help="make ids and dates reproducible")
    serve.add_argument(
        "--agents",
        nargs="+",
        metavar="ID",
        default=None,
        help="close the world to these agent ids (default: any well-formed agent-<uuid4> exists)",
    )
    serve.add_argument(
        "--fidelity",
        choices=("contract", "server"),
        default="contract",
        help="'contract' (default): the OpenAPI document's behaviour; 'server': the real server's quirks",
    )
    serve.add_argument(
        "--scenario",
        metavar="NAME",
        default=None,
        help=f"default scenario of every turn: {', '.join(SCENARIOS)} (default: {DEFAULT_SCENARIO}; trigger "
        "phrases and headers still apply)",
    )
    serve.add_argument(
        "--pace",
        choices=("none", "realistic"),
        default="none",
        help="stream timing: 'none' (default, instant) or 'realistic' (600 ms to first event, ~30 ms a token)",
    )
    serve.add_argument(
        "--control",
        metavar="'KEY=VALUE; ...'",
        default=None,
        help="default turn controls, the X-Letta-Mock header's grammar (e.g. 'token_delay_ms=20; fault=no_done')",
    )
    serve.add_argument(
        "--created-tool-ms",
        type=int,
        metavar="MS",
        default=CREATED_TOOL_MS,
        help=f"how long a server tool of an agent a client created runs, so a run can be cancelled in flight "
        f"(default: {CREATED_TOOL_MS}, Letta's sandbox order of time; 0: instant)",
    )
    serve.add_argument("--no-admin", action="store_true", help="leave out the /_mock/ admin API and dashboard")
    serve.add_argument(
        "--journal-size",
        type=int,
        metavar="N",
        default=DEFAULT_SIZE,
        help=f"exchanges the request journal keeps, oldest dropped first (default: {DEFAULT_SIZE})",
    )
    # Record and replay (mockserver.recording, docs/fixtures.md).
    serve.add_argument(
        "--fixtures",
        action="append",
        metavar="PATH",
        default=None,
        help="replay recorded exchanges: a directory, a fixture or HAR file, or a curated fixture's name "
        "(`letta-mock fixtures list`); repeatable",
    )
    serve.add_argument(
        "--replay-speed",
        type=float,
        default=1.0,
        metavar="X",
        help="replayed timing: 1 (default) as recorded, 2 twice as fast, 0 as fast as possible",
    )
    serve.add_argument(
        "--on-miss",
        choices=("error", "synthesize"),
        default="error",
        help="a request no fixture matches: 'error' (default, a 404 naming the nearest recording) or 'synthesize'",
    )
    serve.add_argument(
        "--auth-token",
        metavar="TOKEN",
        default=os.environ.get(TOKEN_ENV),
        help=f"answer only callers sending 'Authorization: Bearer TOKEN' (the SDKs' api_key); everything else, the "
        f"admin API and dashboard included, gets 401 (default: ${TOKEN_ENV}, else none)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        default=None,
        help="an origin browsers may call from, e.g. http://localhost:5173; repeatable (default: any origin)",
    )
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.app import create_app
    from mockserver.errors import ConfigurationError, ControlError
    from mockserver.serving import uvicorn_config

    try:
        controls = _defaults(args)
        app = create_app(
            seed=args.seed,
            agents=args.agents,
            fidelity=args.fidelity,
            controls=controls,
            admin=not args.no_admin,
            freeze_gc=True,
            journal_size=args.journal_size,
            fixtures=args.fixtures,
            replay_speed=args.replay_speed,
            on_miss=args.on_miss,
            auth_token=args.auth_token,
            cors_origins=args.cors_origin,
            created_tool_ms=args.created_tool_ms,
        )
    except (ControlError, ConfigurationError) as error:
        print(f"letta-mock: error: {error}", file=sys.stderr)
        return 2
    world = f"{len(args.agents)} agent(s)" if args.agents else "any agent-<uuid4>"
    if args.fixtures:
        world += f"; replaying {', '.join(args.fixtures)}"
    print(f"letta-mock {__version__}: mock Letta server on http://{args.host}:{args.port} ({world})", flush=True)
    if not args.no_admin:
        print(f"dashboard: http://{args.host}:{args.port}/_mock/{'?token=...' if args.auth_token else ''}", flush=True)
    if not _loopback(args.host) and args.auth_token is None:
        print(f"letta-mock: warning: {args.host} is reachable from other machines and no --auth-token is set: anyone "
              "there can read and change this mock's state", file=sys.stderr, flush=True)  # fmt: skip
    uvicorn.Server(uvicorn_config(app, host=args.host, port=args.port, log_level=args.log_level)).run()
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _defaults(args: argparse.Namespace) -> dict[str, object]:
    """Default controls from the CLI: ``--control`` text, then ``--pace`` and ``--scenario`` (the more specific)."""
    from mockserver.control import parse_controls

    controls: dict[str, object] = parse_controls(args.control, where="--control").as_dict() if args.control else {}
    if args.pace == "realistic":
        controls = {**REALISTIC_PACE, **controls}
    if args.scenario:
        controls["scenario"] = parse_controls({"scenario": args.scenario}, where="--scenario").scenario
    return controls
