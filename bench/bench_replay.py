"""Record-and-replay figures: how faithfully ``letta-mock serve --fixtures`` reproduces a recorded stream's timing,
and what the recording proxy costs a client on a long token stream.

Everything runs as users run it, in subprocesses on loopback: an upstream ``letta-mock serve``, the proxy
``letta-mock record --upstream … --out DIR``, and ``letta-mock serve --fixtures DIR --replay-speed S``. The client
is httpx in this process, reading each stream with ``iter_raw`` and stamping every SSE event (at its blank line)
with ``time.perf_counter()`` from the moment the request is sent.

Phases (``--phases``, default both):

``timing``    ``--runs`` paced token streams (``scenario=long; tokens=N; token_delay_ms=D; jitter_ms=J``) are
              recorded through the proxy, then each is replayed ``--replays`` times at ``--speed`` (default 1).
              For every event: the replayed offset against the recorded one (``stream.events[i].at_ms``, offsets
              the proxy took from the request's arrival) divided by the speed; the error is their difference.
              Printed: events compared, median, p99 and worst absolute error, and the median signed error (a
              constant lag is the client's and the loopback's share); then the same against the offsets this
              client saw while the stream was being recorded (what a user compares).
``overhead``  ``--long-runs`` unpaced long streams (``scenario=long; tokens=--long-tokens; stream_tokens``), alternately
              direct to the upstream and through the recording proxy (recording each, mode ``all``): time to the
              first byte of the body (the run's first ping) and to ``data: [DONE]``, median and p90 of each, and
              the proxy's extra time.

Run by hand (figures only, no thresholds):

    .venv/bin/python bench/bench_replay.py
    .venv/bin/python bench/bench_replay.py --phases timing --runs 5 --replays 3 --tokens 200 --token-delay-ms 10
    .venv/bin/python bench/bench_replay.py --phases overhead --long-runs 20 --long-tokens 5000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from _common import HOST, default_cli, free_port, stop

HEALTH = "/v1/health/"
SDK = {"x-stainless-package-version": "1.12.1", "user-agent": "Letta/Python 1.12.1"}


@contextmanager
def process(cli: str, *args: str, port: int) -> Iterator[str]:
    """A letta-mock subprocess listening on ``port`` (its URL once it answers)."""
    child = subprocess.Popen([cli, *args, "--port", str(port), "--log-level", "warning"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if child.poll() is not None:
                sys.exit(f"{cli} {' '.join(args)} exited: {child.stderr.read().decode() if child.stderr else ''}")
            try:
                httpx.get(url + HEALTH, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    sys.exit(f"{cli} {' '.join(args)} did not answer within 30 s")
                time.sleep(0.02)
        yield url
    finally:
        stop(child)


def stream(url: str, agent: str, body: dict[str, object], controls: str) -> tuple[list[float], float, float]:
    """Event offsets (ms from sending the request), time to the first body byte and to [DONE]."""
    headers = {**SDK, "x-letta-mock": controls}
    offsets: list[float] = []
    first = done = float("nan")
    buffer = b""
    with httpx.Client(timeout=120) as client:
        request = client.build_request("POST", f"{url}/v1/agents/{agent}/messages", json=body, headers=headers)
        started = time.perf_counter()
        response = client.send(request, stream=True)
        try:
            for data in response.iter_raw():
                now = (time.perf_counter() - started) * 1000
                if first != first:
                    first = now
                buffer += data
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    offsets.append(now)
                    if event == b"data: [DONE]":
                        done = now
        finally:
            response.close()
    return offsets, first, done


def summary(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"median {statistics.median(ordered):8.2f}   p90 {p(0.9):8.2f}   p99 {p(0.99):8.2f}   max {ordered[-1]:8.2f}"


def timing(cli: str, args: argparse.Namespace) -> None:
    controls = f"scenario=long; tokens={args.tokens}; token_delay_ms={args.token_delay_ms}; jitter_ms={args.jitter_ms}"
    body = {"input": "time me", "streaming": True, "stream_tokens": True}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "recorded"
        agents = [f"agent-{uuid.uuid4()}" for _ in range(args.runs)]
        with process(cli, "serve", port=free_port()) as upstream, \
                process(cli, "record", "--upstream", upstream, "--out", str(out), "--mode", "all",
                        port=free_port()) as proxy:  # fmt: skip
            seen = [stream(proxy, agent, body, controls)[0] for agent in agents]  # what the client saw then
        answers = [json.loads(f.read_text())["exchanges"][0]["response"] for f in sorted(out.glob("*.json"))]
        recorded = [[e["at_ms"] for e in a["stream"]["events"]] for a in answers if "stream" in a]  # health: JSON
        errors: list[float] = []
        signed: list[float] = []
        felt: list[float] = []
        replaying = ("serve", "--fixtures", str(out), "--replay-speed", str(args.speed))
        with process(cli, *replaying, port=free_port()) as replay:
            for _ in range(args.replays):
                httpx.post(replay + "/_mock/reset")
                for agent, want, then in zip(agents, recorded, seen, strict=True):
                    got, _, _ = stream(replay, agent, body, controls)
                    if len(got) != len(want):
                        sys.exit(f"replayed {len(got)} events, recorded {len(want)}")
                    worst = max(abs(t - o / args.speed) for o, t in zip(want, got, strict=True))
                    if args.verbose:
                        print(f"    {agent}: first event {got[0]:.1f} ms (recorded {want[0]:.1f}), worst {worst:.1f}")
                    for ours, theirs, before in zip(want, got, then, strict=True):
                        difference = theirs - ours / args.speed
                        signed.append(difference)
                        errors.append(abs(difference))
                        felt.append(abs(theirs - before / args.speed))
    span = max(r[-1] for r in recorded)
    print(f"timing: {len(recorded)} recorded streams of {len(recorded[0])} events over ~{span:.0f} ms "
          f"({controls}), each replayed {args.replays}x at speed {args.speed}")  # fmt: skip
    print(f"  |replayed - recorded| per event, ms:  {summary(errors)}")
    print(f"  signed (replayed later > 0), ms:      median {statistics.median(signed):8.2f}")
    print(f"  |replayed - seen while recording|:    {summary(felt)}   (both at this client)")


def overhead(cli: str, args: argparse.Namespace) -> None:
    controls = f"scenario=long; tokens={args.long_tokens}"
    body = {"input": "a long one", "streaming": True, "stream_tokens": True}
    direct_first, direct_done, proxy_first, proxy_done = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch, process(cli, "serve", port=free_port()) as upstream, \
            process(cli, "record", "--upstream", upstream, "--out", scratch, "--mode", "all",
                    port=free_port()) as proxy:  # fmt: skip
        for index in range(args.long_runs + 1):
            agent = f"agent-{uuid.uuid4()}"
            events, first, done = stream(upstream, agent, body, controls)
            if index:  # the first round warms both up
                direct_first.append(first)
                direct_done.append(done)
            events_proxy, first, done = stream(proxy, f"agent-{uuid.uuid4()}", body, controls)
            if index:
                proxy_first.append(first)
                proxy_done.append(done)
            assert len(events_proxy) == len(events), (len(events_proxy), len(events))
        written = len(list(Path(scratch).glob("*.json")))
    print(f"overhead: {args.long_runs} long token streams each way ({len(events)} events, {controls}); "
          f"the proxy wrote {written} fixture files")  # fmt: skip
    print(f"  time to first byte, direct, ms:   {summary(direct_first)}")
    print(f"  time to first byte, proxy, ms:    {summary(proxy_first)}")
    print(f"  time to [DONE], direct, ms:       {summary(direct_done)}")
    print(f"  time to [DONE], proxy, ms:        {summary(proxy_done)}")
    extra = statistics.median(proxy_first) - statistics.median(direct_first)
    print(f"  proxy's extra time to first byte: {extra:.2f} ms (medians)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=None, help="the letta-mock script (default: next to this interpreter)")
    parser.add_argument("--phases", default="timing,overhead")
    parser.add_argument("--runs", type=int, default=5, help="timing: streams recorded")
    parser.add_argument("--replays", type=int, default=3, help="timing: replays of each")
    parser.add_argument("--tokens", type=int, default=120, help="timing: words of each reply")
    parser.add_argument("--token-delay-ms", type=int, default=15)
    parser.add_argument("--jitter-ms", type=int, default=10)
    parser.add_argument("--speed", type=float, default=1.0, help="timing: --replay-speed")
    parser.add_argument("--verbose", action="store_true", help="timing: a line per replayed stream")
    parser.add_argument("--long-runs", type=int, default=15, help="overhead: streams each way")
    parser.add_argument("--long-tokens", type=int, default=3000, help="overhead: words of each reply")
    args = parser.parse_args()
    cli = args.cli or default_cli()
    phases = args.phases.split(",")
    if "timing" in phases:
        timing(cli, args)
    if "overhead" in phases:
        overhead(cli, args)


if __name__ == "__main__":
    main()
