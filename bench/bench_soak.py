"""A long mixed session against one ``letta-mock serve``: does anything but the stored history grow?

Workers run, for ``--minutes`` (30 by default), the traffic a front end and a test suite make together, on a few
agents and conversations whose histories grow all the while (nothing rotates or resets): non-streaming sends,
token streams read to the end, streams the client abandons after the first event, background streams resumed
from a ``seq_id``, conversation sends, history pages walked with cursors, runs listings, a conversation's stream
resumed, and the dashboard's journal polling. Every ``--every`` seconds it samples the server's RSS, open file
descriptors and threads (from /proc), the stored messages (admin API), the requests done, and the latency of a fixed
probe (``GET .../messages?limit=10`` on the busiest agent).

What it prints: the samples, then RSS against stored messages. The history is what the mock is meant to keep, so
the figure that matters is what grows *besides* it: RSS less the history's cost (bytes per stored message fitted
from when the journal is full to half-way) in the last sample against that fit -- a plateau is a few MB at most -- and
the probe's latency first and last (a page must not slow as history grows). File descriptors and threads must stay
flat.

    .venv/bin/python bench/bench_soak.py                 # 30 minutes
    .venv/bin/python bench/bench_soak.py --minutes 2 --every 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median

import httpx
from _common import HOST, default_cli, free_port, stop

JOURNAL_SIZE = 1000  # letta-mock serve's default --journal-size
AGENTS = [f"agent-50a50000-0000-4000-8000-00000000000{n}" for n in range(4)]


def proc(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].split() for line in status}
    return {
        "rss_mb": int(fields["VmRSS"][0]) / 1024,
        "threads": int(fields["Threads"][0]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


class Load:
    def __init__(self, client: httpx.AsyncClient, conversations: list[str]) -> None:
        self.client = client
        self.conversations = conversations
        self.done: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def send(self, agent: str) -> None:
        response = await self.client.post(f"/v1/agents/{agent}/messages", json={"input": "hello"})
        self.check("send", response.status_code)

    async def stream(self, agent: str, *, abandon: bool = False, background: bool = False) -> None:
        body = {"input": "tell me more", "streaming": True, "stream_tokens": True, "background": background}
        run_id, last_seq = None, 0
        async with self.client.stream("POST", f"/v1/agents/{agent}/messages", json=body) as response:
            self.check("stream", response.status_code)
            async for line in response.aiter_lines():
                if not line.startswith("data: {"):
                    continue
                event = json.loads(line[6:])
                run_id, last_seq = event.get("run_id") or run_id, event.get("seq_id") or last_seq
                if abandon or (background and last_seq >= 3):
                    break
        if background and run_id:
            resumed = await self.client.post(f"/v1/runs/{run_id}/stream", json={"starting_after": last_seq})
            self.check("resume", resumed.status_code)

    async def conversation(self) -> None:
        conversation = random.choice(self.conversations)
        body = {"input": "and in this thread?", "streaming": True}
        async with self.client.stream("POST", f"/v1/conversations/{conversation}/messages", json=body) as response:
            self.check("conversation send", response.status_code)
            await response.aread()
        listed = await self.client.get(f"/v1/conversations/{conversation}/messages", params={"limit": 20})
        self.check("conversation list", listed.status_code)

    async def walk(self, agent: str) -> None:
        """Three pages back through history with the ``before`` cursor, as a chat's scroll-back does."""
        cursor = None
        for _ in range(3):
            params = {"limit": 20, **({"before": cursor} if cursor else {})}
            page = await self.client.get(f"/v1/agents/{agent}/messages", params=params)
            self.check("list", page.status_code)
            items = page.json()
            if not items:
                break
            cursor = items[0]["id"]

    async def dashboard(self, version: int) -> int:
        changes = await self.client.get("/_mock/journal/changes", params={"since": version})
        self.check("journal", changes.status_code)
        return int(changes.json()["version"])

    def check(self, what: str, status: int) -> None:
        self.done[what] += 1
        if what == "conversation send" and status == 409:
            self.done["conversation busy (409, as Letta answers a second send)"] += 1
        elif status >= 400:
            self.failures[f"{what} {status}"] += 1

    async def worker(self, until: float, seed: int) -> None:
        chooser = random.Random(seed)
        version = 0
        while time.monotonic() < until:
            agent = chooser.choice(AGENTS)
            pick = chooser.random()
            try:
                if pick < 0.30:
                    await self.send(agent)
                elif pick < 0.45:
                    await self.stream(agent)
                elif pick < 0.55:
                    await self.stream(agent, abandon=True)
                elif pick < 0.62:
                    await self.stream(agent, background=True)
                elif pick < 0.72:
                    await self.conversation()
                elif pick < 0.87:
                    await self.walk(agent)
                elif pick < 0.93:
                    runs = await self.client.get("/v1/runs/", params={"agent_id": agent, "limit": 20})
                    self.check("runs", runs.status_code)
                else:
                    version = await self.dashboard(version)
            except httpx.HTTPError as error:
                self.failures[f"{type(error).__name__}"] += 1


async def probe(client: httpx.AsyncClient, count: int = 20) -> float:
    """Median ms of the busiest agent's ``limit=10`` page, one request at a time."""
    times = []
    for _ in range(count):
        began = time.perf_counter()
        (await client.get(f"/v1/agents/{AGENTS[0]}/messages", params={"limit": 10})).raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
    return median(times)


async def soak(args: argparse.Namespace, url: str, pid: int) -> list[dict[str, float]]:
    limits = httpx.Limits(max_connections=args.workers + 4)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        conversations = []
        for agent in AGENTS:
            created = await client.post("/v1/conversations/", params={"agent_id": agent}, json={})
            created.raise_for_status()
            conversations.append(created.json()["id"])
        load = Load(client, conversations)
        began = time.monotonic()
        until = began + args.minutes * 60
        workers = [asyncio.create_task(load.worker(until, seed)) for seed in range(args.workers)]
        samples: list[dict[str, float]] = []
        print(f"{'min':>5} {'RSS MB':>7} {'stored':>8} {'requests':>9} {'probe ms':>8} {'fds':>4} {'thr':>4}")
        while True:
            agents = (await client.get("/_mock/agents")).json()
            sample = {
                "minutes": (time.monotonic() - began) / 60,
                "stored": sum(int(a["stored_messages"]) for a in agents),
                "requests": sum(load.done.values()),
                "probe_ms": await probe(client),
                **proc(pid),
            }
            samples.append(sample)
            print(f"{sample['minutes']:5.1f} {sample['rss_mb']:7.1f} {sample['stored']:8.0f} {sample['requests']:9.0f} "
                  f"{sample['probe_ms']:8.2f} {sample['fds']:4.0f} {sample['threads']:4.0f}", flush=True)  # fmt: skip
            if time.monotonic() >= until:
                break
            await asyncio.sleep(min(args.every, max(0.0, until - time.monotonic())))
        await asyncio.gather(*workers)
        print("\nrequests by kind:", dict(load.done.most_common()))
        print("failures:", dict(load.failures) or "none")
        return samples


def report(samples: list[dict[str, float]]) -> None:
    # The journal (a ring of 1,000 exchanges) fills during the first requests: the history's cost is fitted after.
    warm = [s for s in samples if s["requests"] >= 2 * JOURNAL_SIZE] or samples
    first, last = warm[0], samples[-1]
    mid = [s for s in warm if s["minutes"] <= (first["minutes"] + last["minutes"]) / 2][-1]
    grown = mid["stored"] - first["stored"]
    per = (mid["rss_mb"] - first["rss_mb"]) * 2**20 / grown if grown else 0.0
    predicted = mid["rss_mb"] + per * (last["stored"] - mid["stored"]) / 2**20
    print("\n== soak ==")
    rate = last["requests"] / last["minutes"] / 60
    print(f"{last['minutes']:.1f} min, {last['requests']:.0f} requests ({rate:.0f}/s), {last['stored']:.0f} stored")
    print(f"RSS {samples[0]['rss_mb']:.1f} (start) -> {first['rss_mb']:.1f} (journal full) -> {mid['rss_mb']:.1f} "
          f"-> {last['rss_mb']:.1f} MB")  # fmt: skip
    print(f"history's cost, fitted from {first['minutes']:.1f} to {mid['minutes']:.1f} min: {per:.0f} B a message")
    print(f"RSS beyond the history's cost in the second half: {last['rss_mb'] - predicted:+.1f} MB (a plateau: ~0)")
    print(f"probe (limit=10 page of the busiest agent): {first['probe_ms']:.2f} -> {last['probe_ms']:.2f} ms median")
    print(f"file descriptors {first['fds']:.0f} -> {last['fds']:.0f}, threads {first['threads']:.0f} -> "
          f"{last['threads']:.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (30)")
    parser.add_argument("--every", type=float, default=60.0, help="s between samples (60)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--cli", default=None, help="letta-mock executable (default: the one beside this python)")
    args = parser.parse_args()
    port = free_port()
    command = [args.cli or default_cli(), "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            url = f"http://{HOST}:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url + "/v1/health/", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        log.seek(0)
                        sys.exit(f"letta-mock did not start: {log.read().decode()[-2000:]}")
                    time.sleep(0.05)
            report(asyncio.run(soak(args, url, server.pid)))
        finally:
            stop(server)
            log.seek(0)
            problems = [line for line in log.read().decode().splitlines() if "Traceback" in line or "ERROR" in line]
            print("server log problems:", problems[:5] or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
