"""CloudWatch alarms on moto, with the one call moto leaves out: DescribeAlarmHistory.

moto keeps each alarm's state changes (``Alarm.history``: the state before each
``set_alarm_state``) but does not serve them. :func:`alarm_history_served` adds the action
to moto's CloudWatch responses (in this process: the in-process mock and the loopback
server alike), answering StateUpdate items in CloudWatch's own shape, so the gate's real
client reads a flap between two of its reads as it would from AWS. ``after_reads`` runs a
step of the test's timeline once the alarms were described N times: driven by the gate's
reads, never by the clock. ``history_fails_after`` makes the history unreadable again, as
moto has it (HTTP 500), once the alarms were described that many times.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import boto3
import httpx

__all__ = ["alarm_history_served", "iam_enforced"]

Step = Callable[[], None]


def _utc(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if isinstance(moment, str) and moment:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return None


@contextmanager
def alarm_history_served(
    after_reads: dict[int, Step] | None = None,
    *,
    history_fails_after: int | None = None,
) -> Iterator[list[str]]:
    """Serve DescribeAlarmHistory from moto's own records; yields the actions seen."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    steps = dict(after_reads or {})
    seen: list[str] = []
    lock = threading.Lock()
    original = CloudWatchResponse.describe_alarms

    def describe_alarms(self: CloudWatchResponse) -> ActionResult:
        answer = original(self)
        with lock:
            seen.append("DescribeAlarms")
            step = steps.pop(seen.count("DescribeAlarms"), None)
        if step is not None:
            step()
        return answer

    def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
        with lock:
            seen.append("DescribeAlarmHistory")
            described = seen.count("DescribeAlarms")
        if history_fails_after is not None and described >= history_fails_after:
            raise NotImplementedError("The describe_alarm_history action has not been implemented")
        name = self._get_param("AlarmName")
        start, end = _utc(self._get_param("StartDate")), _utc(self._get_param("EndDate"))
        alarm = self.cloudwatch_backend.alarms.get(name)
        items: list[dict[str, Any]] = []
        if alarm is not None:
            states = [
                *alarm.history,
                (
                    "StateUpdate",
                    alarm.state_reason,
                    "",
                    alarm.state_value,
                    alarm.state_updated_timestamp,
                ),
            ]
            for before, after in itertools.pairwise(states):
                at = _utc(after[4])
                if at is None or (start and at < start) or (end and at > end):
                    continue
                items.append(
                    {
                        "AlarmName": name,
                        "AlarmType": "MetricAlarm",
                        "Timestamp": at,
                        "HistoryItemType": "StateUpdate",
                        "HistorySummary": f"Alarm updated from {before[3]} to {after[3]}",
                        "HistoryData": json.dumps(
                            {
                                "version": "1.0",
                                "oldState": {"stateValue": before[3], "stateReason": before[1]},
                                "newState": {"stateValue": after[3], "stateReason": after[1]},
                            }
                        ),
                    }
                )
        return ActionResult({"AlarmHistoryItems": items[::-1]})

    CloudWatchResponse.describe_alarms = describe_alarms  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]
    try:
        yield seen
    finally:
        CloudWatchResponse.describe_alarms = original  # type: ignore[method-assign]
        del CloudWatchResponse.describe_alarm_history  # type: ignore[attr-defined]


@contextmanager
def iam_enforced(endpoint: str, *actions: str) -> Iterator[dict[str, str]]:
    """moto's server checks every request against IAM (as AWS does) while inside; yields the
    keys of a new user whose one policy allows ``actions`` (as AWS names them:
    ``cloudwatch:DescribeAlarms``) and nothing else. moto names CloudWatch's actions by its
    endpoint, ``monitoring:``, so the policy allows each under both names."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    user = f"gate-deployer-{uuid.uuid4().hex[:12]}"  # moto's backends outlive one server
    iam.create_user(UserName=user)
    named = [*actions, *(a.replace("cloudwatch:", "monitoring:", 1) for a in actions)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": sorted(set(named)), "Resource": "*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="bake", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.close()
    enforced = httpx.post(f"{endpoint}/moto-api/reset-auth", content="0")
    enforced.raise_for_status()
    try:
        yield {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
    finally:
        before = enforced.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=before).raise_for_status()
