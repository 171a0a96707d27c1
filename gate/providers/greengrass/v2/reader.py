"""AWS IoT Greengrass v2 deployments: the reader, which asks AWS what the devices did.

A v2 deployment targets one core device (an IoT thing) or a thing group, and its own
``deploymentStatus`` says little: a thing-group deployment is continuous and stays ``ACTIVE``
whether its devices succeed or fail. So the gate reads the devices:

- a core device: its effective deployments (``ListEffectiveDeployments``) until this
  deployment's ``coreDeviceExecutionStatus`` there is terminal;
- a thing group: each member by name (IoT ``ListThingsInThingGroup``, child groups included)
  against the job execution that names it (``ListJobExecutionsForJob``). The IoT job's counts
  (``DescribeJob``, one call whatever the group's size) only say whether anything is left:
  they hold devices that left the group and miss members the job has not reached, so no
  verdict rests on them. A device that left the group is said, never counted or waited on;
  an unfinished member whose core device reports ``UNHEALTHY``, or has reported nothing
  since before the deployment began (:data:`SILENT_AFTER` in), is named. Why devices failed
  is read from their job executions (``statusDetails.detailsMap``), for at most
  :data:`MAX_DESCRIBED` of them, and devices that failed alike are said once.

While the counts say devices are busy, a poll costs two calls (``GetDeployment``, which says
whether the deployment was superseded, and ``DescribeJob``) for a group of any size, with a
roll call every :data:`ROLL_CALL_EVERY` polls; once they say nothing is left, or a failure
may rule out the success share, every poll is a roll call.

A deployment that is no longer the latest for its target (``isLatestForTarget`` false,
``INACTIVE``, ``CANCELED``) never succeeds: it ends with its own status and why, and so does
one whose IoT job AWS cancelled (with its reason code and comment). No botocore waiter
exists for these services.

What the answers mean is judged apart, without a call (:mod:`gate.providers.greengrass.v2.judge`).
It rolls back by deploying again the target's last deployment that worked on its devices
(:mod:`gate.providers.greengrass.v2.rollback`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from gate.core.errors import GateError, ReadError, TransientError
from gate.core.ids import api_id, require_id
from gate.core.model import DeviceResult, ErrorDetail, RollbackPlan, Snapshot, State
from gate.core.text import from_api, one_line
from gate.core.timestamps import iso_utc
from gate.providers.aws.calls import call_aws
from gate.providers.closing import shared
from gate.providers.greengrass.v2 import history, judge, rollback
from gate.providers.greengrass.v2.judge import MAX_DESCRIBED, Counts, Fleet, FleetPolicy

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_iot import IoTClient

__all__ = ["GreengrassV2Deployment"]

MAX_PAGES = 100
"""Pages read from one listing, whatever each holds."""
MAX_LISTED = 25_000
"""Items read from one listing (group members, job executions)."""
ROLL_CALL_EVERY = 5
"""Polls between roll calls while the job's counts say devices are still busy (the first
poll is one): each names the members and reads the health of the unfinished ones."""


class GreengrassV2Deployment:
    """One Greengrass v2 deployment, judged by its devices."""

    name = "greengrass-v2"

    def __init__(
        self,
        greengrass: GreengrassV2Client,
        iot: IoTClient,
        *,
        deployment_id: str,
        policy: FleetPolicy | None = None,
        credential_source: Callable[[], str] = lambda: "the AWS default chain",
        close: Callable[[], None] | None = None,
    ) -> None:
        self._greengrass = greengrass
        self._iot = iot
        self._deployment_id = require_id("--deployment-id", deployment_id)
        self._policy = policy or FleetPolicy()
        self._credential_source = credential_source
        self._close = close or (lambda: None)
        self._target_arn = ""
        self._job_id = ""
        self._polls = 0
        """Group polls answered (a roll call is due at every :data:`ROLL_CALL_EVERY`-th)."""
        self._fleet = Fleet()
        """The thing group as the last roll call found it."""
        self._counted = Counts(0, 0, 0, 0)
        """The job's counts at the last roll call that was answered."""
        self._devices: dict[str, DeviceResult] = {}
        """Every device the outcome reports: the members, and those that left the group."""
        self._created: datetime | None = None

    def __repr__(self) -> str:
        return f"GreengrassV2Deployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        ids = {"deployment_id": self._deployment_id}
        return {**ids, "target_arn": self._target_arn} if self._target_arn else ids

    def describe(self) -> str:
        return f"Greengrass v2 deployment {self._deployment_id}"

    def close(self) -> None:
        self._close()

    def device_results(self) -> Sequence[DeviceResult]:
        return [self._devices[name] for name in sorted(self._devices)]

    def fetch(self) -> Snapshot:
        return self._dated(self._read(at_deadline=False))

    def fetch_at_deadline(self) -> Snapshot:
        return self._dated(self._read(at_deadline=True))

    def _dated(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with the deployment's ``creationTimestamp``: its age, and where a
        comparison's baseline ends."""
        if self._created is None or snapshot.created_at is not None:
            return snapshot
        return replace(snapshot, created_at=iso_utc(self._created))

    def past_durations(self) -> list[float]:
        """How long the target's earlier deployments took, newest first (after a read)."""
        if not self._target_arn:
            return []
        return history.past_durations(
            self._greengrass,
            self._iot,
            self._greengrass_call,
            self._iot_call,
            target_arn=self._target_arn,
            current=self._deployment_id,
        )

    def plan_rollback(self) -> RollbackPlan:
        """Deploy again the target's last deployment before this one that worked."""
        return rollback.plan_rollback(
            self._greengrass,
            self._greengrass_call,
            self._iot,
            self._iot_call,
            failed=self._deployment_id,
        )

    def roll_back(self, plan: RollbackPlan, comment: str) -> GreengrassV2Deployment:
        """Start ``plan`` (a deployment keeps no comment); a provider on the same clients and
        policy that follows the new deployment."""
        new_id = rollback.start_rollback(
            self._greengrass, self._greengrass_call, plan, target=self._target_arn
        )
        self._close, theirs = shared(self._close)
        return GreengrassV2Deployment(
            self._greengrass,
            self._iot,
            deployment_id=new_id,
            policy=self._policy,
            credential_source=self._credential_source,
            close=theirs,
        )

    def failure_details(self) -> Sequence[ErrorDetail]:
        """The failed members, each with its cause (read for MAX_DESCRIBED of them), devices
        with one cause said once with a count and examples."""
        members = dict(self._fleet.members)
        failed = [device for device in members.values() if judge.failed_status(device.status)]
        for index, device in enumerate(failed):
            if device.reason:
                continue
            described = self._execution_cause(device) if index < MAX_DESCRIBED else None
            result = described or judge.not_described(device)
            self._devices[device.device] = members[device.device] = result
            failed[index] = result
        self._fleet = Fleet(members, self._fleet.departed, self._fleet.unhealthy)
        return judge.by_cause(failed)

    def _read(self, *, at_deadline: bool) -> Snapshot:
        deployment = self._greengrass_call(
            self._greengrass.get_deployment, deploymentId=self._deployment_id
        )
        answered_for = from_api(deployment.get("deploymentId"))
        if answered_for and answered_for != self._deployment_id:
            raise TransientError(
                f"Greengrass answered for deployment {one_line(answered_for, limit=80)!r}, "
                f"not {self._deployment_id!r}"
            )
        status = from_api(deployment.get("deploymentStatus"))
        if not status:
            raise TransientError("GetDeployment answered without a deploymentStatus")
        self._target_arn = from_api(deployment.get("targetArn"))
        created = deployment.get("creationTimestamp")
        self._created = created if isinstance(created, datetime) else None
        job_id = from_api(deployment.get("iotJobId"))
        self._job_id = api_id("IoT job id", job_id) if job_id else ""
        kind, name = judge.target_of(self._target_arn)
        ended = judge.deployment_ended(deployment, status, self._target_arn)
        if ended is not None:
            return ended
        if kind == "thing":
            return self._device_snapshot(api_id("thing name", name), at_deadline=at_deadline)
        group = api_id("thing group name", name)
        return self._group_snapshot(status, group, at_deadline=at_deadline)

    def _device_snapshot(self, thing: str, *, at_deadline: bool) -> Snapshot:
        result = judge.device_result(thing, self._effective_deployment(thing))
        self._devices = {thing: result}
        busy = at_deadline and judge.DEVICE_STATUSES.get(result.status) is State.RUNNING
        verdict = judge.judge_device(
            result, health=self._health(thing) if busy else "", at_deadline=at_deadline
        )
        self._devices = {thing: verdict.devices[0]}
        return verdict.snapshot

    def _group_snapshot(self, status: str, group: str, *, at_deadline: bool) -> Snapshot:
        job: Any = {}
        if self._job_id:
            job = self._iot_call(self._iot.describe_job, jobId=self._job_id).get("job")
            job = job if isinstance(job, Mapping) else {}
        ended = judge.job_ended(status, self._job_id, job)
        if ended is not None:
            return ended
        counts = judge.job_counts(job, members=len(self._fleet.members))
        failure_possible = self._policy.fail_fast and counts.failed > 0
        roll_call_due = self._polls % ROLL_CALL_EVERY == 0
        if counts.unfinished and not (failure_possible or roll_call_due or at_deadline):
            self._polls += 1
            return judge.while_busy(
                status, counts, self._fleet, self._policy, at_roll_call=self._counted
            )
        # the read at the deadline has a second at most: it names health found earlier
        check_health = roll_call_due and not at_deadline
        self._fleet = self._roll_call(group, check_health=check_health)
        # counted only once answered: a roll call that failed is due again, and until then
        # the fleet is the one the counts at the last answered roll call describe
        self._counted = counts
        self._polls += 1
        self._devices = self._fleet.devices
        verdict = judge.judge_fleet(status, self._fleet, self._policy, at_deadline=at_deadline)
        self._devices.update((device.device, device) for device in verdict.devices)
        return verdict.snapshot

    def _roll_call(self, group: str, *, check_health: bool) -> Fleet:
        """The group's members and the job's executions, read; judged by name."""
        members = list(self._names(self._group_members(group)))
        executions = dict(self._executions())
        fleet = judge.roll_call(members, executions, known=self._devices)
        if not check_health:
            return fleet.with_health(self._fleet.unhealthy)
        unfinished = [d.device for d in fleet.members.values() if judge.unfinished_status(d.status)]
        found = {thing: self._health(thing) for thing in unfinished[:MAX_DESCRIBED]}
        return fleet.with_health({thing: why for thing, why in found.items() if why})

    def _health(self, thing: str) -> str:
        """What ``thing``'s core device says of its health; empty when it cannot be read:
        health explains, it never decides."""
        try:
            core = self._greengrass_call(
                self._greengrass.get_core_device,
                coreDeviceThingName=api_id("core device name", thing),
            )
        except GateError:
            return ""
        return judge.health(core, created=self._created, now=datetime.now(timezone.utc))

    def _group_members(self, group: str) -> Iterator[Sequence[Any]]:
        """The thing group's members, from IoT (child groups included): whom the deployment
        is for. (ListCoreDevices is not membership: it lists only devices that once deployed
        successfully to the group, and keeps them after they leave it.)"""
        return self._pages(
            self._iot.list_things_in_thing_group,
            "IoT",
            "things",
            thingGroupName=group,
            recursive=True,
            maxResults=250,
        )

    @staticmethod
    def _names(pages: Iterator[Sequence[Any]]) -> Iterator[str]:
        for page in pages:
            for item in page:
                name = from_api(item)
                if name:
                    yield name

    def _effective_deployment(self, thing: str) -> Mapping[str, Any] | None:
        for page in self._pages(
            self._greengrass.list_effective_deployments,
            "Greengrass",
            "effectiveDeployments",
            coreDeviceThingName=thing,
            maxResults=100,
        ):
            for item in page:
                if not isinstance(item, Mapping):
                    continue
                if from_api(item.get("deploymentId")) == self._deployment_id or (
                    self._job_id and from_api(item.get("iotJobId")) == self._job_id
                ):
                    return item
        return None

    def _executions(self) -> Iterator[tuple[str, str]]:
        """(thing, status) of every execution of the job."""
        pages = self._pages(
            self._iot.list_job_executions_for_job,
            "IoT",
            "executionSummaries",
            jobId=self._job_id,
            maxResults=250,
        )
        for page in pages:
            for item in page:
                if not isinstance(item, Mapping):
                    continue
                summary = item.get("jobExecutionSummary")
                summary = summary if isinstance(summary, Mapping) else {}
                thing = judge.thing_name(from_api(item.get("thingArn")))
                yield thing, from_api(summary.get("status")) or "UNKNOWN"

    def _execution_cause(self, device: DeviceResult) -> DeviceResult:
        thing, status = device.device, device.status
        try:
            name = api_id("thing name", thing)
        except GateError as unusable:
            return DeviceResult(thing, status, str(unusable))
        execution = self._iot_call(
            self._iot.describe_job_execution, jobId=self._job_id, thingName=name
        ).get("execution")
        return judge.execution_cause(
            thing, status, execution if isinstance(execution, Mapping) else {}
        )

    def _pages(
        self, operation: Callable[..., Any], service: str, key: str, **params: Any
    ) -> Iterator[Sequence[Any]]:
        """The pages of a listing, all of it or a refusal: an API that ignores ``maxResults``
        or pages forever is stopped at MAX_PAGES pages or MAX_LISTED items."""
        token = ""
        listed = 0
        for _ in range(MAX_PAGES):
            answer = self._call(
                operation, service, **params, **({"nextToken": token} if token else {})
            )
            items = answer.get(key)
            items = items if isinstance(items, list) else []
            listed += len(items)
            if listed > MAX_LISTED:
                break
            yield items
            token = from_api(answer.get("nextToken"))
            if not token:
                return
        raise ReadError(
            f"{service} lists more than {MAX_LISTED:,} {key} (or pages without end); "
            f"the gate judges a group of at most {MAX_LISTED:,} devices"
        )

    def _greengrass_call(self, operation: Callable[..., Any], **params: Any) -> Mapping[str, Any]:
        return self._call(operation, "Greengrass", **params)

    def _iot_call(self, operation: Callable[..., Any], **params: Any) -> Mapping[str, Any]:
        return self._call(operation, "IoT", **params)

    def _call(
        self, operation: Callable[..., Any], service: str, **params: Any
    ) -> Mapping[str, Any]:
        return call_aws(
            operation,
            service=service,
            missing=self.describe,
            credential_source=self._credential_source,
            **params,
        )
