"""AWS IoT Greengrass v2 deployments: the gate reads what the devices did.

A v2 deployment targets one core device (an IoT thing) or a thing group, and its own
``deploymentStatus`` says little: a thing-group deployment is continuous and stays ``ACTIVE``
whether its devices succeed or fail. So the gate reads the devices:

- a core device: its effective deployments (``ListEffectiveDeployments``) until this
  deployment's ``coreDeviceExecutionStatus`` there is terminal;
- a thing group: the IoT job behind the deployment (``DescribeJob``: how many devices are in
  each status, one call whatever the group's size) until no device is queued or in progress
  and every core device of the group (``ListCoreDevices``) is counted. Why devices failed is
  read from their job executions (``statusDetails.detailsMap``), for at most
  :data:`MAX_DESCRIBED` of them.

A poll costs two calls (``GetDeployment``, which says whether the deployment was superseded,
and the device read) for a group of any size. A deployment that is no longer the latest for
its target (``isLatestForTarget`` false, ``INACTIVE``, ``CANCELED``) never succeeds: it ends
with its own status and why. No botocore waiter exists for these services.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gate.errors import GateError, RequestRejected, TransientError, UsageError
from gate.ids import require_id
from gate.model import DeviceResult, ErrorDetail, Snapshot, State, ended_as
from gate.providers.aws_calls import call_aws
from gate.text import from_api, one_line

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
FAILED_EXECUTIONS = ("FAILED", "TIMED_OUT", "REJECTED", "CANCELED")
UNFINISHED_EXECUTIONS = ("IN_PROGRESS", "QUEUED")
ENDED_DEPLOYMENT = frozenset({"CANCELED", "FAILED", "INACTIVE"})
MAX_DESCRIBED = 20
"""Failed devices whose job execution is read for its cause (one call each)."""
MAX_NAMED = 100
"""Devices named one by one in the errors; more are counted in one entry."""
MAX_PAGES = 100
"""Pages read from one listing: 10,000 core devices, 25,000 job executions."""
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
            raise UsageError("--min-success must be more than 0% and at most 100%")
        if self.unfinished not in ("count", "ignore"):
            raise UsageError("--unfinished-devices must be count or ignore")

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
    """Core devices of the group that the job has not reached yet (no execution)."""

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
        self._group_devices: set[str] | None = None
        self._counts = _Counts(0, 0, 0, 0)
        self._devices: dict[str, DeviceResult] = {}

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

    def fetch_at_deadline(self) -> Snapshot:
        return self._read(at_deadline=True)

    def failure_details(self) -> Sequence[ErrorDetail]:
        """The failed devices of a group, each with its cause (read for MAX_DESCRIBED)."""
        self._list_every_device()
        failed = [
            pair
            for status in FAILED_EXECUTIONS
            for pair in self._executions(status=status, limit=MAX_NAMED)
        ][:MAX_NAMED]
        details: list[ErrorDetail] = []
        for index, (thing, status) in enumerate(failed):
            described = index < MAX_DESCRIBED
            result = self._execution_cause(thing, status) if described else None
            result = result or DeviceResult(thing, status, _not_described(status))
            self._devices[thing] = result
            details.append(_device_error(result))
        more = self._counts.failed - len(failed)
        if more > 0:
            details.append(
                ErrorDetail(
                    code="",
                    message=f"{more} more devices failed; the IoT job {self._job_id} lists them "
                    "(aws iot list-job-executions-for-job --status FAILED)",
                    scope="gate",
                )
            )
        return details

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
        self._job_id = from_api(deployment.get("iotJobId"))
        kind, name = _target_of(self._target_arn)
        ended = _superseded_or_ended(deployment, status, self._target_arn)
        if ended is not None:
            return ended
        if kind == "thing":
            return self._device_snapshot(name, at_deadline=at_deadline)
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
            return _ended(
                status,
                f"the deployment's IoT job {self._job_id} is {job_status}",
                code=f"JOB_{job_status}",
            )
        if self._group_devices is None:
            self._group_devices = self._core_devices()
        self._counts = self._count(job)
        if self._counts.unfinished == 0 and self._counts.devices > 0:
            self._group_devices = self._core_devices()  # the group may have grown
            self._counts = self._count(job)
        return self._judge(status, self._counts, at_deadline=at_deadline)

    def _judge(self, status: str, counts: _Counts, *, at_deadline: bool) -> Snapshot:
        policy = self._policy
        share = f"--min-success {policy.min_success:g}%"
        progress = counts.progress()
        if counts.devices == 0:
            return Snapshot(State.RUNNING, status, progress="no devices in the thing group yet")
        needed = policy.needed(counts.devices)
        if counts.failed > counts.devices - needed and (policy.fail_fast or counts.unfinished == 0):
            verdict = (
                f"{counts.failed} of {counts.devices} devices failed; "
                f"{needed} must succeed ({share})"
            )
            return Snapshot(State.FAILED, status, progress=progress, verdict=verdict)
        if counts.unfinished == 0:
            self._list_every_device()
            return Snapshot(State.SUCCEEDED, status, progress=progress)
        if not at_deadline:
            return Snapshot(State.RUNNING, status, progress=progress)
        return self._settle_unfinished(status, counts, share)

    def _settle_unfinished(self, status: str, counts: _Counts, share: str) -> Snapshot:
        """The deadline: apply the unfinished-devices policy, naming those devices."""
        unfinished = self._name_unfinished(counts)
        named = "; ".join(f"{d.device} ({d.status})" for d in unfinished[:10])
        more = counts.unfinished - min(len(unfinished), 10)
        named += f" and {more} more" if more > 0 else ""
        never = f"{counts.unfinished} never finished: {named}"
        progress = counts.progress()
        if self._policy.unfinished == "count":
            if counts.succeeded >= self._policy.needed(counts.devices):
                return Snapshot(
                    State.SUCCEEDED,
                    status,
                    progress=progress,
                    verdict=f"enough devices succeeded ({share}); {never}",
                )
            errors = tuple(_device_error(_unfinished(d)) for d in unfinished)
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
        details = job.get("jobProcessDetails")
        details = details if isinstance(details, Mapping) else {}

        def number(key: str) -> int:
            value = details.get(key)
            return value if isinstance(value, int) and value >= 0 else 0

        succeeded = number("numberOfSucceededThings")
        failed = sum(
            number(f"numberOf{kind}Things")
            for kind in ("Failed", "Rejected", "TimedOut", "Canceled")
        )
        in_progress = number("numberOfInProgressThings")
        queued = number("numberOfQueuedThings")
        executions = succeeded + failed + in_progress + queued
        without_execution = max(len(self._group_devices or ()) - executions, 0)
        return _Counts(succeeded, failed, in_progress, queued, without_execution)

    def _core_devices(self) -> set[str]:
        """The group's core devices: each one is expected to report."""
        pages = self._pages(
            self._greengrass.list_core_devices,
            "Greengrass",
            "coreDevices",
            thingGroupArn=self._target_arn,
            maxResults=100,
        )
        names = (
            from_api(item.get("coreDeviceThingName"))
            for page in pages
            for item in page
            if isinstance(item, Mapping)
        )
        return {name for name in names if name}

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

    def _executions(self, *, status: str | None = None, limit: int) -> Iterator[tuple[str, str]]:
        """(thing, status) of the job's executions that have ``status`` (all when None)."""
        filters = {"status": status} if status else {}
        pages = self._pages(
            self._iot.list_job_executions_for_job,
            "IoT",
            "executionSummaries",
            jobId=self._job_id,
            maxResults=250,
            **filters,
        )
        seen = 0
        for page in pages:
            for item in page:
                if seen >= limit:
                    return
                if not isinstance(item, Mapping):
                    continue
                summary = item.get("jobExecutionSummary")
                summary = summary if isinstance(summary, Mapping) else {}
                thing = _thing_name(from_api(item.get("thingArn")))
                said = from_api(summary.get("status")) or status or "UNKNOWN"
                seen += 1
                yield thing, said

    def _list_every_device(self) -> None:
        """Per-device results for the outcome: worth a few calls once, never the outcome."""
        try:
            for thing, status in self._executions(limit=MAX_PAGES * 250):
                self._devices[thing] = DeviceResult(thing, status)
        except GateError:
            pass

    def _name_unfinished(self, counts: _Counts) -> list[DeviceResult]:
        """The devices that never finished, as far as the listings can name them."""
        named: list[DeviceResult] = []
        try:
            for status in UNFINISHED_EXECUTIONS:
                named += [
                    DeviceResult(t, s) for t, s in self._executions(status=status, limit=MAX_NAMED)
                ]
            if counts.without_execution:
                reached = {thing for thing, _ in self._executions(limit=MAX_PAGES * 250)}
                named += [
                    DeviceResult(thing, "QUEUED", "the job has not reached the device yet")
                    for thing in sorted((self._group_devices or set()) - reached)
                ]
        except GateError as unreadable:
            reason = f"their names could not be read: {unreadable}"
            named.append(DeviceResult("(unnamed devices)", "UNKNOWN", reason))
        named = [_unfinished(device) for device in named[:MAX_NAMED]]
        self._devices.update((device.device, device) for device in named)
        return named

    def _execution_cause(self, thing: str, status: str) -> DeviceResult | None:
        execution = self._call(
            self._iot.describe_job_execution, "IoT", jobId=self._job_id, thingName=thing
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
        token = ""
        for _ in range(MAX_PAGES):
            answer = self._call(
                operation, service, **params, **({"nextToken": token} if token else {})
            )
            items = answer.get(key)
            yield items if isinstance(items, list) else ()
            token = from_api(answer.get("nextToken"))
            if not token:
                return

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


def _percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        said = one_line(text, limit=40)
        raise UsageError(f"--min-success must be a percentage such as 95 or 95%, not {said!r}")
    return value


class _Plugin:
    name = "greengrass-v2"
    summary = "an AWS IoT Greengrass v2 deployment, judged by what its devices did"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from gate.providers.aws import add_aws_arguments

        parser.add_argument("--deployment-id", required=True, help="the deployment to wait on")
        parser.add_argument(
            "--min-success",
            default="100",
            metavar="PERCENT",
            help="share of the group's devices that must succeed (default: 100%%)",
        )
        parser.add_argument(
            "--unfinished-devices",
            choices=("count", "ignore"),
            default="count",
            help="at the deadline, devices still queued or in progress (offline ones) either "
            "count as not succeeded and are named (default), or are left out of the share",
        )
        parser.add_argument(
            "--fail-fast",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="end as failed once failed devices rule out the success share (default: on); "
            "--no-fail-fast waits for every device so all failures are reported together",
        )
        add_aws_arguments(parser, "Greengrass v2 and IoT")

    def build(
        self, args: argparse.Namespace, env: Mapping[str, str], *, request_timeout: float
    ) -> GreengrassV2Deployment:
        from gate.providers.aws import clients_from_args

        deployment_id = require_id("--deployment-id", args.deployment_id)
        policy = FleetPolicy(
            min_success=_percent(str(getattr(args, "min_success", None) or "100")),
            unfinished=str(getattr(args, "unfinished_devices", None) or "count"),
            fail_fast=bool(getattr(args, "fail_fast", True)),
        )
        aws = clients_from_args(["greengrassv2", "iot"], args, env, request_timeout=request_timeout)
        return GreengrassV2Deployment(
            aws.clients["greengrassv2"],
            aws.clients["iot"],
            deployment_id=deployment_id,
            policy=policy,
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
