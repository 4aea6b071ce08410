"""Cold-start benchmark: time from spawning ``letta-mock serve`` to its first 200 on a real endpoint.

Each run spawns the CLI as a subprocess on a free loopback port, polls one endpoint (``GET /v1/health/``, or in a
second series an agent's message list, ``GET /v1/agents/agent-<uuid4>/messages``) with ``http.client`` every
~2 ms, and records the wall time from just before the spawn to the first 200 answer, and the CPU time the server
process had used by then (``/proc/<pid>/stat``: the figure that holds up when neighbours share the cores); the
server is then terminated. Each series prints its median and spread (min, p90, max, the interquartile range).
For comparison it also times ``python -c pass`` (bare interpreter), ``python -c "import mockserver"``,
``letta-mock --help`` and ``letta-mock serve --help``, each as a fresh process, and can list the slowest imports from
``python -X importtime``.

Run by hand (figures only, no thresholds):

    /tmp/venv/bin/python bench/bench_startup.py            # 10 runs each
    /tmp/venv/bin/python bench/bench_startup.py --runs 20 --importtime 15
    /tmp/venv/bin/python bench/bench_startup.py --src /tmp/snap   # a snapshot: git archive HEAD | tar -x -C /tmp/snap

``--src DIR`` puts DIR first on the children's PYTHONPATH (and runs them in DIR), so a snapshot of the source is
measured instead of the editable install's working tree.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    HOST,
    default_cli,
    free_port,
    stop,
)

HEALTH_PATH = "/v1/health/"
LIST_PATH = "/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages"  # any agent-<uuid4> has a history
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Children:
    """How child processes are started: the environment and working directory of every spawned command."""

    env: dict[str, str] | None = None
    cwd: str | None = None

    @classmethod
    def use_source(cls, src: str) -> None:
        root = str(Path(src).resolve())
        cls.env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        cls.cwd = root


def answers_200(port: int, path: str) -> bool:
    """True once the server answers 200 on ``path``; False while it refuses or is not ready."""
    connection = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:  # refused / reset while the server is still starting
        return False
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


def time_to_first_200(cli: str, path: str, interval: float, timeout: float, cpu: list[float]) -> float:
    """Seconds from spawning ``letta-mock serve`` to the first 200 on ``path``; the server's CPU seconds by then
    are appended to ``cpu``."""
    port = free_port()
    command = [cli, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=Children.env, cwd=Children.cwd
    )
    try:
        while True:
            if answers_200(port, path):
                seconds = time.perf_counter() - start
                cpu.append(cpu_seconds(process.pid))
                return seconds
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"letta-mock exited with {process.returncode} before answering:\n{error}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"no 200 from {HOST}:{port}{path} within {timeout} s")
            time.sleep(interval)
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()


def time_command(command: Sequence[str]) -> float:
    """Wall seconds of one fresh process running ``command`` to completion."""
    start = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=Children.env, cwd=Children.cwd
    )
    return time.perf_counter() - start


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def host_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measurement:
    name: str
    seconds: list[float]
    other_cores: float  # cores busy with anything but this script and its children (neighbours' noise)
    server_cpu: list[float] = field(default_factory=list)  # the server's CPU seconds at its first 200


def wait_for_idle(limit: float, threshold: float = 0.15, window: float = 0.5) -> None:
    """Wait (up to ``limit`` s) for a ``window`` in which the host is busy less than ``threshold`` cores."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = host_busy_seconds()
        time.sleep(window)
        if (host_busy_seconds() - before) / window < threshold:
            return


def measure(
    name: str, runs: int, once: Callable[[], float], wait_idle: float = 0.0, cpu: list[float] | None = None
) -> Measurement:
    """``runs`` timed calls of ``once`` after an untimed one; with ``wait_idle``, each waits for a quiet host.
    ``cpu``, when given, is the list ``once`` appends the server's CPU seconds to."""
    once()  # warm the page cache; not counted
    if cpu is not None:
        cpu.clear()
    seconds: list[float] = []
    busy = wall = ours = 0.0
    for _ in range(runs):
        if wait_idle > 0:
            wait_for_idle(wait_idle)
        start, host, children, mine = (
            time.perf_counter(),
            host_busy_seconds(),
            children_cpu_seconds(),
            time.process_time(),
        )
        seconds.append(once())
        wall += time.perf_counter() - start
        busy += host_busy_seconds() - host
        ours += (children_cpu_seconds() - children) + (time.process_time() - mine)
    return Measurement(name, seconds, max(0.0, busy - ours) / wall, list(cpu or ()))


# What ``letta-mock serve`` imports before it listens: its command's module, the app and uvicorn's configuration.
SERVE_IMPORTS = (
    "from mockserver.cli import build_parser; build_parser('serve'); import mockserver.app, mockserver.serving"
)


def importtime_top(python: str, count: int) -> list[tuple[int, int, str]]:
    """The ``count`` imports with the largest cumulative time (µs) of what ``serve`` imports, one fresh process."""
    result = subprocess.run(
        [python, "-X", "importtime", "-c", SERVE_IMPORTS],
        capture_output=True,
        text=True,
        check=True,
        env=Children.env,
        cwd=Children.cwd,
    )
    rows: list[tuple[int, int, str]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(cumulative_us), int(self_us), name))
    return sorted(rows, reverse=True)[:count]


def serve_measurement(name: str, path: str, cli: str, args: argparse.Namespace) -> Measurement:
    cpu: list[float] = []
    once = lambda: time_to_first_200(cli, path, args.interval_ms / 1000, args.timeout, cpu)  # noqa: E731
    return measure(name, args.runs, once, args.wait_idle, cpu)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measurement (default: 10)")
    parser.add_argument("--cli", default=None, help="letta-mock executable (default: the one beside this python)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the import timings")
    parser.add_argument("--interval-ms", type=float, default=2.0, help="health poll interval (default: 2 ms)")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one start after this many seconds")
    parser.add_argument(
        "--importtime", type=int, default=0, metavar="N", help="also list the N slowest imports (cumulative)"
    )
    parser.add_argument("--src", default=None, metavar="DIR", help="measure the mockserver package found in DIR")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for an idle host (shared machines; default: no wait)",
    )
    args = parser.parse_args(argv)
    if args.src:
        Children.use_source(args.src)
    cli = args.cli or default_cli()
    where = subprocess.run(
        [args.python, "-c", "import mockserver; print(mockserver.__file__)"],
        capture_output=True,
        text=True,
        env=Children.env,
        cwd=Children.cwd,
    )
    if where.returncode != 0:
        sys.exit(f"`import mockserver` fails in the child environment:\n{where.stderr}")
    env_note = f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    print(f"cold start of {cli} ({env_note}); {args.runs} runs each after one warm-up run")
    package = Path(where.stdout.strip()).parent
    cached = any(package.glob("__pycache__/*.pyc"))
    no_write = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    print(f"mockserver from {package}")
    print(
        f"bytecode: {'cached .pyc present' if cached else 'no .pyc (compiled from source on every start)'}"
        f"{', PYTHONDONTWRITEBYTECODE set' if no_write else ''}"
        f" (precompile with: python -m compileall -q {package})\n"
    )

    measurements = [
        measure("python -c pass", args.runs, lambda: time_command([args.python, "-c", "pass"]), args.wait_idle),
        measure(
            'python -c "import mockserver"',
            args.runs,
            lambda: time_command([args.python, "-c", "import mockserver"]),
            args.wait_idle,
        ),
        measure("letta-mock --help", args.runs, lambda: time_command([cli, "--help"]), args.wait_idle),
        measure("letta-mock serve --help", args.runs, lambda: time_command([cli, "serve", "--help"]), args.wait_idle),
        *(
            serve_measurement(f"letta-mock serve -> first 200 {label}", path, cli, args)
            for label, path in (("/v1/health/", HEALTH_PATH), ("messages list", LIST_PATH))
        ),
    ]
    width = max(len(m.name) for m in measurements)
    print(f"{'measurement':<{width}}  {'min ms':>8}  {'median ms':>9}  {'IQR ms':>8}  {'p90 ms':>8}  {'max ms':>8}"
          f"  {'other':>5}  {'server CPU ms (median, min..max)':>32}")  # fmt: skip
    for m in measurements:
        ms = [s * 1000 for s in m.seconds]
        quartiles = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
        cpu = [s * 1000 for s in m.server_cpu]
        cpu_cell = f"{statistics.median(cpu):.0f} ({min(cpu):.0f}..{max(cpu):.0f})" if cpu else ""
        print(
            f"{m.name:<{width}}  {min(ms):8.1f}  {statistics.median(ms):9.1f}  {quartiles[2] - quartiles[0]:8.1f}"
            f"  {percentile(ms, 0.9):8.1f}  {max(ms):8.1f}  {m.other_cores:5.2f}  {cpu_cell:>32}"
        )
    print("other: cores busy with other processes meanwhile (neighbours' noise; > 0.2 means a noisy measurement)")
    print("server CPU: user + system time of the server process when it answered (counted in 10 ms clock ticks)")

    if args.importtime:
        print("\nslowest imports of `letta-mock serve` (python -X importtime, one run, cumulative):")
        print(f"{'cumulative ms':>13}  {'self ms':>8}  module")
        for cumulative_us, self_us, name in importtime_top(args.python, args.importtime):
            print(f"{cumulative_us / 1000:13.1f}  {self_us / 1000:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
