"""Rolling a Greengrass v1 group back: redeploying its last deployment that succeeded.

``ListDeployments`` gives the group's history (``CreatedAt``, ``DeploymentType`` and
``GroupArn``, the ARN of the group version deployed); ``GetDeploymentStatus`` says which
succeeded. ``CreateDeployment`` with ``DeploymentType: Redeployment`` and that deployment's
``DeploymentId`` (botocore's model: "the ID of the deployment if you wish to redeploy a
previous deployment") and its ``GroupVersionId`` starts the rollback. A reset that succeeded
left the group without configuration, so there is nothing before it to roll back to. It is
planned only while the failed deployment is the newest in the group's history. The request
carries an ``AmznClientToken`` made from the failed deployment's id, the same each time the
rollback of that deployment is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gate.core.errors import NotFoundError, ReadError, RequestRejected
from gate.core.ids import api_id
from gate.core.model import RollbackPlan
from gate.core.text import from_api, one_line
from gate.core.timestamps import parse_timestamp
from gate.providers.rollback_plans import (
    AwsCall,
    aws_pages,
    body_of,
    client_token,
    planned_request,
    started_id,
    started_since,
    unclear_start,
)

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient

__all__ = ["MAX_PAGES", "MAX_STATUS_READS", "PER_PAGE", "plan_rollback", "start_rollback"]

MAX_PAGES = 100
"""Pages of the group's history read (of PER_PAGE deployments each); a longer history is
not planned from."""
PER_PAGE = 50
MAX_STATUS_READS = 20
"""Earlier deployments whose status is read, newest first, to find one that succeeded."""
_RESETS = frozenset({"ResetDeployment", "ForceResetDeployment"})
_VERSION_ARN = re.compile(r"[:/]greengrass/groups/([^/]+)/versions/([^/]+)$")
"""AWS writes ``...:/greengrass/groups/{id}/versions/{version}``; moto leaves out the ``/``."""


def plan_rollback(
    client: GreengrassClient, call: AwsCall, *, group_id: str, failed: str
) -> RollbackPlan:
    """Redeploy the newest deployment of the group that succeeded before ``failed``;
    RequestRejected when one was started after it."""
    history = list(_history(client, call, group_id))
    this = next((d for d in history if from_api(d.get("DeploymentId")) == failed), None)
    failed_at = parse_timestamp(this.get("CreatedAt")) if this is not None else None
    if failed_at is None:
        raise NotFoundError(
            f"deployment {failed} is not in the deployment history of group {group_id} "
            "(or has no readable CreatedAt)"
        )
    later = [
        (created, from_api(deployment.get("DeploymentId")))
        for deployment in history
        if (created := _created(deployment)) is not None and created > failed_at
    ]
    if later:
        raise started_since(failed, f"in group {group_id}", max(later)[1])
    earlier = sorted(
        (
            (created, deployment)
            for deployment in history
            if (created := _created(deployment)) is not None
            and created < failed_at
            and from_api(deployment.get("DeploymentId")) != failed
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    previous = None
    for _, deployment in earlier[:MAX_STATUS_READS]:
        to = api_id("deployment id", from_api(deployment.get("DeploymentId")))
        status = call(client.get_deployment_status, GroupId=group_id, DeploymentId=to)
        if from_api(status.get("DeploymentStatus")) == "Success":
            previous = deployment
            break
    if previous is None:
        read = (
            f" (of the {MAX_STATUS_READS} newest read)" if len(earlier) > MAX_STATUS_READS else ""
        )
        raise NotFoundError(
            f"nothing to roll back to: no deployment of group {group_id} succeeded before "
            f"{failed}{read}"
        )
    kind = from_api(previous.get("DeploymentType"))
    if kind in _RESETS:
        raise RequestRejected(
            f"nothing to roll back to: the last deployment of group {group_id} to succeed "
            f"before {failed}, {to}, was a {kind}, which left the group without configuration"
        )
    version = _version_of(from_api(previous.get("GroupArn")), group_id, to)
    return RollbackPlan(
        summary=f"redeploy group version {version} of deployment {to}, the last of group "
        f"{group_id} to succeed before {failed}",
        to=to,
        request={
            "operation": "CreateDeployment",
            "params": {
                "GroupId": group_id,
                "DeploymentId": to,
                "DeploymentType": "Redeployment",
                "GroupVersionId": version,
            },
        },
    )


def start_rollback(
    client: GreengrassClient, call: AwsCall, plan: RollbackPlan, *, group_id: str, failed: str
) -> str:
    """CreateDeployment with the plan's parameters and the client token of ``failed``'s
    rollback; the new deployment's id."""
    request = planned_request(plan, operation="CreateDeployment")
    params = body_of(request, "params", GroupId=group_id, DeploymentType="Redeployment")
    params["AmznClientToken"] = client_token(failed)
    check = f"the deployments of group {group_id}"
    with unclear_start(check, keyed=True):
        answer = call(client.create_deployment, **params)
    return started_id(from_api(answer.get("DeploymentId")), "CreateDeployment's answer", check)


def _history(client: Any, call: AwsCall, group_id: str) -> Iterator[Mapping[str, Any]]:
    return aws_pages(
        call,
        client.list_deployments,
        items="Deployments",
        next_key="NextToken",
        pages=MAX_PAGES,
        per_page=PER_PAGE,
        where=f"group {group_id}",
        GroupId=group_id,
        MaxResults=str(PER_PAGE),
    )


def _created(deployment: Mapping[str, Any]) -> datetime | None:
    return parse_timestamp(deployment.get("CreatedAt"))


def _version_of(group_arn: str, group_id: str, deployment: str) -> str:
    match = _VERSION_ARN.search(group_arn)
    if match is None or match.group(1) != group_id:
        raise ReadError(
            f"deployment {deployment}'s GroupArn {one_line(group_arn, limit=200)!r} names no "
            f"version of group {group_id}"
        )
    return api_id("group version id", match.group(2))
