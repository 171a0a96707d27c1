"""Whether an environment's workloads are ready: ``GET .../envs/{env}/runtime``.

A Humanitec deployment ``succeeded`` once its manifests were applied; its workloads can still
fail to start (an image that cannot be pulled, a container that crash-loops). The runtime
answer, asked for as ``application/v2+json`` (contract: ``RuntimeInfoResponseV2``), says per
workload (module) a ``status`` and a ``status_class``, and per controller its pods and their
containers' ``state`` (``waiting.reason``, ``terminated.reason``): the words Kubernetes used.

Ready means the runtime lists workloads, every module's ``status_class`` is ``Success`` and
every container of every pod is ``ready``: a runtime that lists none is not ready. A module
whose ``status_class`` is ``Failure`` is failing now; it may still recover (a crash loop can
end), so only the read at the deadline makes that a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.core.errors import TransientError
from gate.core.model import ErrorDetail
from gate.core.text import one_line
from gate.providers.humanitec_api import HumanitecApi, path_of

__all__ = ["Readiness", "read_readiness"]

RUNTIME_MEDIA_TYPE = "application/v2+json"
WORKLOADS_NAMED = 20
"""Workloads explained at most; the count covers the rest."""


@dataclass(frozen=True)
class Readiness:
    ready: bool
    failing: bool
    """Some workload is in Humanitec's ``Failure`` class now."""
    summary: str
    """``1/3 workloads ready; checkout: CrashLoopBackOff``."""
    errors: tuple[ErrorDetail, ...]


def read_readiness(api: HumanitecApi, *, org: str, app: str, env: str) -> Readiness:
    path = path_of("orgs", org, "apps", app, "envs", env, "runtime")
    body = api.get_object(path, "environment runtime", headers={"Accept": RUNTIME_MEDIA_TYPE})
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
        if not _ready(api, module):
            unready.append((api.said(name), module))
            failing = failing or api.said(module.get("status_class")) == "Failure"
    errors: list[ErrorDetail] = []
    for name, module in unready[:WORKLOADS_NAMED]:
        errors.extend(_explain(api, name, module))
    ready_count = len(modules) - len(unready)
    summary = f"{ready_count}/{len(modules)} workloads ready"
    if unready:  # every unready workload is explained by at least one error, the first first
        why = errors[0].code or errors[0].summary
        summary += f"; {unready[0][0]}: {one_line(why, limit=120) or 'not ready'}"
        if len(unready) > 1:
            summary += f" (and {len(unready) - 1} more)"
    return Readiness(not unready, failing, summary, tuple(errors))


def _ready(api: HumanitecApi, module: Mapping[str, Any]) -> bool:
    if api.said(module.get("status_class")) != "Success":
        return False
    return all(
        isinstance(container, dict) and container.get("ready") is True
        for pod in _pods(api, module)
        for container in _list(pod.get("containerStatuses"))
    )


def _explain(api: HumanitecApi, name: str, module: Mapping[str, Any]) -> list[ErrorDetail]:
    """One error per container that is not ready, in Kubernetes' words; else the module's."""
    said = api.said
    errors = []
    for controller_name, controller in _controllers(api, module):
        where = f"{said(controller.get('kind'))} {controller_name}".strip()
        for pod in _pods_of(controller):
            for container in _list(pod.get("containerStatuses")):
                if not isinstance(container, dict) or container.get("ready") is True:
                    continue
                reason, message = _container_state(api, container)
                restarts = container.get("restart_count")
                if isinstance(restarts, int) and restarts > 0:
                    message = f"{message} (restarted {restarts} times)".strip()
                errors.append(
                    ErrorDetail(
                        code=reason or said(container.get("status")),
                        message=message,
                        summary=f"{where}: {said(controller.get('message'))}".rstrip(": "),
                        scope="workload",
                        object_id=f"{name}/{said(pod.get('podName'))}/{said(container.get('name'))}",
                        error_type=said(module.get("status_class")),
                    )
                )
    if not errors:
        errors.append(
            ErrorDetail(
                code=said(module.get("status")),
                message=next(
                    (
                        said(c.get("message"))
                        for _, c in _controllers(api, module)
                        if c.get("message")
                    ),
                    "",
                ),
                scope="workload",
                object_id=name,
                error_type=said(module.get("status_class")),
            )
        )
    return errors


def _container_state(api: HumanitecApi, container: Mapping[str, Any]) -> tuple[str, str]:
    state = container.get("state")
    if not isinstance(state, dict):
        return "", ""
    for phase in ("waiting", "terminated"):
        detail = state.get(phase)
        if isinstance(detail, dict):
            message = api.said(detail.get("message"))
            code = detail.get("exit_code")
            if phase == "terminated" and isinstance(code, int):
                message = f"exit code {code}" + (f": {message}" if message else "")
            return api.said(detail.get("reason")), message
    return "", ""


def _controllers(
    api: HumanitecApi, module: Mapping[str, Any]
) -> list[tuple[str, Mapping[str, Any]]]:
    controllers = module.get("controllers")
    if not isinstance(controllers, dict):
        return []
    return [(api.said(name), c) for name, c in sorted(controllers.items()) if isinstance(c, dict)]


def _pods_of(controller: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [pod for pod in _list(controller.get("pods")) if isinstance(pod, dict)]


def _pods(api: HumanitecApi, module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [pod for _, controller in _controllers(api, module) for pod in _pods_of(controller)]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
