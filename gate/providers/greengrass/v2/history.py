"""How long a Greengrass v2 target's earlier deployments took, for the wait's schedule.

``ListDeployments`` (the target's ARN, ``historyFilter: ALL``; the first page, newest first)
gives the deployments before this one; ``GetDeployment`` of each of the
:data:`HISTORY_LENGTH` newest names its IoT job, and ``DescribeJob`` says when the job was
created and when it ended: ``completedAt`` once it completed, or, for a thing group's
continuous job, ``lastUpdatedAt`` once no execution is queued or in progress (the last
device's end). A job cancelled (superseded) says nothing of how long the devices took.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

from gate.core.text import from_api
from gate.core.timestamps import parse_timestamp
from gate.providers.rollback_plans import AwsCall, aws_page

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_iot import IoTClient

__all__ = ["HISTORY_LENGTH", "past_durations"]

HISTORY_LENGTH = 6
"""Earlier deployments read (two reads each: the deployment, its job): few, since a fleet of
gates shares one request budget."""
_PAGE = 50


def past_durations(
    greengrass: GreengrassV2Client,
    iot: IoTClient,
    greengrass_call: AwsCall,
    iot_call: AwsCall,
    *,
    target_arn: str,
    current: str,
) -> list[float]:
    """Seconds from each earlier deployment's job creation to its end, newest first."""
    listed = aws_page(
        greengrass_call(
            greengrass.list_deployments,
            targetArn=target_arn,
            historyFilter="ALL",
            maxResults=_PAGE,
        ),
        items="deployments",
    )
    created: dict[str, datetime] = {}
    for item in islice(listed, _PAGE):
        moment = _moment(item.get("creationTimestamp"))
        if moment is not None:
            created[from_api(item.get("deploymentId"))] = moment
    before = created.pop(current, None)
    earlier = sorted(
        (moment, deployment)
        for deployment, moment in created.items()
        if deployment and (before is None or moment < before)
    )[::-1]
    durations = []
    for _, deployment in earlier[:HISTORY_LENGTH]:
        job_id = from_api(
            greengrass_call(greengrass.get_deployment, deploymentId=deployment).get("iotJobId")
        )
        if not job_id:
            continue
        job = iot_call(iot.describe_job, jobId=job_id).get("job")
        took = _job_took(job) if isinstance(job, Mapping) else None
        if took is not None:
            durations.append(took)
    return durations


def _job_took(job: Mapping[str, Any]) -> float | None:
    began = _moment(job.get("createdAt"))
    status = from_api(job.get("status"))
    if status == "COMPLETED":
        ended = _moment(job.get("completedAt"))
    elif status == "IN_PROGRESS" and _all_executions_done(job.get("jobProcessDetails")):
        ended = _moment(job.get("lastUpdatedAt"))
    else:
        return None
    if began is None or ended is None or ended < began:
        return None
    return (ended - began).total_seconds()


def _moment(value: object) -> datetime | None:
    """botocore parses these timestamps; an aware datetime, in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo is not None else None
    return parse_timestamp(value)


def _all_executions_done(details: object) -> bool:
    if not isinstance(details, Mapping):
        return False
    waiting = details.get("numberOfQueuedThings", 0), details.get("numberOfInProgressThings", 0)
    return all(isinstance(count, int) and count == 0 for count in waiting)
