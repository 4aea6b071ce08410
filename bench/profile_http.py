"""Where the server spends its time under load: py-spy samples of ``letta-mock serve`` while wrk (or httpx) loads it.

Spawns the server exactly as ``bench_http.py`` does (loopback, ``--log-level warning``, fresh store), pre-fills
an agent's history for the list scenarios, then runs ``py-spy record --format raw`` against the server process
while the load generator drives one scenario. Prints the hottest functions by self time and by inclusive time
(percent of the samples in which the server was busy; idle time in the event loop's ``select`` is not sampled),
self time grouped by package, and the garbage collector's pauses in the server (a ``gc.callbacks`` hook
installed by the launcher, reported when the server exits). The collapsed stacks are kept in a file that
speedscope (https://www.speedscope.app) and flamegraph.pl open directly.

Needs py-spy in the running interpreter's environment (``/tmp/venv/bin/pip install py-spy``; not a project
dependency) and permission to ptrace the server (root in the sandbox). Run by hand:

    /tmp/venv/bin/python bench/profile_http.py --scenario create --duration 10
    /tmp/venv/bin/python bench/profile_http.py --scenario list --top 25 --out /tmp/list.collapsed
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench_http import (
    HOST,
    SCENARIOS,
    Server,
    _httpx_load,
    child_env,
    free_port,
    health_ok,
    new_agent_id,
    prefill,
    wrk_script,
)

# Runs the CLI in-process with a gc.callbacks hook; SIGUSR1 makes it print one GCSTATS line on stderr.
LAUNCHER = r"""
import gc, signal, sys, time
pauses = {0: [], 1: [], 2: []}
started = {}
def hook(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    else:
        pauses[info["generation"]].append(time.perf_counter() - started.get("t", time.perf_counter()))
def report(signum, frame):
    parts = []
    for generation, values in pauses.items():
        total, worst = sum(values) * 1000, max(values, default=0) * 1000
        parts.append(f"gen{generation} {len(values)}x, total {total:.1f} ms, max {worst:.2f} ms")
    print("GCSTATS " + "; ".join(parts), file=sys.stderr, flush=True)
gc.callbacks.append(hook)
signal.signal(signal.SIGUSR1, report)
from mockserver.cli import main
sys.exit(main(sys.argv[1:]))
"""

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def function_name(frame: str) -> str:
    """``send (mockserver/sending.py:123)`` -> ``mockserver/sending.py:send``; line numbers merged."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/mockserver/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1] if marker != "/mockserver/" else "mockserver/" + path.split(marker, 1)[1]
            break
    return f"{path}:{match.group('function')}"


def package_of(name: str) -> str:
    path = name.split(":", 1)[0]
    if path.startswith("mockserver/"):
        return "mockserver"
    head = path.split("/", 1)[0]
    if head.endswith(".py") or head.startswith(".") or head.startswith("<"):
        return "stdlib/other"
    if "/" not in path:
        return "stdlib/other"
    return head if not head.startswith("3.") else "stdlib/other"


def summarise(collapsed: Path, top: int) -> None:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    attributed: Counter[tuple[str, str]] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [function_name(f) for f in stack.split(";")[1:]]  # first entry is the thread
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        packages[package_of(frames[-1])] += count
        for name in set(frames):
            inclusive[name] += count
        owner = next((f for f in reversed(frames) if f.startswith("mockserver/") and "cli.py" not in f), "(outside)")
        attributed[(owner, frames[-1])] += count
    if total == 0:
        print("no busy samples recorded")
        return
    print(f"{total} busy samples\n")
    print(f"top {top} by self time:")
    for name, count in self_time.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print(f"\ntop {top} mockserver functions by inclusive time (the function and everything it calls):")
    ours = [(name, count) for name, count in inclusive.most_common() if name.startswith("mockserver/")]
    for name, count in [(n, c) for n, c in ours if not n.startswith("mockserver/cli.py")][:top]:
        print(f"  {100 * count / total:5.1f}%  {name}")
    print(f"\ntop {top} (innermost mockserver frame -> leaf function) pairs: who pays for the library time:")
    for (owner, leaf), count in attributed.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {owner} -> {leaf}")
    print("\nself time by package:")
    for package, count in packages.most_common():
        print(f"  {100 * count / total:5.1f}%  {package}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=list(SCENARIOS), default="create", help="what to load (default: create)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sampling under load (default: 10)")
    parser.add_argument("--concurrency", type=int, default=10, help="connections (default: 10)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default: 250)")
    parser.add_argument("--top", type=int, default=20, help="functions to list (default: 20)")
    parser.add_argument("--history", type=int, default=50, help="turns pre-filled for the list scenarios")
    parser.add_argument("--rotate", type=int, default=20, help="creates per agent id before a fresh one")
    parser.add_argument("--out", default=None, help="keep the collapsed stacks here (default: a temp file)")
    parser.add_argument("--tool", choices=("auto", "wrk", "httpx"), default="auto", help="load generator")
    parser.add_argument("--src", default=None, metavar="DIR", help="serve the mockserver package found in DIR")
    args = parser.parse_args(argv)

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy not found: /tmp/venv/bin/pip install py-spy")
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    scenario = SCENARIOS[args.scenario]
    out = Path(args.out) if args.out else Path(tempfile.mkstemp(suffix=".collapsed")[1])

    port = free_port()
    env, cwd = child_env(args.src)
    command = [sys.executable, "-c", LAUNCHER, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    gc_line = ""
    try:
        deadline = time.monotonic() + 30
        while not health_ok(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        server = Server(port, process)
        agent_id = new_agent_id()
        if not scenario.creates:
            prefill(server, agent_id, args.history)
        record = [py_spy, "record", "-p", str(process.pid), "-r", str(args.rate), "-d", str(round(args.duration + 1))]
        spy = subprocess.Popen(
            [*record, "--format", "raw", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.5)  # let py-spy attach before the load starts
        cpu_before = server.cpu_seconds()
        if tool == "wrk":
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
                handle.write(wrk_script(scenario, agent_id, args.rotate))
            try:
                load = ["wrk", "-t1", f"-c{args.concurrency}", f"-d{round(args.duration)}s", "-s", handle.name]
                subprocess.run(
                    [*load, server.url],
                    capture_output=True,
                    check=True,
                    timeout=args.duration + 60,
                )
            finally:
                os.unlink(handle.name)
        else:
            asyncio.run(_httpx_load(server, scenario, agent_id, args.concurrency, args.duration, args.rotate))
        cpu = server.cpu_seconds() - cpu_before
        _, spy_err = spy.communicate(timeout=args.duration + 60)
        if spy.returncode != 0:
            raise RuntimeError(f"py-spy failed: {spy_err.decode()}")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
        process.terminate()
        try:
            _, err = process.communicate(timeout=10)
            gc_line = next((line for line in err.decode().splitlines() if line.startswith("GCSTATS")), "")
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    print(f"{scenario.label}, {tool} c={args.concurrency}, {args.duration:g} s at {args.rate} Hz")
    print(f"server CPU during load: {cpu / args.duration:.0%} of one core; collapsed stacks: {out}")
    if gc_line:
        print("garbage collector in the server: " + gc_line.removeprefix("GCSTATS "))
    print()
    summarise(out, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
