"""What the request journal costs: time per streamed event recorded, and the memory of a full ring.

    python bench/bench_journal.py [--exchanges 1000] [--words 200]

Prints the microseconds the journal spends per SSE event it records (split into its writes, as the server sends
them), and the memory held by a ring of ``--exchanges`` token-streamed replies of ``--words`` words each (the
worst ordinary case: one event per token). In-process (the mock's app on httpx's ASGI transport), no sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc

import httpx

from mockserver import create_app
from mockserver.journal import Journal

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


async def streamed_bodies(words: int) -> list[list[bytes]]:
    """The writes of one real token-streamed reply, as the server makes them."""
    app = create_app(seed=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        await client.post(
            f"/v1/agents/{AGENT}/messages",
            json={"input": "hi", "streaming": True, "stream_tokens": True},
            headers={"X-Letta-Mock": f"scenario=long; tokens={words}"},
        )
    entry = app.state.journal.entries[-1]
    return [[(f"event: {e.event}\n" if e.event else "").encode() + f"data: {text}\n\n".encode()
             for e, text in zip(entry.events, entry.event_texts(), strict=True)]]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--words", type=int, default=200)
    args = parser.parse_args()
    (writes,) = asyncio.run(streamed_bodies(args.words))
    events = len(writes)

    journal = Journal(size=args.exchanges)
    start = time.perf_counter()
    for _ in range(200):
        entry = journal.open("POST", f"/v1/agents/{AGENT}/messages", "", {"content-type": "application/json"})
        entry.content_type = "text/event-stream; charset=utf-8"
        for chunk in writes:
            entry.feed_stream(chunk)
        entry.pack()
    per_event = (time.perf_counter() - start) / (200 * events) * 1e6
    print(f"recording: {per_event:.2f} us per streamed event ({events} events a reply, {200} replies)")

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    journal = Journal(size=args.exchanges)
    for _ in range(args.exchanges + 10):  # past full: the ring drops the oldest
        entry = journal.open("POST", f"/v1/agents/{AGENT}/messages", "", {"content-type": "application/json"})
        entry.body = {"input": "hi", "streaming": True, "stream_tokens": True}
        entry.content_type = "text/event-stream; charset=utf-8"
        for chunk in writes:
            entry.feed_stream(chunk)
        entry.pack()  # as the middleware does when the response is over
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"a full ring: {len(journal)} exchanges of {events} events hold {held / 2**20:.1f} MiB "
          f"({held / len(journal) / 1024:.1f} KiB an exchange)")  # fmt: skip


if __name__ == "__main__":
    main()
