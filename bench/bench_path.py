"""What the request path costs in-process: CPU microseconds per request of the app as ``letta-mock serve`` serves it
(``create_app(freeze_gc=True)`` behind the Host check), driven with hand-made ASGI scopes: no sockets, no uvicorn,
so neighbours on the machine move it less than an HTTP benchmark. Each figure is the least CPU time per request over
``--rounds`` rounds of ``--requests`` requests; the app's layers are also timed one by one around a bare answer.

    .venv/bin/python bench/bench_path.py
    .venv/bin/python bench/bench_path.py --src /tmp/base --alternate 3   # a snapshot against this tree, alternated

Scenarios: a non-streaming create (``POST /v1/agents/A/messages {"input": "hello"}``), the default page and
``?limit=10`` of that agent's history (after the creates), and the health check (a route late in the table).
``--src DIR`` runs each measurement in a child process with DIR first on ``PYTHONPATH`` (``git archive REV | tar -x -C
DIR``), alternating with this tree, and prints the least figure of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from typing import Any

AGENT = "agent-5ca1e000-0000-4000-8000-000000000011"
CASES: dict[str, tuple[str, str, bytes, bytes]] = {
    "create": ("POST", f"/v1/agents/{AGENT}/messages", b"", b'{"input":"hello"}'),
    "list": ("GET", f"/v1/agents/{AGENT}/messages", b"", b""),
    "list10": ("GET", f"/v1/agents/{AGENT}/messages", b"limit=10", b""),
    "health": ("GET", "/v1/health/", b"", b""),
}


def scope(method: str, path: str, query: bytes, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8283"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8283), "client": ("127.0.0.1", 50000), "scheme": "http", "method": method,
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": query, "headers": headers,
            "state": {}}  # fmt: skip


async def per_request(app: Any, case: tuple[str, str, bytes, bytes], requests: int, rounds: int) -> float:
    """The least CPU µs per request over ``rounds`` rounds."""
    method, path, query, body = case

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(requests):
            await app(scope(method, path, query, body), receive, send)
        best = min(best, (time.process_time() - began) / requests)
    return best * 1e6


async def measure(requests: int, rounds: int) -> dict[str, float]:
    from mockserver.allowlists import HostCheck, host_allowlist
    from mockserver.app import create_app

    app = create_app(freeze_gc=True)
    served = HostCheck(app, host_allowlist("127.0.0.1"))
    await per_request(served, CASES["create"], 50, 1)  # a history to list
    return {name: await per_request(served, case, requests, rounds) for name, case in CASES.items()}


def run_child(src: str | None, requests: int, rounds: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": src or ""}
    command = [sys.executable, __file__, "--requests", str(requests), "--rounds", str(rounds)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=src or None).stdout
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+)\s+([\d.]+) us", out, re.MULTILINE)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="requests per round (200)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per figure: the least is kept (15)")
    parser.add_argument("--src", default=None, metavar="DIR", help="also measure the mockserver found in DIR")
    parser.add_argument("--alternate", type=int, default=3, help="with --src: alternations of the two (3)")
    args = parser.parse_args(argv)
    if args.src is None:
        figures = asyncio.run(measure(args.requests, args.rounds))
        for name, micros in figures.items():
            print(f"{name:8} {micros:7.1f} us CPU per request (in-process, least of {args.rounds} rounds)")
        return 0
    theirs: dict[str, list[float]] = {}
    ours: dict[str, list[float]] = {}
    for _ in range(args.alternate):
        for into, src in ((theirs, args.src), (ours, None)):
            for name, micros in run_child(src, args.requests, args.rounds).items():
                into.setdefault(name, []).append(micros)
    print(f"{'scenario':8} {'--src':>8} {'this tree':>10}   CPU us per request, least of {args.alternate} alternations")
    for name in ours:
        before, after = min(theirs[name]), min(ours[name])
        print(f"{name:8} {before:8.1f} {after:10.1f}   {(after - before) / before * 100:+.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
