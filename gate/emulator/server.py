"""The emulator's HTTP server: a thread on 127.0.0.1 answering like Humanitec and Greengrass."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gate.emulator import humanitec_shapes as shapes
from gate.emulator import starts
from gate.emulator.scenario import (
    Device,
    Fault,
    GreengrassScript,
    GreengrassV2Script,
    HumanitecScript,
    HumanitecV2Script,
    PipelineJob,
    PipelineRunScript,
    Timeline,
    Workload,
)

__all__ = ["Emulator"]

_SEGMENT = "([^/]+)"
_ENV = f"/orgs/{_SEGMENT}/apps/{_SEGMENT}/envs/{_SEGMENT}"
_RUN = f"/orgs/{_SEGMENT}/apps/{_SEGMENT}/pipelines/{_SEGMENT}/runs/{_SEGMENT}"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(f"^{_RUN}$"), "pipeline-run"),
    (re.compile(f"^{_RUN}/jobs$"), "pipeline-jobs"),
    (re.compile(f"^{_RUN}/jobs/{_SEGMENT}$"), "pipeline-job"),
    (re.compile(f"^{_RUN}/jobs/{_SEGMENT}/steps/([0-9]+)/logs$"), "step-logs"),
    (re.compile(f"^{_ENV}/runtime$"), "runtime"),
    (re.compile(f"^/orgs/{_SEGMENT}/deployments$"), "orchestrator-deployments"),
    (re.compile(f"^/orgs/{_SEGMENT}/deployments/{_SEGMENT}$"), "orchestrator-deployment"),
    (
        re.compile(f"^/orgs/{_SEGMENT}/deployments/{_SEGMENT}/actions/wait-for-complete$"),
        "orchestrator-wait",
    ),
    (re.compile(f"^{_ENV}$"), "environment"),
    (re.compile(f"^{_ENV}/deploys$"), "deployments"),
    (re.compile(f"^{_ENV}/deploys/{_SEGMENT}$"), "deployment"),
    (re.compile(f"^{_ENV}/deploys/{_SEGMENT}/errors$"), "errors"),
    (re.compile(f"^/greengrass/groups/{_SEGMENT}/deployments/{_SEGMENT}/status$"), "greengrass"),
    (re.compile("^/greengrass/v2/deployments$"), "v2-deployments"),
    (re.compile(f"^/greengrass/v2/deployments/{_SEGMENT}$"), "v2-deployment"),
    (re.compile("^/greengrass/v2/coreDevices$"), "v2-core-devices"),
    (re.compile(f"^/greengrass/v2/coreDevices/{_SEGMENT}$"), "v2-core-device"),
    (re.compile(f"^/thing-groups/{_SEGMENT}/things$"), "iot-group-things"),
    (re.compile(f"^/greengrass/v2/coreDevices/{_SEGMENT}/effectiveDeployments$"), "v2-effective"),
    (re.compile(f"^/jobs/{_SEGMENT}$"), "iot-job"),
    (re.compile(f"^/jobs/{_SEGMENT}/things$"), "iot-executions"),
    (re.compile(f"^/things/{_SEGMENT}/jobs/{_SEGMENT}$"), "iot-execution"),
]
_ACCOUNT_ARN = "arn:aws:iot:eu-west-1:123456789012"
_Script = (
    HumanitecScript | HumanitecV2Script | PipelineRunScript | GreengrassScript | GreengrassV2Script
)
_LOG_PAGE = 20
"""Step log lines per page: small, so a long log spans pages as the contract allows."""
_HUMANITEC_MORE = (
    "pipeline-run",
    "pipeline-jobs",
    "pipeline-job",
    "step-logs",
    "runtime",
    "orchestrator-deployments",
    "orchestrator-deployment",
    "orchestrator-wait",
)
_STARTS = ("deployments", "orchestrator-deployments", "v2-deployments")
"""The routes a POST starts a deployment on (the only POSTs served)."""
_MAX_REQUEST_BODY = 1024 * 1024
_HUMANITEC_NEXT = Timeline([(0, "pending"), (1, "in progress"), (3, "succeeded")])
_ORCHESTRATOR_NEXT = Timeline([(0, "pending"), (1, "executing"), (3, "succeeded")])
_DEVICE_NEXT = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "SUCCEEDED")])
_V1_ENDED = ("succeeded", "failed")
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


class Emulator:
    """Serve scripted deployments on loopback until :meth:`stop` (or the ``with`` block ends).

    ``clock`` decides how far each timeline has run; tests pass the same virtual clock they
    give the gate, so a 10-minute deployment passes in no real time.

    With ``seconds_per_read``, reads drive the timelines instead of the clock: each read of
    a deployment's status (a pipeline run's, an environment's runtime) moves that one on by
    so many seconds, and every other read in between sees the same moment. A gate then sees
    every status of a timeline, however slowly the machine runs it.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        seconds_per_read: float | None = None,
    ) -> None:
        """``rate_limit``: more requests than this in any second (real time) are answered
        429 with ``Retry-After: 1``, as a throttling API does; :attr:`throttled` counts them."""
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.seconds_per_read = seconds_per_read
        self.log_page_lines = _LOG_PAGE
        """Lines in a page of a step's log (a hostile API may send 8 MiB pages)."""
        self.oldest_first = False
        """The v2 orchestrator lists deployments oldest first (its spec promises no order)."""
        self._runtime_reads: dict[tuple[str, str, str], int] = {}
        self.rate_limit = rate_limit
        self.throttled = 0
        self._recent: deque[float] = deque()
        self.clock = clock
        self._origin = (clock(), datetime.now(timezone.utc))
        self._lock = threading.Lock()
        self._humanitec: dict[tuple[str, str, str], list[HumanitecScript]] = {}
        self._greengrass: dict[tuple[str, str], GreengrassScript] = {}
        self._greengrass_v2: dict[str, GreengrassV2Script] = {}
        self._pipeline_runs: dict[tuple[str, str, str, str], PipelineRunScript] = {}
        self._workloads: dict[tuple[str, str, str], list[tuple[Workload, float]]] = {}
        self._orchestrator: dict[tuple[str, str], HumanitecV2Script] = {}
        self._faults: list[tuple[str, str, Fault]] = []
        self._released = threading.Event()
        self.requests: list[str] = []
        self.posted: list[tuple[str, object, dict[str, str]]] = []
        """Each POST: its path, its JSON body and its headers (``authorization`` left out)."""
        self._next_humanitec: dict[tuple[str, str, str], deque[HumanitecScript]] = {}
        self._next_orchestrator: dict[tuple[str, str, str], deque[tuple[Timeline, str]]] = {}
        self._next_greengrass_v2: dict[str, deque[list[Device]]] = {}
        self.request_times: list[float] = []
        """When (``time.monotonic``) each of :attr:`requests` arrived."""
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Emulator:
        self._thread.start()
        return self

    @property
    def stopped(self) -> threading.Event:
        """Set once :meth:`stop` is called."""
        return self._released

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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

    def add_humanitec_v2(
        self,
        org: str,
        timeline: Timeline,
        *,
        project: str = "shop",
        env: str = "staging",
        status_message: str = "",
        deployment_id: str | None = None,
        started_ago: float = 0.0,
        mode: str = "deploy",
    ) -> str:
        """Start a Platform Orchestrator v2 deployment now (or ``started_ago`` seconds ago,
        for history); returns its id (a uuid). ``mode`` ``plan_only`` makes a plan-only run."""
        deployment_id = deployment_id or str(uuid.uuid4())
        script = HumanitecV2Script(
            org, deployment_id, project, env, timeline, status_message, self.clock() - started_ago
        )
        script.mode = mode
        with self._lock:
            self._orchestrator[(org, deployment_id)] = script
        return deployment_id

    def humanitec_v2_deployments(self, org: str) -> list[dict[str, Any]]:
        """The org's v2 deployments as ``listDeployments`` lists them (``DeploymentSummary``),
        oldest first: what a test asks of the state, without a request."""
        with self._lock:
            scripts = sorted(
                (s for s in self._orchestrator.values() if s.org == org), key=lambda s: s.created
            )
        return [shapes.v2_summary(s, self._elapsed(s), self._iso) for s in scripts]

    def then_humanitec_v2(
        self,
        org: str,
        timeline: Timeline,
        *,
        project: str = "shop",
        env: str = "staging",
        status_message: str = "",
    ) -> None:
        """The next deployment started to ``project``/``env`` through the API (``POST
        /orgs/{org}/deployments``, a rollback) follows ``timeline``; else it succeeds in 3 s."""
        with self._lock:
            queue = self._next_orchestrator.setdefault((org, project, env), deque())
            queue.append((timeline, status_message))

    def add_greengrass(
        self,
        timeline: Timeline,
        *,
        group_id: str | None = None,
        deployment_id: str | None = None,
        error_message: str = "",
        error_details: Iterable[Mapping[str, str]] = (),
        deployment_type: str = "NewDeployment",
    ) -> tuple[str, str]:
        """Start a deployment now; returns ``(group_id, deployment_id)``."""
        group_id = group_id or str(uuid.uuid4())
        deployment_id = deployment_id or str(uuid.uuid4())
        script = GreengrassScript(
            group_id,
            deployment_id,
            timeline,
            error_message,
            list(error_details),
            self.clock(),
            deployment_type,
        )
        with self._lock:
            self._greengrass[(group_id, deployment_id)] = script
        return group_id, deployment_id

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

    def inject(
        self, fault: Fault, *, times: int = 1, path_contains: str = "", method: str = ""
    ) -> None:
        """Answer the next ``times`` requests whose path holds ``path_contains`` (made with
        ``method``, if given: ``POST`` for the starts) with ``fault``."""
        with self._lock:
            self._faults.extend([(path_contains, method, fault)] * times)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _over_rate(self) -> bool:
        """Whether this request is one too many for the last second (and counted if so)."""
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.throttled += 1
                return True
            self._recent.append(now)
            return False

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, (needle, only, fault) in enumerate(self._faults):
                if needle in path and only in ("", method):
                    del self._faults[index]
                    return fault
        return None

    def _iso(self, moment: float) -> str:
        origin_clock, origin_wall = self._origin
        wall = origin_wall + timedelta(seconds=moment - origin_clock)
        return wall.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall.microsecond // 1000:03d}Z"

    def _epoch_ms(self, moment: float) -> str:
        """Greengrass v1 ``UpdatedAt``: milliseconds since the epoch, as text (the model)."""
        origin_clock, origin_wall = self._origin
        wall = origin_wall + timedelta(seconds=moment - origin_clock)
        return str(int(wall.timestamp() * 1000))

    def _elapsed(self, script: _Script) -> float:
        """How far ``script`` has run, as the current read sees it."""
        if self.seconds_per_read is None:
            return self.clock() - script.created
        return max(script.reads - 1, 0) * self.seconds_per_read

    def _read(self, script: _Script) -> float:
        """A read of ``script``'s status: moves a paced emulator's script on, then
        returns how far it has run."""
        with self._lock:
            script.reads += 1
        return self._elapsed(script)

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

    def _answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: object = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """Status, JSON body and extra headers for one request."""
        for pattern, name in _ROUTES:
            match = pattern.match(path)
            if match and (method == "GET" or name in _STARTS):
                ids = [unquote(part) for part in match.groups()]
                if method == "POST":
                    return self._start(name, ids, headers, body)
                if name == "greengrass":
                    return self._greengrass_answer(ids, headers)
                if name.startswith(("v2-", "iot-")):
                    if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
                        return _aws_error(
                            403, "MissingAuthenticationTokenException", "Missing token"
                        )
                    return self._greengrass_v2_answer(name, ids, query)
                if headers.get("authorization") != f"Bearer {self.token}":
                    return 401, {"error": "API-000", "message": "Could not validate token."}, {}
                if name in _HUMANITEC_MORE:
                    return self._humanitec_more(name, ids, path, headers, query)
                return self._humanitec_answer(name, ids)
        return 404, {"error": "API-404", "message": f"no route for {method} {path}"}, {}

    def _start(
        self, name: str, ids: list[str], headers: Mapping[str, str], body: object
    ) -> tuple[int, Any, dict[str, str]]:
        """A POST that starts a deployment, once its credentials are checked."""
        if name == "v2-deployments":
            if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
                return _aws_error(403, "MissingAuthenticationTokenException", "Missing token")
            return self._greengrass_v2_start(body)
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "API-000", "message": "Could not validate token."}, {}
        if name == "orchestrator-deployments":
            return self._orchestrator_start(ids[0], body, headers.get("idempotency-key", ""))
        return self._humanitec_start(ids[0], ids[1], ids[2], body)

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
        """Pipeline runs, the runtime and v2 deployments."""
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
        if name.startswith("orchestrator-"):
            return self._orchestrator_answer(name, ids, query)
        with self._lock:
            run = self._pipeline_runs.get((ids[0], ids[1], ids[2], ids[3]))
        if run is None:
            return 404, {"error": "API-404", "message": "Pipeline run not found."}, {}
        elapsed = self._read(run) if name == "pipeline-run" else self._elapsed(run)
        if name == "pipeline-run":
            return 200, shapes.pipeline_run(run, elapsed, self._iso), {}
        if name == "pipeline-jobs":
            jobs = [shapes.pipeline_job_partial(run, j, elapsed, self._iso) for j in run.jobs]
            return _link_page(jobs, path, query, size=int(query.get("per_page", "50")))
        job = next((j for j in run.jobs if j.id == ids[4]), None)
        if job is None:
            return 404, {"error": "API-404", "message": "Pipeline job not found."}, {}
        if name == "pipeline-job":
            return 200, shapes.pipeline_job(run, job, elapsed, self._iso), {}
        index = int(ids[5])
        if index >= len(job.steps):
            return 404, {"error": "API-404", "message": "Pipeline step not found."}, {}
        lines = shapes.step_logs(run, job.steps[index], elapsed, self._iso)
        return _link_page(lines, path, query, size=self.log_page_lines)

    def _orchestrator_answer(
        self, name: str, ids: list[str], query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if name == "orchestrator-deployments":
            return self._orchestrator_list(ids[0], query)
        with self._lock:
            script = self._orchestrator.get((ids[0], ids[1]))
        if script is None:
            return 404, {"error": "API-404", "message": "Deployment not found."}, {}
        if name == "orchestrator-deployment":
            return 200, shapes.v2_deployment(script, self._read(script), self._iso), {}
        asked = query.get("timeout_in_seconds", "30")
        if not asked.isdigit() or int(asked) < 2:
            message = "timeout_in_seconds must be an integer of at least 2"
            return 400, {"error": "API-400", "message": message}, {}
        hold_until = time.monotonic() + int(asked)
        elapsed = self._read(script)
        while not shapes.v2_complete(script, elapsed):
            paced = self.seconds_per_read is not None
            if paced or time.monotonic() >= hold_until or self._released.wait(0.02):
                message = "The deployment is not complete yet; keep waiting."
                return 408, {"error": "API-408", "message": message}, {}
            elapsed = self._elapsed(script)
        return 200, shapes.v2_deployment(script, elapsed, self._iso), {}

    def _orchestrator_list(
        self, org: str, query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        """``listDeployments``: a ``DeploymentPage``, newest first (or oldest, as
        :attr:`oldest_first` says), its token an offset."""
        with self._lock:
            scripts = [
                s
                for s in self._orchestrator.values()
                if s.org == org
                and query.get("project_id") in (None, s.project)
                and query.get("env_id") in (None, s.env)
            ]
        scripts.sort(key=lambda s: s.created, reverse=not self.oldest_first)
        size = int(query.get("per_page", "50"))
        start = int(query.get("page", "0") or 0)
        listed = scripts[start : start + size]
        page: dict[str, Any] = {
            "items": [shapes.v2_summary(s, self._elapsed(s), self._iso) for s in listed]
        }
        if start + size < len(scripts):
            page["next_page_token"] = str(start + size)
        return 200, page, {}

    def _orchestrator_start(
        self, org: str, body: object, idempotency_key: str
    ) -> tuple[int, Any, dict[str, str]]:
        """``createDeployment``: a deployment or a rollback to an earlier one's graph. The
        ``Idempotency-Key`` of the environment's last deployment answers with it again (200:
        nothing new was made)."""
        refusal = starts.v2_refusal(body)
        if refusal:
            return 400, {"error": "API-400", "message": refusal}, {}
        assert isinstance(body, Mapping)
        where = (org, body["project_id"], body["env_id"])
        with self._lock:
            known = sorted(
                (s for s in self._orchestrator.values() if (s.org, s.project, s.env) == where),
                key=lambda s: s.created,
            )
            if known and idempotency_key and known[-1].idempotency_key == idempotency_key:
                return 200, shapes.v2_deployment(known[-1], self._elapsed(known[-1]), self._iso), {}
            if any(not shapes.v2_complete(s, self._elapsed(s)) for s in known):
                message = "A deployment to this environment is already in flight."
                return 409, {"error": "API-409", "message": message}, {}
            rollback_to = body.get("rollback_to_deployment_id") or ""
            if body["mode"] == "rollback" and rollback_to not in {s.deployment_id for s in known}:
                message = f"Deployment {rollback_to} was not found in this environment."
                return 400, {"error": "API-400", "message": message}, {}
            queue = self._next_orchestrator.get(where)
            timeline, message = queue.popleft() if queue else (_ORCHESTRATOR_NEXT, "")
            script = HumanitecV2Script(
                org, str(uuid.uuid4()), where[1], where[2], timeline, message, self.clock()
            )
            script.mode, script.rollback_to = body["mode"], rollback_to
            script.idempotency_key = idempotency_key
            self._orchestrator[(org, script.deployment_id)] = script
        return 201, shapes.v2_deployment(script, 0.0, self._iso), {}

    def _greengrass_v2_start(self, body: object) -> tuple[int, Any, dict[str, str]]:
        """CreateDeployment: a new deployment to the target, which supersedes the one before;
        the same ``clientToken`` again answers with the deployment it made."""
        refusal = starts.greengrass_v2_refusal(body)
        if refusal:
            return _aws_error(400, "ValidationException", refusal)
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

    def _greengrass_answer(
        self, ids: list[str], headers: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            message = "Missing Authentication Token"
            error_type = {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}
            return 403, {"Message": message}, error_type
        with self._lock:
            script = self._greengrass.get((ids[0], ids[1]))
        if script is None:
            message = f"Deployment '{ids[1]}' does not exist."
            return 400, {"Message": message}, {"x-amzn-ErrorType": "BadRequestException"}
        status, since = script.timeline.at(self._read(script))
        body: dict[str, Any] = {
            "DeploymentStatus": status,
            "DeploymentType": script.deployment_type,
            "UpdatedAt": self._epoch_ms(script.created + since),
        }
        if status == "Failure":
            body["ErrorMessage"] = script.error_message
            body["ErrorDetails"] = list(script.error_details)
        return 200, body, {}

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
            return _page(devices, "coreDevices", query, default_size=100)
        if name == "v2-core-device":
            cores = [(s.created, d) for s in scripts for d in s.devices if d.name == ids[0]]
            if not cores:
                return _aws_error(404, "ResourceNotFoundException", f"{ids[0]} not found")
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
            return _page(members, "things", query, default_size=25)
        if name == "v2-effective":
            found = [
                self._effective(script, device)
                for script in scripts
                for device in self._joined(script)
                if device.name == ids[0]
            ]
            return _page(found, "effectiveDeployments", query, default_size=50)
        if name == "v2-deployments":
            return self._greengrass_v2_list(scripts, query)
        if name == "v2-deployment":
            script = self._greengrass_v2.get(ids[0])
            if script is None:
                return _aws_error(
                    404, "ResourceNotFoundException", f"Deployment {ids[0]} not found"
                )
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
            return _aws_error(404, "ResourceNotFoundException", f"Job {ids[0]} not found")
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
            return _page(summaries, "executionSummaries", query, default_size=50)
        device_name = ids[0]
        if device_name not in statuses:
            return _aws_error(404, "ResourceNotFoundException", "Job execution not found")
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
        return _page(listed, "deployments", query, default_size=50)

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

    def _epoch(self, moment: float) -> float:
        """A rest-json timestamp: seconds since the epoch."""
        origin_clock, origin_wall = self._origin
        return round((origin_wall + timedelta(seconds=moment - origin_clock)).timestamp(), 3)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is what the slow faults are for, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


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


def _aws_error(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"message": message}, {"x-amzn-ErrorType": code}


def _page(
    items: list[Any], key: str, query: Mapping[str, str], *, default_size: int
) -> tuple[int, Any, dict[str, str]]:
    """One page of ``items`` as AWS lists them: ``maxResults`` and an opaque ``nextToken``."""
    size = int(query.get("maxResults", default_size))
    start = int(query.get("nextToken", "0") or 0)
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["nextToken"] = str(start + size)
    return 200, body, {}


def _link_page(
    items: Sequence[Any], path: str, query: Mapping[str, str], *, size: int
) -> tuple[int, Any, dict[str, str]]:
    """One page of a Humanitec list: the contract's ``page`` token and ``Link`` header."""
    start = int(query.get("page", "0") or 0)
    headers = {}
    if start + size < len(items):
        headers["Link"] = f'<{path}?page={start + size}>; rel="next"'
    return 200, items[start : start + size], headers


def _throttled(path: str) -> tuple[int, bytes, dict[str, str]]:
    if path.startswith("/greengrass"):
        status, body, _ = _aws_error(429, "TooManyRequestsException", "Rate exceeded")
    else:
        status, body = 429, {"error": "API-429", "message": "Too many requests"}
    return status, json.dumps(body).encode(), {"Retry-After": "1"}


def _humanitec_error(error: Mapping[str, str]) -> dict[str, str]:
    fields = ("scope", "object_id", "code", "summary", "message", "error_type")
    return {name: str(error.get(name, "")) for name in fields}


def _handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET", None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= _MAX_REQUEST_BODY:
                self.close_connection = True
                self._send(413, b'{"error":"API-413","message":"request too large"}', {})
                return
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")  # refused as not an object
            headers = {
                k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"
            }
            emulator.posted.append((urlsplit(self.path).path, body, headers))
            self._handle("POST", body)

        def _handle(self, method: str, body: object) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            emulator.requests.append(path)
            emulator.request_times.append(time.monotonic())
            if emulator._over_rate():
                self._send(*_throttled(path))
                return
            fault = emulator._take_fault(method, path)
            if fault is not None and not fault.after_acting:
                self._misbehave(fault)
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer, extra = emulator._answer(method, path, headers, query, body)
            if fault is not None:
                self._misbehave(fault)
                return
            self._send(status, json.dumps(answer).encode(), extra)

        def _send(self, status: int, payload: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _misbehave(self, fault: Fault) -> None:
            if fault.kind == "hang":
                emulator._released.wait(fault.seconds)
                self.close_connection = True
                return
            if fault.kind == "reset":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"status": "succ')
                self.wfile.flush()
                self.close_connection = True
                return
            if fault.kind in _SLOW:
                self._dribble(fault)
                return
            self._send(fault.status, fault.body, fault.headers)

        def _dribble(self, fault: Fault) -> None:
            """Send a piece every ``fault.seconds`` until the client hangs up or the
            emulator stops: an answer that is always nearly there."""
            self.close_connection = True
            if fault.kind == "trickle-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            elif fault.kind == "trickle-body":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n{")
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = {
                "trickle-headers": b"X-Still-Coming: yes\r\n",
                "trickle-body": b" ",
                "endless-chunks": b"1\r\n \r\n",
            }[fault.kind]
            try:
                while not emulator._released.wait(fault.seconds):
                    self.wfile.write(piece)
                    self.wfile.flush()
            except OSError:
                pass

    return Handler


_SLOW = ("trickle-headers", "trickle-body", "endless-chunks")
