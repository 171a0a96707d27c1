"""Rolling a Humanitec v1 environment back to its last deployment that succeeded.

Contract: ``GET /orgs/{org}/apps/{app}/envs/{env}/deploys`` lists the environment's
deployments (``DeploymentResponse``, newest first); ``POST`` to the same path with a
``DeploymentRequest`` starts one. A ``set_id`` forces the environment to that deployment's
state, and ``value_set_version_id`` to its values, so redeploying both of the last deployment
that succeeded before the failed one is the rollback; the ``comment`` says why. It is planned
only while the environment's ``last_deploy`` (``GET .../envs/{env}``) is the failed one. The
request has no idempotency key: a fault in answer to it leaves the outcome unknown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gate.core.errors import NotFoundError, RequestRejected, TransientError
from gate.core.ids import api_id
from gate.core.model import RollbackPlan
from gate.core.timestamps import parse_timestamp
from gate.providers.humanitec.api import HumanitecApi, path_of
from gate.providers.rollback_plans import (
    body_of,
    comment_of,
    planned_request,
    short,
    started_id,
    started_since,
    unclear_start,
)

__all__ = ["MAX_PAGES", "plan_rollback", "start_rollback"]

MAX_PAGES = 10
"""Pages of the environment's history read to find the deployment to roll back to."""


def plan_rollback(api: HumanitecApi, *, org: str, app: str, env: str, failed: str) -> RollbackPlan:
    """Redeploy the set (and values) of the newest deployment that succeeded before
    ``failed``; NotFoundError when none did, RequestRejected when ``failed`` is no longer the
    environment's latest deployment."""
    env_path = path_of("orgs", org, "apps", app, "envs", env)
    where = f"{org}/{app}/{env}"
    read = api.get_object(
        path_of("orgs", org, "apps", app, "envs", env, "deploys", failed),
        "deployment",
        not_found=f"Humanitec deployment {failed} in {where}",
    )
    failed_at = parse_timestamp(read.get("created_at"))
    if failed_at is None:
        raise TransientError("deployment: the answer has no readable 'created_at'")
    environment = api.get_object(env_path, "environment", not_found=f"environment {where}")
    latest = environment.get("last_deploy")
    newest = api.said(latest.get("id")) if isinstance(latest, dict) else ""
    if not newest:
        raise TransientError("environment: the answer names no last_deploy")
    if newest != failed:
        raise started_since(failed, f"in {where}", newest)

    def succeeded_before(item: dict[str, Any]) -> bool:
        created = _created(item)
        return (
            created is not None
            and created < failed_at
            and api.said(item.get("id")) != failed
            and api.said(item.get("status")) == "succeeded"
        )

    earlier, more, _ = api.pages(
        f"{env_path}/deploys", "deployment history", limit=MAX_PAGES, keep=succeeded_before
    )
    if not earlier:
        searched = f" in the {MAX_PAGES} pages of history read" if more else ""
        raise NotFoundError(
            f"nothing to roll back to: no deployment of {where} succeeded before {failed}{searched}"
        )
    previous = max(earlier, key=lambda item: _created(item) or failed_at)
    to = api_id("deployment id", api.said(previous.get("id")))
    set_id = api.said(previous.get("set_id"))
    if not set_id:
        raise RequestRejected(
            f"deployment {to}, the last to succeed in {where} before {failed}, names no "
            "set_id to redeploy"
        )
    body = {"set_id": set_id}
    values = api.said(previous.get("value_set_version_id"))
    if values:
        body["value_set_version_id"] = values
    with_values = f" with value set version {short(values)}" if values else ""
    return RollbackPlan(
        summary=f"redeploy set {short(set_id)}{with_values} of deployment {to}, "
        f"the last to succeed in {where} before {failed}",
        to=to,
        request={"method": "POST", "path": f"{env_path}/deploys", "body": body},
    )


def start_rollback(
    api: HumanitecApi,
    plan: RollbackPlan,
    comment: str,
    *,
    org: str,
    app: str,
    env: str,
    failed: str,
) -> str:
    """POST the plan's body with ``comment`` (else one naming ``failed``); the new
    deployment's id."""
    path = path_of("orgs", org, "apps", app, "envs", env, "deploys")
    request = planned_request(plan, method="POST", path=path)
    body = body_of(request)
    default = f"deploy-gate: deployment {failed} failed; rolled back to {plan.to}"
    body["comment"] = comment_of(comment, default)
    check = f"the deployments of {org}/{app}/{env}"
    with unclear_start(check, keyed=False):
        code, answer = api.post(path, "starting the rollback deployment", body)
    said = api.said(answer.get("id")) if isinstance(answer, dict) else ""
    return started_id(said, f"HTTP {code}", check)


def _created(item: dict[str, Any]) -> datetime | None:
    return parse_timestamp(item.get("created_at"))
