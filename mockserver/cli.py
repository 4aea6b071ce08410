"""``letta-mock``: run the mock Letta server on localhost."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mockserver import __version__

__all__ = ["main"]

DESCRIPTION = """\
A mock Letta server for testing Letta clients: every /v1/agents/{agent_id}/messages endpoint (JSON and SSE),
conversations, runs and message search, valid against Letta's OpenAPI document, with no LLM and no network.
"""

EPILOG = """\
examples:
  letta-mock serve                                  # http://127.0.0.1:8283, any agent-<uuid4> id works
  letta-mock serve --seed 7                         # reproducible ids and dates
  letta-mock serve --agents agent-123e4567-e89b-42d3-8456-426614174000
                                                    # only this agent exists; others get Letta's 404
  letta-mock serve --fidelity server                # the real server's quirks (422 repr bodies, SDK-only streaming)
  letta-mock serve --pace realistic --scenario tool_call
                                                    # front-end work: timed token streams, a tool call every turn
  letta-mock serve --control 'fault=drop_after:5'   # every stream drops after five events

per request: header X-Letta-Mock: 'scenario=approval; stream faults...'; in a chat box: /tool weather,
/approve, /error llm_api_error, /slow, /long, /stop max_steps (see README); admin API under /_mock/.

then point a client at it, e.g. Letta(base_url="http://127.0.0.1:8283", api_key="anything")
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="letta-mock", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"letta-mock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description="Run the mock Letta server.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
        help="default scenario of every turn: reply, reasoning (default), tool_call, multi_step, approval, "
        "client_tool, long, compaction, hidden_reasoning, arbitrary (trigger phrases and headers still apply)",
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
    serve.add_argument("--no-admin", action="store_true", help="leave out the /_mock/ admin API")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "serve":
        parser.print_help()
        return 0 if args.command is None and argv is not None and not argv else 2
    import uvicorn

    from mockserver.app import create_app
    from mockserver.errors import ConfigurationError, ControlError
    from mockserver.serving import uvicorn_config

    try:
        controls = _defaults(args)
    except ControlError as error:
        parser.exit(2, f"letta-mock: error: {error.detail}\n")
    try:
        app = create_app(
            seed=args.seed,
            agents=args.agents,
            fidelity=args.fidelity,
            controls=controls,
            admin=not args.no_admin,
            freeze_gc=True,
        )
    except ConfigurationError as error:
        parser.exit(2, f"letta-mock: error: {error}\n")
    world = f"{len(args.agents)} agent(s)" if args.agents else "any agent-<uuid4>"
    print(f"letta-mock {__version__}: mock Letta server on http://{args.host}:{args.port} ({world})", flush=True)
    uvicorn.Server(uvicorn_config(app, host=args.host, port=args.port, log_level=args.log_level)).run()
    return 0


def _defaults(args: argparse.Namespace) -> dict[str, object]:
    """Default controls from the CLI: ``--control`` text, then ``--pace`` and ``--scenario`` (the more specific)."""
    from mockserver.control import parse_controls

    controls: dict[str, object] = parse_controls(args.control, where="--control").as_dict() if args.control else {}
    if args.pace == "realistic":
        controls = {**REALISTIC_PACE, **controls}
    if args.scenario:
        controls["scenario"] = parse_controls({"scenario": args.scenario}, where="--scenario").scenario
    return controls


REALISTIC_PACE = {"first_event_delay_ms": 600, "token_delay_ms": 30, "jitter_ms": 10}

if __name__ == "__main__":
    sys.exit(main())
