"""Conversations of an agent: ``Conversation`` as the server sends it, and the bodies that create and modify one."""

from typing import Any

from pydantic import AwareDatetime

from mockserver.models._base import RequestModel, TimestampDate, WireModel

__all__ = ["Conversation", "CreateConversation", "UpdateConversation"]


class Conversation(WireModel):
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    created_at: TimestampDate | None = None
    updated_at: TimestampDate | None = None
    id: str
    agent_id: str
    summary: str | None = None
    in_context_message_ids: list[str]
    isolated_block_ids: list[str]
    model: str | None = None
    model_settings: dict[str, Any] | None = None
    last_message_at: TimestampDate | None = None


class CreateConversation(RequestModel):
    summary: str | None = None
    isolated_block_labels: list[str] | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None


class UpdateConversation(RequestModel):
    summary: str | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None
    last_message_at: AwareDatetime | None = None
