"""``letta-mock fixtures``: check recorded fixtures against the contract (``check``), list the curated ones."""

from __future__ import annotations

import argparse
import sys

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  letta-mock fixtures list                                    # the curated fixtures, loadable by name
  letta-mock fixtures check recorded/                         # against letta-mock's models
  letta-mock fixtures check recorded/ --live http://localhost:8283 --spec letta
                                                              # send the requests again, compare the shapes,
                                                              # and check against that server's own document

check prints one line per problem, `FILE: /json/pointer: what`, and exits 1 if there is any.
"""


def add_arguments(fixtures: argparse.ArgumentParser) -> None:
    actions = fixtures.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate fixtures against the contract",
                               description="Validate every fixture: JSON bodies and every stream event against "
                               "letta-mock's models and, with --spec, an OpenAPI document; the stream grammar; "
                               "with --live, the shapes a running server answers with now.")  # fmt: skip
    check.add_argument("paths", nargs="+", metavar="PATH", help="a directory, a fixture or HAR file, a curated name")
    check.add_argument("--spec", metavar="FILE|URL|letta|mock", default="mock",
                       help="an OpenAPI document to check against as well: a file, a URL, 'letta' (the --live "
                       "server's own URL/openapi.json) or 'mock' (letta-mock's own, checked always) (default: mock)")
    check.add_argument("--live", metavar="URL", default=None, help="re-send the recorded requests to this server")
    check.add_argument("--api-key", metavar="KEY", default=None, help="with --live: sent as Authorization: Bearer")
    check.add_argument("--agent", metavar="ID", default=None, help="with --live: the agent the requests should name")
    check.add_argument(
        "--fidelity", choices=("contract", "server"), default="contract",
        help="'server' admits the real server's documented quirks (its 422 body, naive run dates)",
    )  # fmt: skip
    actions.add_parser("list", help="list the curated fixtures")
    curate = actions.add_parser(
        "curate",
        help="record the curated library again, from the mock itself (for maintainers)",
        description="Record each curated fixture from a seeded mock through the recording proxy, normalised; "
        "check it against our models and --spec; write it to --out for review (mockserver.recording.curate).",
    )
    curate.add_argument("--out", metavar="DIR", default="fixtures", help="where to write (default: ./fixtures)")
    curate.add_argument("--only", nargs="+", metavar="NAME", default=None, help="only these fixtures")
    curate.add_argument("--spec", metavar="FILE", default=None, help="Letta's OpenAPI document to check against")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list()
    if args.action == "curate":
        return _curate(args)
    import httpx

    from mockserver.contract import Contract
    from mockserver.contract.names import spec_location
    from mockserver.recording.check import check_paths, ours
    from mockserver.recording.drift import check_live

    documents = [ours()]
    try:
        location = spec_location(args.spec, args.live)
        if location is not None:
            documents.append(Contract.load(location))
    except (OSError, ValueError, httpx.HTTPError) as error:  # no file, no document there, no server
        print(f"letta-mock: error: --spec {args.spec}: {error}", file=sys.stderr)
        return 2
    findings = check_paths(args.paths, documents, fidelity=args.fidelity)
    if args.live is not None:
        findings += check_live(args.paths, args.live, api_key=args.api_key, agent=args.agent)
    for finding in findings:
        print(finding)
    checked = " and ".join(d.source for d in documents) + (f", live {args.live}" if args.live else "")
    print(f"letta-mock fixtures check: {len(findings)} problem(s) ({checked})", file=sys.stderr)
    return 1 if findings else 0


def _list() -> int:
    from mockserver.recording.format import FixtureError
    from mockserver.recording.library import curated_names, load_library

    for name in curated_names():
        try:
            fixture = load_library([name]).entries[0].fixture
            about = fixture.description or ""
        except FixtureError as error:
            about = f"(cannot be loaded: {error.reason})"
        print(f"{name:32} {about}")
    return 0


def _curate(args: argparse.Namespace) -> int:
    import hashlib
    from pathlib import Path

    from mockserver.contract import Contract
    from mockserver.live import LiveServer
    from mockserver.recording.check import ours
    from mockserver.recording.curate import CURATED, curate, readme_table, write_readme_table

    rows = [row for row in CURATED if args.only is None or row.name in args.only]
    unknown = set(args.only or ()) - {row.name for row in CURATED}
    if unknown:
        print(f"letta-mock: error: no curated fixture {sorted(unknown)}", file=sys.stderr)
        return 2
    documents = [ours(), *([Contract.load(args.spec)] if args.spec else [])]
    digest = hashlib.sha256(Path(args.spec).read_bytes()).hexdigest() if args.spec else None
    out = Path(args.out)
    with LiveServer(seed=1) as server:
        problems = curate(rows, out, documents, lambda: server.reset(seed=1), spec_sha256=digest)
    for problem in problems:
        print(problem, file=sys.stderr)
    write_readme_table(out / "README.md", readme_table(CURATED, out))
    return 1 if problems else 0
