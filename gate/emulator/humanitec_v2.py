"""The emulated Humanitec Platform Orchestrator v2: a deployment, its long-poll
(``actions/wait-for-complete``), the listing of deployments and ``createDeployment`` (a
deployment or a rollback), shaped by the v2 spec (``tests/contracts/``)."""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

from gate.emulator import humanitec_shapes as shapes
from gate.emulator import starts
from gate.emulator.core import SEGMENT, EmulatorCore, Request, Route
from gate.emulator.http import Answer, humanitec_unauthorized
from gate.emulator.scenario import HumanitecV2Script, Timeline

__all__ = ["HumanitecV2"]

_ORCHESTRATOR_NEXT = Timeline([(0, "pending"), (1, "executing"), (3, "succeeded")])


class HumanitecV2(EmulatorCore):
    """Humanitec v2's endpoints, for :class:`gate.emulator.Emulator`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.oldest_first = False
        """The v2 orchestrator lists deployments oldest first (its spec promises no order)."""
        self._orchestrator: dict[tuple[str, str], HumanitecV2Script] = {}
        self._next_orchestrator: dict[tuple[str, str, str], deque[tuple[Timeline, str]]] = {}

    def _routes(self) -> list[Route]:
        answer = self._humanitec_v2
        deployments = f"^/orgs/{SEGMENT}/deployments"
        return [
            *super()._routes(),
            Route(f"{deployments}$", "orchestrator-deployments", answer, starts=True),
            Route(f"{deployments}/{SEGMENT}$", "orchestrator-deployment", answer),
            Route(
                f"{deployments}/{SEGMENT}/actions/wait-for-complete$", "orchestrator-wait", answer
            ),
        ]

    def _humanitec_v2(self, request: Request) -> Answer:
        refused = humanitec_unauthorized(request.headers, self.token)
        if refused is not None:
            return refused
        if request.method == "POST":
            key = request.headers.get("idempotency-key", "")
            return self._orchestrator_start(request.ids[0], request.body, key)
        return self._orchestrator_answer(request.name, request.ids, request.query)

    def add_humanitec_v2(
        self,
        org: str,
        timeline: Timeline,
        *,
        project: str = "shop",
        env: str = "staging",
        status_message: str = "",
        deployment_id: str | None = None,
        started_ago: float = 0.0,
        mode: str = "deploy",
    ) -> str:
        """Start a Platform Orchestrator v2 deployment now (or ``started_ago`` seconds ago,
        for history); returns its id (a uuid). ``mode`` ``plan_only`` makes a plan-only run."""
        deployment_id = deployment_id or str(uuid.uuid4())
        script = HumanitecV2Script(
            org, deployment_id, project, env, timeline, status_message, self.clock() - started_ago
        )
        script.mode = mode
        with self._lock:
            self._orchestrator[(org, deployment_id)] = script
        return deployment_id

    def humanitec_v2_deployments(self, org: str) -> list[dict[str, Any]]:
        """The org's v2 deployments as ``listDeployments`` lists them (``DeploymentSummary``),
        oldest first: what a test asks of the state, without a request."""
        with self._lock:
            scripts = sorted(
                (s for s in self._orchestrator.values() if s.org == org), key=lambda s: s.created
            )
        return [shapes.v2_summary(s, self._elapsed(s), self._iso) for s in scripts]

    def then_humanitec_v2(
        self,
        org: str,
        timeline: Timeline,
        *,
        project: str = "shop",
        env: str = "staging",
        status_message: str = "",
    ) -> None:
        """The next deployment started to ``project``/``env`` through the API (``POST
        /orgs/{org}/deployments``, a rollback) follows ``timeline``; else it succeeds in 3 s."""
        with self._lock:
            queue = self._next_orchestrator.setdefault((org, project, env), deque())
            queue.append((timeline, status_message))

    def _orchestrator_answer(
        self, name: str, ids: list[str], query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if name == "orchestrator-deployments":
            return self._orchestrator_list(ids[0], query)
        with self._lock:
            script = self._orchestrator.get((ids[0], ids[1]))
        if script is None:
            return 404, {"error": "API-404", "message": "Deployment not found."}, {}
        if name == "orchestrator-deployment":
            return 200, shapes.v2_deployment(script, self._read(script), self._iso), {}
        asked = query.get("timeout_in_seconds", "30")
        if not asked.isdigit() or int(asked) < 2:
            message = "timeout_in_seconds must be an integer of at least 2"
            return 400, {"error": "API-400", "message": message}, {}
        hold_until = time.monotonic() + int(asked)
        elapsed = self._read(script)
        while not shapes.v2_complete(script, elapsed):
            paced = self.seconds_per_read is not None
            if paced or time.monotonic() >= hold_until or self._released.wait(0.02):
                message = "The deployment is not complete yet; keep waiting."
                return 408, {"error": "API-408", "message": message}, {}
            elapsed = self._elapsed(script)
        return 200, shapes.v2_deployment(script, elapsed, self._iso), {}

    def _orchestrator_list(
        self, org: str, query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        """``listDeployments``: a ``DeploymentPage``, newest first (or oldest, as
        :attr:`oldest_first` says), its token an offset."""
        with self._lock:
            scripts = [
                s
                for s in self._orchestrator.values()
                if s.org == org
                and query.get("project_id") in (None, s.project)
                and query.get("env_id") in (None, s.env)
            ]
        scripts.sort(key=lambda s: s.created, reverse=not self.oldest_first)
        size = int(query.get("per_page", "50"))
        start = int(query.get("page", "0") or 0)
        listed = scripts[start : start + size]
        page: dict[str, Any] = {
            "items": [shapes.v2_summary(s, self._elapsed(s), self._iso) for s in listed]
        }
        if start + size < len(scripts):
            page["next_page_token"] = str(start + size)
        return 200, page, {}

    def _orchestrator_start(
        self, org: str, body: object, idempotency_key: str
    ) -> tuple[int, Any, dict[str, str]]:
        """``createDeployment``: a deployment or a rollback to an earlier one's graph. The
        ``Idempotency-Key`` of the environment's last deployment answers with it again (200:
        nothing new was made)."""
        refusal = starts.v2_refusal(body)
        if refusal:
            return 400, {"error": "API-400", "message": refusal}, {}
        assert isinstance(body, Mapping)
        where = (org, body["project_id"], body["env_id"])
        with self._lock:
            known = sorted(
                (s for s in self._orchestrator.values() if (s.org, s.project, s.env) == where),
                key=lambda s: s.created,
            )
            if known and idempotency_key and known[-1].idempotency_key == idempotency_key:
                return 200, shapes.v2_deployment(known[-1], self._elapsed(known[-1]), self._iso), {}
            if any(not shapes.v2_complete(s, self._elapsed(s)) for s in known):
                message = "A deployment to this environment is already in flight."
                return 409, {"error": "API-409", "message": message}, {}
            rollback_to = body.get("rollback_to_deployment_id") or ""
            if body["mode"] == "rollback" and rollback_to not in {s.deployment_id for s in known}:
                message = f"Deployment {rollback_to} was not found in this environment."
                return 400, {"error": "API-400", "message": message}, {}
            queue = self._next_orchestrator.get(where)
            timeline, message = queue.popleft() if queue else (_ORCHESTRATOR_NEXT, "")
            script = HumanitecV2Script(
                org, str(uuid.uuid4()), where[1], where[2], timeline, message, self.clock()
            )
            script.mode, script.rollback_to = body["mode"], rollback_to
            script.idempotency_key = idempotency_key
            self._orchestrator[(org, script.deployment_id)] = script
        return 201, shapes.v2_deployment(script, 0.0, self._iso), {}
