"""The emulated AWS IoT Greengrass v2 and the IoT jobs it runs on: deployments (get, list,
create), core devices and their effective deployments, thing groups' members, jobs and their
executions, shaped by botocore's service models."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gate.emulator import starts
from gate.emulator.core import SEGMENT, EmulatorCore, Request, Route
from gate.emulator.http import AWS_UNSIGNED, Answer, aws_error, aws_page, aws_signed
from gate.emulator.scenario import Device, GreengrassV2Script, Timeline

__all__ = ["GreengrassV2"]

_ACCOUNT_ARN = "arn:aws:iot:eu-west-1:123456789012"
_DEVICE_NEXT = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "SUCCEEDED")])
_FAILED_EXECUTIONS = ("FAILED", "TIMED_OUT", "REJECTED", "CANCELED")
_EXECUTION_COUNTS = {
    "SUCCEEDED": "numberOfSucceededThings",
    "FAILED": "numberOfFailedThings",
    "REJECTED": "numberOfRejectedThings",
    "TIMED_OUT": "numberOfTimedOutThings",
    "CANCELED": "numberOfCanceledThings",
    "QUEUED": "numberOfQueuedThings",
    "IN_PROGRESS": "numberOfInProgressThings",
    "REMOVED": "numberOfRemovedThings",
}


class GreengrassV2(EmulatorCore):
    """Greengrass v2's and IoT's endpoints, for :class:`gate.emulator.Emulator`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._greengrass_v2: dict[str, GreengrassV2Script] = {}
        self._next_greengrass_v2: dict[str, deque[list[Device]]] = {}

    def _routes(self) -> list[Route]:
        answer = self._greengrass_v2_iot
        core_devices = "^/greengrass/v2/coreDevices"
        return [
            *super()._routes(),
            Route("^/greengrass/v2/deployments$", "v2-deployments", answer, starts=True),
            Route(f"^/greengrass/v2/deployments/{SEGMENT}$", "v2-deployment", answer),
            Route(f"{core_devices}$", "v2-core-devices", answer),
            Route(f"{core_devices}/{SEGMENT}$", "v2-core-device", answer),
            Route(f"{core_devices}/{SEGMENT}/effectiveDeployments$", "v2-effective", answer),
            Route(f"^/thing-groups/{SEGMENT}/things$", "iot-group-things", answer),
            Route(f"^/jobs/{SEGMENT}$", "iot-job", answer),
            Route(f"^/jobs/{SEGMENT}/things$", "iot-executions", answer),
            Route(f"^/things/{SEGMENT}/jobs/{SEGMENT}$", "iot-execution", answer),
        ]

    def _greengrass_v2_iot(self, request: Request) -> Answer:
        if not aws_signed(request.headers):
            return AWS_UNSIGNED
        if request.method == "POST":
            return self._greengrass_v2_start(request.body)
        return self._greengrass_v2_answer(request.name, request.ids, request.query)

    def add_greengrass_v2(
        self,
        devices: Iterable[Device],
        *,
        thing_group: str | None = None,
        deployment_id: str | None = None,
        started_ago: float = 0.0,
        spec: Mapping[str, object] | None = None,
    ) -> str:
        """Start a Greengrass v2 deployment now (or ``started_ago`` seconds ago); returns
        its id. With ``thing_group`` it targets that group (continuous, as AWS does);
        without, the one device given. ``spec`` is what it deploys, as CreateDeployment
        takes it (``components``, ``deploymentPolicies``...); else one component."""
        devices = list(devices)
        deployment_id = deployment_id or str(uuid.uuid4())
        script = GreengrassV2Script(
            deployment_id=deployment_id,
            job_id=str(uuid.uuid4()),
            target_arn=_target_arn(devices, thing_group),
            devices=devices,
            created=self.clock() - started_ago,
            spec=dict(spec) if spec is not None else _DEFAULT_SPEC,
        )
        with self._lock:
            self._greengrass_v2[deployment_id] = script
        return deployment_id

    def then_greengrass_v2(
        self, devices: Iterable[Device], *, thing_group: str | None = None
    ) -> None:
        """The next deployment created to the same target through the API (CreateDeployment,
        a rollback) runs on ``devices``; else on its predecessor's devices, each succeeding."""
        devices = list(devices)
        with self._lock:
            queue = self._next_greengrass_v2.setdefault(_target_arn(devices, thing_group), deque())
            queue.append(devices)

    def cancel_greengrass_v2_job(
        self, deployment_id: str, *, reason_code: str, comment: str, force: bool = False
    ) -> None:
        """AWS cancels the deployment's IoT job now (its abortConfig tripped, or someone
        cancelled it): the job turns CANCELED with ``reasonCode`` and ``comment``."""
        with self._lock:
            self._greengrass_v2[deployment_id].cancelled = {
                "forceCanceled": force,
                "reasonCode": reason_code,
                "comment": comment,
            }

    def supersede_greengrass_v2(self, deployment_id: str, *, after: float = 0.0) -> None:
        """A newer deployment to the same target replaces this one ``after`` seconds from now:
        it turns INACTIVE, no longer the latest, and its IoT job is cancelled."""
        with self._lock:
            script = self._greengrass_v2[deployment_id]
            script.superseded_after = self._elapsed(script) + after

    def _greengrass_v2_start(self, body: object) -> tuple[int, Any, dict[str, str]]:
        """CreateDeployment: a new deployment to the target, which supersedes the one before;
        the same ``clientToken`` again answers with the deployment it made."""
        refusal = starts.greengrass_v2_refusal(body)
        if refusal:
            return aws_error(400, "ValidationException", refusal)
        assert isinstance(body, Mapping)
        target, token = body["targetArn"], body.get("clientToken", "")
        with self._lock:
            made = [s for s in self._greengrass_v2.values() if token and s.client_token == token]
            earlier = [s for s in self._greengrass_v2.values() if s.target_arn == target]
            if not made:
                queue = self._next_greengrass_v2.get(target)
                latest = max(earlier, key=lambda s: s.created, default=None)
                devices = queue.popleft() if queue else _succeeding(latest)
                script = GreengrassV2Script(
                    deployment_id=str(uuid.uuid4()),
                    job_id=str(uuid.uuid4()),
                    target_arn=target,
                    devices=devices,
                    created=self.clock(),
                    spec={k: v for k, v in body.items() if k in _SPEC_KEYS},
                    client_token=token,
                )
                for other in earlier:
                    if other.superseded_after is None:
                        other.superseded_after = self._elapsed(other)
                self._greengrass_v2[script.deployment_id] = script
                made = [script]
        script = made[0]
        answer = {
            "deploymentId": script.deployment_id,
            "iotJobId": script.job_id,
            "iotJobArn": f"{_ACCOUNT_ARN}:job/{script.job_id}",
        }
        return 201, answer, {}

    def _greengrass_v2_answer(
        self, name: str, ids: list[str], query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            scripts = list(self._greengrass_v2.values())
        if name == "v2-core-devices":
            # As botocore's model documents it: only core devices that successfully deployed
            # a deployment to the group, and still listed after they leave it.
            arn = query.get("thingGroupArn", "")
            names = sorted(
                {
                    d.name
                    for s in scripts
                    if s.target_arn == arn
                    for d in self._joined(s)
                    if self._execution_status(s, d) == "SUCCEEDED"
                }
            )
            devices = [{"coreDeviceThingName": n, "status": "HEALTHY"} for n in names]
            return aws_page(devices, "coreDevices", query, default_size=100)
        if name == "v2-core-device":
            cores = [(s.created, d) for s in scripts for d in s.devices if d.name == ids[0]]
            if not cores:
                return aws_error(404, "ResourceNotFoundException", f"{ids[0]} not found")
            created, device = cores[0]
            core = {
                "coreDeviceThingName": device.name,
                "status": device.health,
                "lastStatusUpdateTimestamp": self._epoch(created - device.last_seen_ago),
            }
            return 200, core, {}
        if name == "iot-group-things":
            arn = f"{_ACCOUNT_ARN}:thinggroup/{ids[0]}"
            members = sorted(
                {d.name for s in scripts if s.target_arn == arn for d in self._members(s)}
            )
            return aws_page(members, "things", query, default_size=25)
        if name == "v2-effective":
            found = [
                self._effective(script, device)
                for script in scripts
                for device in self._joined(script)
                if device.name == ids[0]
            ]
            return aws_page(found, "effectiveDeployments", query, default_size=50)
        if name == "v2-deployments":
            return self._greengrass_v2_list(scripts, query)
        if name == "v2-deployment":
            script = self._greengrass_v2.get(ids[0])
            if script is None:
                return aws_error(404, "ResourceNotFoundException", f"Deployment {ids[0]} not found")
            self._read(script)
            superseded = self._superseded(script)
            return (
                200,
                {
                    "targetArn": script.target_arn,
                    "revisionId": "1",
                    "deploymentId": script.deployment_id,
                    "deploymentName": "deployed by the gate emulator",
                    "deploymentStatus": "INACTIVE" if superseded else "ACTIVE",
                    "iotJobId": script.job_id,
                    "iotJobArn": f"{_ACCOUNT_ARN}:job/{script.job_id}",
                    "creationTimestamp": self._epoch(script.created),
                    "isLatestForTarget": not superseded,
                    **script.spec,
                },
                {},
            )
        job_id = ids[1] if name == "iot-execution" else ids[0]
        found_job = [s for s in scripts if s.job_id == job_id]
        if not found_job:
            return aws_error(404, "ResourceNotFoundException", f"Job {ids[0]} not found")
        script = found_job[0]
        statuses = {
            d.name: self._execution_status(script, d) for d in self._joined(script) if d.reached
        }
        if name == "iot-job":
            counts = dict.fromkeys(_EXECUTION_COUNTS.values(), 0)
            for status in statuses.values():
                counts[_EXECUTION_COUNTS[status]] += 1
            job = {
                "jobArn": f"{_ACCOUNT_ARN}:job/{script.job_id}",
                "jobId": script.job_id,
                "targetSelection": "CONTINUOUS",
                "status": "CANCELED" if self._job_cancelled(script) else "IN_PROGRESS",
                "targets": [script.target_arn],
                "createdAt": self._epoch(script.created),
                "lastUpdatedAt": self._epoch(self._last_change(script)),
                "jobProcessDetails": counts,
                **(script.cancelled or {}),
            }
            return 200, {"job": job}, {}
        if name == "iot-executions":
            wanted = query.get("status")
            summaries = [
                {
                    "thingArn": f"{_ACCOUNT_ARN}:thing/{device}",
                    "jobExecutionSummary": {"status": status, "executionNumber": 1},
                }
                for device, status in sorted(statuses.items())
                if wanted in (None, status)
            ]
            return aws_page(summaries, "executionSummaries", query, default_size=50)
        device_name = ids[0]
        if device_name not in statuses:
            return aws_error(404, "ResourceNotFoundException", "Job execution not found")
        device = next(d for d in script.devices if d.name == device_name)
        status = statuses[device_name]
        details: dict[str, str] = {"detailed-deployment-status": "IN_PROGRESS"}
        if status == "SUCCEEDED":
            details = {"detailed-deployment-status": "SUCCESSFUL"}
        if status in _FAILED_EXECUTIONS:
            details = {
                "detailed-deployment-status": "FAILED_ROLLBACK_COMPLETE",
                "deployment-failure-cause": device.reason,
                "deployment-error-stack": "[" + ", ".join(device.error_stack) + "]",
                "deployment-error-types": "[" + ", ".join(device.error_types) + "]",
            }
        execution = {
            "jobId": script.job_id,
            "status": status,
            "thingArn": f"{_ACCOUNT_ARN}:thing/{device_name}",
            "statusDetails": {"detailsMap": details},
            "executionNumber": 1,
            "versionNumber": 1,
        }
        return 200, {"execution": execution}, {}

    def _greengrass_v2_list(
        self, scripts: list[GreengrassV2Script], query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        """ListDeployments: newest first; ``LATEST_ONLY`` (the default) leaves out those
        that a newer deployment to the same target replaced."""
        everything = query.get("historyFilter", "LATEST_ONLY") == "ALL"
        listed = []
        for script in sorted(scripts, key=lambda s: s.created, reverse=True):
            superseded = self._superseded(script)
            if query.get("targetArn") not in (None, script.target_arn):
                continue
            if superseded and not everything:
                continue
            listed.append(
                {
                    "targetArn": script.target_arn,
                    "revisionId": "1",
                    "deploymentId": script.deployment_id,
                    "deploymentName": script.spec.get("deploymentName", "deployed by the emulator"),
                    "creationTimestamp": self._epoch(script.created),
                    "deploymentStatus": "INACTIVE" if superseded else "ACTIVE",
                    "isLatestForTarget": not superseded,
                }
            )
        return aws_page(listed, "deployments", query, default_size=50)

    def _superseded(self, script: GreengrassV2Script) -> bool:
        after = script.superseded_after
        return after is not None and self._elapsed(script) >= after

    def _job_cancelled(self, script: GreengrassV2Script) -> bool:
        return self._superseded(script) or script.cancelled is not None

    def _joined(self, script: GreengrassV2Script) -> list[Device]:
        """The devices that were ever in the group (and so may have an execution)."""
        return [d for d in script.devices if d.joins_at <= self._elapsed(script)]

    def _members(self, script: GreengrassV2Script) -> list[Device]:
        """The group's members now: joined, and not left."""
        elapsed = self._elapsed(script)
        return [d for d in self._joined(script) if d.leaves_at is None or d.leaves_at > elapsed]

    def _last_change(self, script: GreengrassV2Script) -> float:
        """When the job last changed: its creation, or its devices' latest status change."""
        elapsed = self._elapsed(script)
        changes = [
            device.joins_at + device.timeline.at(elapsed - device.joins_at)[1]
            for device in self._joined(script)
            if device.reached
        ]
        return script.created + max(changes, default=0.0)

    def _execution_status(self, script: GreengrassV2Script, device: Device) -> str:
        elapsed = self._elapsed(script)
        if device.leaves_at is not None and device.leaves_at <= elapsed:
            status, _ = device.timeline.at(device.leaves_at - device.joins_at)
            return "REMOVED" if status in ("QUEUED", "IN_PROGRESS") else status
        status, _ = device.timeline.at(elapsed - device.joins_at)
        if self._job_cancelled(script) and status in ("QUEUED", "IN_PROGRESS"):
            return "CANCELED"
        return status

    def _effective(self, script: GreengrassV2Script, device: Device) -> dict[str, Any]:
        status = self._execution_status(script, device)
        entry: dict[str, Any] = {
            "deploymentId": script.deployment_id,
            "deploymentName": "deployed by the gate emulator",
            "iotJobId": script.job_id,
            "iotJobArn": f"{_ACCOUNT_ARN}:job/{script.job_id}",
            "targetArn": script.target_arn,
            "coreDeviceExecutionStatus": status,
            "creationTimestamp": self._epoch(script.created),
            "modifiedTimestamp": self._epoch(self.clock()),
        }
        if status in _FAILED_EXECUTIONS:
            entry["reason"] = device.reason
            entry["statusDetails"] = {
                "errorStack": list(device.error_stack),
                "errorTypes": list(device.error_types),
            }
        return entry


_SPEC_KEYS = ("deploymentName", "components", "deploymentPolicies", "iotJobConfiguration", "tags")
_DEFAULT_SPEC: Mapping[str, object] = {
    "deploymentName": "deployed by the gate emulator",
    "components": {"com.example.Sensor": {"componentVersion": "1.0.0"}},
}


def _target_arn(devices: Sequence[Device], thing_group: str | None) -> str:
    if thing_group is None and len(devices) != 1:
        raise ValueError("a deployment to one core device has exactly one device")
    target = f"thinggroup/{thing_group}" if thing_group else f"thing/{devices[0].name}"
    return f"{_ACCOUNT_ARN}:{target}"


def _succeeding(latest: GreengrassV2Script | None) -> list[Device]:
    """The devices of the deployment before, each succeeding this time."""
    names = [d.name for d in latest.devices] if latest is not None else []
    return [Device(name, _DEVICE_NEXT) for name in names]
