"""The turn engine: how the mock's agent executes a planned turn into the store and its run's event log.

options     how a turn runs (streaming, pings, filters, pacing)
emitter     writing events into the run's log: filtering, pacing, keep-alive pings, cancellation
items       the LettaMessage items a turn stores and streams (pure builders)
approvals   Letta's approval rules and what the client's answers mean
loop        the agent loop: inputs, compaction, steps, tool returns, the ending
"""

from mockserver.engine.approvals import check_can_send
from mockserver.engine.items import Failure
from mockserver.engine.loop import fail_in_band, run_turn
from mockserver.engine.options import Pace, TurnOptions

__all__ = ["Failure", "Pace", "TurnOptions", "check_can_send", "fail_in_band", "run_turn"]
