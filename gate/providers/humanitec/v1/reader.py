"""Humanitec Platform Orchestrator deployments, read over its REST API with httpx.

Contract: ``GET /orgs/{org}/apps/{app}/envs/{env}/deploys/{id}`` (status ``pending``,
``in progress``, ``succeeded``, ``failed``), ``GET .../deploys/{id}/errors`` on failure, and
``GET /orgs/{org}/apps/{app}/envs/{env}`` whose ``last_deploy`` names the latest deployment.
A failed deployment is also explained by its pipeline run's failed step and that step's log
(:mod:`gate.providers.humanitec.v1.pipelines`); with ``require_ready``, success waits for the
environment's workloads to be ready (:mod:`gate.providers.humanitec.v1.runtime`). It rolls back
by redeploying the last deployment that succeeded (:mod:`gate.providers.humanitec.v1.rollback`).
What each answer means is judged apart (:mod:`gate.providers.humanitec.v1.judge`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from gate.core.errors import (
    GateError,
    NotFoundError,
    RequestRejected,
    TransientError,
    UsageError,
)
from gate.core.ids import require_id
from gate.core.model import ErrorDetail, RollbackPlan, Snapshot, State
from gate.core.secret import Secret
from gate.core.text import from_api, one_line
from gate.core.timestamps import parse_timestamp
from gate.providers.closing import shared
from gate.providers.humanitec.api import (
    HumanitecApi,
    connect,
    path_of,
)
from gate.providers.humanitec.fields import V1_API_URL as DEFAULT_API_URL
from gate.providers.humanitec.v1 import rollback
from gate.providers.humanitec.v1.judge import (
    STATUSES,
    error_list,
    judge_deployment,
    with_readiness,
)
from gate.providers.humanitec.v1.pipelines import PipelineRef, PipelineRuns
from gate.providers.humanitec.v1.runtime import read_readiness

__all__ = [
    "DEFAULT_API_URL",
    "HumanitecDeployment",
    "connect",
]


HISTORY_LENGTH = 20


class HumanitecDeployment:
    """One deployment of an environment; ``deploy_id=None`` follows the environment's latest.

    The latest deployment is resolved once, on the first read, and then followed by id, so a
    deployment started later does not change what is waited on. With ``require_ready``, a
    succeeded deployment reads as running until the environment's workloads are ready; at the
    deadline, workloads that Humanitec classes as failing make it a failure.
    """

    name = "humanitec"

    def __init__(
        self,
        client: httpx.Client,
        *,
        org: str,
        app: str,
        env: str,
        deploy_id: str | None = None,
        token: Secret | None = None,
        require_ready: bool = False,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._api = HumanitecApi(client, token=token)
        self._token = token
        self._close = close or client.close
        self._org = require_id("--org", org)
        self._app = require_id("--app", app)
        self._env = require_id("--env", env)
        self._deploy_id = None if deploy_id is None else require_id("--deploy-id", deploy_id)
        self._follows_latest = deploy_id is None
        self._require_ready = require_ready
        self._pipeline: PipelineRef | None = None
        self._applied: Snapshot | None = None
        """The deployment's own success, once read: then only readiness is left to read."""

    def __repr__(self) -> str:
        return f"HumanitecDeployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        ids = {"org": self._org, "app": self._app, "env": self._env}
        if self._deploy_id is not None:
            ids["deploy_id"] = self._deploy_id
        elif self._follows_latest:
            ids["deploy_id"] = "latest"
        return ids

    def describe(self) -> str:
        where = f"{self._org}/{self._app}/{self._env}"
        if self._follows_latest and self._deploy_id is None:
            return f"the latest Humanitec deployment in {where}"
        return f"Humanitec deployment {self._deploy_id} in {where}"

    def close(self) -> None:
        self._close()

    def fetch(self) -> Snapshot:
        return self._read(at_deadline=False)

    def fetch_at_deadline(self) -> Snapshot:
        return self._read(at_deadline=True)

    def _read(self, *, at_deadline: bool) -> Snapshot:
        applied = self._applied or self._read_deployment()
        if applied.state is State.SUCCEEDED and self._require_ready:
            self._applied = applied
            return self._with_readiness(applied, at_deadline=at_deadline)
        return applied

    def _with_readiness(self, applied: Snapshot, *, at_deadline: bool) -> Snapshot:
        readiness = read_readiness(self._api, org=self._org, app=self._app, env=self._env)
        return with_readiness(applied, readiness, at_deadline=at_deadline)

    def _read_deployment(self) -> Snapshot:
        if self._deploy_id is None:
            deployment = self._latest_deployment()
            try:
                self._deploy_id = require_id("last_deploy.id", self._said(deployment.get("id")))
            except UsageError as unusable:
                raise RequestRejected(f"the environment's {unusable}") from None
        else:
            deployment = self._api.get_object(
                self._deploy_path(), "deployment", not_found=self.describe()
            )
            answered_id = self._said(deployment.get("id"))
            if answered_id != self._deploy_id:
                raise TransientError(
                    f"deployment: asked for {self._deploy_id!r}, the API answered with "
                    f"{one_line(answered_id, limit=80)!r}"
                )
        snapshot = judge_deployment(deployment)
        self._pipeline = PipelineRef.from_deployment(self._api, deployment) or self._pipeline
        return snapshot

    def failure_details(self) -> tuple[ErrorDetail, ...]:
        """The failed deployment's error list, every field in the API's words; then its
        pipeline run's failed steps and their logs, when it came through one."""
        errors = error_list(self._api.get(f"{self._deploy_path()}/errors", "deployment errors"))
        if self._pipeline is not None:
            runs = PipelineRuns(self._api, org=self._org, app=self._app)
            try:
                errors.extend(runs.explain(self._pipeline))
            except GateError as unreadable:  # the error list above stands on its own
                errors.append(
                    ErrorDetail(
                        code="",
                        scope="gate",
                        message=f"the deployment's pipeline run could not be read: {unreadable}",
                    )
                )
        return tuple(errors)

    def past_durations(self) -> list[float]:
        """How long the environment's recent finished deployments took, newest first."""
        body = self._api.get(f"{self._env_path()}/deploys", "deployment history")
        if not isinstance(body, list):
            return []
        durations = []
        for item in body[: HISTORY_LENGTH + 1]:
            if not isinstance(item, dict) or item.get("id") == self._deploy_id:
                continue
            if STATUSES.get(from_api(item.get("status"))) not in (State.SUCCEEDED, State.FAILED):
                continue
            began = parse_timestamp(item.get("created_at"))
            ended = parse_timestamp(item.get("status_changed_at"))
            if began is not None and ended is not None and ended >= began:
                durations.append((ended - began).total_seconds())
        return durations[:HISTORY_LENGTH]

    def plan_rollback(self) -> RollbackPlan:
        """Redeploy the last deployment of the environment that succeeded before this one."""
        if self._deploy_id is None:
            self._read_deployment()
        assert self._deploy_id is not None
        return rollback.plan_rollback(
            self._api, org=self._org, app=self._app, env=self._env, failed=self._deploy_id
        )

    def roll_back(self, plan: RollbackPlan, comment: str) -> HumanitecDeployment:
        """Start ``plan``; a provider on the same client that follows the new deployment."""
        new_id = rollback.start_rollback(
            self._api,
            plan,
            comment,
            org=self._org,
            app=self._app,
            env=self._env,
            failed=self._deploy_id or "latest",
        )
        self._close, theirs = shared(self._close)
        return HumanitecDeployment(
            self._api.client,
            org=self._org,
            app=self._app,
            env=self._env,
            deploy_id=new_id,
            token=self._token,
            require_ready=self._require_ready,
            close=theirs,
        )

    def _said(self, value: object) -> str:
        return self._api.said(value)

    def _env_path(self) -> str:
        return path_of("orgs", self._org, "apps", self._app, "envs", self._env)

    def _deploy_path(self) -> str:
        assert self._deploy_id is not None
        return path_of(
            "orgs", self._org, "apps", self._app, "envs", self._env, "deploys", self._deploy_id
        )

    def _latest_deployment(self) -> dict[str, Any]:
        environment = self._api.get_object(
            self._env_path(), "environment", not_found=self.describe()
        )
        latest = environment.get("last_deploy")
        if latest is None:
            raise NotFoundError(
                f"environment {self._org}/{self._app}/{self._env} has no deployment yet"
            )
        if not isinstance(latest, dict):
            raise TransientError("environment: last_deploy is not an object")
        return latest
