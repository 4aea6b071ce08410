"""The turn source behind the mock server's ``scenario=arbitrary``, registered as the ``letta_mock.turn_sources``
entry point ``arbitrary`` (the server never imports ``strategies``; it looks the source up by that name)."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.models import LettaResponse
from strategies._responses import letta_responses
from strategies._seed import example_for_seed

__all__ = ["arbitrary_turn"]


def arbitrary_turn(seed: int, stop_reasons: Sequence[str]) -> LettaResponse:
    """Any valid turn the strategies can draw, the same one for the same ``seed``."""
    return example_for_seed(letta_responses(stop_reasons=stop_reasons), seed)
