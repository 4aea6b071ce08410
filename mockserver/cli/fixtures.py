"""``letta-mock fixtures``: check recorded fixtures against the contract (``check``), list the curated ones."""

from __future__ import annotations

import argparse
import sys

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  letta-mock fixtures list                                    # the curated fixtures and the requests they answer
  letta-mock fixtures list recorded/                          # a recording's files and their requests
  letta-mock fixtures check recorded/                         # against letta-mock's models
  letta-mock fixtures check recorded/ --live http://localhost:8283 --spec letta
                                                              # send the requests again, compare the shapes,
                                                              # and check against that server's own document
  letta-mock fixtures author recorded/ > rules.yaml           # the recorded turns as rules to edit by hand

check prints one line per problem, `FILE: /json/pointer: what` (every problem of every file), then a summary
line on stderr, and exits 0 when there is none, 1 if there is any, 2 on a usage error (an unreadable --spec).
"""


def add_arguments(fixtures: argparse.ArgumentParser) -> None:
    actions = fixtures.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate fixtures against the contract",
                               description="Validate every fixture: JSON bodies and every stream event against "
                               "letta-mock's models and, with --spec, an OpenAPI document; the stream grammar; "
                               "with --live, the shapes a running server answers with now.")  # fmt: skip
    check.add_argument("paths", nargs="+", metavar="PATH", help="a directory, a fixture or HAR file, a curated name")
    check.add_argument(
        "--spec",
        metavar="FILE|URL|letta|mock",
        default="mock",
        help="an OpenAPI document to check against as well: a file, a URL, 'letta' (the --live "
        "server's own URL/openapi.json) or 'mock' (letta-mock's own, checked always) (default: mock)",
    )
    check.add_argument("--live", metavar="URL", default=None, help="re-send the recorded requests to this server")
    check.add_argument("--api-key", metavar="KEY", default=None, help="with --live: sent as Authorization: Bearer")
    check.add_argument("--agent", metavar="ID", default=None, help="with --live: the agent the requests should name")
    check.add_argument(
        "--fidelity", choices=("contract", "server"), default="contract",
        help="'server' admits the real server's documented quirks (its 422 body, naive run dates)",
    )  # fmt: skip
    listing = actions.add_parser("list", help="list fixtures and the requests each answers (default: the curated)",
                                 description="Each fixture and the requests it answers: method, path (ids shortened), "
                                 "the query and what the body says (the input text, the flags set). Exits 1 when "
                                 "a file cannot be loaded (the line says why).")  # fmt: skip
    listing.add_argument("paths", nargs="*", metavar="PATH", help="a directory, a fixture or HAR file, a curated name")
    author = actions.add_parser(
        "author", help="write a recorded session as authored turns (a rules file) on standard output",
        description="Turn a recording's sends into authored turns that replay the same messages (docs/authored.md): "
        "one rule per agent or conversation, its turns in recorded order; edit the text or the tool arguments, then "
        "letta-mock serve --rules FILE.",
    )  # fmt: skip
    author.add_argument("recording", metavar="RECORDING", help="a directory, a fixture or HAR file, a curated name")
    author.add_argument("--format", choices=("yaml", "json"), default="yaml", help="the output (default: yaml)")
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
        return _list(args.paths)
    if args.action == "curate":
        return _curate(args)
    if args.action == "author":
        return _author(args)
    import httpx

    from mockserver.contract import Contract
    from mockserver.contract.names import spec_location
    from mockserver.recording.check import check_files, ours
    from mockserver.recording.drift import check_live

    documents = [ours()]
    try:
        location = spec_location(args.spec, args.live)
        if location is not None:
            documents.append(Contract.load(location))
    except (OSError, ValueError, httpx.HTTPError) as error:  # no file, no document there, no server
        print(f"letta-mock: error: --spec {args.spec}: {error}", file=sys.stderr)
        return 2
    report = check_files(args.paths, documents, fidelity=args.fidelity)
    if args.live is not None and report.loaded:  # the files that loaded, in order (the others are problems already)
        report.findings.extend(check_live(report.loaded, args.live, api_key=args.api_key, agent=args.agent))
    for finding in report.findings:
        print(finding)
    checked = " and ".join(d.source for d in documents) + (f", live {args.live}" if args.live else "")
    print(f"letta-mock fixtures check: {report.summary()} (against {checked})", file=sys.stderr)
    return 1 if report.findings else 0


def _list(paths: list[str]) -> int:
    from mockserver.recording.library import curated_names, load_each
    from mockserver.recording.listing import listing, render

    listed = listing(load_each(paths or curated_names()))
    print(render(listed))
    return 1 if any(not item.requests for item in listed) else 0


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


def _author(args: argparse.Namespace) -> int:
    import json

    from mockserver.authored.author import as_yaml, author_document
    from mockserver.recording.format import FixtureError
    from mockserver.recording.library import load_library

    try:
        authored = author_document(load_library([args.recording]), args.recording)
    except FixtureError as error:
        print(f"letta-mock: error: {error}", file=sys.stderr)
        return 2
    for skipped in authored.skipped:
        print(f"letta-mock fixtures author: left out {skipped}", file=sys.stderr)
    if not authored.document["rules"]:
        print(f"letta-mock: error: {args.recording} holds no send to author a turn from", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(authored.document, indent=2, ensure_ascii=False))
    else:
        print(f"# letta-mock rules authored from {args.recording}: serve with letta-mock serve --rules FILE")
        print(as_yaml(authored.document), end="")
    return 0
