"""Judging a Humanitec v2 deployment from its recorded answer: no call.

``GET /orgs/{org}/deployments/{id}`` and its long-poll ``wait-for-complete`` answer a
deployment with a ``status`` word (``pending``, ``in progress`` and ``executing`` are running,
``succeeded``, ``failed``); :func:`judge` turns it into a snapshot. In an answer the server
calls complete (the long-poll's 200), a word the gate does not know is a failure: only
``succeeded`` is success. The reader (:mod:`gate.providers.humanitec.v2.reader`) asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gate.core.errors import TransientError
from gate.core.model import ErrorDetail, Snapshot, State
from gate.core.text import from_api, quoted

__all__ = ["STATUSES", "judge"]

STATUSES: Mapping[str, State] = {
    "pending": State.RUNNING,
    "in progress": State.RUNNING,
    "executing": State.RUNNING,
    "succeeded": State.SUCCEEDED,
    "failed": State.FAILED,
}


def judge(body: Mapping[str, Any], *, complete: bool) -> Snapshot:
    """The snapshot a deployment answer says; ``complete``: the server said it is done."""
    raw_status = from_api(body.get("status"))  # decided on as sent; shown redacted
    if not raw_status:
        raise TransientError("deployment: the answer has no 'status' string")
    state = STATUSES.get(raw_status, State.UNKNOWN)
    message = from_api(body.get("status_message"))
    verdict = None
    if complete and not state.is_terminal:
        # The server says it is done; a word other than "succeeded" is not success.
        state = State.FAILED
        verdict = (
            f"the orchestrator says the deployment is complete, with status "
            f"{quoted(raw_status)}, which is not 'succeeded'"
        )
    errors: tuple[ErrorDetail, ...] = ()
    if state is State.FAILED and message:
        object_id = from_api(body.get("id"))
        errors = (
            ErrorDetail(code=raw_status, message=message, scope="deployment", object_id=object_id),
        )
    return Snapshot(
        state=state,
        raw_status=raw_status,
        errors=errors,
        changed_at=from_api(body.get("completed_at")) or None,
        created_at=from_api(body.get("created_at")) or None,
        verdict=verdict,
    )
