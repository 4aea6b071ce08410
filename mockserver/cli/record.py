"""``letta-mock record``: the recording proxy (``mockserver.recording.proxy``) on localhost."""

from __future__ import annotations

import argparse
import sys

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  letta-mock record --upstream http://localhost:8283 --out recorded/ --port 8285
      then point the client at http://127.0.0.1:8285; each exchange becomes recorded/NNNN-<method>-<path>.json
  letta-mock record --upstream https://api.letta.com --out recorded/ --normalise
      ids and dates as consistent placeholders, so the recording is stable and replays with any agent id
  letta-mock serve --fixtures recorded/
      replay it

modes (as VCR.py names them):
  new_episodes  answer what DIR already holds, record what it does not (default)
  once          record into an empty DIR; a DIR with a recording is only replayed
  all           record everything again, replacing the recording in DIR
  none          only replay; nothing reaches the upstream

Credentials (Authorization, API-key headers, cookies, tokens in query strings) are redacted, and a file that
would still hold one the client sent is not written. See docs/fixtures.md for the format.

It forwards only what clients on this machine send (Host localhost, 127.0.0.1 or [::1]) and, from browsers, what
pages on loopback origins send: no other web page can reach the upstream through it. --allowed-host and
--cors-origin widen that.
"""


def add_arguments(record: argparse.ArgumentParser) -> None:
    record.add_argument("--upstream", required=True, metavar="URL", help="the Letta server to record (http or https)")
    record.add_argument("--out", required=True, metavar="DIR", help="where fixture files go (created when missing)")
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    record.add_argument("--port", type=int, default=8283, help="port (default: 8283, Letta's)")
    record.add_argument(
        "--mode", choices=("once", "new_episodes", "all", "none"), default="new_episodes", help="record mode (below)"
    )
    record.add_argument("--normalise", action="store_true", help="replace ids and dates with consistent placeholders")
    record.add_argument(
        "--ignore",
        action="append",
        metavar="FIELD",
        default=None,
        help="a request field replay should not compare (bare name, dotted path or query.NAME); repeatable "
        "(default: otid)",
    )
    record.add_argument(
        "--match-header", action="append", metavar="NAME", default=[], help="a request header replay compares"
    )
    record.add_argument("--spec", metavar="FILE", default=None, help="the OpenAPI document to note the hash of")
    record.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        default=None,
        help="a web page's origin whose requests it forwards besides loopback ones; repeatable; 'null' for a page "
        "opened from disk, '*' for any (default: pages on localhost, 127.0.0.1 and [::1], any port)",
    )
    record.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        default=None,
        help="a Host name to answer besides localhost, 127.0.0.1, [::1] and the --host address (against DNS "
        "rebinding); repeatable; '*' turns the check off",
    )
    record.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))


def run(args: argparse.Namespace) -> int:
    import hashlib
    import signal
    from pathlib import Path
    from types import FrameType

    import httpx
    import uvicorn

    from mockserver.allowlists import describe, host_allowlist
    from mockserver.errors import ConfigurationError
    from mockserver.recording.format import DEFAULT_IGNORED
    from mockserver.recording.proxy import Recorder, upstream_facts
    from mockserver.serving import bind, bind_failure, uvicorn_config
    from mockserver.version import __version__

    try:
        target = httpx.URL(args.upstream)
    except httpx.InvalidURL as error:
        print(f"letta-mock: error: --upstream {args.upstream!r}: {error}", file=sys.stderr)
        return 2
    try:
        hosts = host_allowlist(args.host, args.allowed_host)
    except ConfigurationError as error:
        print(f"letta-mock: error: {error}", file=sys.stderr)
        return 2
    if target.host in ("127.0.0.1", "localhost", args.host) and target.port == args.port:
        print(f"letta-mock: error: the proxy cannot listen on its upstream's port {args.port}; pick --port",
              file=sys.stderr)  # fmt: skip
        return 2
    version, digest = upstream_facts(args.upstream, spec=args.spec is None)
    try:  # every setting checked (the output directory included) before a port is bound
        if args.spec is not None:
            digest = hashlib.sha256(Path(args.spec).read_bytes()).hexdigest()
        recorder = Recorder(
            args.upstream, args.out, mode=args.mode, normalise=args.normalise,
            ignore=DEFAULT_IGNORED if args.ignore is None else args.ignore, match_headers=args.match_header,
            server_version=version, spec_sha256=digest, cors_origins=args.cors_origin or (),
        )  # fmt: skip
    except (ConfigurationError, OSError) as error:
        print(f"letta-mock: error: {'--spec: ' if isinstance(error, OSError) else ''}{error}", file=sys.stderr)
        return 2
    try:  # before anything is announced: a port in use is one line
        sock = bind(args.host, args.port)
    except OSError as error:
        print(bind_failure(error, args.host, args.port), file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    seen = f"Letta {version}" if version else "version unknown"
    address = f"[{args.host}]" if ":" in args.host else args.host
    print(f"letta-mock {__version__}: recording proxy on http://{address}:{port} -> {args.upstream} "
          f"({seen}), mode {args.mode}, writing {args.out}", flush=True)  # fmt: skip
    pages = ", ".join(["loopback origins", *(args.cors_origin or ())])
    print(f"it forwards to {args.upstream} what clients send with Host {', '.join(hosts)} and what web pages on "
          f"{pages} send; widen with --allowed-host / --cors-origin", flush=True)  # fmt: skip
    for line in describe(args.host, hosts, args.cors_origin, upstream=args.upstream):
        if "warning" in line:
            print(line, file=sys.stderr, flush=True)
    config = uvicorn_config(recorder, host=args.host, port=port, log_level=args.log_level, allowed_hosts=hosts)
    config.lifespan = "on"  # the proxy closes its upstream connections at shutdown

    class Recording(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Stop as uvicorn does on Ctrl-C or SIGTERM, without raising the signal again once stopped: the
            # summary below is the point of stopping.
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    try:
        Recording(config).run(sockets=[sock])
    except KeyboardInterrupt:  # a uvicorn that re-raises it anyway
        pass
    print(f"letta-mock record: {len(recorder.written)} file(s) written to {args.out}", flush=True)
    for reason in recorder.refused:
        print(f"letta-mock record: refused: {reason}", file=sys.stderr)
    return 1 if recorder.refused else 0
