"""The emulated Humanitec Platform Orchestrator v1: deployments, their errors, the
environment, pipeline runs (jobs, steps, logs) and the runtime, shaped by the published
contract (``tests/contracts/humanitec-openapi.json``, :mod:`gate.emulator.humanitec_shapes`),
and ``POST .../deploys`` as a rollback starts one."""

from __future__ import annotations

import hashlib
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from gate.emulator import humanitec_shapes as shapes
from gate.emulator import starts
from gate.emulator.core import SEGMENT, EmulatorCore, Request, Route
from gate.emulator.http import Answer, humanitec_unauthorized, link_page
from gate.emulator.scenario import (
    HumanitecScript,
    PipelineJob,
    PipelineRunScript,
    Timeline,
    Workload,
)

__all__ = ["HumanitecV1"]

_ENV = f"/orgs/{SEGMENT}/apps/{SEGMENT}/envs/{SEGMENT}"
_RUN = f"/orgs/{SEGMENT}/apps/{SEGMENT}/pipelines/{SEGMENT}/runs/{SEGMENT}"
_DEPLOYMENTS = ("environment", "deployments", "deployment", "errors")
_LOG_PAGE = 20
"""Step log lines per page: small, so a long log spans pages as the contract allows."""
_HUMANITEC_NEXT = Timeline([(0, "pending"), (1, "in progress"), (3, "succeeded")])
_V1_ENDED = ("succeeded", "failed")


class HumanitecV1(EmulatorCore):
    """Humanitec v1's endpoints, for :class:`gate.emulator.Emulator`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_page_lines = _LOG_PAGE
        """Lines in a page of a step's log (a hostile API may send 8 MiB pages)."""
        self._runtime_reads: dict[tuple[str, str, str], int] = {}
        self._humanitec: dict[tuple[str, str, str], list[HumanitecScript]] = {}
        self._pipeline_runs: dict[tuple[str, str, str, str], PipelineRunScript] = {}
        self._workloads: dict[tuple[str, str, str], list[tuple[Workload, float]]] = {}
        self._next_humanitec: dict[tuple[str, str, str], deque[HumanitecScript]] = {}

    def _routes(self) -> list[Route]:
        answer = self._humanitec_v1
        return [
            *super()._routes(),
            Route(f"^{_RUN}$", "pipeline-run", answer),
            Route(f"^{_RUN}/jobs$", "pipeline-jobs", answer),
            Route(f"^{_RUN}/jobs/{SEGMENT}$", "pipeline-job", answer),
            Route(f"^{_RUN}/jobs/{SEGMENT}/steps/([0-9]+)/logs$", "step-logs", answer),
            Route(f"^{_ENV}/runtime$", "runtime", answer),
            Route(f"^{_ENV}$", "environment", answer),
            Route(f"^{_ENV}/deploys$", "deployments", answer, starts=True),
            Route(f"^{_ENV}/deploys/{SEGMENT}$", "deployment", answer),
            Route(f"^{_ENV}/deploys/{SEGMENT}/errors$", "errors", answer),
        ]

    def _humanitec_v1(self, request: Request) -> Answer:
        refused = humanitec_unauthorized(request.headers, self.token)
        if refused is not None:
            return refused
        ids = request.ids
        if request.method == "POST":
            return self._humanitec_start(ids[0], ids[1], ids[2], request.body)
        if request.name in _DEPLOYMENTS:
            return self._humanitec_answer(request.name, ids)
        return self._humanitec_more(request.name, ids, request.path, request.headers, request.query)

    def add_humanitec(
        self,
        org: str,
        app: str,
        env: str,
        timeline: Timeline,
        *,
        deploy_id: str | None = None,
        errors: Iterable[Mapping[str, str]] = (),
        started_ago: float = 0.0,
        pipeline: tuple[str, str, str, int] | None = None,
        set_id: str | None = None,
        value_set_version_id: str = "",
    ) -> str:
        """Start a deployment (``started_ago`` seconds ago, for history); returns its id.
        The one added last is the environment's ``last_deploy``. ``pipeline`` names the
        run that made it: ``(pipeline_id, run_id, job_id, step_index)``. ``set_id`` (else
        one made from the id) is the state it deploys, which a later deployment can redeploy."""
        deploy_id = deploy_id or uuid.uuid4().hex[:16]
        script = self._humanitec_script(org, app, env, timeline, deploy_id, errors)
        script.created -= started_ago
        if pipeline is not None:
            keys = ("id", "run_id", "job_id", "step_index")
            script.pipeline = dict(zip(keys, pipeline, strict=True))
        script.set_id = set_id or hashlib.sha1(deploy_id.encode()).hexdigest()  # noqa: S324
        script.value_set_version_id = value_set_version_id
        with self._lock:
            self._humanitec.setdefault((org, app, env), []).insert(0, script)
        return deploy_id

    def then_humanitec(
        self,
        org: str,
        app: str,
        env: str,
        timeline: Timeline,
        *,
        errors: Iterable[Mapping[str, str]] = (),
    ) -> None:
        """The next deployment started in the environment through the API (``POST
        .../deploys``, a rollback) follows ``timeline``; without this, it succeeds in 3 s."""
        script = self._humanitec_script(org, app, env, timeline, "", errors)
        with self._lock:
            self._next_humanitec.setdefault((org, app, env), deque()).append(script)

    def _humanitec_script(
        self,
        org: str,
        app: str,
        env: str,
        timeline: Timeline,
        deploy_id: str,
        errors: Iterable[Mapping[str, str]],
    ) -> HumanitecScript:
        errors = [_humanitec_error(e) for e in errors]
        return HumanitecScript(org, app, env, deploy_id, timeline, errors, self.clock())

    def add_pipeline_run(
        self,
        org: str,
        app: str,
        pipeline_id: str,
        timeline: Timeline,
        *,
        jobs: Iterable[PipelineJob] = (),
        status_message: str = "",
        run_id: str | None = None,
    ) -> str:
        """Start a pipeline run now; returns its id. Jobs' and steps' timelines count from
        the run's start."""
        run_id = run_id or str(uuid.uuid4())
        script = PipelineRunScript(
            org, app, pipeline_id, run_id, timeline, list(jobs), status_message, self.clock()
        )
        with self._lock:
            self._pipeline_runs[(org, app, pipeline_id, run_id)] = script
        return run_id

    def add_workloads(self, org: str, app: str, env: str, workloads: Iterable[Workload]) -> None:
        """Put workloads in the environment's runtime; their timelines start now."""
        with self._lock:
            self._workloads.setdefault((org, app, env), []).extend(
                (workload, self.clock()) for workload in workloads
            )

    def _humanitec_body(self, script: HumanitecScript, *, read: bool = False) -> dict[str, Any]:
        elapsed = self._read(script) if read else self._elapsed(script)
        status, since = script.timeline.at(elapsed)
        return {
            "id": script.deploy_id,
            "env_id": script.env,
            "set_id": script.set_id,
            **(
                {"value_set_version_id": script.value_set_version_id}
                if script.value_set_version_id
                else {}
            ),
            "from_id": "",
            "delta_id": "",
            "comment": script.comment,
            "created_at": self._iso(script.created),
            "created_by": "emulator@example.com",
            "status": status,
            "status_changed_at": self._iso(script.created + since),
            "export_status": "",
            "export_file": "",
            **({"pipeline": dict(script.pipeline)} if script.pipeline else {}),
        }

    def _humanitec_start(
        self, org: str, app: str, env: str, body: object
    ) -> tuple[int, Any, dict[str, str]]:
        """``POST .../deploys``: a deployment of a set the environment deployed before."""
        refusal = starts.v1_refusal(body)
        if refusal:
            return 400, {"error": "API-400", "message": refusal}, {}
        assert isinstance(body, Mapping)
        with self._lock:
            scripts = self._humanitec.get((org, app, env))
            if not scripts:
                return 404, {"error": "API-404", "message": "Environment not found."}, {}
            if any(s.timeline.at(self._elapsed(s))[0] not in _V1_ENDED for s in scripts):
                message = "There is already an active deployment in the Environment."
                return 409, {"error": "API-409", "message": message}, {}
            if body["set_id"] not in {s.set_id for s in scripts}:
                message = f"Deployment Set {body['set_id']!r} was not found."
                return 400, {"error": "API-400", "message": message}, {}
            queue = self._next_humanitec.get((org, app, env))
            script = queue.popleft() if queue else None
            script = script or self._humanitec_script(org, app, env, _HUMANITEC_NEXT, "", ())
            script.deploy_id = uuid.uuid4().hex[:16]
            script.created = self.clock()
            script.set_id = body["set_id"]
            script.value_set_version_id = body.get("value_set_version_id") or ""
            script.comment = body.get("comment", "")
            scripts.insert(0, script)
        return 201, self._humanitec_body(script), {}

    def _humanitec_answer(self, name: str, ids: list[str]) -> tuple[int, Any, dict[str, str]]:
        org, app, env = ids[:3]
        with self._lock:
            scripts = list(self._humanitec.get((org, app, env), []))
        if not scripts:
            return 404, {"error": "API-404", "message": "Environment not found."}, {}
        if name == "environment":
            body: dict[str, Any] = {
                "id": env,
                "name": env.title(),
                "type": "development",
                "created_at": self._iso(self._origin[0]),
                "created_by": "emulator@example.com",
                "status": "active",
                "status_changed_at": self._iso(self._origin[0]),
            }
            newest = [s for s in scripts if s.created <= self.clock()]
            if newest:
                body["last_deploy"] = self._humanitec_body(newest[0])
            return 200, body, {}
        if name == "deployments":
            return 200, [self._humanitec_body(s) for s in scripts], {}
        found = [s for s in scripts if s.deploy_id == ids[3]]
        if not found:
            return 404, {"error": "API-404", "message": "Deployment not found."}, {}
        if name == "deployment":
            return 200, self._humanitec_body(found[0], read=True), {}
        status, _ = found[0].timeline.at(self._elapsed(found[0]))
        return 200, list(found[0].errors) if status == "failed" else [], {}

    def _humanitec_more(
        self,
        name: str,
        ids: list[str],
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        """Pipeline runs and the runtime."""
        now = self.clock()
        if name == "runtime":
            env = (ids[0], ids[1], ids[2])
            with self._lock:
                workloads = list(self._workloads.get(env, []))
                reads = self._runtime_reads[env] = self._runtime_reads.get(env, 0) + 1
            if self.seconds_per_read is not None:
                now = (reads - 1) * self.seconds_per_read
                workloads = [(workload, 0.0) for workload, _ in workloads]
            namespace = f"{ids[1]}-{ids[2]}"
            if "application/v2+json" in headers.get("accept", ""):
                return 200, shapes.runtime_v2(workloads, now, self._iso, namespace), {}
            return 200, shapes.runtime_v1(workloads, now, self._iso, namespace), {}
        with self._lock:
            run = self._pipeline_runs.get((ids[0], ids[1], ids[2], ids[3]))
        if run is None:
            return 404, {"error": "API-404", "message": "Pipeline run not found."}, {}
        elapsed = self._read(run) if name == "pipeline-run" else self._elapsed(run)
        if name == "pipeline-run":
            return 200, shapes.pipeline_run(run, elapsed, self._iso), {}
        if name == "pipeline-jobs":
            jobs = [shapes.pipeline_job_partial(run, j, elapsed, self._iso) for j in run.jobs]
            return link_page(jobs, path, query, size=int(query.get("per_page", "50")))
        job = next((j for j in run.jobs if j.id == ids[4]), None)
        if job is None:
            return 404, {"error": "API-404", "message": "Pipeline job not found."}, {}
        if name == "pipeline-job":
            return 200, shapes.pipeline_job(run, job, elapsed, self._iso), {}
        index = int(ids[5])
        if index >= len(job.steps):
            return 404, {"error": "API-404", "message": "Pipeline step not found."}, {}
        lines = shapes.step_logs(run, job.steps[index], elapsed, self._iso)
        return link_page(lines, path, query, size=self.log_page_lines)


def _humanitec_error(error: Mapping[str, str]) -> dict[str, str]:
    fields = ("scope", "object_id", "code", "summary", "message", "error_type")
    return {name: str(error.get(name, "")) for name in fields}
