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
    record.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))


def run(args: argparse.Namespace) -> int:
    import hashlib
    import signal
    from pathlib import Path
    from types import FrameType

    import httpx
    import uvicorn

    from mockserver.errors import ConfigurationError
    from mockserver.recording.format import DEFAULT_IGNORED
    from mockserver.recording.proxy import Recorder, upstream_facts
    from mockserver.serving import uvicorn_config
    from mockserver.version import __version__

    try:
        target = httpx.URL(args.upstream)
    except httpx.InvalidURL as error:
        print(f"letta-mock: error: --upstream {args.upstream!r}: {error}", file=sys.stderr)
        return 2
    if target.host in ("127.0.0.1", "localhost", args.host) and target.port == args.port:
        print(f"letta-mock: error: the proxy cannot listen on its upstream's port {args.port}; pick --port",
              file=sys.stderr)  # fmt: skip
        return 2
    version, digest = upstream_facts(args.upstream, spec=args.spec is None)
    if args.spec is not None:
        try:
            digest = hashlib.sha256(Path(args.spec).read_bytes()).hexdigest()
        except OSError as error:
            print(f"letta-mock: error: --spec: {error}", file=sys.stderr)
            return 2
    try:
        recorder = Recorder(
            args.upstream, args.out, mode=args.mode, normalise=args.normalise,
            ignore=DEFAULT_IGNORED if args.ignore is None else args.ignore, match_headers=args.match_header,
            server_version=version, spec_sha256=digest,
        )  # fmt: skip
    except ConfigurationError as error:
        print(f"letta-mock: error: {error}", file=sys.stderr)
        return 2
    seen = f"Letta {version}" if version else "version unknown"
    print(f"letta-mock {__version__}: recording proxy on http://{args.host}:{args.port} -> {args.upstream} "
          f"({seen}), mode {args.mode}, writing {args.out}", flush=True)  # fmt: skip
    config = uvicorn_config(recorder, host=args.host, port=args.port, log_level=args.log_level)
    config.lifespan = "on"  # the proxy closes its upstream connections at shutdown

    class Recording(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Stop as uvicorn does on Ctrl-C or SIGTERM, without raising the signal again once stopped: the
            # summary below is the point of stopping.
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    try:
        Recording(config).run()
    except KeyboardInterrupt:  # a uvicorn that re-raises it anyway
        pass
    print(f"letta-mock record: {len(recorder.written)} file(s) written to {args.out}", flush=True)
    for reason in recorder.refused:
        print(f"letta-mock record: refused: {reason}", file=sys.stderr)
    return 1 if recorder.refused else 0
