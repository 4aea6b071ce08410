"""What the request journal costs: time per plain exchange and per streamed event recorded, and the memory of a
full ring.

    python bench/bench_journal.py [--exchanges 1000] [--words 200]

Prints the CPU microseconds ``JournalMiddleware`` adds to a plain exchange (a GET and a POST with a JSON body,
around a bare ASGI app answering 34 bytes: the least of 15 rounds), the microseconds the journal spends per SSE
event it records (split into its writes, as the server sends them), and the memory held by a ring of
``--exchanges`` token-streamed replies of ``--words`` words each (the worst ordinary case: one event per token).
In-process (the mock's app on httpx's ASGI transport), no sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
from types import SimpleNamespace

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import create_app
from mockserver.journal import OPERATION, Journal, JournalMiddleware

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


async def plain_cost(method: str, body: bytes, requests: int = 2000, rounds: int = 15) -> float:
    """The least CPU µs per exchange the journal adds around a bare app (which reads the body, names its route and
    answers 34 bytes in two writes), its ring full as on a server that has run a while."""
    answer = b'{"status":"ok","version":"0.16.8"}'
    holder = SimpleNamespace(state=SimpleNamespace(journal=Journal(size=1000)))

    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        scope[OPERATION], scope["path_params"] = "send_message", {"agent_id": AGENT}
        if body:
            await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"34")]})  # fmt: skip
        await send({"type": "http.response.body", "body": answer})

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        pass

    headers = [(b"host", b"127.0.0.1:8283"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def least(app: ASGIApp) -> float:
        best = float("inf")
        for _ in range(rounds):
            began = time.process_time()
            for _ in range(requests):
                scope = {"type": "http", "method": method, "path": f"/v1/agents/{AGENT}/messages", "app": holder,
                         "query_string": b"limit=10", "headers": list(headers), "state": {}}  # fmt: skip
                await app(scope, receive, send)
            best = min(best, (time.process_time() - began) / requests)
        return best * 1e6

    journaled = JournalMiddleware(bare)
    await least(journaled)  # the ring filled
    return await least(journaled) - await least(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--words", type=int, default=200)
    args = parser.parse_args()
    for method, body in (("GET", b""), ("POST", b'{"input":"hello"}')):
        print(f"a plain {method}: {asyncio.run(plain_cost(method, body)):.2f} us of CPU the journal adds")
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
