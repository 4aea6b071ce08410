"""What request-matched rules cost a send: none, then 10, 100 and 1,000 rules none of which match (every one is
evaluated), then 1,000 where only the last matches, and 1,000 that each carry a regex.

    python bench/bench_rules.py [--sends 2000]

In-process (the mock's app on httpx's ASGI transport, no sockets), one agent, non-streaming sends of a short input.
Prints the mean and median time per send, the median's cost over no rules, and the time the rules take alone
(``RuleSet.choose`` on one send, no HTTP) with its share per rule evaluated.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx

from mockserver import create_app
from mockserver.authored.matching import SendView
from mockserver.authored.ruleset import RuleSet

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
INPUT = "what is the weather in Paris today?"


def rules(count: int, *, last_matches: bool = False, regex: bool = False) -> list[dict[str, Any]]:
    """``count`` rules that do not match INPUT (each has to be evaluated), the last one matching if asked."""
    out = []
    for index in range(count):
        match: dict[str, Any] = {"input_regex": rf"order #{index:04d}\b"} if regex else {"input": f"topic {index}"}
        if last_matches and index == count - 1:
            match = {"input": "weather"}
        out.append({"name": f"rule {index}", "match": match, "turn": {"steps": [{"text": f"answer {index}"}]}})
    return out


async def sends(app: Any, count: int) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(50):  # warm-up
            await client.post(f"/v1/agents/{AGENT}/messages", json={"input": INPUT})
        for _ in range(count):
            started = time.perf_counter()
            response = await client.post(f"/v1/agents/{AGENT}/messages", json={"input": INPUT})
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
    return times


def choose_alone(given: list[dict[str, Any]], repeats: int) -> float:
    """Microseconds ``RuleSet.choose`` takes for one send (what matching adds, without the HTTP around it)."""
    ruleset = RuleSet(given)
    send = SendView(AGENT, None, INPUT, "user", None, None, dict)
    started = time.perf_counter()
    for _ in range(repeats):
        ruleset.choose(send)
    return (time.perf_counter() - started) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000)
    args = parser.parse_args()
    cases = [
        ("no rules", [], 0),
        ("10 rules, none matches", rules(10), 10),
        ("100 rules, none matches", rules(100), 100),
        ("1,000 rules, none matches", rules(1000), 1000),
        ("1,000 rules, the last matches", rules(1000, last_matches=True), 1000),
        ("1,000 regex rules, none matches", rules(1000, regex=True), 1000),
    ]
    print(f"{args.sends} non-streaming sends per case, in-process; a rule file is stat()ed per send when one is loaded")
    print(f"{'case':34} {'mean ms':>8} {'median ms':>10} {'+median ms':>11} {'choose µs':>10} {'µs/rule':>8}")
    base = None
    for name, given, evaluated in cases:
        times = asyncio.run(sends(create_app(seed=1, rules=given), args.sends))
        mean, median = statistics.fmean(times) * 1000, statistics.median(times) * 1000
        base = median if base is None else base
        alone = choose_alone(given, 200) if given else 0.0
        per_rule = alone / evaluated if evaluated else 0.0
        print(f"{name:34} {mean:8.3f} {median:10.3f} {median - base:11.3f} {alone:10.1f} {per_rule:8.2f}")


if __name__ == "__main__":
    main()
