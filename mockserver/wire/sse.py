"""Server-sent events exactly as Letta frames them (wire doc §6.1), and a decoder for tests and replay.

Pure: no I/O, no Starlette. Deliberate choices, do not "fix" them:

* one ``data:`` line per event, then a blank line; no ``id:``, no ``retry:``, no comments;
* the only named event is ``event: error``, and it carries a ``LettaErrorMessage``;
* the terminator is the literal ``data: [DONE]``;
* JSON is compact, every field present, nulls included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from mockserver.models import LettaErrorMessage

__all__ = ["DONE", "Frame", "decode", "encode", "encode_all"]

DONE = "[DONE]"


def encode(event: BaseModel | str) -> bytes:
    """One event as the bytes Letta writes: ``data: <json>\\n\\n`` (``event: error`` first for errors)."""
    if isinstance(event, str):
        return b"data: " + event.encode() + b"\n\n"
    data = event.model_dump_json().encode()
    if isinstance(event, LettaErrorMessage):
        return b"event: error\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


def encode_all(events: Iterable[BaseModel | str]) -> bytes:
    return b"".join(encode(event) for event in events)


@dataclass(frozen=True)
class Frame:
    """One decoded SSE event: its name (``None`` for unnamed) and its data text."""

    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def done(self) -> bool:
        """The terminator ``[DONE]``."""
        return self.data == DONE

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value

    @property
    def type(self) -> str:
        """``message_type``, or ``[DONE]``."""
        return DONE if self.done else str(self.payload.get("message_type"))

    def encode(self) -> bytes:
        """The frame as Letta writes it (``encode`` of the event it carries)."""
        head = f"event: {self.event}\n" if self.event is not None else ""
        return (head + f"data: {self.data}\n\n").encode()


def decode(body: bytes | str) -> list[Frame]:
    """Split an SSE body into frames the way both SDKs do: blank-line boundaries, ``data:`` lines joined."""
    text = body.decode() if isinstance(body, bytes) else body
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    frames: list[Frame] = []
    # An event is dispatched at its blank line; text after the last one is an event the body cut short.
    for block in text.split("\n\n")[:-1]:
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
        if data or name is not None:
            frames.append(Frame(name, "\n".join(data)))
    return frames
