"""``python -m tests.letta_itests``: run Letta's own integration tests (the selection) against a server and report
per test, with the causes of the failures ranked.

    python -m tests.letta_itests                     # against a letta-mock started in this process
    python -m tests.letta_itests --real              # against $REAL_LETTA_URL (default http://127.0.0.1:8284)
    python -m tests.letta_itests --url URL           # against any server
    python -m tests.letta_itests --real --write-selection   # re-make selection.txt and baseline.json (slow)

``--write-selection`` collects the candidate files, applies the exclusions of ``selection.py``, runs the result
against the server (real Letta) and writes the selection with the measured baseline in its header; it refuses to
write one holding a test that did not pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..real_letta import install
from . import report, runner, selection, workspace

DEFAULT_REAL_URL = "http://127.0.0.1:8284"
DEFAULT_TIMEOUT_S = {"mock": 600, "server": 2400}  # the selection: ~2 min against the mock, ~6-10 min against real


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.letta_itests", description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="the server to test (default: a letta-mock started here)")
    target.add_argument("--real", action="store_true", help=f"real Letta ($REAL_LETTA_URL or {DEFAULT_REAL_URL})")
    parser.add_argument("--fidelity", choices=("contract", "server"), default="contract", help="the mock's profile")
    parser.add_argument("--selection", type=Path, default=selection.SELECTION_FILE, help="a selection file")
    parser.add_argument("-k", dest="only", default="", help="run only the selected node ids containing this text")
    parser.add_argument("--timeout", type=float, help="for the whole run, in seconds (600 for the mock, else 1800)")
    parser.add_argument("--per-test-timeout", type=float, default=runner.PER_TEST_TIMEOUT_S)
    parser.add_argument("--sdist", help="the letta sdist (default: the one tests/real_letta downloaded)")
    parser.add_argument("--json", type=Path, help="write every test's result and requests here")
    parser.add_argument("--brief", action="store_true", help="leave out the per-test table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace (pytest's output is there)")
    parser.add_argument("--write-selection", action="store_true", help="re-make the selection (see above)")
    return parser


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, str, Callable[[str, str], bool] | None]]:
    """The URL under test, its label, and (for the mock) which method and path it routes."""
    if args.url or args.real:
        url = args.url or os.environ.get("REAL_LETTA_URL") or DEFAULT_REAL_URL
        yield url.rstrip("/"), "real Letta" if args.real else url, None
        return
    from mockserver.live import LiveServer

    with LiveServer(seed=1, fidelity=args.fidelity) as server:
        yield server.url, f"letta-mock ({args.fidelity})", report.routed_by(server.app)


def _write_selection(args: argparse.Namespace, sdist: Path, python: Path, space: workspace.Workspace, url: str) -> int:
    collected = runner.collect(python, space, url, list(selection.CANDIDATE_FILES))
    chosen, excluded = selection.choose(collected)
    run = runner.run_selection(
        python, space, url, chosen, timeout_s=args.timeout, per_test_timeout_s=args.per_test_timeout
    )
    print(report.render(run, label="baseline", per_test=not args.brief))
    not_passed = [n for n, r in run.results.items() if r.outcome != "passed"]
    if not_passed:
        print(
            f"\nnot written: {len(not_passed)} selected tests did not pass; exclude them in selection.py (with the"
            " reason) or fix the harness:\n  " + "\n  ".join(not_passed),
            file=sys.stderr,
        )
        return 1
    today = datetime.date.today().isoformat()
    files = sorted({n.split("::")[0] for n in chosen})
    header = [
        f"Letta {workspace.LETTA_VERSION}'s own tests whose subject is the messages, conversations and runs API and "
        "the agents, tools and",
        "blocks around them, as node ids relative to the sdist's tests/ directory; made by",
        "`python -m tests.letta_itests --real --write-selection`.",
        "",
        f"Baseline ({today}): {len(chosen)} of {len(chosen)} passed against real Letta {workspace.LETTA_VERSION} "
        f"(tests/real_letta, stub LLM) in {run.seconds:.0f} s,",
        f"with letta-client {workspace.locked_versions(sdist)['letta-client']} and every model moved to "
        f"{runner.MODEL}; {len(chosen)} of the {len(collected)} tests collected from:",
        *[f"  {name}" for name in files],
    ]
    selection.write_selection(args.selection, chosen, excluded, header)
    about = {"letta": workspace.LETTA_VERSION, "date": today, "seconds": round(run.seconds)}
    selection.write_baseline(selection.BASELINE_FILE, report.traces(run), about)
    print(f"\nwrote {args.selection} ({len(chosen)} tests) and {selection.BASELINE_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.timeout is None:
        args.timeout = DEFAULT_TIMEOUT_S["server" if args.url or args.real else "mock"]
    found = install()  # Letta's venv and sdist (instant once installed)
    sdist = Path(args.sdist) if args.sdist else found.sdist
    python = workspace.ensure_venv(sdist, found.venv)
    space = workspace.open_workspace(sdist)
    try:
        with _target(args) as (url, label, routed):
            if args.write_selection:
                return _write_selection(args, sdist, python, space, url)
            nodeids = [n for n in selection.read_selection(args.selection) if args.only in n]
            run = runner.run_selection(
                python, space, url, nodeids, timeout_s=args.timeout, per_test_timeout_s=args.per_test_timeout
            )
        print(
            report.render(run, label=label, baseline=selection.read_baseline(), routed=routed, per_test=not args.brief)
        )
        if args.json:
            results = {n: dataclasses.asdict(r) for n, r in run.results.items()}
            args.json.write_text(json.dumps({"url": url, "seconds": run.seconds, "results": results}, indent=1))
        return 0 if run.count("passed") == len(run.results) else 1
    finally:
        if args.keep:
            print(f"workspace kept: {space.root}")
        else:
            space.close()


if __name__ == "__main__":
    sys.exit(main())
