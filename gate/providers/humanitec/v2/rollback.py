"""Rolling a Humanitec v2 environment back, in the orchestrator's own rollback mode.

Spec (``tests/contracts/humanitec-v2-orchestrator.yaml``): ``GET /orgs/{org}/deployments``
with ``project_id``, ``env_id``, ``per_page`` and the ``page`` token lists ``DeploymentSummary``
items in a ``DeploymentPage`` (``next_page_token``; no order promised). ``POST`` to the same
path with a ``DeploymentCreateBody`` of ``mode: rollback`` and ``rollback_to_deployment_id``
"rolls back to the graph used in" that deployment, answering 201 with the new ``Deployment``.
The body has no comment; an ``Idempotency-Key`` made from the failed deployment's id makes
a second request for the same rollback answer with the first one's deployment (with 200 or
201: either is that deployment, to be gated).

The deployment restored is the newest to the same project and environment, created before the
failed one, whose mode changed the environment (``deploy`` or ``rollback``, not plan-only)
and that ``succeeded``. The whole history is read, in whatever order the API lists it, up to
:data:`MAX_PAGES` pages: a longer one is refused, since the one to restore may be unread. It
is planned only while no deployment to the environment was started after the failed one (a
plan-only run, which changes nothing, aside), and never for a failed plan-only run: it
changed nothing, so there is nothing to undo.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from gate.core.errors import NotFoundError, RequestRejected, TransientError
from gate.core.ids import api_id
from gate.core.model import RollbackPlan
from gate.core.timestamps import parse_timestamp
from gate.providers.humanitec.api import HumanitecApi, path_of
from gate.providers.rollback_plans import (
    body_of,
    client_token,
    planned_request,
    started_id,
    started_since,
    unclear_start,
    unread_history,
)

__all__ = ["MAX_PAGES", "PER_PAGE", "PLAN_ONLY_SKIPPED", "plan_rollback", "start_rollback"]

MAX_PAGES = 100
"""Pages of the environment's history read; a longer history is not planned from."""
PER_PAGE = 50
PLAN_ONLY_SKIPPED = "the deployment was plan-only, nothing changed"
_STATE_CHANGES = ("deploy", "rollback")
"""Modes whose success changed the environment: a plan-only run changed nothing."""
_PLANS_ONLY = ("plan_only", "rollback_plan")
"""Modes that change nothing, whatever they end as."""


def plan_rollback(api: HumanitecApi, *, org: str, failed: str) -> RollbackPlan:
    """Roll back to the newest deployment to the same project and environment that
    succeeded before ``failed``; NotFoundError when none did, RequestRejected when one
    that may change the environment was started after it."""
    read = api.get_object(
        path_of("orgs", org, "deployments", failed),
        "deployment",
        not_found=f"Humanitec v2 deployment {failed} in {org}",
    )
    if _plan_only(api, read):
        raise RequestRejected(PLAN_ONLY_SKIPPED)
    project, env = api.said(read.get("project_id")), api.said(read.get("env_id"))
    failed_at = parse_timestamp(read.get("created_at"))
    if not project or not env or failed_at is None:
        raise TransientError("deployment: the answer lacks project_id, env_id or created_at")
    where = f"{org}/{project}/{env}"
    earlier: list[tuple[datetime, str]] = []
    later: list[tuple[datetime, str]] = []
    for item in _summaries(api, org, project=project, env=env):
        created = parse_timestamp(item.get("created_at"))
        said = api.said(item.get("id"))
        if (
            created is None
            or said == failed
            or (api.said(item.get("project_id")), api.said(item.get("env_id"))) != (project, env)
        ):
            continue
        if created > failed_at and not _plan_only(api, item):
            later.append((created, said))
        if (
            created < failed_at
            and api.said(item.get("status")) == "succeeded"
            and api.said(item.get("mode")) in _STATE_CHANGES
            and not _plan_only(api, item)
        ):
            earlier.append((created, said))
    if later:
        raise started_since(failed, f"in {where}", max(later)[1])
    if not earlier:
        raise NotFoundError(
            f"nothing to roll back to: no deployment to {where} succeeded before {failed}"
        )
    to = api_id("deployment id", max(earlier)[1])
    body = {
        "mode": "rollback",
        "rollback_to_deployment_id": to,
        "project_id": project,
        "env_id": env,
    }
    return RollbackPlan(
        summary=f"roll {where} back to the graph of deployment {to}, the last to succeed "
        f"before {failed}",
        to=to,
        request={
            "method": "POST",
            "path": path_of("orgs", org, "deployments"),
            "headers": {"Idempotency-Key": client_token(failed)},
            "body": body,
        },
    )


def start_rollback(api: HumanitecApi, plan: RollbackPlan, *, org: str) -> str:
    """POST the plan's body and headers; the new deployment's id."""
    path = path_of("orgs", org, "deployments")
    request = planned_request(plan, method="POST", path=path)
    headers = {str(key): str(value) for key, value in body_of(request, "headers").items()}
    body = body_of(request)
    where = "/".join([org, *(api.said(body.get(key)) or "?" for key in ("project_id", "env_id"))])
    check = f"the deployments to {where}"
    with unclear_start(check, keyed="Idempotency-Key" in headers):
        code, answer = api.post(path, "starting the rollback deployment", body, headers=headers)
    # 201 made it; 200 with an id is the deployment a request with the same key made.
    said = api.said(answer.get("id")) if isinstance(answer, dict) else ""
    return started_id(said, f"HTTP {code}", check)


def _plan_only(api: HumanitecApi, deployment: dict[str, Any]) -> bool:
    return deployment.get("plan_only") is True or api.said(deployment.get("mode")) in _PLANS_ONLY


def _summaries(api: HumanitecApi, org: str, *, project: str, env: str) -> Iterator[dict[str, Any]]:
    """Every deployment to one environment, or :func:`unread_history` after MAX_PAGES pages."""
    query: dict[str, str | int] = {"project_id": project, "env_id": env, "per_page": PER_PAGE}
    for _ in range(MAX_PAGES):
        page = api.get_object(path_of("orgs", org, "deployments"), "deployments", params=query)
        items = page.get("items")
        if not isinstance(items, list):
            raise TransientError("deployments: the answer has no 'items' list")
        yield from (item for item in items if isinstance(item, dict))
        token = api.said(page.get("next_page_token"))
        if not token:
            return
        query["page"] = token
    raise unread_history(f"{org}/{project}/{env}", MAX_PAGES * PER_PAGE)
