"""Rolling a Greengrass v2 target back: re-creating the last deployment that worked on it.

``ListDeployments`` with the target's ARN and ``historyFilter: ALL`` gives every deployment
it had, read whole (no order is promised; a history longer than :data:`MAX_PAGES` pages is
refused). A deployment's own status says little: a thing group's deployment is continuous
and reads ``ACTIVE`` or ``INACTIVE`` (once replaced) whatever its devices did. So the one
restored is the newest created before the failed one, not ``FAILED`` or ``CANCELED``, whose
IoT job says it **succeeded on its devices**: ``DescribeJob`` counts at least one device that
succeeded and none that failed, timed out or was rejected (devices whose execution was
cancelled when a newer deployment replaced it, or that left the group, count neither way).
At most :data:`MAX_JOB_READS` of the newest are read so; none that worked leaves nothing to
roll back to.

``CreateDeployment`` sends its ``components``, ``deploymentPolicies``,
``iotJobConfiguration`` and ``tags`` again to the same target, under its name. The plan shows
which components and versions, never their ``configurationUpdate`` (which can hold
credentials): the start reads the deployment again and sends its components as they are, if
they are still those the plan shows. The ``clientToken`` is made from the failed deployment's
id: asked twice, AWS starts the rollback once. A failed deployment that is no longer the
latest for its target (``isLatestForTarget`` false, which the gate reads as SUPERSEDED), or
one after which the history lists a newer deployment, is never rolled back: that would undo
the newer one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
    started_id,
    started_since,
    unclear_start,
)

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_iot import IoTClient

__all__ = [
    "COPIED",
    "MAX_JOB_READS",
    "MAX_PAGES",
    "NOT_SHOWN",
    "plan_rollback",
    "start_rollback",
    "worked",
]

MAX_PAGES = 100
"""Pages of the target's history read (of PER_PAGE deployments each)."""
PER_PAGE = 50
MAX_JOB_READS = 20
"""Earlier deployments whose IoT job is read, newest first, to find one that worked."""
COPIED = ("deploymentName", "components", "deploymentPolicies", "iotJobConfiguration", "tags")
"""What of the earlier deployment is sent again (with its ``targetArn``)."""
NOT_SHOWN = "(not shown: sent as the deployment restored has it)"
"""What the plan shows in place of a component's ``configurationUpdate``."""
_NOT_RUN = frozenset({"FAILED", "CANCELED"})
_FAILED_COUNTS = ("numberOfFailedThings", "numberOfTimedOutThings", "numberOfRejectedThings")


def plan_rollback(
    greengrass: GreengrassV2Client, call: AwsCall, iot: IoTClient, iot_call: AwsCall, *, failed: str
) -> RollbackPlan:
    """Re-create the target's newest deployment before ``failed`` that worked on its
    devices (:func:`worked`); RequestRejected when ``failed`` is no longer the target's
    latest, NotFoundError when none before it worked."""
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
    earlier = sorted(
        (
            (created, said)
            for created, said, item in history
            if created < failed_at and from_api(item.get("deploymentStatus")) not in _NOT_RUN
        ),
        reverse=True,
    )
    found = None
    for _, said in earlier[:MAX_JOB_READS]:
        candidate = call(greengrass.get_deployment, deploymentId=api_id("deployment id", said))
        if _job_worked(iot, iot_call, candidate):
            found = candidate
            break
    if found is None:
        read = f" (of the {MAX_JOB_READS} newest read)" if len(earlier) > MAX_JOB_READS else ""
        raise NotFoundError(
            f"nothing to roll back to: no deployment to {target} before {failed} succeeded "
            f"on its devices{read}"
        )
    to = api_id("deployment id", from_api(found.get("deploymentId")))
    components = found.get("components")
    if not isinstance(components, Mapping):
        raise ReadError(f"GetDeployment of {to} answered without its components to deploy again")
    params: dict[str, Any] = {"targetArn": target}
    params.update((key, found[key]) for key in COPIED if found.get(key) is not None)
    params["components"] = _shown(components)
    params["clientToken"] = client_token(failed)
    named = f" ({from_api(found.get('deploymentName'))})" if found.get("deploymentName") else ""
    return RollbackPlan(
        summary=f"deploy again the {len(components)} components of deployment {to}{named}, "
        f"the last before {failed} to succeed on the devices of {target}",
        to=to,
        request={"operation": "CreateDeployment", "params": params},
    )


def worked(job: Mapping[str, Any]) -> bool:
    """Whether an IoT job (``DescribeJob``'s ``job``) succeeded on its devices: at least
    one succeeded, none failed, timed out or was rejected."""
    details = job.get("jobProcessDetails")
    counts = details if isinstance(details, Mapping) else {}

    def count(key: str) -> int:
        value = counts.get(key, 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    failed = any(count(key) for key in _FAILED_COUNTS)
    return count("numberOfSucceededThings") > 0 and not failed


def start_rollback(
    greengrass: GreengrassV2Client, call: AwsCall, plan: RollbackPlan, *, target: str
) -> str:
    """CreateDeployment with the plan's parameters, and the components of the deployment it
    restores as they are (the configuration the plan does not show); the new deployment's id."""
    request = planned_request(plan, operation="CreateDeployment")
    params = body_of(request, "params", **({"targetArn": target} if target else {}))
    where = target or from_api(params.get("targetArn")) or "the target"
    restored = call(greengrass.get_deployment, deploymentId=api_id("deployment id", plan.to))
    components = restored.get("components")
    if not isinstance(components, Mapping) or _shown(components) != params.get("components"):
        raise ReadError(
            f"the components of deployment {plan.to} are no longer those the rollback plan "
            "shows: not rolled back"
        )
    params["components"] = dict(components)
    check = f"the deployments to {where}"
    with unclear_start(check, keyed=bool(params.get("clientToken"))):
        answer = call(greengrass.create_deployment, **params)
    return started_id(from_api(answer.get("deploymentId")), "CreateDeployment's answer", check)


def _shown(components: Mapping[str, Any]) -> dict[str, Any]:
    """``components`` as a plan shows them: each component's ``configurationUpdate``
    replaced by :data:`NOT_SHOWN`."""
    shown: dict[str, Any] = {}
    for name, spec in components.items():
        if isinstance(spec, Mapping) and "configurationUpdate" in spec:
            shown[name] = {**spec, "configurationUpdate": NOT_SHOWN}
        else:
            shown[name] = spec
    return shown


def _job_worked(iot: Any, iot_call: AwsCall, deployment: Mapping[str, Any]) -> bool:
    """Whether ``deployment``'s IoT job says it worked; a job never made, or since deleted,
    says nothing, so not."""
    job_id = from_api(deployment.get("iotJobId"))
    if not job_id:
        return False
    try:
        job = iot_call(iot.describe_job, jobId=api_id("IoT job id", job_id)).get("job")
    except NotFoundError:
        return False
    return isinstance(job, Mapping) and worked(job)


def _history(greengrass: Any, call: AwsCall, target: str) -> Iterator[Mapping[str, Any]]:
    return aws_pages(
        call,
        greengrass.list_deployments,
        items="deployments",
        next_key="nextToken",
        pages=MAX_PAGES,
        per_page=PER_PAGE,
        where=target,
        targetArn=target,
        historyFilter="ALL",
        maxResults=PER_PAGE,
    )
