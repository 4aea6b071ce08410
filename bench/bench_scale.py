"""The scale figures of issue 11 in one run, each next to the bare-Starlette ceiling measured in the same run.

Sections (``--sections``, default all):

``throughput``  ``letta-mock serve`` (fresh store) and a bare Starlette app (the *ceiling*: no middleware, one
                route answering fixed bytes) on the same uvicorn settings (``mockserver.serving.uvicorn_config``
                without its Host check); the ceiling always on the fastest stack (uvloop and httptools, required),
                the mock on what its environment gives uvicorn's ``auto`` (``--mock-stack plain`` hides uvloop and
                httptools from it: the mock as installed before they were dependencies, or where they do not
                exist), loaded by wrk over loopback at 1 and 16 connections, alternately (ceiling, mock, ceiling,
                mock..., ``--rounds`` times; the median of each).
                Everything happens on ONE agent, whose history grows through the run: each non-streaming create
                (``POST /v1/agents/A/messages {"input": "hello"}``) stores 2 messages and nothing rotates. Lists:
                ``GET /v1/agents/A/messages`` (the default page, 100 stored messages) and ``?limit=10``. The
                ceiling answers each scenario with the very bytes the mock answered it with (captured just before),
                the POST ceiling reads the request body as the mock does: the ratio is the mock's cost over the
                framework's for the same answer. ``tiny`` is the ceiling answering ``[]``, for reference.
``depth``       page and create cost at 0 / 1k / 10k / 100k stored messages (``--depths``). Each depth is a fresh
                server process that fills its store *in-process through the Store and engine API* before it
                listens (a turn as ``sending.answer`` runs it: ``Store.new_run``, ``plan_for``, ``run_turn``), so 100k
                messages take seconds, not an hour of HTTP; every figure is then measured over HTTP with wrk at one
                connection. The history is one agent's: every fourth turn goes to a conversation it created, every
                turn is a run. Depth 0 is 10 turns (the cursors need a middle). Endpoints: the default list,
                ``limit=10``, ``after`` (order=asc, the SDK's forward walk) and ``before`` (desc, backwards) with a
                cursor in the middle of the history, the conversation's list, a middle run's list,
                ``GET /v1/messages/?limit=10``, and a non-streaming create on the same agent (measured last). The
                server's RSS before and after the fill gives the memory per 100k stored messages (turns of
                ``"hello"``: 2 stored messages, 3 listed items each), and again once every item has been listed
                (``Store.items_json`` over the whole history in-process: the journal's copies stay out of it).
``startup``     ``bench_startup.py`` (spawn ``letta-mock serve`` -> first 200), median of ``--startup-runs``.
``abandon``     rounds of ``--abandon`` streams (100 open at a time) that the client closes after the first event
                while the turn thinks; RSS once the turns have ended, after each round: the first round's growth
                (the target: < 30 MB, the 1,000 turns' history and journal included), then whether later rounds
                add more (a leak) or not.
``streams``     ``bench_streams.py``: time to first event, events/s of a long token stream, 1,000 concurrent
                streams with keep-alive pings (memory per stream), closed by the client mid-stream (abandoned):
                RSS once the server-side turns are over.

Figures: req/s, p50/p99 latency (wrk's, corrected for coordinated omission) and the server's CPU time per request
(from /proc, the figure that holds when neighbours share the 2 cores). Run by hand, nothing else heavy at the
same time:

    .venv/bin/python bench/bench_scale.py                          # everything (~10 minutes)
    .venv/bin/python bench/bench_scale.py --sections depth --depths 0,100000
    .venv/bin/python bench/bench_scale.py --src /tmp/base          # a snapshot: git archive REV | tar -x -C /tmp/base
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import HOST, default_cli, free_port, stop, wrk

HERE = Path(__file__).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
AGENT = "agent-5ca1e000-0000-4000-8000-000000000011"
HELLO = '{"input":"hello"}'

# The servers this bench starts besides `letta-mock serve`: the ceiling, and a mock whose store is filled
# in-process before it listens. Both run uvicorn exactly as `letta-mock serve` does (mockserver.serving).
LAUNCHER = r"""
import asyncio, gc, json, sys, time
import uvicorn
from mockserver.serving import uvicorn_config

mode, port, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fastest = {}


def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


if mode == "ceiling":
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    bodies = {name: open(path, "rb").read() for name, path in json.loads(arg).items()}

    def answer(body):
        async def get(request):
            return Response(body, media_type="application/json")

        async def post(request):
            await request.body()
            return Response(body, media_type="application/json")

        return get, post

    routes = []
    for name, body in bodies.items():
        get, post = answer(body)
        routes += [Route("/" + name, get, methods=["GET"]), Route("/" + name, post, methods=["POST"])]
    app = Starlette(routes=routes)
    fastest = {"loop": "uvloop", "http": "httptools"}  # the ceiling: the fastest stack, or no ceiling at all
else:
    from mockserver.app import create_app
    from mockserver.engine import run_turn
    from mockserver.models import LettaStreamingRequest
    from mockserver.sending import SEND, Send, input_messages, plan_for, turn_options

    turns = int(arg)
    app = create_app(freeze_gc=True)  # as `letta-mock serve` builds it
    store = app.state.store
    gc.collect()
    before = rss_kb()

    async def fill():
        agent = store.agent(sys.argv[4])
        conversation = store.create_conversation(agent, {})
        body = LettaStreamingRequest(input="hello")
        send = Send(SEND, agent, body, tuple(input_messages(body)), app.state.defaults)  # a JSON send, no request
        options = turn_options(send)
        for turn in range(turns):
            where = conversation.id if turn % 4 == 3 else None
            record = store.new_run(agent, conversation_id=where, run_type="send_message", background=False)
            plan = plan_for(store, send)
            await run_turn(store, agent, record, where, send.messages, plan, options)
        history = agent.messages
        middle = history[len(history) // 2]
        return {"conversation": conversation.id, "middle": middle.id, "run": middle.run_id, "stored": len(history)}

    began = time.perf_counter()
    ids = asyncio.run(fill())
    seconds = time.perf_counter() - began
    gc.collect()
    after = rss_kb()
    # Every stored item listed once, as a client paging through the whole history makes the store do it.
    agent = store.agents[sys.argv[4]]
    for start in range(0, len(agent.messages), 1000):
        store.items_json((m, i) for m in agent.messages[start:start + 1000] for i in range(len(m.items)))
    gc.collect()
    figures = {"rss_before_kb": before, "rss_after_kb": after, "rss_listed_kb": rss_kb(), "fill_s": seconds}
    print("READY " + json.dumps({**ids, **figures}), flush=True)
config = uvicorn_config(app, host="127.0.0.1", port=port, log_level="warning")
for key, value in fastest.items():
    setattr(config, key, value)
if mode == "ceiling":
    config.app = app  # bare: the same uvicorn settings without the mock's Host check in front
uvicorn.Server(config).run()
"""


# -- processes ----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    info: dict[str, Any]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def child_env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        root = str(Path(src).resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        env["LETTA_MOCK_BENCH_SRC"] = root
    return env


def plain_stack(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` in which ``import uvloop`` and ``import httptools`` fail, so uvicorn's ``auto`` falls back to asyncio
    and h11: the mock as it ran before they were dependencies (and as it runs where they do not exist)."""
    for name in ("uvloop", "httptools"):
        (folder / name).mkdir(exist_ok=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} hidden by bench --mock-stack plain')\n")
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status < 500)
    except OSError:
        return False


@contextmanager
def server(
    command: list[str], env: dict[str, str], probe: str, *, ready_line: bool, timeout: float
) -> Iterator[Server]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = tempfile.TemporaryFile()
    cwd = env.get("LETTA_MOCK_BENCH_SRC")  # `python -c` puts the working directory first on sys.path
    process = subprocess.Popen(command, stdout=subprocess.PIPE if ready_line else log, stderr=log, env=env, cwd=cwd)
    url = f"http://{HOST}:{port}"
    info: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + timeout
        if ready_line:
            assert process.stdout is not None
            line = process.stdout.readline().decode()  # the fill is bounded by the caller's depth
            if not line.startswith("READY "):
                log.seek(0)
                raise RuntimeError(f"server did not start: {line}{log.read().decode()[-2000:]}")
            info = json.loads(line.removeprefix("READY "))
        while not answers(url + probe):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{command[0]} did not answer on {url}: {log.read().decode()[-2000:]}")
            time.sleep(0.02)
        yield Server(url, process, info)
    finally:
        stop(process)
        log.close()


def mock_serve(cli: str, env: dict[str, str]) -> Any:
    command = [cli, "serve", "--host", HOST, "--port", "{port}", "--log-level", "warning"]
    return server(command, env, "/v1/health/", ready_line=False, timeout=30)


def filled_mock(turns: int, env: dict[str, str]) -> Any:
    command = [sys.executable, "-c", LAUNCHER, "mock", "{port}", str(turns), AGENT]
    return server(command, env, "/v1/health/", ready_line=True, timeout=120)


def ceiling(bodies: dict[str, bytes], env: dict[str, str], folder: Path) -> Any:
    files = {}
    for name, body in bodies.items():
        files[name] = str(folder / f"{name}.body")
        Path(files[name]).write_bytes(body)
    command = [sys.executable, "-c", LAUNCHER, "ceiling", "{port}", json.dumps(files)]
    return server(command, env, "/tiny", ready_line=False, timeout=30)


# -- wrk ----------------------------------------------------------------------------------------------------------

LUA = r"""
wrk.method = "{method}"
wrk.path = "{path}"
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {{"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"errors":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class Figure:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server CPU time per request
    errors: int
    requests: int

    def cells(self) -> str:
        return f"{self.rps:8.0f} {self.p50_ms:7.2f} {self.p99_ms:7.2f} {self.cpu_ms:7.3f}"


def load(target: Server, method: str, path: str, connections: int, seconds: float, warmup: float) -> Figure:
    body = f'wrk.body = \'{HELLO}\'\nwrk.headers["Content-Type"] = "application/json"' if method == "POST" else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA.format(method=method, path=path, body=body))
    try:

        def run(duration: float) -> dict[str, Any]:
            return wrk(target.url, handle.name, connections=connections, seconds=duration)

        if warmup > 0:
            run(warmup)
        cpu = target.cpu_seconds()
        figures = run(seconds)
        cpu = target.cpu_seconds() - cpu
    finally:
        os.unlink(handle.name)
    requests, duration = figures["requests"], figures["duration_us"] / 1e6
    return Figure(
        requests / duration,
        figures["p50"] / 1000,
        figures["p99"] / 1000,
        1000 * cpu / requests if requests else 0.0,
        figures["errors"],
        requests,
    )


def middle(figures: list[Figure]) -> Figure:
    """The run with the median req/s."""
    return sorted(figures, key=lambda f: f.rps)[len(figures) // 2]


def fetch(target: Server, method: str, path: str) -> bytes:
    data = HELLO.encode() if method == "POST" else None
    request = urllib.request.Request(
        target.url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body: bytes = response.read()
        return body


# -- sections -------------------------------------------------------------------------------------------------------

HEADER = f"{'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7}"
SUMMARY: list[tuple[str, str, str, str]] = []  # (figure, value, target, verdict)


def section_throughput(args: argparse.Namespace, env: dict[str, str]) -> None:
    print("\n== throughput: one agent, history growing through the run (no rotation) ==")
    path = f"/v1/agents/{AGENT}/messages"
    scenarios = [("create", "POST", path), ("list", "GET", path), ("list10", "GET", path + "?limit=10")]
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as shims:
        stack = plain_stack(env, Path(shims)) if args.mock_stack == "plain" else env
        _throughput(args, env, stack, path, scenarios, Path(folder))


def _throughput(
    args: argparse.Namespace, env: dict[str, str], stack: dict[str, str], path: str, scenarios: Any, folder: Path
) -> None:
    with mock_serve(args.cli, stack) as mock:
        for _ in range(args.prefill):  # a default page full from the start
            fetch(mock, "POST", path)
        bodies = {name: fetch(mock, method, where) for name, method, where in scenarios}
        bodies["tiny"] = b"[]"
        with ceiling(bodies, env, folder) as bare:
            print(f"{'scenario':<34} {'c':>3}  ceiling {HEADER}  |  mock {HEADER}  | ratio  stored after")
            for connections in args.connections:
                tiny = load(bare, "GET", "/tiny", connections, args.duration, args.warmup)
                print(f"{'ceiling GET [] (reference)':<34} {connections:>3}  ceiling {tiny.cells()}")
                for name, method, where in scenarios:
                    # Ceiling and mock alternate ``--rounds`` times; the median of each is the figure (neighbours
                    # on a shared 2-core machine move single runs by a factor of two).
                    tops, gots = [], []
                    for _ in range(args.rounds):
                        tops.append(load(bare, method, "/" + name, connections, args.duration, args.warmup))
                        gots.append(load(mock, method, where, connections, args.duration, args.warmup))
                    top, got = middle(tops), middle(gots)
                    stored = stored_messages(mock)
                    ratio = got.rps / top.rps if top.rps else 0.0
                    label = f"{method} {name} ({len(bodies[name])} B)"
                    print(
                        f"{label:<34} {connections:>3}  ceiling {top.cells()}  |  mock {got.cells()}  | "
                        f"{ratio:5.0%}  {stored} stored, errors {got.errors}",
                        flush=True,
                    )
                    target = 0.35 if name == "create" else 0.50
                    SUMMARY.append(
                        (
                            f"{name} c={connections} / ceiling",
                            f"{ratio:.0%} ({got.rps:.0f} vs {top.rps:.0f} req/s)",
                            f">= {target:.0%}",
                            "ok" if ratio >= target else "MISSED",
                        )
                    )


def section_depth(args: argparse.Namespace, env: dict[str, str]) -> None:
    print("\n== depth: cost per request at 1 connection, store filled in-process (Store + engine API) ==")
    costs: dict[str, dict[int, Figure]] = {}
    memory: list[str] = []
    for depth in args.depths:
        turns = max(10, depth // 2)
        with filled_mock(turns, env) as mock:
            info = mock.info
            base = f"/v1/agents/{AGENT}/messages"
            endpoints = [
                ("list default", "GET", base),
                ("list limit=10", "GET", base + "?limit=10"),
                ("after mid, asc, limit=10", "GET", f"{base}?limit=10&order=asc&after={info['middle']}"),
                ("before mid, desc, limit=10", "GET", f"{base}?limit=10&before={info['middle']}"),
                ("conversation, limit=10", "GET", f"/v1/conversations/{info['conversation']}/messages?limit=10"),
                ("run (middle)", "GET", f"/v1/runs/{info['run']}/messages"),
                ("GET /v1/messages/?limit=10", "GET", "/v1/messages/?limit=10"),
                ("the agent's runs, limit=10", "GET", f"/v1/runs/?agent_id={AGENT}&limit=10"),
                ("create (same agent)", "POST", base),
            ]
            print(
                f"\n-- depth {depth}: {info['stored']} stored messages, filled in {info['fill_s']:.1f} s, RSS "
                f"{info['rss_before_kb'] / 1024:.1f} -> {info['rss_after_kb'] / 1024:.1f} MB --"
            )
            print(f"{'endpoint':<30} {HEADER}")
            for name, method, where in endpoints:
                got = load(mock, method, where, 1, args.depth_duration, args.warmup)
                costs.setdefault(name, {})[depth] = got
                print(f"{name:<30} {got.cells()}  errors {got.errors}", flush=True)
            grown = info["rss_after_kb"] - info["rss_before_kb"]
            line = f"depth {depth}: {grown / 1024:.1f} MB for {info['stored']} stored"
            if depth == max(args.depths) and depth > 0:
                per = grown * 1024 / info["stored"]
                line += f" = {per:.0f} B per stored message = {per * 1e5 / 2**20:.0f} MB per 100k"
                listed = info["rss_listed_kb"] - info["rss_before_kb"]
                line += (
                    f"; once every item was listed (its JSON made): {listed / 1024:.1f} MB = "
                    f"{listed * 1024 / info['stored']:.0f} B per stored message"
                )
                SUMMARY.append(("memory per 100k stored messages", f"{per * 1e5 / 2**20:.0f} MB", "small", "-"))
            memory.append(line)
    print("\n-- memory --")
    for line in memory:
        print(line)
    first, last = min(args.depths), max(args.depths)
    if first != last:
        print(f"\n-- cost at {last} / cost at {first} (server CPU per request; req/s in brackets) --")
        for name, by_depth in costs.items():
            ratio = by_depth[last].cpu_ms / by_depth[first].cpu_ms if by_depth[first].cpu_ms else 0.0
            rps = by_depth[first].rps / by_depth[last].rps if by_depth[last].rps else 0.0
            print(f"{name:<30} {ratio:5.2f}x  ({rps:.2f}x)")
            SUMMARY.append(
                (f"{name} at {last} vs {first}", f"{ratio:.2f}x CPU/req", "<= 2x", "ok" if ratio <= 2 else "MISSED")
            )


def stored_messages(mock: Server) -> int:
    """The agent's stored messages, from the admin API (which costs the same at any depth)."""
    agents = json.loads(fetch(mock, "GET", "/_mock/agents"))
    return sum(int(a["stored_messages"]) for a in agents if a["id"] == AGENT)


def section_startup(args: argparse.Namespace, env: dict[str, str]) -> None:
    print("\n== start-up: spawn letta-mock serve -> first 200 ==")
    command = [sys.executable, str(HERE / "bench_startup.py"), "--runs", str(args.startup_runs), "--cli", args.cli]
    command += ["--src", args.src] if args.src else []
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=True)
    print(done.stdout)
    match = re.search(r"first 200 /v1/health/\s+([\d.]+)\s+([\d.]+)", done.stdout)
    if match:
        median = float(match.group(2))
        SUMMARY.append(
            ("start-up to first 200 (median)", f"{median:.0f} ms", "<= 300 ms", "ok" if median <= 300 else "MISSED")
        )


def section_streams(args: argparse.Namespace, env: dict[str, str]) -> None:
    print("\n== streams (bench_streams.py) ==")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [
        sys.executable,
        str(HERE / "bench_streams.py"),
        "--phases",
        "ttfe,long,hold",
        "--streams",
        "1000",
        "--hold",
        "10",
        "--think-ms",
        "15000",
        "--wait-runs",
        "--requests",
        "200",
        "--cli",
        args.cli,
        "--json",
        out,
    ]
    cwd = env.get("LETTA_MOCK_BENCH_SRC")
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=1200)
    print(done.stdout)
    if done.returncode != 0:
        print(done.stderr[-3000:])
        return
    figures = json.loads(Path(out).read_text())
    os.unlink(out)
    ttfe, long, hold = figures["ttfe"][0], figures["long"], figures["hold"][0]
    SUMMARY.append(
        (
            "stream: first event / first agent chunk p50",
            f"{ttfe['first_data_p50_ms']:.2f} / {ttfe['first_agent_p50_ms']:.2f} ms",
            "-",
            "-",
        )
    )
    SUMMARY.append(("stream: events/s (long token stream)", f"{long['events_per_s']:.0f}", "-", "-"))
    SUMMARY.append(
        (
            f"{hold['streams']} streams with pings: healthy",
            f"{hold['healthy']}",
            "all",
            "ok" if hold["healthy"] == hold["streams"] else "MISSED",
        )
    )
    SUMMARY.append(("memory per open stream", f"{hold['kb_per_stream']:.1f} KB", "-", "-"))
    done_mb = hold["rss_runs_done_mb"] if hold["rss_runs_done_mb"] is not None else hold["rss_closed_mb"]
    growth = done_mb - hold["rss_idle_mb"]
    SUMMARY.append(
        (
            f"RSS growth after {hold['streams']} abandoned streams",
            f"{growth:.1f} MB",
            "< 30 MB",
            "ok" if growth < 30 else "MISSED",
        )
    )


ABANDON_CONTROL = "think_ms=300; ping_interval_ms=50"  # a turn that thinks, pinging, while its client leaves


async def _abandon_round(url: str, count: int, concurrency: int) -> None:
    import httpx

    gate = asyncio.Semaphore(concurrency)
    headers = {"X-Letta-Mock": ABANDON_CONTROL}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:

        async def abandon(n: int) -> None:
            body = {"input": f"hi {n}", "streaming": True, "stream_tokens": True}
            async with gate, client.stream("POST", f"/v1/agents/{AGENT}/messages", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        return  # the first event (a ping): the client closes the stream mid-turn

        await asyncio.gather(*(abandon(n) for n in range(count)))
        deadline = time.monotonic() + 60
        while (await client.get("/v1/runs/active")).json() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # the turns run on without their readers, then end


def section_abandon(args: argparse.Namespace, env: dict[str, str]) -> None:
    print(f"\n== abandoned streams: rounds of {args.abandon} streams closed by the client after the first event "
          f"({args.abandon_concurrency} at a time; {ABANDON_CONTROL}), RSS once their turns have ended ==")  # fmt: skip
    with mock_serve(args.cli, env) as mock:
        for _ in range(20):
            fetch(mock, "POST", f"/v1/agents/{AGENT}/messages")  # warm: every code path imported and built
        idle = mock.rss_kb()
        print(f"idle {idle / 1024:.1f} MB")
        previous = idle
        for number in range(1, args.abandon_rounds + 1):
            began = time.monotonic()
            asyncio.run(_abandon_round(mock.url, args.abandon, args.abandon_concurrency))
            rss = mock.rss_kb()
            print(f"round {number}: {time.monotonic() - began:.1f} s, RSS {rss / 1024:.1f} MB "
                  f"({(rss - previous) / 1024:+.1f} MB; {(rss - idle) / 1024:+.1f} MB since idle), "
                  f"{stored_messages(mock)} stored messages")  # fmt: skip
            if number == 1:
                SUMMARY.append((f"RSS growth after {args.abandon} abandoned streams", f"{(rss - idle) / 1024:.1f} MB",
                                "< 30 MB", "ok" if rss - idle < 30 * 1024 else "MISSED"))  # fmt: skip
            last, previous = rss - previous, rss
        if args.abandon_rounds > 1:
            SUMMARY.append((f"RSS growth in round {args.abandon_rounds} of {args.abandon} abandoned streams",
                            f"{last / 1024:+.1f} MB", "-", "-"))  # fmt: skip


SECTIONS = {
    "throughput": section_throughput,
    "depth": section_depth,
    "startup": section_startup,
    "streams": section_streams,
    "abandon": section_abandon,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of {','.join(SECTIONS)}")
    parser.add_argument("--duration", type=float, default=5.0, help="s per throughput measurement (5)")
    parser.add_argument("--depth-duration", type=float, default=3.0, help="s per depth measurement (3)")
    parser.add_argument("--connections", default="1,16", help="throughput's connection counts (1,16)")
    parser.add_argument(
        "--mock-stack",
        choices=("auto", "plain"),
        default="auto",
        help="the mock's uvicorn stack: auto (uvloop and httptools when installed) or plain (both hidden: asyncio "
        "and h11); the ceiling is always on uvloop and httptools",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations of ceiling and mock per figure (3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured s before each measurement (1)")
    parser.add_argument("--prefill", type=int, default=60, help="turns sent before the throughput runs (60)")
    parser.add_argument("--depths", default="0,1000,10000,100000", help="stored messages (0,1000,10000,100000)")
    parser.add_argument("--abandon", type=int, default=1000, help="streams abandoned per round (1000)")
    parser.add_argument("--abandon-rounds", type=int, default=3, help="rounds of abandoned streams (3)")
    parser.add_argument("--abandon-concurrency", type=int, default=100, help="streams open at once (100)")
    parser.add_argument("--startup-runs", type=int, default=10, help="start-ups timed (10)")
    parser.add_argument("--cli", default=None, help="letta-mock executable (default: the one beside this python)")
    parser.add_argument("--src", default=None, metavar="DIR", help="serve the mockserver package found in DIR")
    args = parser.parse_args(argv)
    args.cli = args.cli or default_cli()
    args.depths = [int(d) for d in args.depths.split(",") if d.strip()]
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH: apt-get install -y wrk")
    env = child_env(args.src)
    where = subprocess.run(
        [sys.executable, "-c", "import mockserver; print(mockserver.__file__)"],
        env=env,
        cwd=env.get("LETTA_MOCK_BENCH_SRC"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"letta-mock scale bench: mockserver from {where}; {os.cpu_count()} CPUs; wrk -t1; "
        f"{args.duration:g} s per throughput figure, {args.depth_duration:g} s per depth figure"
    )
    for name in args.sections.split(","):
        SECTIONS[name.strip()](args, env)
    print("\n== summary ==")
    width = max((len(row[0]) for row in SUMMARY), default=10)
    for figure, value, target, verdict in SUMMARY:
        print(f"{figure:<{width}}  {value:<32} {target:<10} {verdict}")
    print("cpu ms: the server's CPU time per request; ratios are req/s against the ceiling in the same run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
