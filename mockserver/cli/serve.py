"""``letta-mock serve``: run the mock Letta server on localhost."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from mockserver.config import SETTINGS, Flag, Setting
from mockserver.control import TRIGGERS
from mockserver.faults import FAULTS
from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS
from mockserver.version import __version__

__all__ = ["EPILOG", "REALISTIC_PACE", "add_arguments", "run"]

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
  letta-mock serve --rules rules.yaml               # authored turns for the requests they match (re-read on edit)
  letta-mock serve --host 0.0.0.0 --auth-token s3cret --allowed-host devbox.lan --cors-origin http://devbox.lan:5173
                                                    # reachable from other machines as devbox.lan, and from the page
                                                    # served there: callers need the token
                                                    # (pages on localhost, any port, need no flag)

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
    for row in SETTINGS:  # the server's settings, as the settings table offers them (config.MockConfig)
        if row.serve is not None:
            _add_setting(serve, row, row.serve)
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
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def _add_setting(serve: argparse.ArgumentParser, row: Setting, flag: Flag) -> None:
    """A setting's option: ``--name-with-dashes`` unless its flag names another, filling the setting ``name``."""
    text = flag.help or row.help
    repeated = flag.arguments.get("action") == "append"
    if flag.env is not None:
        default, text = os.environ.get(flag.env), f"{text} (default: ${flag.env}, else none)"
    else:
        default = None if repeated else row.default
        if "default" not in text and row.default not in (None, True, False, ()):  # () : none given
            text += f" (default: {row.default})"
    option = flag.option or "--" + row.name.replace("_", "-")
    serve.add_argument(option, dest=row.name, default=default, help=text, **flag.arguments)


def run(args: argparse.Namespace) -> int:
    # Building the server allocates only what it keeps for good: no collection while it is built (it would find
    # nothing), then all of it frozen out of later collections' way (``_serve``); enabled again however it ends.
    gc.disable()
    try:
        return _serve(args)
    finally:
        gc.enable()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.allowlists import describe, host_allowlist, is_loopback
    from mockserver.app import create_app
    from mockserver.errors import ConfigurationError, ControlError
    from mockserver.serving import bind, bind_failure, open_files_limit, uvicorn_config

    try:
        settings = {row.name: getattr(args, row.name) for row in SETTINGS if row.serve is not None}
        settings["controls"] = _defaults(args)
        app = create_app(**settings, freeze_gc=True)
        served = app.state.config  # the settings as checked (mockserver.config)
        config = uvicorn_config(app, host=args.host, port=args.port, log_level=args.log_level,
                                allowed_hosts=served.allowed_hosts)  # fmt: skip
    except (ControlError, ConfigurationError) as error:
        print(f"letta-mock: error: {error}", file=sys.stderr)
        return 2
    try:  # before anything is announced: a port in use is one line, not a banner and then a traceback
        sock = bind(args.host, args.port)
    except OSError as error:
        print(bind_failure(error, args.host, args.port), file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    world = f"{len(args.agents)} agent(s)" if args.agents else "any agent-<uuid4>"
    if args.fixtures:
        world += f"; replaying {', '.join(args.fixtures)}"
    if args.rules:
        world += f"; {len(app.state.ruleset.rules)} rule(s) from {', '.join(args.rules)}"
    address = f"[{args.host}]" if ":" in args.host else args.host
    print(f"letta-mock {__version__}: mock Letta server on http://{address}:{port} ({world})", flush=True)
    if args.admin:
        print(f"dashboard: http://{address}:{port}/_mock/{'?token=...' if args.auth_token else ''}", flush=True)
    for line in describe(args.host, host_allowlist(args.host, served.allowed_hosts), served.cors_origins):
        print(line, file=sys.stderr if "warning" in line else sys.stdout, flush=True)
    if not is_loopback(args.host) and args.auth_token is None:
        print(f"letta-mock: warning: {args.host} is reachable from other machines and no --auth-token is set: anyone "
              "there can read and change this mock's state", file=sys.stderr, flush=True)  # fmt: skip
    open_files_limit()  # a socket per open stream: as many as the system allows this process
    gc.freeze()
    gc.enable()
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _defaults(args: argparse.Namespace) -> dict[str, object]:
    """Default controls from the CLI: ``--control`` text, then ``--pace`` and ``--scenario`` (the more specific)."""
    from mockserver.control import parse_controls

    controls: dict[str, object] = parse_controls(args.controls, where="--control").as_dict() if args.controls else {}
    if args.pace == "realistic":
        controls = {**REALISTIC_PACE, **controls}
    if args.scenario:
        controls["scenario"] = parse_controls({"scenario": args.scenario}, where="--scenario").scenario
    return controls
