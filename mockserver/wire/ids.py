"""Letta's id rules (wire doc §1.4): ids are ``<prefix>-<uuid4>``; some are derived from others.

* an agent item's ``otid`` is its stored message's UUID with the low 7 bits replaced by the item's index
  (``generate_otid_from_id``);
* an approval request's id is the id of the assistant message it belongs to, minus one as a UUID integer
  (``decrement_message_uuid``), and its ``otid`` is that id itself;
* resources the open world synthesizes from an id get a stable uuid4 derived from that id (the mock's own rule).
"""

from __future__ import annotations

import re
import uuid

__all__ = ["approval_request_id", "as_uuid4", "derived_uuid4", "otid_for"]

_MASK = (1 << 128) - 1
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # as str(uuid.UUID) writes


_VERSION_4 = (~(0xC000 << 48) & ~(0xF000 << 64)) & _MASK, (0x8000 << 48) | (4 << 76)  # clear, then set


def as_uuid4(value: int) -> str:
    """Any integer as a version-4 UUID string (wrapping modulo 2**128): ``str(uuid.UUID(int=..., version=4))``,
    formatted directly (ids are made on every send; the ``UUID`` object was half their cost)."""
    clear, mark = _VERSION_4
    digits = ((value & clear) | mark).to_bytes(16, "big").hex()  # a fifth cheaper than f"{...:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


# The last two hex digits of an otid: the id's top bit of that byte (its second-last digit "8"-"f", or not) kept,
# the index in the low 7 bits.
_OTID_ENDS = (tuple(f"{i:02x}" for i in range(128)), tuple(f"{0x80 | i:02x}" for i in range(128)))


def otid_for(message_id: str, index: int) -> str:
    """The otid of the ``index``-th item of a stored message: its UUID with the low 7 bits set to ``index``."""
    raw = message_id.split("-", 1)[1]
    if _CANONICAL.fullmatch(raw):  # the mock's own ids: the low 7 bits are in the last two digits (a send's otids)
        return raw[:-2] + _OTID_ENDS[raw[-2] >= "8"][index & 0x7F]
    value = uuid.UUID(raw).int
    return str(uuid.UUID(int=(value & ~0x7F) | (index & 0x7F)))


def approval_request_id(message_id: str) -> str:
    """The id Letta gives an approval request: its assistant message's id minus one (wrapping at zero)."""
    prefix, raw = message_id.split("-", 1)
    return f"{prefix}-{uuid.UUID(int=(uuid.UUID(raw).int - 1) & _MASK)}"


def derived_uuid4(name: str) -> str:
    """A stable uuid4-shaped id derived from any text (for resources synthesized from an id)."""
    return as_uuid4(uuid.uuid5(uuid.NAMESPACE_URL, name).int)
