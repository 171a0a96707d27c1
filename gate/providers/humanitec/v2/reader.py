"""Humanitec Platform Orchestrator v2 deployments, waited on at the server (a long-poll).

Spec: ``internal/clients/canyon-dp/spec.yaml`` of humanitec/terraform-provider-platform-
orchestrator (recorded in ``tests/contracts/README.md``). ``GET /orgs/{org}/deployments/{id}``
reads a deployment; ``GET .../actions/wait-for-complete?timeout_in_seconds=N`` answers 200
with the deployment once it is complete, or 408 after N seconds to say "keep waiting". Earlier
versions of the spec named it ``actions/waitForComplete``; the current one is used.

Each read is one long-poll, held by the server for at most :data:`LONG_POLL_SECONDS` and
never past the time the engine gives the read; the engine starts the next one at once
(:class:`gate.providers.HoldsReads`). What an answer means is judged apart
(:mod:`gate.providers.humanitec.v2.judge`). It rolls back in the orchestrator's rollback
mode (:mod:`gate.providers.humanitec.v2.rollback`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from gate.core.errors import TransientError
from gate.core.ids import require_id
from gate.core.model import RollbackPlan, Snapshot, State
from gate.core.secret import Secret
from gate.core.text import one_line
from gate.core.timestamps import parse_timestamp
from gate.providers.closing import shared
from gate.providers.humanitec.api import (
    HumanitecApi,
    path_of,
)
from gate.providers.humanitec.fields import V2_API_URL as DEFAULT_API_URL
from gate.providers.humanitec.v2 import history, rollback
from gate.providers.humanitec.v2.judge import judge
from gate.wire import deadline

__all__ = ["DEFAULT_API_URL", "LONG_POLL_SECONDS", "HumanitecV2Deployment"]

LONG_POLL_SECONDS = 20
"""Longest hold asked of the server: long enough to save reads, short enough that a
connection dropped by a proxy mid-hold is noticed soon."""
SHORTEST_HOLD = 2
"""The spec's minimum ``timeout_in_seconds``; with less time left, a plain read is made."""


class HumanitecV2Deployment:
    """One v2 deployment, by org and id."""

    name = "humanitec-v2"

    def __init__(
        self,
        client: httpx.Client,
        *,
        org: str,
        deployment_id: str,
        token: Secret | None = None,
        long_poll_seconds: int = LONG_POLL_SECONDS,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._api = HumanitecApi(client, token=token)
        self._token = token
        self._close = close or client.close
        self._org = require_id("--org", org)
        self._id = require_id("--deployment-id", deployment_id)
        self._long_poll = max(SHORTEST_HOLD, long_poll_seconds)
        self._last_status = ""
        self._held_past_window = False
        self._environment: tuple[str, str, datetime | None] | None = None
        """Its project, environment and creation, once read: for its history."""

    def __repr__(self) -> str:
        return f"HumanitecV2Deployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        return {"org": self._org, "deployment_id": self._id}

    def describe(self) -> str:
        return f"Humanitec v2 deployment {self._id} in {self._org}"

    def close(self) -> None:
        self._close()

    def holds_reads(self) -> bool:
        return True

    def past_durations(self) -> list[float]:
        """How long the environment's earlier deployments took, newest first (after a read)."""
        if self._environment is None:
            return []
        project, env, created = self._environment
        return history.past_durations(
            self._api, org=self._org, project=project, env=env, current=self._id, created=created
        )

    def plan_rollback(self) -> RollbackPlan:
        """Roll the environment back to its last deployment that succeeded before this one."""
        return rollback.plan_rollback(self._api, org=self._org, failed=self._id)

    def roll_back(self, plan: RollbackPlan, comment: str) -> HumanitecV2Deployment:
        """Start ``plan`` (the spec's create body keeps no comment); a provider on the same
        client that follows the new deployment."""
        new_id = rollback.start_rollback(self._api, plan, org=self._org)
        self._close, theirs = shared(self._close)
        return HumanitecV2Deployment(
            self._api.client,
            org=self._org,
            deployment_id=new_id,
            token=self._token,
            long_poll_seconds=self._long_poll,
            close=theirs,
        )

    def fetch(self) -> Snapshot:
        path = path_of("orgs", self._org, "deployments", self._id)
        # Whole seconds, one short of what the read may take: the answer must come back in time.
        hold = math.floor(deadline.seconds_left(self._long_poll + 1.0) - 1)
        if not self._last_status or hold < SHORTEST_HOLD or self._held_past_window:
            self._held_past_window = False
            read = self._api.get_object(path, "deployment", not_found=self.describe())
            return self._snapshot(read, complete=False)
        try:
            code, body = self._api.answer(
                f"{path}/actions/wait-for-complete",
                "deployment (long-poll)",
                not_found=self.describe(),
                params={"timeout_in_seconds": hold},
                also=(408,),
                held_seconds=hold,
            )
        except TransientError as fault:
            if not isinstance(fault.__cause__, httpx.TimeoutException):
                raise
            # Held past the window it was asked for: no news of completion, as a 408 says,
            # not an unreadable status. The next read asks plainly, in case it is done.
            self._held_past_window = True
            return Snapshot(state=State.RUNNING, raw_status=self._last_status)
        if code == 408:
            return Snapshot(state=State.RUNNING, raw_status=self._last_status)
        if not isinstance(body, dict):
            raise TransientError("deployment (long-poll): the answer is not a JSON object")
        return self._snapshot(body, complete=True)

    def _snapshot(self, body: Mapping[str, Any], *, complete: bool) -> Snapshot:
        said = self._api.said
        if said(body.get("id")) != self._id:
            raise TransientError(
                f"deployment: asked for {self._id!r}, the API answered with "
                f"{one_line(said(body.get('id')), limit=80)!r}"
            )
        snapshot = judge(body, complete=complete)
        self._last_status = snapshot.raw_status
        project, env = said(body.get("project_id")), said(body.get("env_id"))
        if project and env:
            self._environment = (project, env, parse_timestamp(body.get("created_at")))
        return snapshot
