"""What the real Letta 0.16.8 server sends that its own document does not allow, undone: a JSON body of the
``--fidelity server`` profile (or recorded from a real server) as the document would have it, so the same checks
apply. Each quirk is one rule here (wire doc sections in brackets)."""

from __future__ import annotations

from typing import Any

__all__ = ["as_documented"]

_NAIVE_DATES = ("completed_at", "callback_sent_at")  # stored without a timezone, written with no suffix [§1.5]


def _dated(run: Any) -> Any:
    if not isinstance(run, dict):
        return run
    return {k: v + "Z" if k in _NAIVE_DATES and isinstance(v, str) and not (v.endswith("Z") or "+" in v[10:]) else v
            for k, v in run.items()}  # fmt: skip


def as_documented(template: str, body: Any) -> Any:
    """``body`` (an answer to ``template``) with the real server's known quirks undone."""
    if template.endswith("/runs/{run_id}"):
        return _dated(body)
    if template.endswith(("/runs/", "/runs/active")) and isinstance(body, list):
        return [_dated(run) for run in body]
    if template.endswith("/steps") and isinstance(body, list):
        # Steps carry their organization_id, which the document's Step (no additional properties) leaves out.
        return [{k: v for k, v in step.items() if k != "organization_id"} if isinstance(step, dict) else step
                for step in body]  # fmt: skip
    return body
