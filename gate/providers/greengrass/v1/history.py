"""How long a Greengrass v1 group's earlier deployments took, for the wait's schedule.

``ListDeployments`` gives each deployment's ``CreatedAt`` (one page: the newest 50);
``GetDeploymentStatus`` of each of the :data:`HISTORY_LENGTH` newest before this one says
whether it ended, and its ``UpdatedAt``, the time of its last change: its end. Resets are left
out (they remove a configuration rather than deploy one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from gate.core.text import from_api
from gate.core.timestamps import parse_timestamp
from gate.providers.rollback_plans import AwsCall, aws_page

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient

__all__ = ["HISTORY_LENGTH", "past_durations"]

HISTORY_LENGTH = 6
"""Earlier deployments whose status is read (one read each): few, since a fleet of gates
shares one request budget, and six say enough of a group's usual time."""
_RESETS = frozenset({"ResetDeployment", "ForceResetDeployment"})


def past_durations(
    client: GreengrassClient,
    call: AwsCall,
    *,
    group_id: str,
    current: str,
    ended: Callable[[str], bool],
) -> list[float]:
    """Seconds from creation to end of the group's deployments before ``current``, newest
    first; ``ended`` says whether a ``DeploymentStatus`` is terminal."""
    listed = aws_page(
        call(client.list_deployments, GroupId=group_id, MaxResults="50"), items="Deployments"
    )
    created: dict[str, datetime] = {}
    for item in listed:
        moment = parse_timestamp(item.get("CreatedAt"))
        if moment is not None and from_api(item.get("DeploymentType")) not in _RESETS:
            created[from_api(item.get("DeploymentId"))] = moment
    before = created.pop(current, None)
    earlier = sorted(
        ((moment, deployment) for deployment, moment in created.items() if deployment),
        reverse=True,
    )
    if before is not None:
        earlier = [(moment, deployment) for moment, deployment in earlier if moment < before]
    durations = []
    for moment, deployment in earlier[:HISTORY_LENGTH]:
        status = call(client.get_deployment_status, GroupId=group_id, DeploymentId=deployment)
        end = parse_timestamp(status.get("UpdatedAt"))
        if ended(from_api(status.get("DeploymentStatus"))) and end is not None and end >= moment:
            durations.append((end - moment).total_seconds())
    return durations
