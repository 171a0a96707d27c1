"""Rolling a Greengrass v2 target back: re-creating the deployment it had before.

``ListDeployments`` with the target's ARN and ``historyFilter: ALL`` gives every deployment
it had; the newest created before the failed one that neither failed nor was cancelled is
read whole (``GetDeployment``), and ``CreateDeployment`` sends its ``components``,
``deploymentPolicies`` and ``iotJobConfiguration`` again to the same target, under its name.
A thing group's deployment is continuous and reads ``ACTIVE`` or ``INACTIVE`` whatever its
devices did, so its status says only that it was not a failure. The ``clientToken`` is made
from the failed deployment's id: asked twice, AWS starts the rollback once. A failed
deployment that is no longer the latest for its target (``isLatestForTarget`` false, which
the gate reads as SUPERSEDED), or one after which the history lists a newer deployment, is
never rolled back: that would undo the newer one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from gate.core.errors import NotFoundError, ReadError, TransientError
from gate.core.ids import api_id
from gate.core.model import RollbackPlan
from gate.core.text import from_api
from gate.providers.rollback_plans import (
    AwsCall,
    aws_pages,
    body_of,
    client_token,
    planned_request,
    started_since,
    unclear_start,
)

__all__ = ["COPIED", "MAX_PAGES", "plan_rollback", "start_rollback"]

MAX_PAGES = 10
"""Pages of the target's history read (of 50 deployments each)."""
COPIED = ("deploymentName", "components", "deploymentPolicies", "iotJobConfiguration")
"""What of the earlier deployment is sent again (with its ``targetArn``)."""
_NOT_RUN = frozenset({"FAILED", "CANCELED"})


def plan_rollback(greengrass: Any, call: AwsCall, *, failed: str) -> RollbackPlan:
    """Re-create the target's newest deployment before ``failed`` that did not fail;
    RequestRejected when ``failed`` is no longer the target's latest."""
    this = call(greengrass.get_deployment, deploymentId=failed)
    target = from_api(this.get("targetArn"))
    failed_at = this.get("creationTimestamp")
    if not target or not isinstance(failed_at, datetime):
        raise TransientError("GetDeployment answered without a targetArn or creationTimestamp")
    history = [
        (created, from_api(item.get("deploymentId")), item)
        for item in _history(greengrass, call, target)
        if isinstance(created := item.get("creationTimestamp"), datetime)
        and from_api(item.get("deploymentId")) not in ("", failed)
        and from_api(item.get("targetArn")) == target
    ]
    later = [(created, said) for created, said, _ in history if created > failed_at]
    if later or this.get("isLatestForTarget") is False:
        raise started_since(failed, f"on {target}", max(later)[1] if later else "")
    earlier = [
        (created, said)
        for created, said, item in history
        if created < failed_at and from_api(item.get("deploymentStatus")) not in _NOT_RUN
    ]
    if not earlier:
        raise NotFoundError(
            f"nothing to roll back to: {target} had no deployment before {failed} "
            "that neither failed nor was cancelled"
        )
    to = api_id("deployment id", max(earlier)[1])
    previous = call(greengrass.get_deployment, deploymentId=to)
    if not isinstance(previous.get("components"), Mapping):
        raise ReadError(f"GetDeployment of {to} answered without its components to deploy again")
    params: dict[str, Any] = {"targetArn": target}
    params.update((key, previous[key]) for key in COPIED if previous.get(key) is not None)
    params["clientToken"] = client_token(failed)
    named = (
        f" ({from_api(previous.get('deploymentName'))})" if previous.get("deploymentName") else ""
    )
    return RollbackPlan(
        summary=f"deploy again the {len(params['components'])} components of deployment "
        f"{to}{named}, the last before {failed} to {target}",
        to=to,
        request={"operation": "CreateDeployment", "params": params},
    )


def start_rollback(greengrass: Any, call: AwsCall, plan: RollbackPlan, *, target: str) -> str:
    """CreateDeployment with the plan's parameters; the new deployment's id."""
    request = planned_request(plan, operation="CreateDeployment")
    params = body_of(request, "params", **({"targetArn": target} if target else {}))
    where = target or from_api(params.get("targetArn")) or "the target"
    with unclear_start(f"the deployments to {where}"):
        answer = call(greengrass.create_deployment, **params)
    said = from_api(answer.get("deploymentId"))
    if not said:
        raise ReadError(
            "the rollback deployment was asked for, but CreateDeployment answered with no "
            "deploymentId"
        )
    return api_id("deployment id", said)


def _history(greengrass: Any, call: AwsCall, target: str) -> Iterator[Mapping[str, Any]]:
    return aws_pages(
        call,
        greengrass.list_deployments,
        items="deployments",
        next_key="nextToken",
        pages=MAX_PAGES,
        targetArn=target,
        historyFilter="ALL",
        maxResults=50,
    )
