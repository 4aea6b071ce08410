"""SSE streaming figures of the mock: time to first event, events/s of a long token stream, and how many open
streams (with keep-alive pings on) one server holds, with its CPU and memory per open stream.

The server is ``letta-mock serve --host 127.0.0.1 --port P --log-level warning`` in a subprocess (a fresh one
per phase, and per stream count in phase 3), so client and server are separate processes; everything runs over
loopback only. The client is a small raw-asyncio HTTP/1.1 + SSE reader (no httpx: it costs far less CPU per
event, so on a 2-core machine the client is not the bottleneck; the client's own CPU is printed next to the
server's to show it). Every request is ``POST /v1/agents/agent-<uuid4>/messages`` with
``{"input": "hello", "streaming": true, "stream_tokens": true}`` and an ``X-Letta-Mock`` control header.

Phases (``--phases``, default all):

``ttfe``  sequential streamed turns on one keep-alive connection (a fresh agent every ``--rotate`` turns):
          time from writing the request to the first ``data:`` frame (the run's initial ping), to the first agent
          chunk (first frame that is neither a ping nor a stop/usage/[DONE]), and to ``data: [DONE]``; median and
          p99 with default pacing, then with ``first_event_delay_ms=600`` to check the pacing is honoured (the
          ping comes at once, the first agent chunk >= 600 ms later).
``long``  ``scenario=long; tokens=N`` with zero delays, read to ``[DONE]``: events/s and MB/s (SSE body bytes,
          de-chunked) the client receives, averaged over ``--long-runs`` runs, with the server's CPU.
``hold``  for each N in ``--streams``: a fresh server, warmed up; its idle RSS; then N concurrent streams with
          ``think_ms=<--think-ms>; ping_interval_ms=<--ping-interval-ms>`` (an initial ping, then a keep-alive ping
          every interval while the turn "thinks"), opened at most ``--connect-concurrency`` at a time; once all
          are open they are held ``--hold`` seconds. Reported: streams opened, time to open them all, server CPU
          per stream opened, server CPU% and RSS (``/proc/<pid>/stat`` utime+stime, ``/proc/<pid>/status``
          VmRSS) over the hold window, server CPU per ping delivered, memory per open stream = (RSS with N open -
          idle RSS) / N (once all are open, and at the end of the hold), RSS growth during the hold, and healthy
          streams. A stream is healthy when it had no error, did not end, got its initial ping, got at least
          ``floor(hold / interval) - 1`` keep-alive pings in the window and never went more than ``--gap-factor``
          intervals without one. The streams are then closed (tasks cancelled, sockets closed with FIN) and the
          server's RSS, CPU and open fds are read ``--settle`` seconds later; with ``--wait-runs`` also once the
          server-side turns have run out their ``think_ms`` (the mock keeps a run going when its client leaves, as
          Letta does), and after ``POST /_mock/reset``. With ``--to-end`` the streams are first read on until
          their turns end: how many ended with ``data: [DONE]`` (every stream ends).

CPU columns are % of one core: server / this client / everything else on the host (from /proc/stat). On a shared
2-core machine "others" near 200% - server - client means the server was starved; the per-event, per-ping and
per-open CPU times and the KB figures are the ones that hold up under such contention. Each phase first waits
(at most ``--quiet`` s) for the host to calm down.

Run by hand (figures only, no thresholds; the whole run is bounded by ``--budget`` seconds):

    /tmp/venv/bin/python bench/bench_streams.py
    /tmp/venv/bin/python bench/bench_streams.py --phases hold --streams 1000 --hold 15 --wait-runs
    /tmp/venv/bin/python bench/bench_streams.py --phases ttfe,long --requests 500 --json /tmp/streams.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    HOST,
    default_cli,
    free_port,
    stop,
)

HEALTH_PATH = "/v1/health/"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BODY = b'{"input": "hello", "streaming": true, "stream_tokens": true}'
PING_MARK = b'"message_type":"ping"'
END_MARKS = (b'"message_type":"stop_reason"', b'"message_type":"usage_statistics"')
DONE_FRAME = b"data: [DONE]"


# -- the server process --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcSample:
    """One reading of the server process from /proc."""

    at: float  # time.monotonic()
    rss_kb: int
    hwm_kb: int  # peak RSS so far
    cpu_s: float  # utime + stime
    fds: int


class Server:
    """``letta-mock serve`` in a subprocess on a free loopback port; its output goes to a temporary log."""

    def __init__(self, cli: str, extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-streams-", suffix=".log", delete=False)
        command = [cli, "serve", "--host", HOST, "--port", str(self.port), "--log-level", "warning", *extra]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 1.0)
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.05)
                continue
            try:
                writer.write(f"GET {HEALTH_PATH} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
                status = (await asyncio.wait_for(reader.readline(), 2.0)).split(b" ")
                if len(status) > 1 and status[1] == b"200":
                    return
            except (OSError, asyncio.TimeoutError):
                pass
            finally:
                writer.close()
            await asyncio.sleep(0.05)
        raise RuntimeError(f"server not ready after {timeout} s")

    def sample(self) -> ProcSample:
        status = Path(f"/proc/{self.pid}/status").read_text()
        values = {k: v.split()[0] for k, _, v in (line.partition(":") for line in status.splitlines()) if v.strip()}
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        cpu = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
        return ProcSample(time.monotonic(), int(values["VmRSS"]), int(values["VmHWM"]), cpu, fds)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def log_problems(self) -> list[str]:
        """Lines of the server's output that report errors (it runs at --log-level warning)."""
        keys = ("Traceback", "ERROR", "Error", "WARNING", "Exception")
        return [line for line in self.log_text().splitlines() if any(k in line for k in keys)]

    def stop(self) -> None:
        stop(self.process)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def cpu_percent(before: ProcSample, after: ProcSample) -> float:
    """Server CPU between two samples, in % of one core."""
    wall = after.at - before.at
    return 100.0 * (after.cpu_s - before.cpu_s) / wall if wall > 0 else 0.0


def host_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat: user..softirq, steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Cpu:
    """CPU over one measurement, in % of one core: the server's, this client's, and everyone else's (neighbours
    on a shared machine: with 2 cores, server + client + others near 200% means the figures are CPU-starved)."""

    server: float
    client: float
    others: float


async def wait_for_quiet(limit: float, threshold: float = 0.3, window: float = 1.0) -> float:
    """Wait (at most ``limit`` s) for a ``window`` in which the host is busy less than ``threshold`` cores, so a
    shared machine's other work skews the figures less. Returns the busy cores of the last window."""
    deadline = time.monotonic() + limit
    while True:
        before = host_busy_seconds()
        await asyncio.sleep(window)
        busy = (host_busy_seconds() - before) / window
        if busy < threshold or time.monotonic() >= deadline:
            return busy


class Meter:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.before, self.client, self.host = server.sample(), own_cpu_seconds(), host_busy_seconds()

    def stop(self) -> tuple[ProcSample, Cpu]:
        after = self.server.sample()
        wall = after.at - self.before.at
        server = after.cpu_s - self.before.cpu_s
        client = own_cpu_seconds() - self.client
        others = max(0.0, host_busy_seconds() - self.host - server - client)
        if wall <= 0:
            return after, Cpu(0.0, 0.0, 0.0)
        return after, Cpu(100 * server / wall, 100 * client / wall, 100 * others / wall)


# -- a minimal HTTP/1.1 + SSE client -------------------------------------------------------------------------------


class ResponseError(Exception):
    pass


def agent_path() -> str:
    return f"/v1/agents/agent-{uuid.uuid4()}/messages"


def request_bytes(port: int, path: str, control: str | None) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"Content-Length: {len(BODY)}",
    ]
    if control:
        lines.append(f"X-Letta-Mock: {control}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY


async def read_head(reader: asyncio.StreamReader) -> dict[str, str]:
    """Status line and headers; a non-200 answer raises with its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    status = int(status_line.split(" ")[1])
    if status != 200:
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        raise ResponseError(f"HTTP {status}: {body[:300]!r}")
    if headers.get("transfer-encoding", "").lower() != "chunked":
        raise ResponseError(f"expected a chunked SSE body, got headers {headers}")
    return headers


class SSEReader:
    """SSE frames (the text between blank lines) of one chunked response body."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = bytearray()
        self.body_bytes = 0
        self.done = False  # the chunked body ended (zero-size chunk)

    async def frame(self) -> bytes | None:
        while True:
            end = self.buffer.find(b"\n\n")
            if end >= 0:
                frame = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return frame
            if self.done:
                if self.buffer.strip():
                    raise ResponseError(f"body ended inside a frame: {bytes(self.buffer[:200])!r}")
                return None
            await self._chunk()

    async def _chunk(self) -> None:
        line = await self.reader.readuntil(b"\r\n")
        size = int(line[:-2].split(b";", 1)[0], 16)
        if size == 0:
            await self.reader.readuntil(b"\r\n")  # end of the (empty) trailers
            self.done = True
            return
        data = await self.reader.readexactly(size + 2)
        self.buffer += data[:-2]
        self.body_bytes += size


def is_agent_chunk(frame: bytes) -> bool:
    return PING_MARK not in frame and frame != DONE_FRAME and not any(mark in frame for mark in END_MARKS)


class Connection:
    """One keep-alive connection for sequential requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.reader.at_eof():
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        return self.reader, self.writer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


@dataclass(frozen=True)
class Turn:
    """One streamed turn as the client saw it; times in seconds from writing the request."""

    first_data: float
    first_agent: float | None
    done: float
    events: int
    body_bytes: int


async def streamed_turn(connection: Connection, path: str, control: str | None, timeout: float) -> Turn:
    reader, writer = await connection.streams()
    start = time.perf_counter()
    writer.write(request_bytes(connection.port, path, control))

    async def read() -> Turn:
        first_data: float | None = None
        first_agent: float | None = None
        events = 0
        headers = await read_head(reader)
        sse = SSEReader(reader)
        while (frame := await sse.frame()) is not None:
            now = time.perf_counter() - start
            events += 1
            if first_data is None and b"data:" in frame:
                first_data = now
            if first_agent is None and is_agent_chunk(frame):
                first_agent = now
        done = time.perf_counter() - start
        if headers.get("connection", "").lower() == "close":
            await connection.close()
        if first_data is None:
            raise ResponseError("stream without a data: frame")
        return Turn(first_data, first_agent, done, events, sse.body_bytes)

    try:
        return await asyncio.wait_for(read(), timeout)
    except BaseException:
        await connection.close()
        raise


# -- statistics and printing ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


CPU_HEADER = "CPU% server/client/others"


def cpu_cells(cpu: Cpu) -> str:
    return f"{cpu.server:.0f}/{cpu.client:.0f}/{cpu.others:.0f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


# -- phase 1: time to first event ----------------------------------------------------------------------------------


@dataclass
class TtfeResult:
    label: str
    control: str
    requests: int
    errors: int
    first_data_p50_ms: float
    first_data_p99_ms: float
    first_agent_p50_ms: float
    first_agent_p99_ms: float
    first_agent_min_ms: float
    done_p50_ms: float
    done_p99_ms: float
    cpu: Cpu


async def ttfe_series(
    server: Server, label: str, control: str, count: int, rotate: int, timeout: float, quiet: float
) -> TtfeResult:
    connection = Connection(server.port)
    turns: list[Turn] = []
    errors = 0
    path = agent_path()
    try:
        for _ in range(2):  # warm-up, not counted
            await streamed_turn(connection, path, control, timeout)
        await wait_for_quiet(quiet)
        meter = Meter(server)
        for index in range(count):
            if index % rotate == 0:
                path = agent_path()
            try:
                turns.append(await streamed_turn(connection, path, control, timeout))
            except (OSError, ResponseError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
                errors += 1
                print(f"  ttfe {label}: {type(error).__name__}: {error}", file=sys.stderr)
        _, cpu = meter.stop()
    finally:
        await connection.close()
    data = [t.first_data for t in turns]
    agent = [t.first_agent for t in turns if t.first_agent is not None]
    done = [t.done for t in turns]
    return TtfeResult(
        label, control, count, errors,
        statistics.median(data) * 1000, percentile(data, 99) * 1000,
        statistics.median(agent) * 1000 if agent else math.nan, percentile(agent, 99) * 1000,
        min(agent) * 1000 if agent else math.nan,
        statistics.median(done) * 1000, percentile(done, 99) * 1000, cpu,
    )  # fmt: skip


async def phase_ttfe(args: argparse.Namespace) -> list[TtfeResult]:
    server = Server(args.cli)
    try:
        await server.ready()
        series = [
            ("default pacing", "first_event_delay_ms=0", args.requests),
            ("first_event_delay_ms=600", "first_event_delay_ms=600", args.delayed_requests),
        ]
        results = []
        for label, control, count in series:
            results.append(
                await ttfe_series(server, label, control, count, args.rotate, args.request_timeout, args.quiet)
            )
        report_log(server)
        return results
    finally:
        server.stop()


def print_ttfe(results: Sequence[TtfeResult]) -> None:
    print("\n== 1. time to first event (sequential streamed turns, one keep-alive connection) ==")
    rows = [
        [r.label, r.requests, r.errors, f"{r.first_data_p50_ms:.2f}", f"{r.first_data_p99_ms:.2f}",
         f"{r.first_agent_p50_ms:.2f}", f"{r.first_agent_p99_ms:.2f}", f"{r.first_agent_min_ms:.2f}",
         f"{r.done_p50_ms:.2f}", f"{r.done_p99_ms:.2f}", cpu_cells(r.cpu)]
        for r in results
    ]  # fmt: skip
    headers = ["pacing", "n", "err", "1st data p50 ms", "p99", "1st agent chunk p50 ms", "p99", "min",
               "[DONE] p50 ms", "p99", CPU_HEADER]  # fmt: skip
    print(table(headers, rows))


# -- phase 2: a long token stream ----------------------------------------------------------------------------------


@dataclass
class LongResult:
    tokens: int
    runs: int
    events: float  # per run
    body_mb: float  # per run, SSE bytes (de-chunked)
    seconds_mean: float
    events_per_s: float
    mb_per_s: float
    events_per_s_min: float
    events_per_s_max: float
    first_agent_ms: float
    cpu: Cpu
    server_us_per_event: float  # server CPU time per event received: holds under CPU contention too


async def phase_long(args: argparse.Namespace) -> LongResult:
    server = Server(args.cli)
    control = f"scenario=long; tokens={args.tokens}; token_delay_ms=0; first_event_delay_ms=0"
    try:
        await server.ready()
        connection = Connection(server.port)
        try:
            await streamed_turn(connection, agent_path(), control, args.request_timeout)  # warm-up
            turns: list[Turn] = []
            await wait_for_quiet(args.quiet)
            meter = Meter(server)
            for _ in range(args.long_runs):
                turns.append(await streamed_turn(connection, agent_path(), control, args.request_timeout))
            _, cpu = meter.stop()
        finally:
            await connection.close()
        report_log(server)
    finally:
        server.stop()
    rates = [t.events / t.done for t in turns]
    seconds = sum(t.done for t in turns)
    events = sum(t.events for t in turns)
    body = sum(t.body_bytes for t in turns)
    agent = [t.first_agent for t in turns if t.first_agent is not None]
    return LongResult(
        args.tokens, len(turns), events / len(turns), body / len(turns) / 1e6, seconds / len(turns),
        events / seconds, body / seconds / 1e6, min(rates), max(rates),
        statistics.median(agent) * 1000 if agent else math.nan, cpu,
        cpu.server / 100 * seconds / events * 1e6,
    )  # fmt: skip


def print_long(result: LongResult) -> None:
    print(f"\n== 2. long token stream (scenario=long; tokens={result.tokens}; zero delays), {result.runs} runs ==")
    headers = ["events/run", "MB/run", "s/run", "events/s", "MB/s", "events/s min..max", "1st agent ms",
               CPU_HEADER, "server us/event"]  # fmt: skip
    row = [f"{result.events:.0f}", f"{result.body_mb:.2f}", f"{result.seconds_mean:.3f}",
           f"{result.events_per_s:,.0f}", f"{result.mb_per_s:.2f}",
           f"{result.events_per_s_min:,.0f}..{result.events_per_s_max:,.0f}", f"{result.first_agent_ms:.1f}",
           cpu_cells(result.cpu), f"{result.server_us_per_event:.0f}"]  # fmt: skip
    print(table(headers, [row]))


# -- phase 3: many open streams with keep-alive pings --------------------------------------------------------------


@dataclass
class StreamState:
    started: float = math.nan  # connect began
    opened: float = math.nan  # initial ping received
    pings: list[float] = field(default_factory=list)  # keep-alive pings after the initial one
    other: int = 0  # frames that are not pings (none expected while the turn thinks)
    ended: bool = False
    done: bool = False  # read to its ``data: [DONE]``
    finished: float = math.nan  # when the server ended it
    error: str | None = None


async def first_frame(reader: asyncio.StreamReader, sse: SSEReader) -> bytes | None:
    await read_head(reader)
    return await sse.frame()


async def hold_one(port: int, control: str, state: StreamState, gate: asyncio.Semaphore, timeout: float) -> None:
    writer: asyncio.StreamWriter | None = None
    try:
        async with gate:
            state.started = time.monotonic()
            reader, opened = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
            writer = opened
            writer.write(request_bytes(port, agent_path(), control))
            sse = SSEReader(reader)
            frame = await asyncio.wait_for(first_frame(reader, sse), timeout - (time.monotonic() - state.started))
            if frame is None or PING_MARK not in frame:
                raise ResponseError(f"first frame is not the initial ping: {frame!r}")
            state.opened = time.monotonic()
        while (frame := await sse.frame()) is not None:
            if PING_MARK in frame:
                state.pings.append(time.monotonic())
            else:
                state.other += 1
                state.done = state.done or frame.startswith(b"data: [DONE]")
        state.ended, state.finished = True, time.monotonic()
    except asyncio.CancelledError:
        raise
    except Exception as error:  # every failure of a stream is a figure, not a crash
        state.error = f"{type(error).__name__}: {error}"[:200]
    finally:
        if writer is not None:
            writer.close()  # FIN: the server sees the client go away


@dataclass
class HoldResult:
    streams: int
    opened: int
    open_seconds: float  # from the first connect to the last initial ping
    open_p50_ms: float  # connect -> initial ping, per stream
    open_p99_ms: float
    open_cpu_pct: float
    server_ms_per_open: float  # server CPU time per stream opened (request, run, initial ping)
    hold_seconds: float
    healthy: int
    errors: int
    ended_early: int
    errors_sample: list[str]
    pings_expected: int  # keep-alive pings per stream in the window
    pings_p50: float
    pings_min: int
    max_gap_p50_s: float
    max_gap_p99_s: float
    max_gap_max_s: float
    hold_cpu: Cpu
    server_us_per_ping: float  # server CPU time per keep-alive ping delivered in the hold window
    rss_idle_mb: float
    rss_at_open_mb: float  # once every stream got its initial ping
    rss_open_mb: float  # at the end of the hold window
    rss_peak_mb: float
    kb_per_stream: float  # (RSS at the end of the hold - idle RSS) / opened streams
    kb_per_stream_at_open: float
    hold_growth_kb_s: float  # RSS growth during the hold window, KB/s
    fds_idle: int
    fds_open: int
    rss_closed_mb: float
    closed_cpu_pct: float
    fds_closed: int
    rss_runs_done_mb: float | None = None
    runs_done_cpu_pct: float | None = None
    rss_after_reset_mb: float | None = None  # after POST /_mock/reset: what the store held, less what stays mapped
    read_to_done: int | None = None  # --to-end: streams read to their [DONE] once their turns ended
    to_end_seconds: float | None = None  # --to-end: from the end of the hold to the last stream's end
    server_log_problems: list[str] = field(default_factory=list)


def max_gap(state: StreamState, start: float, end: float) -> float:
    """Longest time without a ping in [start, end], counting from the last ping before ``start``."""
    before = [t for t in [state.opened, *state.pings] if t <= start]
    times = [before[-1] if before else start, *[t for t in state.pings if start < t <= end], end]
    return max(b - a for a, b in itertools.pairwise(times))


async def admin_reset(port: int) -> None:
    """``POST /_mock/reset``: the server forgets every agent, run and journal entry."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"POST /_mock/reset HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: 0\r\n\r\n".encode())
        status = (await asyncio.wait_for(reader.readline(), 10)).split(b" ")
        if len(status) < 2 or status[1] != b"200":
            print(f"warning: /_mock/reset answered {b' '.join(status)!r}", file=sys.stderr)
    finally:
        writer.close()


async def warm_up(server: Server, timeout: float) -> None:
    """Exercise the code paths (a plain turn, a long one, a short paced one with pings) before the idle reading."""
    connection = Connection(server.port)
    try:
        for control in ("scenario=reply", "scenario=long; tokens=300", "think_ms=1200; ping_interval_ms=500"):
            for _ in range(3):
                await streamed_turn(connection, agent_path(), control, timeout)
    finally:
        await connection.close()


async def hold_streams(args: argparse.Namespace, count: int) -> HoldResult:
    server = Server(args.cli)
    control = f"think_ms={args.think_ms}; ping_interval_ms={args.ping_interval_ms}"
    interval = args.ping_interval_ms / 1000
    tasks: list[asyncio.Task[None]] = []
    try:
        await server.ready()
        print(f"  N={count}: server pid {server.pid} on port {server.port}", file=sys.stderr, flush=True)
        await warm_up(server, args.request_timeout)
        await asyncio.sleep(1.0)
        await wait_for_quiet(args.quiet)
        idle = server.sample()
        print(f"  N={count}: idle RSS {idle.rss_kb / 1024:.1f} MB; opening streams", file=sys.stderr, flush=True)
        states = [StreamState() for _ in range(count)]
        gate = asyncio.Semaphore(args.connect_concurrency)
        first_connect = time.monotonic()
        tasks = [asyncio.create_task(hold_one(server.port, control, s, gate, args.open_timeout)) for s in states]
        deadline = first_connect + args.open_timeout * max(1, math.ceil(count / args.connect_concurrency)) + 5
        while time.monotonic() < deadline:
            if all(not math.isnan(s.opened) or s.error or s.ended for s in states):
                break
            await asyncio.sleep(0.05)
        opened = [s for s in states if not math.isnan(s.opened)]
        open_seconds = (max(s.opened for s in opened) - first_connect) if opened else math.nan
        open_lat = [s.opened - s.started for s in opened]
        at_open = server.sample()
        print(f"  N={count}: {len(opened)} open; holding {args.hold:g} s", file=sys.stderr, flush=True)
        # Hold: every open stream should now get a keep-alive ping each interval.
        meter = Meter(server)
        hold_start = meter.before
        await asyncio.sleep(args.hold)
        hold_end, hold_cpu = meter.stop()
        start, end = hold_start.at, hold_end.at
        expected = math.floor(args.hold / interval)
        counts = [sum(1 for t in s.pings if start < t <= end) for s in states]
        gaps = [max_gap(s, start, end) for s in opened]
        healthy = sum(
            1
            for s, n in zip(states, counts, strict=True)
            if s.error is None
            and not s.ended
            and not math.isnan(s.opened)
            and n >= expected - 1
            and max_gap(s, start, end) <= args.gap_factor * interval
        )
        errors = [s.error for s in states if s.error is not None]
        ended_early = sum(1 for s in states if s.ended)
        to_end = await read_to_end(args, tasks, states, first_connect, open_seconds) if args.to_end else None
        # Close every stream (cancel: the task's finally closes its socket) and look at the server afterwards.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(f"  N={count}: closed", file=sys.stderr, flush=True)
        closed_at = server.sample()
        await asyncio.sleep(args.settle)
        closed = server.sample()
        result = HoldResult(
            streams=count,
            opened=len(opened),
            open_seconds=open_seconds,
            open_p50_ms=statistics.median(open_lat) * 1000 if open_lat else math.nan,
            open_p99_ms=percentile(open_lat, 99) * 1000,
            open_cpu_pct=cpu_percent(idle, at_open),
            server_ms_per_open=(at_open.cpu_s - idle.cpu_s) / max(len(opened), 1) * 1000,
            hold_seconds=end - start,
            healthy=healthy,
            errors=len(errors),
            ended_early=ended_early,
            errors_sample=sorted(set(errors))[:5],
            pings_expected=expected,
            pings_p50=statistics.median(counts) if counts else math.nan,
            pings_min=min(counts) if counts else 0,
            max_gap_p50_s=statistics.median(gaps) if gaps else math.nan,
            max_gap_p99_s=percentile(gaps, 99),
            max_gap_max_s=max(gaps) if gaps else math.nan,
            hold_cpu=hold_cpu,
            server_us_per_ping=(hold_end.cpu_s - hold_start.cpu_s) / max(sum(counts), 1) * 1e6,
            rss_idle_mb=idle.rss_kb / 1024,
            rss_at_open_mb=at_open.rss_kb / 1024,
            rss_open_mb=hold_end.rss_kb / 1024,
            rss_peak_mb=hold_end.hwm_kb / 1024,
            kb_per_stream=(hold_end.rss_kb - idle.rss_kb) / max(len(opened), 1),
            kb_per_stream_at_open=(at_open.rss_kb - idle.rss_kb) / max(len(opened), 1),
            hold_growth_kb_s=(hold_end.rss_kb - hold_start.rss_kb) / (end - start),
            fds_idle=idle.fds,
            fds_open=hold_end.fds,
            rss_closed_mb=closed.rss_kb / 1024,
            closed_cpu_pct=cpu_percent(closed_at, closed),
            fds_closed=closed.fds,
        )
        if to_end is not None:
            result.read_to_done, result.to_end_seconds = to_end
        if args.wait_runs:
            # The turns go on without their clients until think_ms has passed since they started.
            remaining = args.think_ms / 1000 + open_seconds - (time.monotonic() - first_connect) + 3.0
            if remaining > 0:
                print(f"  N={count}: waiting {remaining:.0f} s for the server-side turns to finish", file=sys.stderr)
                await asyncio.sleep(remaining)
            before = server.sample()
            await asyncio.sleep(args.settle)
            done = server.sample()
            result.rss_runs_done_mb = done.rss_kb / 1024
            result.runs_done_cpu_pct = cpu_percent(before, done)
            await admin_reset(server.port)
            await asyncio.sleep(1.0)
            result.rss_after_reset_mb = server.sample().rss_kb / 1024
        result.server_log_problems = server.log_problems()[:10]
        return result
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.stop()


async def read_to_end(
    args: argparse.Namespace,
    tasks: list[asyncio.Task[None]],
    states: list[StreamState],
    first_connect: float,
    open_seconds: float,
) -> tuple[int, float]:
    """Keep reading every stream until its turn ends (think_ms after it started): how many reached ``[DONE]``, and
    the seconds from now to the last one's end."""
    began = time.monotonic()
    left = args.think_ms / 1000 + (open_seconds if math.isfinite(open_seconds) else 0.0)
    timeout = max(first_connect + left - began, 0.0) + args.open_timeout
    print(f"  N={len(states)}: reading every stream to its end (at most {timeout:.0f} s)", file=sys.stderr, flush=True)
    await asyncio.wait(tasks, timeout=timeout)
    ends = [s.finished for s in states if s.done]
    return len(ends), (max(ends) - began) if ends else math.nan


def print_hold(results: Sequence[HoldResult], args: argparse.Namespace) -> None:
    print(
        f"\n== 3. open streams held with pings (think_ms={args.think_ms}; ping_interval_ms={args.ping_interval_ms};"
        f" hold {args.hold:g} s; connect concurrency {args.connect_concurrency}) =="
    )
    rows = [
        [r.streams, r.opened, f"{r.open_seconds:.2f}", f"{r.open_p50_ms:.1f}/{r.open_p99_ms:.1f}",
         f"{r.open_cpu_pct:.0f}", f"{r.server_ms_per_open:.2f}", f"{r.healthy}", r.errors, r.ended_early,
         f"{r.pings_p50:.0f}/{r.pings_min} (exp {r.pings_expected})",
         f"{r.max_gap_p50_s:.2f}/{r.max_gap_p99_s:.2f}/{r.max_gap_max_s:.2f}",
         cpu_cells(r.hold_cpu), f"{r.server_us_per_ping:.0f}"]
        for r in results
    ]  # fmt: skip
    headers = ["N", "opened", "open all s", "open p50/p99 ms", "open CPU%", "server ms/open", "healthy", "err", "ended",
               "pings p50/min", "max gap p50/p99/max s", CPU_HEADER,
               "server us/ping"]  # fmt: skip
    print(table(headers, rows))
    print()
    rows = [
        [r.streams, f"{r.rss_idle_mb:.1f}", f"{r.rss_at_open_mb:.1f}", f"{r.rss_open_mb:.1f}", f"{r.rss_peak_mb:.1f}",
         f"{r.kb_per_stream_at_open:.1f}/{r.kb_per_stream:.1f}", f"{r.hold_growth_kb_s:.0f}",
         f"{r.fds_idle}/{r.fds_open}/{r.fds_closed}", f"{r.rss_closed_mb:.1f}", f"{r.closed_cpu_pct:.1f}",
         "-" if r.rss_runs_done_mb is None else f"{r.rss_runs_done_mb:.1f}",
         "-" if r.runs_done_cpu_pct is None else f"{r.runs_done_cpu_pct:.1f}",
         "-" if r.rss_after_reset_mb is None else f"{r.rss_after_reset_mb:.1f}"]
        for r in results
    ]  # fmt: skip
    headers = ["N", "RSS idle MB", "RSS at open MB", "RSS end of hold MB", "peak MB", "KB/stream open/end",
               "hold growth KB/s", "fds idle/open/closed",
               f"RSS +{args.settle:g}s closed MB", "CPU% closed", "RSS runs done MB", "CPU% runs done",
               "RSS after reset MB"]  # fmt: skip
    print(table(headers, rows))
    for r in results:
        for error in r.errors_sample:
            print(f"  N={r.streams} error: {error}")
        for line in r.server_log_problems:
            print(f"  N={r.streams} server log: {line[:200]}")
        if r.read_to_done is not None:
            print(
                f"  N={r.streams}: read on after the hold, {r.read_to_done} of {r.opened} streams ended with [DONE]"
                f" (the last {r.to_end_seconds:.1f} s after the hold; a turn ends think_ms after it began)"
            )


# -- driver --------------------------------------------------------------------------------------------------------


def report_log(server: Server) -> None:
    for line in server.log_problems()[:10]:
        print(f"  server log: {line[:200]}", file=sys.stderr)


def raise_fd_limit(streams: int) -> None:
    """Room for ``streams`` sockets in this process and in the server (which inherits the limit)."""
    needed = streams + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(max(needed, soft), hard)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))  # raising the hard limit needs root
            return
        except (ValueError, OSError):
            print(f"warning: open files limited to {hard}; streams beyond ~{hard - 512} will fail", file=sys.stderr)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", default="ttfe,long,hold", help="comma list of ttfe,long,hold (default: all)")
    parser.add_argument("--cli", default=None, help="the letta-mock executable (default: next to this Python)")
    parser.add_argument("--requests", type=int, default=200, help="sequential turns, default pacing (200)")
    parser.add_argument("--delayed-requests", type=int, default=20, help="turns with first_event_delay_ms=600 (20)")
    parser.add_argument("--rotate", type=int, default=20, help="a fresh agent every N sequential turns (20)")
    parser.add_argument("--tokens", type=int, default=5000, help="words of the long stream (5000)")
    parser.add_argument("--long-runs", type=int, default=5, help="long streams to average over (5)")
    parser.add_argument("--streams", default="100,500,1000", help="open-stream counts to try (100,500,1000)")
    parser.add_argument("--hold", type=float, default=12.0, help="seconds to hold the open streams (12)")
    parser.add_argument("--think-ms", type=int, default=60000, help="think_ms of the held turns (60000)")
    parser.add_argument("--ping-interval-ms", type=int, default=1000, help="keep-alive interval (1000)")
    parser.add_argument(
        "--gap-factor", type=float, default=2.0, help="healthy: never more than this many intervals without a ping (2)"
    )
    parser.add_argument("--connect-concurrency", type=int, default=100, help="streams opening at once (100)")
    parser.add_argument("--open-timeout", type=float, default=20.0, help="s for a stream to get its first ping (20)")
    parser.add_argument("--settle", type=float, default=3.0, help="s after closing before reading the server (3)")
    parser.add_argument("--wait-runs", action="store_true", help="also read the server once the held turns end")
    parser.add_argument(
        "--to-end", action="store_true", help="after the hold, read every stream until its turn ends ([DONE])"
    )
    parser.add_argument("--request-timeout", type=float, default=30.0, help="s per sequential turn (30)")
    parser.add_argument(
        "--quiet", type=float, default=15.0, help="s to wait at most for other work on the host to calm down (15)"
    )
    parser.add_argument("--budget", type=float, default=900.0, help="s for the whole run; then it stops (900)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    args.cli = args.cli or default_cli()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - {"ttfe", "long", "hold"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    args.streams = [int(n) for n in args.streams.split(",") if n.strip()]
    if args.hold * 1000 + 2 * args.ping_interval_ms >= args.think_ms:
        parser.error("--think-ms must outlast the opening and the --hold window")
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if "ttfe" in args.phases:
        ttfe = await phase_ttfe(args)
        print_ttfe(ttfe)
        figures["ttfe"] = [asdict(r) for r in ttfe]
    if "long" in args.phases:
        long = await phase_long(args)
        print_long(long)
        figures["long"] = asdict(long)
    if "hold" in args.phases:
        holds = []
        for count in args.streams:
            print(f"  holding {count} streams ...", file=sys.stderr, flush=True)
            holds.append(await hold_streams(args, count))
        print_hold(holds, args)
        figures["hold"] = [asdict(r) for r in holds]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    raise_fd_limit(max(args.streams, default=0))
    print(f"letta-mock stream bench: {args.cli} on {HOST}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    try:
        figures = asyncio.run(asyncio.wait_for(run(args), args.budget))
    except asyncio.TimeoutError:
        print(f"stopped: the run took longer than --budget {args.budget:g} s", file=sys.stderr)
        return 1
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
