"""HTTP throughput and latency of the mock's message endpoints, server and load generator in separate processes.

For every scenario and concurrency level a fresh server is spawned (``letta-mock serve --host 127.0.0.1 --port P
--log-level warning``), warmed up, then loaded for ``--duration`` seconds over loopback only:

* ``list`` / ``list?limit=10``: ``GET /v1/agents/{id}/messages`` on an agent pre-filled with ``--history`` turns
  (``POST {"input": "hello"}`` each: a user message plus a reasoning+assistant step, 2 stored messages and
  3 listed items per turn; the default ``limit`` is 100 stored messages);
* ``create``: non-streaming ``POST /v1/agents/{id}/messages {"input": "hello"}``;
* ``create stream``: the same with ``"streaming": true``, each SSE response read to ``data: [DONE]``.

A create appends to the agent's history. By default every create goes to one agent per wrk thread (or httpx
connection), whose history grows through the measurement as a user's does; ``--rotate N`` moves to a fresh
random ``agent-<uuid4>`` every N requests instead (history at most ``1 + 2 * N`` stored messages), which hides
any cost that grows with history: use it only to compare with that. The server is restarted for each
measurement, so the store starts empty every time. ``bench_scale.py`` measures the cost at depth directly.

Load generators: ``wrk`` (if on PATH; one thread by default, since the machine has 2 cores and the server uses
one; Lua scripts supply the POST bodies and rotate the agent ids, ``done()`` prints the figures) and/or an
asyncio ``httpx`` generator in this script (much slower per request than wrk, so it shares the CPU with the
server and understates the server's capacity). The server's CPU use during the run (from /proc) shows whether
the server was the bottleneck (about 100% = one core saturated); the server's CPU time per request is the figure
that survives noisy neighbours on a shared machine, and "other" reports how busy they were.

Latency: wrk's percentiles are corrected for coordinated omission (wrk's ``stats_correct`` adds the samples a
fixed-rate client would have seen while the server stalled), so a single 200 ms pause of the server (a full
garbage collection, say) shows up in p99 even at one connection. The httpx generator reports raw per-request
times (service time as one client sees it). Run both (``--tool both``) to tell stalls from steady latency.

Run by hand (figures only, no thresholds):

    /tmp/venv/bin/python bench/bench_http.py --duration 10
    /tmp/venv/bin/python bench/bench_http.py --duration 5 --concurrency 1,10,50 --tool both
    /tmp/venv/bin/python bench/bench_http.py --scenarios create --src /tmp/snap  # measure a source snapshot
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import (
    HOST,
    default_cli,
    free_port,
    stop,
    wrk,
)

HEALTH_PATH = "/v1/health/"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    method: str
    query: str = ""
    body: str | None = None
    streaming: bool = False

    @property
    def creates(self) -> bool:
        return self.method == "POST"


SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("list", "GET  /messages (default limit)", "GET"),
        Scenario("list10", "GET  /messages?limit=10", "GET", query="?limit=10"),
        Scenario("create", "POST /messages (non-streaming)", "POST", body='{"input":"hello"}'),
        Scenario(
            "stream", "POST /messages streaming=true", "POST", body='{"input":"hello","streaming":true}', streaming=True
        ),
    )
}


@dataclass
class Result:
    tool: str
    scenario: Scenario
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    server_cpu: float  # fraction of one core used by the server process during the run
    other_cpu: float  # cores busy with anything but the server and the load generator (noise from neighbours)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per request: robust to neighbours' load, unlike req/s and latency."""
        return 1000 * self.server_cpu * self.seconds / self.requests if self.requests else 0.0


def host_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat: user..softirq, steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Busy CPU during a measurement: the server's, the load generator's, and everyone else's."""

    def __init__(self, server: Server, generator: int) -> None:
        self.server, self.generator = server, generator
        self.start = (server.cpu_seconds(), own_cpu_seconds(generator), host_busy_seconds())

    def stop(self, seconds: float) -> tuple[float, float]:
        """(server cores, other cores) over ``seconds``."""
        server = self.server.cpu_seconds() - self.start[0]
        generator = own_cpu_seconds(self.generator) - self.start[1]
        host = host_busy_seconds() - self.start[2]
        return server / seconds, max(0.0, host - server - generator) / seconds


def wait_for_idle(limit: float, threshold: float = 0.2, window: float = 2.0) -> float:
    """Wait (up to ``limit`` s) for a ``window`` in which the host is busy less than ``threshold`` cores.

    Returns the busy cores of the last window. For shared machines, where neighbours' work skews the figures.
    """
    deadline = time.monotonic() + limit
    while True:
        before = host_busy_seconds()
        time.sleep(window)
        busy = (host_busy_seconds() - before) / window
        if busy < threshold or time.monotonic() > deadline:
            return busy


# -- the server ----------------------------------------------------------------------------------------------------


def child_env(src: str | None) -> tuple[dict[str, str] | None, str | None]:
    """Environment and cwd for the server: with ``src``, its mockserver package comes first on the path."""
    if src is None:
        return None, None
    root = str(Path(src).resolve())
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}, root


def health_ok(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        connection.request("GET", HEALTH_PATH)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def running_server(cli: str, src: str | None, timeout: float = 30.0) -> Iterator[Server]:
    port = free_port()
    env, cwd = child_env(src)
    command = [cli, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while not health_ok(port):
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"letta-mock exited with {process.returncode}:\n{error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"letta-mock did not answer on port {port} within {timeout} s")
            time.sleep(0.01)
        yield Server(port, process)
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()


def new_agent_id() -> str:
    return f"agent-{uuid.uuid4()}"


def prefill(server: Server, agent_id: str, turns: int) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(turns):
            response = client.post(f"/v1/agents/{agent_id}/messages", json={"input": "hello"})
            response.raise_for_status()


def sanity_check(server: Server, scenario: Scenario, agent_id: str) -> str:
    """One request of the scenario, checked by hand: a short description of the answer."""
    path = f"/v1/agents/{agent_id if not scenario.creates else new_agent_id()}/messages{scenario.query}"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.request(
            scenario.method,
            path,
            content=scenario.body,
            headers={"content-type": "application/json"} if scenario.body else None,
        )
    if response.status_code != 200:
        raise RuntimeError(f"{scenario.method} {path}: {response.status_code} {response.text[:300]}")
    size = len(response.content)
    if scenario.streaming:
        if not response.content.endswith(b"data: [DONE]\n\n"):
            raise RuntimeError(f"stream did not end with [DONE]: {response.content[-200:]!r}")
        return f"{response.content.count(b'data: ')} SSE frames, {size} B"
    data = response.json()
    if isinstance(data, list):
        return f"{len(data)} items, {size} B"
    return f"{len(data.get('messages', []))} messages, {size} B"


# -- wrk -----------------------------------------------------------------------------------------------------------

LUA_COMMON = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%.0f,"duration_us":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,' ..
    '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

LUA_GET = """
wrk.method = "GET"
wrk.path = "{path}"
"""

LUA_POST = r"""
local rotate = {rotate}
local body = '{body}'
local headers = {{["Content-Type"] = "application/json"}}
local count = 0
local agent = nil
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("seed", thread_number)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0) * 7919)
end

local function uuid4()
  local r = math.random
  return string.format("%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
    r(0, 0xffff), r(0, 0xffff), r(0, 0xffff), r(0, 0xfff), r(8, 11), r(0, 0xfff),
    r(0, 0xffff), r(0, 0xffff), r(0, 0xffff))
end

request = function()
  count = count + 1
  if agent == nil or (rotate > 0 and count > rotate) then
    agent = "agent-" .. uuid4()
    count = 1
  end
  return wrk.format("POST", "/v1/agents/" .. agent .. "/messages", headers, body)
end
"""


def wrk_script(scenario: Scenario, agent_id: str, rotate: int) -> str:
    if scenario.creates:
        assert scenario.body is not None
        assert "'" not in scenario.body
        return LUA_POST.format(rotate=rotate, body=scenario.body) + LUA_COMMON
    return LUA_GET.format(path=f"/v1/agents/{agent_id}/messages{scenario.query}") + LUA_COMMON


def run_wrk(
    server: Server, scenario: Scenario, agent_id: str, concurrency: int, duration: float, args: argparse.Namespace
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(wrk_script(scenario, agent_id, args.rotate))
        script = handle.name
    threads = max(1, min(args.wrk_threads, concurrency))
    try:

        def run(seconds: float) -> dict[str, Any]:
            return wrk(server.url, script, connections=concurrency, seconds=seconds, threads=threads)

        if args.warmup > 0:
            run(args.warmup)
        meter = CpuMeter(server, resource.RUSAGE_CHILDREN)  # wrk is a waited-for child
        figures = run(duration)
        server_cpu, other_cpu = meter.stop(figures["duration_us"] / 1e6)
    finally:
        os.unlink(script)
    seconds = figures["duration_us"] / 1e6
    errors = sum(int(figures[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return Result(
        "wrk",
        scenario,
        concurrency,
        int(figures["requests"]),
        seconds,
        figures["p50"] / 1000,
        figures["p90"] / 1000,
        figures["p99"] / 1000,
        errors,
        server_cpu,
        other_cpu,
    )


# -- httpx (asyncio) -----------------------------------------------------------------------------------------------


async def _httpx_load(
    server: Server, scenario: Scenario, agent_id: str, concurrency: int, duration: float, rotate: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal errors
            agent, sent = agent_id, 0
            while time.perf_counter() < deadline:
                if scenario.creates and (sent == 0 or (rotate and sent % rotate == 0)):
                    agent = new_agent_id()
                sent += 1
                path = f"/v1/agents/{agent}/messages{scenario.query}"
                began = time.perf_counter()
                try:
                    if scenario.streaming:
                        async with client.stream("POST", path, content=scenario.body, headers=headers) as response:
                            await response.aread()
                    elif scenario.creates:
                        response = await client.post(path, content=scenario.body, headers=headers)
                    else:
                        response = await client.get(path)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def run_httpx(
    server: Server, scenario: Scenario, agent_id: str, concurrency: int, duration: float, args: argparse.Namespace
) -> Result:
    if args.warmup > 0:
        asyncio.run(_httpx_load(server, scenario, agent_id, concurrency, args.warmup, args.rotate))
    meter = CpuMeter(server, resource.RUSAGE_SELF)
    latencies, errors, elapsed = asyncio.run(
        _httpx_load(server, scenario, agent_id, concurrency, duration, args.rotate)
    )
    server_cpu, other_cpu = meter.stop(elapsed)
    ms = sorted(x * 1000 for x in latencies) or [0.0]
    return Result(
        "httpx",
        scenario,
        concurrency,
        len(latencies),
        elapsed,
        statistics.median(ms),
        percentile(ms, 0.90),
        percentile(ms, 0.99),
        errors,
        server_cpu,
        other_cpu,
    )


def percentile(ordered: Sequence[float], fraction: float) -> float:
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- main ------------------------------------------------------------------------------------------------------------


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'tool':<5}  {'endpoint':<32}  {'conc':>4}  {'req/s':>8}  {'p50 ms':>7}  {'p90 ms':>7}  {'p99 ms':>7}"
        f"  {'errors':>6}  {'srv CPU':>7}  {'other':>5}  {'CPU ms/req':>10}  {'1-core cap':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.tool:<5}  {r.scenario.label:<32}  {r.concurrency:>4}  {r.rps:8.0f}  {r.p50_ms:7.2f}  {r.p90_ms:7.2f}"
            f"  {r.p99_ms:7.2f}  {r.errors:>6}  {r.server_cpu:7.0%}  {r.other_cpu:5.2f}  {r.cpu_ms_per_request:10.3f}"
            f"  {1 / r.cpu_ms_per_request * 1000 if r.cpu_ms_per_request else 0:10.0f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default: 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default: 1)")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated connection counts (default: 1,10,50)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument(
        "--tool", choices=("auto", "wrk", "httpx", "both"), default="auto", help="auto: wrk if on PATH, else httpx"
    )
    parser.add_argument("--history", type=int, default=50, help="turns pre-filled for the list scenarios (default 50)")
    parser.add_argument("--rotate", type=int, default=0, help="creates per agent id before a fresh one (0: never)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default: 1; 2 cores in all)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per cell, each on a fresh server; the median by req/s is shown"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for the host to be idle (shared machines; default: no wait)",
    )
    parser.add_argument("--cli", default=None, help="letta-mock executable (default: the one beside this python)")
    parser.add_argument("--src", default=None, metavar="DIR", help="serve the mockserver package found in DIR")
    args = parser.parse_args(argv)

    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    scenarios = [SCENARIOS[key.strip()] for key in args.scenarios.split(",") if key.strip()]
    have_wrk = shutil.which("wrk") is not None
    if args.tool in ("wrk", "both") and not have_wrk:
        sys.exit("wrk is not on PATH (apt-get install -y wrk), use --tool httpx")
    tools = {"auto": ["wrk" if have_wrk else "httpx"], "wrk": ["wrk"], "httpx": ["httpx"], "both": ["wrk", "httpx"]}
    cli = args.cli or default_cli()
    print(
        f"{cli} on {HOST}, {os.cpu_count()} CPUs; {args.duration:g} s per run after {args.warmup:g} s warm-up; "
        f"list history: {args.history} turns; creates rotate agent id "
        + (f"every {args.rotate} requests" if args.rotate else "never (history grows)")
    )

    results: list[Result] = []
    for scenario in scenarios:
        for tool in tools[args.tool]:
            for concurrency in concurrencies:
                runs: list[Result] = []
                for _ in range(max(1, args.repeat)):
                    if args.wait_idle > 0:
                        wait_for_idle(args.wait_idle)
                    with running_server(cli, args.src) as server:
                        agent_id = new_agent_id()
                        if not scenario.creates:
                            prefill(server, agent_id, args.history)
                        shape = sanity_check(server, scenario, agent_id)
                        run = run_wrk if tool == "wrk" else run_httpx
                        result = run(server, scenario, agent_id, concurrency, args.duration, args)
                    runs.append(result)
                    print(
                        f"  {tool:<5} {scenario.label:<32} c={concurrency:<3} {result.rps:8.0f} req/s  "
                        f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  errors {result.errors}  "
                        f"srv CPU {result.server_cpu:.0%} ({result.cpu_ms_per_request:.3f} ms/req)  "
                        f"other CPU {result.other_cpu:.2f}  ({shape})",
                        flush=True,
                    )
                results.append(sorted(runs, key=lambda r: r.rps)[len(runs) // 2])
    print()
    print_table(results)
    print(
        "\nsrv CPU: the server process's CPU use (100% = one core saturated); other: cores busy with anything but "
        "the server and the load generator during the run (neighbouring processes; > 0.2 means a noisy run);\n"
        "CPU ms/req: server CPU time per request; 1-core cap: 1000 / that, the req/s one free core could serve;\n"
        "wrk latencies are corrected for coordinated omission (server stalls count for every request they delay), "
        "httpx latencies are raw"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
