"""How long a Humanitec v2 environment's earlier deployments took, for the wait's schedule.

The environment's deployments (``GET /orgs/{org}/deployments`` with ``project_id`` and
``env_id``; the first page) say each one's ``created_at`` and, once it ended,
``completed_at``. Plan-only runs change nothing and take far less: they are left out, as
is every deployment created after this one.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from gate.core.timestamps import parse_timestamp
from gate.providers.humanitec.api import HumanitecApi
from gate.providers.humanitec.v2.rollback import PER_PAGE, _summaries

__all__ = ["HISTORY_LENGTH", "past_durations"]

HISTORY_LENGTH = 20
_PLANS_ONLY = ("plan_only", "rollback_plan")


def past_durations(
    api: HumanitecApi,
    *,
    org: str,
    project: str,
    env: str,
    current: str,
    created: datetime | None,
) -> list[float]:
    """Seconds from creation to completion of the environment's deployments before
    ``current`` (created at ``created``), newest first."""
    ended: list[tuple[datetime, float]] = []
    for item in islice(_summaries(api, org, project=project, env=env), PER_PAGE):
        began = parse_timestamp(item.get("created_at"))
        end = parse_timestamp(item.get("completed_at"))
        if began is None or end is None or end < began or api.said(item.get("id")) == current:
            continue
        if item.get("plan_only") is True or api.said(item.get("mode")) in _PLANS_ONLY:
            continue
        if created is None or began < created:
            ended.append((began, (end - began).total_seconds()))
    ended.sort(reverse=True)
    return [took for _, took in ended[:HISTORY_LENGTH]]
