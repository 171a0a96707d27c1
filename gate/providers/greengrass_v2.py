"""AWS IoT Greengrass v2 deployments: the gate reads what the devices did.

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

It rolls back by deploying again the target's last deployment that worked on its devices
(:mod:`gate.providers.greengrass_v2_rollback`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.durations import format_duration
from gate.core.errors import GateError, ReadError, RequestRejected, TransientError
from gate.core.ids import api_id, require_id
from gate.core.model import DeviceResult, ErrorDetail, RollbackPlan, Snapshot, State, ended_as
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret
from gate.core.text import from_api, one_line
from gate.core.timestamps import iso_utc
from gate.providers import greengrass_v2_history, greengrass_v2_rollback
from gate.providers.aws_calls import call_aws
from gate.providers.aws_fields import aws_fields
from gate.providers.closing import shared

__all__ = [
    "DEVICE_STATUSES",
    "FleetPolicy",
    "GreengrassV2Deployment",
    "plugin",
]

DEVICE_STATUSES: Mapping[str, State] = {
    "QUEUED": State.RUNNING,
    "IN_PROGRESS": State.RUNNING,
    "SUCCEEDED": State.SUCCEEDED,
    "COMPLETED": State.SUCCEEDED,
    "FAILED": State.FAILED,
    "TIMED_OUT": State.FAILED,
    "REJECTED": State.FAILED,
    "CANCELED": State.FAILED,
}
"""``coreDeviceExecutionStatus`` and IoT job execution statuses (``REMOVED`` aside)."""
ENDED_DEPLOYMENT = frozenset({"CANCELED", "FAILED", "INACTIVE"})
MAX_DESCRIBED = 20
"""Failed devices whose job execution is read for its cause (one call each)."""
MAX_NAMED = 100
"""Devices named one by one in the errors; more are counted in one entry."""
MAX_PAGES = 100
"""Pages read from one listing, whatever each holds."""
MAX_LISTED = 25_000
"""Items read from one listing (group members, job executions)."""
MAX_COUNT = 10**9
"""A DescribeJob count above this is an absurd answer, read as an unreadable one."""
ROLL_CALL_EVERY = 5
"""Polls between roll calls while the job's counts say devices are still busy (the first
poll is one): each names the members and reads the health of the unfinished ones."""
NOT_REACHED = "the job has not reached the device yet"
SILENT_AFTER = 600.0
"""Seconds into a deployment after which a core device that has reported nothing since
before it began is named as silent: an online core device reports when it takes a
deployment up, well within this."""
UNHEALTHY = "its core device reports UNHEALTHY"
SILENT = "its core device has reported nothing"
_KNOWN_STATES = (State.SUCCEEDED, State.FAILED, State.RUNNING)
_TARGET_ARN = re.compile(r"^arn:[\w-]+:iot:[^:]*:[^:]*:(thing|thinggroup)/(.+)$")


@dataclass(frozen=True)
class FleetPolicy:
    """When a deployment to many devices counts as succeeded."""

    min_success: float = 100.0
    """Percent of the group's devices that must succeed."""
    unfinished: str = "count"
    """At the deadline, devices still queued or in progress: ``count`` them as not succeeded
    (and name them), or ``ignore`` them (the share is of the devices that finished)."""
    fail_fast: bool = True
    """End as failed once the failures already rule out the success share."""

    def __post_init__(self) -> None:
        if not 0 < self.min_success <= 100:
            raise FieldError(
                "min_success", f"{named('min_success')} must be more than 0% and at most 100%"
            )
        if self.unfinished not in ("count", "ignore"):
            raise FieldError(
                "unfinished_devices", f"{named('unfinished_devices')} must be count or ignore"
            )

    def needed(self, devices: int) -> int:
        """How many of ``devices`` must succeed (at least one)."""
        return max(1, math.ceil(devices * self.min_success / 100 - 1e-9))


@dataclass(frozen=True)
class _Counts:
    succeeded: int
    failed: int
    in_progress: int
    queued: int
    without_execution: int = 0
    """Members of the group that the job has not reached yet (no execution)."""
    departed: int = 0
    """Devices with an execution that are no longer in the group: never counted."""

    @property
    def devices(self) -> int:
        return self.succeeded + self.failed + self.unfinished

    @property
    def unfinished(self) -> int:
        return self.in_progress + self.queued + self.without_execution

    def progress(self) -> str:
        waiting = self.queued + self.without_execution
        said = [f"{self.succeeded}/{self.devices} devices succeeded"]
        said += [f"{self.failed} failed"] if self.failed else []
        said += [f"{self.in_progress} in progress"] if self.in_progress else []
        said += [f"{waiting} queued"] if waiting else []
        said += [f"{self.departed} left the group"] if self.departed else []
        return ", ".join(said)


class GreengrassV2Deployment:
    """One Greengrass v2 deployment, judged by its devices."""

    name = "greengrass-v2"

    def __init__(
        self,
        greengrass: Any,
        iot: Any,
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
        self._group_name = ""
        self._counts = _Counts(0, 0, 0, 0)
        self._polls = 0
        self._members: dict[str, DeviceResult] = {}
        """The group's members by name, as the last roll call found them."""
        self._devices: dict[str, DeviceResult] = {}
        """Every device the outcome reports: the members, and those that left the group."""
        self._unhealthy: dict[str, str] = {}
        """Unfinished members whose core device is not expected to finish, with why."""
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
        return self._read(at_deadline=False)

    def past_durations(self) -> list[float]:
        """How long the target's earlier deployments took, newest first (after a read)."""
        if not self._target_arn:
            return []
        return greengrass_v2_history.past_durations(
            self._greengrass,
            self._iot,
            self._greengrass_call,
            lambda operation, **params: self._call(operation, "IoT", **params),
            target_arn=self._target_arn,
            current=self._deployment_id,
        )

    def plan_rollback(self) -> RollbackPlan:
        """Deploy again the target's last deployment before this one that worked."""
        return greengrass_v2_rollback.plan_rollback(
            self._greengrass,
            self._greengrass_call,
            self._iot,
            self._iot_call,
            failed=self._deployment_id,
        )

    def roll_back(self, plan: RollbackPlan, comment: str) -> GreengrassV2Deployment:
        """Start ``plan`` (a deployment keeps no comment); a provider on the same clients and
        policy that follows the new deployment."""
        new_id = greengrass_v2_rollback.start_rollback(
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

    def _greengrass_call(self, operation: Callable[..., Any], **params: Any) -> Mapping[str, Any]:
        return self._call(operation, "Greengrass", **params)

    def _iot_call(self, operation: Callable[..., Any], **params: Any) -> Mapping[str, Any]:
        return self._call(operation, "IoT", **params)

    def fetch_at_deadline(self) -> Snapshot:
        return self._read(at_deadline=True)

    def failure_details(self) -> Sequence[ErrorDetail]:
        """The failed members, each with its cause (read for MAX_DESCRIBED of them), devices
        with one cause said once with a count and examples."""
        failed = [
            device
            for device in self._members.values()
            if DEVICE_STATUSES.get(device.status) is State.FAILED
        ]
        for index, device in enumerate(failed):
            if device.reason:
                continue
            described = self._execution_cause(device) if index < MAX_DESCRIBED else None
            result = described or DeviceResult(
                device.device, device.status, _not_described(device.status)
            )
            self._devices[device.device] = self._members[device.device] = result
            failed[index] = result
        return _by_cause(failed)

    def _read(self, *, at_deadline: bool) -> Snapshot:
        deployment = self._call(
            self._greengrass.get_deployment, "Greengrass", deploymentId=self._deployment_id
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
        kind, name = _target_of(self._target_arn)
        ended = _superseded_or_ended(deployment, status, self._target_arn)
        if ended is not None:
            return ended
        if kind == "thing":
            return self._device_snapshot(api_id("thing name", name), at_deadline=at_deadline)
        self._group_name = api_id("thing group name", name)
        return self._group_snapshot(status, at_deadline=at_deadline)

    def _device_snapshot(self, thing: str, *, at_deadline: bool) -> Snapshot:
        effective = self._effective_deployment(thing)
        if effective is None:
            result = DeviceResult(thing, "QUEUED", "the device has not picked the deployment up")
        else:
            result = _effective_result(thing, effective)
        self._devices = {thing: result}
        state = DEVICE_STATUSES.get(result.status, State.UNKNOWN)
        done = int(state is State.SUCCEEDED)
        counts = _Counts(
            succeeded=done,
            failed=int(state is State.FAILED),
            in_progress=int(result.status == "IN_PROGRESS"),
            queued=int(result.status == "QUEUED"),
        )
        errors = (_device_error(result),) if state is State.FAILED else ()
        if at_deadline and state is State.RUNNING:
            health = self._health(thing)
            if health:
                result = DeviceResult(thing, result.status, health, result.error_types)
                self._devices = {thing: result}
            errors = (_device_error(_unfinished(result)),)
        return Snapshot(
            state=state,
            raw_status=result.status,
            errors=errors,
            progress=counts.progress() if state is not State.UNKNOWN else None,
            verdict=f"{ended_as(result.status)} on {thing}" if state is State.FAILED else None,
        )

    def _group_snapshot(self, status: str, *, at_deadline: bool) -> Snapshot:
        if not self._job_id:
            return Snapshot(State.RUNNING, status, progress="the IoT job is not created yet")
        job = self._call(self._iot.describe_job, "IoT", jobId=self._job_id).get("job")
        job = job if isinstance(job, Mapping) else {}
        job_status = from_api(job.get("status"))
        if job_status in ("CANCELED", "DELETION_IN_PROGRESS"):
            why = _job_ended(self._job_id, job_status, job)
            return _ended(status, why, code=f"JOB_{job_status}")
        counts = self._count(job)
        self._polls += 1
        failure_possible = self._policy.fail_fast and counts.failed > 0
        roll_call_due = self._polls % ROLL_CALL_EVERY == 1
        if counts.unfinished and not (failure_possible or roll_call_due or at_deadline):
            return Snapshot(
                State.RUNNING,
                status,
                progress=self._said_of(counts),
                if_deadline_passes=self._settled_by_last_roll_call(status),
            )
        # the read at the deadline has a second at most: it names health found earlier
        check_health = roll_call_due and not at_deadline
        self._counts = self._roll_call(self._group_name, check_health=check_health)
        return self._judge(status, self._counts, at_deadline=at_deadline)

    def _roll_call(self, group: str, *, check_health: bool) -> _Counts:
        """Each member of the group by name, against the job execution that names it: the
        job's counts also hold devices that left the group, and miss the members it has not
        reached, so no verdict rests on them."""
        members = set(self._names(self._group_members(group)))
        executions: dict[str, str] = dict(self._executions())
        results: dict[str, DeviceResult] = {}
        for thing in sorted(members):
            said = executions.get(thing)
            if said is None or said == "REMOVED":
                results[thing] = DeviceResult(thing, "QUEUED", NOT_REACHED)
                continue
            known = self._devices.get(thing)
            same = known is not None and known.status == said and bool(known.reason)
            results[thing] = known if same and known is not None else DeviceResult(thing, said)
        departed = {
            thing: DeviceResult(thing, said, _departed(said))
            for thing, said in sorted(executions.items())
            if thing not in members
        }
        if check_health:
            self._unhealthy = self._unhealthy_among(results.values())
        for thing, health in self._unhealthy.items():
            if thing in results and _unfinished_status(results[thing].status):
                found = results[thing]
                results[thing] = DeviceResult(thing, found.status, health, found.error_types)
        self._members = results
        self._devices = {**departed, **results}
        statuses = [result.status for result in results.values()]
        return _Counts(
            succeeded=sum(DEVICE_STATUSES.get(s) is State.SUCCEEDED for s in statuses),
            failed=sum(DEVICE_STATUSES.get(s) is State.FAILED for s in statuses),
            in_progress=sum(DEVICE_STATUSES.get(s) not in _KNOWN_STATES for s in statuses)
            + statuses.count("IN_PROGRESS"),
            queued=sum(r.status == "QUEUED" and r.reason != NOT_REACHED for r in results.values()),
            without_execution=sum(r.reason == NOT_REACHED for r in results.values()),
            departed=len(departed),
        )

    def _unhealthy_among(self, results: Iterable[DeviceResult]) -> dict[str, str]:
        """The unfinished members whose core device reports UNHEALTHY (for at most
        MAX_DESCRIBED of them), with why: named, rather than silently waited on."""
        unfinished = [r.device for r in results if _unfinished_status(r.status)]
        found = {thing: self._health(thing) for thing in unfinished[:MAX_DESCRIBED]}
        return {thing: health for thing, health in found.items() if health}

    def _health(self, thing: str) -> str:
        """Why ``thing`` is not expected to finish, as its core device says: it reports
        UNHEALTHY, or it has reported nothing since before this deployment began (and the
        deployment is :data:`SILENT_AFTER` old). Empty when neither, or when the device
        cannot be read: health explains, it never decides."""
        try:
            core = self._call(
                self._greengrass.get_core_device,
                "Greengrass",
                coreDeviceThingName=api_id("core device name", thing),
            )
        except GateError:
            return ""
        seen = core.get("lastStatusUpdateTimestamp")
        seen = seen if isinstance(seen, datetime) and seen.tzinfo is not None else None
        if from_api(core.get("status")) == "UNHEALTHY":
            when = f" (last status update {iso_utc(seen)})" if seen else ""
            return f"{UNHEALTHY}{when}"
        created = self._created
        if seen is None or created is None or created.tzinfo is None or seen >= created:
            return ""
        running = (datetime.now(timezone.utc) - created).total_seconds()
        if running < SILENT_AFTER:
            return ""
        return (
            f"{SILENT} since {iso_utc(seen)}, {format_duration((created - seen).total_seconds())}"
            f" before this deployment began {format_duration(running)} ago (offline?)"
        )

    def _said_of(self, counts: _Counts) -> str:
        progress = counts.progress()
        for label, prefix in (("UNHEALTHY", UNHEALTHY), ("silent", SILENT)):
            found = sorted(t for t, why in self._unhealthy.items() if why.startswith(prefix))
            if found:
                names, more = ", ".join(found[:10]), len(found) - min(len(found), 10)
                progress += f"; {label}: {names}" + (f" and {more} more" if more > 0 else "")
        return progress

    def _judge(self, status: str, counts: _Counts, *, at_deadline: bool) -> Snapshot:
        policy = self._policy
        share = f"{policy.min_success:g}% of the devices"
        progress = self._said_of(counts)
        if counts.devices == 0:
            said = "no devices in the thing group yet"
            said += f" ({counts.departed} left it)" if counts.departed else ""
            return Snapshot(State.RUNNING, status, progress=said)
        needed = policy.needed(counts.devices)
        if counts.failed > counts.devices - needed and (policy.fail_fast or counts.unfinished == 0):
            verdict = (
                f"{counts.failed} of {counts.devices} devices failed; "
                f"{needed} must succeed ({share})"
            )
            return Snapshot(State.FAILED, status, progress=progress, verdict=verdict)
        if counts.unfinished == 0:
            return Snapshot(State.SUCCEEDED, status, progress=progress, verdict=self._departures())
        if not at_deadline:
            settled = self._settle_unfinished(status, counts, share, record=False)
            return Snapshot(State.RUNNING, status, progress=progress, if_deadline_passes=settled)
        return self._settle_unfinished(status, counts, share, record=True)

    def _departures(self) -> str | None:
        """What the devices that left the group did, when any did: said, never counted."""
        departed = [d for name, d in sorted(self._devices.items()) if name not in self._members]
        if not departed:
            return None
        named = "; ".join(f"{d.device} ({d.status})" for d in departed[:10])
        more = len(departed) - min(len(departed), 10)
        named += f" and {more} more" if more > 0 else ""
        return (
            f"every device in the group succeeded; {len(departed)} left the group and "
            f"{'was' if len(departed) == 1 else 'were'} not counted: {named}"
        )

    def _settled_by_last_roll_call(self, status: str) -> Snapshot | None:
        """What the last roll call means at the deadline, for a deadline read cut short."""
        if self._counts.devices == 0 or self._counts.unfinished == 0:
            return None
        share = f"{self._policy.min_success:g}% of the devices"
        return self._settle_unfinished(status, self._counts, share, record=False)

    def _settle_unfinished(
        self, status: str, counts: _Counts, share: str, *, record: bool
    ) -> Snapshot:
        """The deadline: apply the unfinished-devices policy, naming those devices (and,
        with ``record``, saying in the devices' results why each did not finish)."""
        unfinished = self._name_unfinished(record=record)
        named = "; ".join(f"{d.device} ({d.status})" for d in unfinished[:10])
        more = counts.unfinished - min(len(unfinished), 10)
        named += f" and {more} more" if more > 0 else ""
        never = f"{counts.unfinished} never finished: {named}"
        progress = self._said_of(counts)
        if self._policy.unfinished == "count":
            if counts.succeeded >= self._policy.needed(counts.devices):
                return Snapshot(
                    State.SUCCEEDED,
                    status,
                    progress=progress,
                    verdict=f"enough devices succeeded ({share}); {never}",
                )
            errors = tuple(_device_error(d) for d in unfinished[:MAX_NAMED])
            return Snapshot(State.RUNNING, status, errors=errors, progress=progress, verdict=never)
        finished = counts.succeeded + counts.failed
        if finished == 0:
            return Snapshot(State.RUNNING, status, progress=progress, verdict=never)
        left_out = f"{never} (left out: --unfinished-devices ignore)"
        if counts.succeeded >= self._policy.needed(finished):
            return Snapshot(State.SUCCEEDED, status, progress=progress, verdict=left_out)
        verdict = (
            f"{counts.failed} of the {finished} devices that finished failed ({share}); {left_out}"
        )
        return Snapshot(State.FAILED, status, progress=progress, verdict=verdict)

    def _count(self, job: Mapping[str, Any]) -> _Counts:
        """The job's counts: a cheap sign of whether anything is left, never a verdict."""
        details = job.get("jobProcessDetails")
        details = details if isinstance(details, Mapping) else {}

        def number(key: str) -> int:
            value = details.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
                raise TransientError(
                    f"DescribeJob answered {key} = {one_line(repr(value), limit=40)}, "
                    "which is not a count"
                )
            return value

        succeeded = number("numberOfSucceededThings")
        failed = sum(
            number(f"numberOf{kind}Things")
            for kind in ("Failed", "Rejected", "TimedOut", "Canceled")
        )
        in_progress = number("numberOfInProgressThings")
        queued = number("numberOfQueuedThings")
        executions = succeeded + failed + in_progress + queued
        without_execution = max(len(self._members) - executions, 0)
        return _Counts(succeeded, failed, in_progress, queued, without_execution)

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
                thing = _thing_name(from_api(item.get("thingArn")))
                yield thing, from_api(summary.get("status")) or "UNKNOWN"

    def _name_unfinished(self, *, record: bool) -> list[DeviceResult]:
        """The members that never finished, each with why, as the last roll call found them."""
        unfinished = [
            _unfinished(device)
            for device in self._members.values()
            if _unfinished_status(device.status)
        ]
        if record:
            self._devices.update((device.device, device) for device in unfinished)
        return unfinished

    def _execution_cause(self, device: DeviceResult) -> DeviceResult | None:
        thing, status = device.device, device.status
        try:
            name = api_id("thing name", thing)
        except GateError as unusable:
            return DeviceResult(thing, status, str(unusable))
        execution = self._call(
            self._iot.describe_job_execution, "IoT", jobId=self._job_id, thingName=name
        ).get("execution")
        execution = execution if isinstance(execution, Mapping) else {}
        details = execution.get("statusDetails")
        details = details if isinstance(details, Mapping) else {}
        found = details.get("detailsMap")
        found = found if isinstance(found, Mapping) else {}
        cause = from_api(found.get("deployment-failure-cause"))
        detailed = from_api(found.get("detailed-deployment-status"))
        stack = from_api(found.get("deployment-error-stack"))
        said = [cause] if cause else []
        said += [f"detailed status: {detailed}"] if detailed else []
        said += [f"error stack: {stack}"] if stack.strip("[] ") else []
        error_types = _listed(from_api(found.get("deployment-error-types")))
        reason = "; ".join(said) or "the device gave no cause"
        return DeviceResult(thing, from_api(execution.get("status")) or status, reason, error_types)

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


def _target_of(arn: str) -> tuple[str, str]:
    """``("thing", name)`` or ``("thinggroup", name)`` from a deployment's ``targetArn``."""
    match = _TARGET_ARN.match(arn)
    if not match:
        raise RequestRejected(
            f"the deployment's target {one_line(arn, limit=200)!r} is neither a thing "
            "nor a thing group"
        )
    return match.group(1), match.group(2)


def _superseded_or_ended(
    deployment: Mapping[str, Any], status: str, target_arn: str
) -> Snapshot | None:
    if deployment.get("isLatestForTarget") is False:
        return _ended(
            status,
            f"superseded: a newer deployment to {one_line(target_arn, limit=200)} replaced it "
            f"(status {status})",
            code="SUPERSEDED",
        )
    if status in ENDED_DEPLOYMENT:
        return _ended(status, f"the deployment is {status}", code=status)
    return None


def _job_ended(job_id: str, job_status: str, job: Mapping[str, Any]) -> str:
    """Why the IoT job ended, in AWS's words: its reason code and comment, and whether it
    was force-cancelled (an abortConfig that tripped says so here)."""
    why = f"the deployment's IoT job {job_id} is {job_status}"
    if job.get("forceCanceled") is True:
        why += " (force-cancelled)"
    said = (
        [f"reason code {one_line(code, limit=128)}"]
        if (code := from_api(job.get("reasonCode")))
        else []
    )
    said += (
        [repr(one_line(comment, limit=300))] if (comment := from_api(job.get("comment"))) else []
    )
    return why + (": " + ", ".join(said) if said else "")


def _unfinished_status(status: str) -> bool:
    return DEVICE_STATUSES.get(status) not in (State.SUCCEEDED, State.FAILED)


def _departed(status: str) -> str:
    if status == "REMOVED":
        return "removed from the thing group before it finished; neither waited on nor counted"
    return f"no longer in the thing group: its {status} is not counted for the group"


def _by_cause(failed: Sequence[DeviceResult]) -> list[ErrorDetail]:
    """One error a cause: devices that failed alike (the same status, cause and error types)
    are said once, with how many and which; the first MAX_NAMED causes, then a count."""
    causes: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for device in failed:
        causes.setdefault((device.status, device.reason, device.error_types), []).append(
            device.device
        )
    errors: list[ErrorDetail] = []
    for (status, reason, types), devices in list(causes.items())[:MAX_NAMED]:
        one = DeviceResult(devices[0], status, reason, types)
        if len(devices) == 1:
            errors.append(_device_error(one))
            continue
        shown = ", ".join(devices[:5]) + (
            f" and {len(devices) - 5} more" if len(devices) > 5 else ""
        )
        error = _device_error(one)
        errors.append(
            ErrorDetail(
                code=error.code,
                message=f"{len(devices)} devices ({shown}): {error.message}",
                scope="device",
                object_id=devices[0],
                error_type=error.error_type,
            )
        )
    left = len(causes) - min(len(causes), MAX_NAMED)
    if left > 0:
        errors.append(
            ErrorDetail(
                code="",
                message=f"{left} more causes; every device is in the outcome's devices",
                scope="gate",
            )
        )
    return errors


def _ended(status: str, why: str, *, code: str) -> Snapshot:
    error = ErrorDetail(code=code, message=why, scope="deployment")
    return Snapshot(State.FAILED, status, errors=(error,), verdict=why)


def _effective_result(thing: str, effective: Mapping[str, Any]) -> DeviceResult:
    status = from_api(effective.get("coreDeviceExecutionStatus")) or "UNKNOWN"
    details = effective.get("statusDetails")
    details = details if isinstance(details, Mapping) else {}
    stack = [from_api(s) for s in details.get("errorStack") or () if from_api(s)]
    types = tuple(from_api(t) for t in details.get("errorTypes") or () if from_api(t))
    said = [from_api(effective.get("reason"))]
    said += [f"error stack: {' > '.join(stack)}"] if stack else []
    return DeviceResult(thing, status, "; ".join(part for part in said if part), types)


def _device_error(device: DeviceResult) -> ErrorDetail:
    return ErrorDetail(
        code=device.status,
        message=device.reason or f"the deployment ended on the device as {device.status}",
        scope="device",
        object_id=device.device,
        error_type=", ".join(device.error_types),
    )


def _unfinished(device: DeviceResult) -> DeviceResult:
    if device.reason:
        return device
    why = {
        "QUEUED": "still queued when the deadline passed (is the device offline?)",
        "IN_PROGRESS": "still in progress when the deadline passed",
    }.get(device.status, "had not finished when the deadline passed")
    return DeviceResult(device.device, device.status, why, device.error_types)


def _not_described(status: str) -> str:
    return (
        f"the deployment ended on the device as {status}; its cause was not read "
        f"(the gate reads at most {MAX_DESCRIBED} devices' causes)"
    )


def _thing_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn or "(unnamed thing)"


def _listed(text: str) -> tuple[str, ...]:
    """``[A, B]`` (how Greengrass writes ``deployment-error-types``) as ``("A", "B")``."""
    return tuple(part.strip(" \"'") for part in text.strip("[]").split(",") if part.strip(" \"'"))


def _policy_of(target: TargetValues) -> FleetPolicy:
    return FleetPolicy(
        min_success=target.number("min_success") or 0.0,
        unfinished=target.text("unfinished_devices") or "count",
        fail_fast=target.flag("fail_fast"),
    )


def _check_policy(target: TargetValues) -> None:
    _policy_of(target)


description = TargetDescription(
    provider="greengrass-v2",
    summary="an AWS IoT Greengrass v2 deployment, judged by what its devices did",
    fields=(
        Field("deployment_id", "the deployment to wait on", kind="id", required=True),
        Field(
            "min_success",
            "percent of the target's devices that must succeed",
            kind="percent",
            default=100.0,
            metavar="PERCENT",
        ),
        Field(
            "unfinished_devices",
            "at the deadline, devices still queued or in progress (offline ones) either count "
            "as not succeeded and are named, or are left out of the share",
            kind="choice",
            choices=("count", "ignore"),
            default="count",
        ),
        Field(
            "fail_fast",
            "end as failed once failed devices rule out the success share; off waits for "
            "every device so all failures are reported together",
            kind="flag",
            default=True,
        ),
        *aws_fields("Greengrass v2 and IoT"),
    ),
    rules=(_check_policy,),
)


class _Plugin(DescribedPlugin):
    description = description

    def build(
        self,
        target: TargetValues,
        env: Mapping[str, str],
        *,
        request_timeout: float,
        token: Secret | None = None,
    ) -> GreengrassV2Deployment:
        from gate.providers.aws import clients_for_target

        policy = _policy_of(target)
        aws = clients_for_target(["greengrassv2", "iot"], target, request_timeout=request_timeout)
        return GreengrassV2Deployment(
            aws.clients["greengrassv2"],
            aws.clients["iot"],
            deployment_id=target.text("deployment_id") or "",
            policy=policy,
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
