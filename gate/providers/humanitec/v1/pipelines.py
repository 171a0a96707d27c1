"""Humanitec deployment pipelines: a run, its jobs and steps, and the failing step's logs.

Every deploy request runs through a pipeline run (contract: ``PipelineRun``,
``PipelineJobPartial``, ``PipelineJob``, ``PipelineStep``, ``PipelineStepLog``); a deployment
names it in ``pipeline`` (``id``, ``run_id``, ``job_id``, ``step_index``). The contract gives
status words only by example (``executing``); the others are Humanitec's documented ones. A
word not listed is reported as unknown and waited on, never taken for success: judged by
:func:`gate.providers.humanitec.v1.judge.judge_run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gate.core.errors import GateError, TransientError
from gate.core.ids import api_id, require_id
from gate.core.model import ErrorDetail, Snapshot, State
from gate.core.text import one_line
from gate.providers.humanitec.api import HumanitecApi, path_of
from gate.providers.humanitec.v1.judge import RUN_STATUSES, judge_run

__all__ = [
    "HumanitecPipelineRun",
    "PipelineRef",
    "PipelineRuns",
]

_ENDED_BADLY = frozenset(word for word, state in RUN_STATUSES.items() if state is State.FAILED)
FAILED_JOBS_READ = 3
"""Failed jobs whose steps are read; more are named by the count only."""
LOG_PAGES = 10
"""Pages of a failing step's log read at most (the contract pages logs; no page size)."""
LOG_LINES = 20
"""Log lines kept per failing step: the last ones read, where a step says why it stopped."""


@dataclass(frozen=True)
class PipelineRef:
    """Where a deployment came from: ``pipeline`` in a Humanitec deployment."""

    pipeline_id: str
    run_id: str
    job_id: str = ""
    """The job that ran the deployment: explained first. (Its ``step_index`` is not needed:
    the failed step is the one that says it failed.)"""

    @classmethod
    def from_deployment(cls, api: HumanitecApi, body: Mapping[str, Any]) -> PipelineRef | None:
        """The reference in a deployment answer, or None when it has none usable."""
        pipeline = body.get("pipeline")
        if not isinstance(pipeline, dict):
            return None
        pipeline_id, run_id = api.said(pipeline.get("id")), api.said(pipeline.get("run_id"))
        if not pipeline_id or not run_id:
            return None
        return cls(pipeline_id, run_id, api.said(pipeline.get("job_id")))


class PipelineRuns:
    """Reads the runs of one application's pipelines."""

    def __init__(self, api: HumanitecApi, *, org: str, app: str) -> None:
        self._api = api
        self._org = org
        self._app = app

    def run_path(self, ref: PipelineRef, *more: str | int) -> str:
        """The run's path; ids a deployment answered are checked like any other."""
        api_id("pipeline id", ref.pipeline_id)
        api_id("pipeline run id", ref.run_id)
        return path_of(
            "orgs",
            self._org,
            "apps",
            self._app,
            "pipelines",
            ref.pipeline_id,
            "runs",
            ref.run_id,
            *more,
        )

    def read_run(self, ref: PipelineRef, *, not_found: str | None = None) -> dict[str, Any]:
        return self._api.get_object(self.run_path(ref), "pipeline run", not_found=not_found)

    def explain(self, ref: PipelineRef, run: Mapping[str, Any] | None = None) -> list[ErrorDetail]:
        """Why the run failed, in its own words: each failed job's failed step, with the
        step's status message and the last lines of its log."""
        said = self._api.said
        failed, _, _ = self._api.pages(
            self.run_path(ref, "jobs"),
            "pipeline jobs",
            limit=5,
            keep=lambda job: said(job.get("status")) in _ENDED_BADLY,
        )
        failed.sort(key=lambda job: said(job.get("id")) != ref.job_id)  # the deployment's first
        details: list[ErrorDetail] = []
        for job in failed[:FAILED_JOBS_READ]:
            details.extend(self._explain_job(ref, job))
        if len(failed) > FAILED_JOBS_READ:
            details.append(
                ErrorDetail(
                    code="",
                    scope="pipeline",
                    message=f"{len(failed) - FAILED_JOBS_READ} more jobs failed in this run",
                )
            )
        if details:
            return details
        run = run if run is not None else self.read_run(ref)  # only its own words are left
        return self._status_message(run, "pipeline run", f"{ref.pipeline_id}/{ref.run_id}")

    def _status_message(
        self, thing: Mapping[str, Any], scope: str, object_id: str
    ) -> list[ErrorDetail]:
        """A run's or job's ``status_message`` as an error detail, if it says one."""
        said = self._api.said
        message = said(thing.get("status_message"))
        if not message:
            return []
        code = said(thing.get("status"))
        return [ErrorDetail(code=code, message=message, scope=scope, object_id=object_id)]

    def _explain_job(self, ref: PipelineRef, job: Mapping[str, Any]) -> list[ErrorDetail]:
        said = self._api.said
        job_id = said(job.get("id"))
        where = f"job {job_id}"
        details = self._status_message(job, "pipeline job", job_id)
        try:
            job_id = api_id("pipeline job id", job_id)
            full = self._api.get_object(self.run_path(ref, "jobs", job_id), f"pipeline {where}")
            steps = full.get("steps")
            if not isinstance(steps, list):
                raise TransientError(f"pipeline {where}: 'steps' is not a list")
            failing = [
                step
                for step in steps
                if isinstance(step, dict) and said(step.get("status")) in _ENDED_BADLY
            ]
            for step in failing[-1:]:  # the step that stopped the job
                details.extend(self._explain_step(ref, job_id, step))
        except GateError as unreadable:
            details.append(
                ErrorDetail(
                    code="",
                    scope="gate",
                    object_id=job_id,
                    message=f"the failed job's steps could not be read: {unreadable}",
                )
            )
        return details

    def _explain_step(
        self, ref: PipelineRef, job_id: str, step: Mapping[str, Any]
    ) -> list[ErrorDetail]:
        said = self._api.said
        index = step.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise TransientError(f"pipeline job {job_id}: a step has no usable 'index'")
        where = f"{job_id}/{index} {one_line(said(step.get('name')), limit=80)}".rstrip()
        details = [
            ErrorDetail(
                code=said(step.get("status")),
                message=said(step.get("status_message")),
                summary=said(step.get("uses")),
                scope="pipeline step",
                object_id=where,
            )
        ]
        path = self.run_path(ref, "jobs", job_id, "steps", index, "logs")
        entries, more, read = self._api.pages(
            path,
            f"logs of step {where}",
            limit=LOG_PAGES,
            keep_last=LOG_LINES,
        )
        if more or read > LOG_LINES:
            kept = min(read, LOG_LINES)
            whole = "" if not more else f" of the first {LOG_PAGES} pages"
            details.append(
                ErrorDetail(
                    code="",
                    scope="step log",
                    object_id=where,
                    message=f"the log's last {kept} lines{whole} follow",
                )
            )
        details.extend(
            ErrorDetail(
                code=said(entry.get("level")),
                message=said(entry.get("message")),
                scope="step log",
                object_id=where,
            )
            for entry in entries[-LOG_LINES:]
        )
        return details


class HumanitecPipelineRun:
    """A pipeline run, gated directly: ``gate wait humanitec --pipeline P --run R``."""

    name = "humanitec"

    def __init__(
        self, api: HumanitecApi, *, org: str, app: str, pipeline_id: str, run_id: str
    ) -> None:
        self._api = api
        self._org = require_id("--org", org)
        self._app = require_id("--app", app)
        self._ref = PipelineRef(require_id("--pipeline", pipeline_id), require_id("--run", run_id))
        self._runs = PipelineRuns(api, org=self._org, app=self._app)
        self._last_run: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"HumanitecPipelineRun({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        return {
            "org": self._org,
            "app": self._app,
            "pipeline": self._ref.pipeline_id,
            "run": self._ref.run_id,
        }

    def describe(self) -> str:
        return (
            f"Humanitec pipeline run {self._ref.run_id} of {self._ref.pipeline_id} "
            f"in {self._org}/{self._app}"
        )

    def close(self) -> None:
        self._api.client.close()

    def fetch(self) -> Snapshot:
        run = self._runs.read_run(self._ref, not_found=self.describe())
        if self._api.said(run.get("id")) != self._ref.run_id:
            raise TransientError(
                f"pipeline run: asked for {self._ref.run_id!r}, the API answered with "
                f"{one_line(self._api.said(run.get('id')), limit=80)!r}"
            )
        snapshot = judge_run(run)
        self._last_run = run
        return snapshot

    def failure_details(self) -> Sequence[ErrorDetail]:
        return self._runs.explain(self._ref, self._last_run)
