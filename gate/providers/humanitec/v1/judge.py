"""Judging a Humanitec v1 deployment from recorded answers: no call.

The reader (:mod:`gate.providers.humanitec.v1.reader`) asks the API; these functions turn
its answers, as sent, into verdicts: a deployment (``status``: ``pending`` and ``in
progress`` are running, ``succeeded``, ``failed``; any other word is unknown, reported and
waited on), its error list, a pipeline run, and whether the environment's workloads are
ready (``GET .../envs/{env}/runtime``, ``RuntimeInfoResponseV2``).

Ready means the runtime lists workloads, every module's ``status_class`` is ``Success`` and
every container of every pod is ``ready``: a runtime that lists none is not ready. A module
whose ``status_class`` is ``Failure`` is failing now; it may still recover (a crash loop can
end), so only the read at the deadline makes that a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gate.core.errors import TransientError
from gate.core.model import ErrorDetail, Snapshot, State
from gate.core.text import from_api, one_line

__all__ = [
    "MAX_ERRORS",
    "RUN_STATUSES",
    "STATUSES",
    "Readiness",
    "error_list",
    "judge_deployment",
    "judge_run",
    "readiness",
    "waiting_for",
    "with_readiness",
]

STATUSES: Mapping[str, State] = {
    "pending": State.RUNNING,
    "in progress": State.RUNNING,
    "succeeded": State.SUCCEEDED,
    "failed": State.FAILED,
}
RUN_STATUSES: Mapping[str, State] = {
    "queued": State.RUNNING,
    "executing": State.RUNNING,
    "waiting": State.RUNNING,
    "cancelling": State.RUNNING,
    "succeeded": State.SUCCEEDED,
    "failed": State.FAILED,
    "cancelled": State.FAILED,
    "timed_out": State.FAILED,
}
"""A pipeline run's status words: the contract gives them only by example (``executing``);
the others are Humanitec's documented ones."""
MAX_ERRORS = 100
"""A deployment's errors kept and shown; a longer list is counted (an API can send millions)."""
WORKLOADS_NAMED = 20
"""Workloads explained at most; the count covers the rest."""
_ERROR_FIELDS = ("scope", "object_id", "code", "summary", "message", "error_type")


def judge_deployment(deployment: Mapping[str, Any]) -> Snapshot:
    """The snapshot a deployment answer (``Deployment``) says, from its own ``status``."""
    raw_status = from_api(deployment.get("status"))  # decided on as sent; shown redacted
    if not raw_status:
        raise TransientError("deployment: the answer has no 'status' string")
    return Snapshot(
        state=STATUSES.get(raw_status, State.UNKNOWN),
        raw_status=raw_status,
        changed_at=from_api(deployment.get("status_changed_at")) or None,
        created_at=from_api(deployment.get("created_at")) or None,
    )


def error_list(body: object) -> list[ErrorDetail]:
    """A deployment's error list (``GET .../deploys/{id}/errors``), every field in the API's
    words, the first :data:`MAX_ERRORS` and a count of the rest."""
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise TransientError("deployment errors: the answer is not a list of objects")
    errors = [
        ErrorDetail(**{name: from_api(item.get(name)) for name in _ERROR_FIELDS})
        for item in body[:MAX_ERRORS]
    ]
    if len(body) > MAX_ERRORS:
        left = len(body) - MAX_ERRORS
        errors.append(
            ErrorDetail(
                code="",
                scope="gate",
                message=f"{left:,} more errors of the deployment's {len(body):,} were left "
                f"out (the gate keeps the first {MAX_ERRORS})",
            )
        )
    return errors


def with_readiness(applied: Snapshot, found: Readiness, *, at_deadline: bool) -> Snapshot:
    """A succeeded deployment (``applied``) judged with its workloads' readiness: running
    until they are ready; at the deadline, failing workloads make it a failure."""
    if found.ready:
        return applied
    at_the_deadline = Snapshot(
        state=State.FAILED if found.failing else State.RUNNING,
        raw_status=applied.raw_status,
        errors=found.errors,
        changed_at=applied.changed_at,
        created_at=applied.created_at,
        progress=found.summary,
        verdict=(
            "the deployment succeeded, but its workloads never became ready: " + found.summary
            if found.failing
            else None
        ),
    )
    if at_deadline:
        return at_the_deadline
    return replace(
        at_the_deadline, state=State.RUNNING, verdict=None, if_deadline_passes=at_the_deadline
    )


def judge_run(run: Mapping[str, Any]) -> Snapshot:
    """The snapshot a pipeline run answer (``PipelineRun``) says."""
    raw_status = from_api(run.get("status"))
    if not raw_status:
        raise TransientError("pipeline run: the answer has no 'status' string")
    state = RUN_STATUSES.get(raw_status, State.UNKNOWN)
    message = from_api(run.get("status_message"))
    return Snapshot(
        state=state,
        raw_status=raw_status,
        changed_at=from_api(run.get("completed_at")) or None,
        created_at=from_api(run.get("created_at")) or None,
        progress=waiting_for(run) if not state.is_terminal else None,
        verdict=(
            f"the pipeline run ended as {raw_status!r}: {one_line(message, limit=300)}"
            if state is State.FAILED and message
            else None
        ),
    )


def waiting_for(run: Mapping[str, Any]) -> str | None:
    """What the run's jobs wait on (``waiting_for``), said plainly: an approval above all."""
    waits = run.get("waiting_for")
    if not isinstance(waits, dict) or not waits:
        return None
    said = [
        f"job {one_line(from_api(job), limit=60)}: {one_line(from_api(event), limit=120)}"
        for job, event in sorted(waits.items())
    ][:5]
    approval = any("approval" in from_api(event).lower() for event in waits.values())
    lead = "waiting for an approval" if approval else "waiting"
    return f"{lead} ({'; '.join(said)})"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    failing: bool
    """Some workload is in Humanitec's ``Failure`` class now."""
    summary: str
    """``1/3 workloads ready; checkout: CrashLoopBackOff``."""
    errors: tuple[ErrorDetail, ...]


def readiness(body: Mapping[str, Any]) -> Readiness:
    """Whether the workloads of a runtime answer (``RuntimeInfoResponseV2``) are ready."""
    modules = body.get("modules")
    if not isinstance(modules, dict):
        raise TransientError("environment runtime: 'modules' is not an object")
    if not modules:  # nothing running is not everything ready
        why = "the environment's runtime lists no workloads"
        error = ErrorDetail(code="NO_WORKLOADS", message=why, scope="workload")
        return Readiness(False, False, f"0 workloads: {why}", (error,))
    unready: list[tuple[str, Mapping[str, Any]]] = []
    failing = False
    for name, module in sorted(modules.items()):
        if not isinstance(module, dict):
            raise TransientError(f"environment runtime: module {name!r} is not an object")
        if not _ready(module):
            unready.append((from_api(name), module))
            failing = failing or from_api(module.get("status_class")) == "Failure"
    errors: list[ErrorDetail] = []
    for name, module in unready[:WORKLOADS_NAMED]:
        errors.extend(_explain(name, module))
    ready_count = len(modules) - len(unready)
    summary = f"{ready_count}/{len(modules)} workloads ready"
    if unready:  # every unready workload is explained by at least one error, the first first
        why = errors[0].code or errors[0].summary
        summary += f"; {unready[0][0]}: {one_line(why, limit=120) or 'not ready'}"
        if len(unready) > 1:
            summary += f" (and {len(unready) - 1} more)"
    return Readiness(not unready, failing, summary, tuple(errors))


def _ready(module: Mapping[str, Any]) -> bool:
    if from_api(module.get("status_class")) != "Success":
        return False
    return all(
        isinstance(container, dict) and container.get("ready") is True
        for pod in _pods(module)
        for container in _list(pod.get("containerStatuses"))
    )


def _explain(name: str, module: Mapping[str, Any]) -> list[ErrorDetail]:
    """One error per container that is not ready, in Kubernetes' words; else the module's."""
    errors = []
    for controller_name, controller in _controllers(module):
        where = f"{from_api(controller.get('kind'))} {controller_name}".strip()
        for pod in _pods_of(controller):
            for container in _list(pod.get("containerStatuses")):
                if not isinstance(container, dict) or container.get("ready") is True:
                    continue
                reason, message = _container_state(container)
                restarts = container.get("restart_count")
                if isinstance(restarts, int) and restarts > 0:
                    message = f"{message} (restarted {restarts} times)".strip()
                errors.append(
                    ErrorDetail(
                        code=reason or from_api(container.get("status")),
                        message=message,
                        summary=f"{where}: {from_api(controller.get('message'))}".rstrip(": "),
                        scope="workload",
                        object_id=f"{name}/{from_api(pod.get('podName'))}/{from_api(container.get('name'))}",
                        error_type=from_api(module.get("status_class")),
                    )
                )
    if not errors:
        errors.append(
            ErrorDetail(
                code=from_api(module.get("status")),
                message=next(
                    (
                        from_api(c.get("message"))
                        for _, c in _controllers(module)
                        if c.get("message")
                    ),
                    "",
                ),
                scope="workload",
                object_id=name,
                error_type=from_api(module.get("status_class")),
            )
        )
    return errors


def _container_state(container: Mapping[str, Any]) -> tuple[str, str]:
    state = container.get("state")
    if not isinstance(state, dict):
        return "", ""
    for phase in ("waiting", "terminated"):
        detail = state.get(phase)
        if isinstance(detail, dict):
            message = from_api(detail.get("message"))
            code = detail.get("exit_code")
            if phase == "terminated" and isinstance(code, int):
                message = f"exit code {code}" + (f": {message}" if message else "")
            return from_api(detail.get("reason")), message
    return "", ""


def _controllers(module: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    controllers = module.get("controllers")
    if not isinstance(controllers, dict):
        return []
    return [(from_api(name), c) for name, c in sorted(controllers.items()) if isinstance(c, dict)]


def _pods_of(controller: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [pod for pod in _list(controller.get("pods")) if isinstance(pod, dict)]


def _pods(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [pod for _, controller in _controllers(module) for pod in _pods_of(controller)]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
