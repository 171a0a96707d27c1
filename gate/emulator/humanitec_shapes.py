"""Answers shaped like Humanitec's: pipeline runs, jobs, step logs, runtime, v2 deployments.

Pure functions of a script and the time since it began; the server adds HTTP. Shapes follow
the v1 contract (``tests/contracts/humanitec-openapi.json``: ``PipelineRun``, ``PipelineJob``,
``PipelineStepLog``, ``RuntimeInfoResponseV1``/``V2``) and, for v2, the Platform Orchestrator
spec recorded in ``tests/contracts/README.md`` (``Deployment``, ``Error``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from gate.emulator.scenario import (
    HumanitecV2Script,
    PipelineJob,
    PipelineRunScript,
    PipelineStep,
    Workload,
)

__all__ = [
    "pipeline_job",
    "pipeline_job_partial",
    "pipeline_run",
    "runtime_v1",
    "runtime_v2",
    "step_logs",
    "v2_complete",
    "v2_deployment",
    "v2_summary",
]

Iso = Callable[[float], str]
"""Seconds on the emulator's clock to an ISO 8601 timestamp."""

_ENDED = ("succeeded", "failed", "cancelled", "timed_out")
_UNAVAILABLE = "{kind} does not have minimum availability."
_ZERO_UUID = "0" * 8 + "-0000-4000-8000-" + "0" * 12


def pipeline_run(script: PipelineRunScript, elapsed: float, iso: Iso) -> dict[str, Any]:
    status, since = script.timeline.at(elapsed)
    waiting = {
        job.id: job.waiting_for
        for job in script.jobs
        if job.waiting_for and job.timeline.at(elapsed)[0] == "waiting"
    }
    body: dict[str, Any] = {
        "id": script.run_id,
        "etag": f"{int(since * 1000):016x}",
        "org_id": script.org,
        "app_id": script.app,
        "env_ids": [],
        "pipeline_id": script.pipeline_id,
        "pipeline_version": _ZERO_UUID,
        "status": status,
        "status_message": script.status_message if status in _ENDED else "",
        "created_at": iso(script.created),
        "created_by": _ZERO_UUID,
        "executing_at": iso(script.created),
        "timeout_seconds": 3600,
        "trigger": "deployment_request",
        "inputs": {},
        "run_as": "s-" + script.pipeline_id,
        "waiting_for": waiting,
    }
    if status in _ENDED:
        body["completed_at"] = iso(script.created + since)
    return body


def pipeline_job_partial(
    script: PipelineRunScript, job: PipelineJob, elapsed: float, iso: Iso
) -> dict[str, Any]:
    status, since = job.timeline.at(elapsed)
    body: dict[str, Any] = {
        "id": job.id,
        "name": job.id,
        "etag": f"{int(since * 1000):016x}",
        "org_id": script.org,
        "app_id": script.app,
        "pipeline_id": script.pipeline_id,
        "pipeline_version": _ZERO_UUID,
        "run_id": script.run_id,
        "status": status,
        "status_message": job.status_message if status in _ENDED else "",
        "created_at": iso(script.created),
        "updated_at": iso(script.created + since),
        "timeout_seconds": 3600,
    }
    if status == "waiting" and job.waiting_for:
        body["waiting_for"] = job.waiting_for
    if status in _ENDED:
        body["completed_at"] = iso(script.created + since)
    return body


def pipeline_job(
    script: PipelineRunScript, job: PipelineJob, elapsed: float, iso: Iso
) -> dict[str, Any]:
    steps = []
    for index, step in enumerate(job.steps):
        status, since = step.timeline.at(elapsed)
        entry: dict[str, Any] = {
            "index": index,
            "name": step.name,
            "uses": step.uses,
            "status": status,
            "status_message": step.status_message if status in _ENDED else "",
            "created_at": iso(script.created),
            "timeout_seconds": 600,
            "related_entities": {},
        }
        if status in _ENDED:
            entry["completed_at"] = iso(script.created + since)
        steps.append(entry)
    return {**pipeline_job_partial(script, job, elapsed, iso), "steps": steps}


def step_logs(
    script: PipelineRunScript, step: PipelineStep, elapsed: float, iso: Iso
) -> Sequence[dict[str, str]]:
    """The step's log once it has begun (left its first status); lines are shaped as they
    are sliced, so a page of a million-line log costs only its own lines."""
    if elapsed < _first_change(step):
        return []
    return _LogLines(step.logs, script.created + _first_change(step), iso)


class _LogLines(Sequence[dict[str, str]]):
    def __init__(self, logs: Sequence[tuple[str, str]], began: float, iso: Iso) -> None:
        self._logs, self._began, self._iso = logs, began, iso

    def __len__(self) -> int:
        return len(self._logs)

    @overload
    def __getitem__(self, index: int) -> dict[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, str]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self._logs)))]
        level, text = self._logs[index]
        at = self._iso(self._began + (index % len(self._logs)) * 0.001)
        return {"at": at, "level": level, "message": text}


def _first_change(step: PipelineStep) -> float:
    steps = step.timeline.steps
    return steps[1][0] if len(steps) > 1 else 0.0


def _container(workload: Workload, word: str, started: str) -> tuple[dict[str, Any], str, str]:
    """A container status, the module status and its status class, for a timeline word."""
    if word == "ready":
        state: dict[str, Any] = {"running": {"started_at": started}}
        return _status(workload, True, "Success", state, 0), "Running", "Success"
    if word == "starting":
        state = {"waiting": {"reason": "ContainerCreating", "message": ""}}
        return _status(workload, False, "Pending", state, 0), "Starting", "Warning"
    state = {"waiting": {"reason": word, "message": workload.message}}
    restarts = 4 if word == "CrashLoopBackOff" else 0
    return _status(workload, False, "Failure", state, restarts), "Failed", "Failure"


def _status(
    workload: Workload, ready: bool, status: str, state: dict[str, Any], restarts: int
) -> dict[str, Any]:
    # The contract names the count both ways: "restart_count" in properties, "restartCount"
    # in required. Both are sent, so an answer passes either reading.
    return {
        "name": workload.name,
        "ready": ready,
        "restart_count": restarts,
        "restartCount": restarts,
        "status": status,
        "state": state,
    }


def runtime_v2(
    workloads: Sequence[tuple[Workload, float]], now: float, iso: Iso, namespace: str
) -> dict[str, Any]:
    """``RuntimeInfoResponseV2``; each workload with the moment it was added."""
    modules = {}
    for workload, added in workloads:
        word, since = workload.timeline.at(now - added)
        container, status, status_class = _container(workload, word, iso(added + since))
        pod_status = {"Success": "Success", "Warning": "Pending"}.get(status_class, "Failure")
        phase = "Running" if word in ("ready", "CrashLoopBackOff") else "Pending"
        modules[workload.name] = {
            "status": status,
            "status_class": status_class,
            "controllers": {
                workload.name: {
                    "kind": workload.kind,
                    "replicas": 1,
                    "status": status,
                    "message": "" if word == "ready" else _UNAVAILABLE.format(kind=workload.kind),
                    "revision": 1,
                    "pods": [
                        {
                            "podName": f"{workload.name}-7d9f8-x2k4q",
                            "revision": 1,
                            "phase": phase,
                            "status": pod_status,
                            "containerStatuses": [container],
                        }
                    ],
                }
            },
        }
    return {"namespace": namespace, "modules": modules}


def runtime_v1(
    workloads: Sequence[tuple[Workload, float]], now: float, iso: Iso, namespace: str
) -> dict[str, Any]:
    """``RuntimeInfoResponseV1``: the same workloads, the older shape."""
    v2 = runtime_v2(workloads, now, iso, namespace)
    modules = {}
    for name, module in v2["modules"].items():
        controller = module["controllers"][name]
        modules[name] = {
            "profile": "humanitec/default-module",
            "spec": {},
            "externals": {},
            name: controller,
        }
    return {"namespace": namespace, "modules": modules}


def v2_deployment(script: HumanitecV2Script, elapsed: float, iso: Iso) -> dict[str, Any]:
    """``Deployment``: the summary, its manifest and its runner."""
    return {
        **v2_summary(script, elapsed, iso),
        "manifest": {"workloads": {}, "shared": {}},
        "runner_id": "emulator-runner",
    }


def v2_summary(script: HumanitecV2Script, elapsed: float, iso: Iso) -> dict[str, Any]:
    """``DeploymentSummary``, as ``listDeployments`` pages hold it."""
    status, since = script.timeline.at(elapsed)
    body: dict[str, Any] = {
        "org_id": script.org,
        "project_id": script.project,
        "env_id": script.env,
        "id": script.deployment_id,
        "created_at": iso(script.created),
        "created_by": _ZERO_UUID,
        "mode": script.mode,
        "plan_only": script.mode == "plan_only",
        "status": status,
        "status_message": script.status_message if status in _ENDED else "Deployment in flight",
        "metrics": {"num_workloads": 1, "num_resource_nodes": 3},
    }
    if script.rollback_to:
        body["rollback_to_deployment_id"] = script.rollback_to
    if status in _ENDED:
        body["completed_at"] = iso(script.created + since)
    return body


def v2_complete(script: HumanitecV2Script, elapsed: float) -> bool:
    return script.timeline.at(elapsed)[0] in _ENDED
