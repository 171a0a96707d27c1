"""Humanitec pipelines and readiness: a failed deployment explained by its pipeline step's
log, a pipeline run gated directly (approvals said plainly), and ``--require-ready``.

Against the package's emulator on 127.0.0.1, its answers held to the published contract.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from gate import WaitOptions, wait
from gate.core.model import Outcome, OutcomeStatus
from gate.core.secret import Secret
from gate.emulator import Emulator, Fault, PipelineJob, PipelineStep, Timeline, Workload
from gate.providers.humanitec.v1.pipelines import LOG_LINES, LOG_PAGES
from gate.providers.humanitec.v1.reader import HumanitecDeployment, connect
from gate.waiting.engine import Timing
from tests.builders import FAST
from tests.support import CONTRACT, TOKEN, VirtualClock, run_gate

HELM_FAILED = "helm upgrade: timed out waiting for the condition"
FAILING = Timeline([(0, "queued"), (1, "executing"), (6, "failed")])
PASSING = Timeline([(0, "queued"), (1, "executing"), (3, "succeeded")])


def validator(name: str, *, array: bool = False) -> OAS30Validator:
    contract = json.loads(CONTRACT.read_text())
    ref = {"$ref": f"#/components/schemas/{name}"}
    return OAS30Validator(
        {
            **({"type": "array", "items": ref} if array else ref),
            "components": contract["components"],
        }
    )


def failed_run(emulator: Emulator, *, log_lines: int = 30, echo: str = "") -> str:
    """A run whose deploy job fails in its second step, after ``log_lines`` lines of log."""
    logs = [("INFO", f"applying manifest {n}") for n in range(log_lines - 1)]
    logs.append(("ERROR", f"{HELM_FAILED}{echo}"))
    steps = [
        PipelineStep("Build", "actions/humanitec/build", PASSING, logs=[("INFO", "built")]),
        PipelineStep(
            "Deploy",
            "actions/humanitec/deploy",
            FAILING,
            status_message="the deployment failed",
            logs=logs,
        ),
    ]
    jobs = [
        PipelineJob("deploy", FAILING, steps=steps, status_message="step Deploy failed"),
        PipelineJob("notify", PASSING),
    ]
    return emulator.add_pipeline_run(
        "acme",
        "shop",
        "default",
        Timeline([(0, "executing"), (6, "failed")]),
        jobs=jobs,
        status_message="job deploy failed",
    )


@pytest.fixture
def deployment(virtual_emulator: Emulator) -> Iterator[Any]:
    made: list[HumanitecDeployment] = []

    def make(
        deploy_id: str | None, *, env: str = "production", **kwargs: Any
    ) -> HumanitecDeployment:
        client = connect(virtual_emulator.url, Secret(TOKEN), request_timeout=5.0)
        provider = HumanitecDeployment(
            client,
            org="acme",
            app="shop",
            env=env,
            deploy_id=deploy_id,
            token=Secret(TOKEN),
            **kwargs,
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def gate_humanitec(emulator: Emulator, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_gate(
        "wait",
        "humanitec",
        "--org",
        "acme",
        "--app",
        "shop",
        *args,
        *FAST,
        "--output",
        "json",
        env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
    )
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def scopes(outcome: Outcome | dict[str, Any], scope: str) -> list[str]:
    errors = outcome.errors if isinstance(outcome, Outcome) else outcome["errors"]
    return [
        (e.message if not isinstance(e, dict) else e["message"])
        for e in errors
        if (e.scope if not isinstance(e, dict) else e["scope"]) == scope
    ]


def test_emulator_pipeline_and_runtime_answers_follow_the_contract(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    run_id = failed_run(virtual_emulator, log_lines=45)
    virtual_emulator.add_workloads(
        "acme", "shop", "production", [Workload("api", Timeline([(0, "CrashLoopBackOff")]))]
    )
    clock.advance(10)
    run = f"{virtual_emulator.url}/orgs/acme/apps/shop/pipelines/default/runs/{run_id}"
    env = f"{virtual_emulator.url}/orgs/acme/apps/shop/envs/production"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    checks = [
        (run, {}, validator("PipelineRun")),
        (f"{run}/jobs", {}, validator("PipelineJobPartial", array=True)),
        (f"{run}/jobs/deploy", {}, validator("PipelineJob")),
        (f"{run}/jobs/deploy/steps/1/logs", {}, validator("PipelineStepLog", array=True)),
        (f"{env}/runtime", {"Accept": "application/v2+json"}, validator("RuntimeInfoResponseV2")),
        (f"{env}/runtime", {}, validator("RuntimeInfoResponseV1")),
        (f"{run}/jobs/nope", {}, validator("HumanitecErrorResponse")),
    ]
    for url, headers, check in checks:
        check.validate(httpx.get(url, headers={**auth, **headers}).json())
    first_page = httpx.get(f"{run}/jobs/deploy/steps/1/logs", headers=auth)
    assert first_page.links["next"]["url"].endswith("?page=20")


def test_a_failed_deployment_is_explained_by_its_pipeline_step_and_the_end_of_its_log(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    run_id = failed_run(virtual_emulator, log_lines=45)  # three pages of log
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        FAILING,
        errors=[{"code": "DEP-001", "message": "workload api failed"}],
        pipeline=("default", run_id, "deploy", 1),
    )
    outcome = wait(deployment(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.errors[0].message == "workload api failed", "the deployment's own errors first"
    [step] = [e for e in outcome.errors if e.scope == "pipeline step"]
    assert (step.code, step.message, step.summary) == (
        "failed",
        "the deployment failed",
        "actions/humanitec/deploy",
    )
    assert step.object_id == "deploy/1 Deploy"
    log = scopes(outcome, "step log")
    assert log[0] == f"the log's last {LOG_LINES} lines follow"
    assert log[-1] == HELM_FAILED
    assert len(log) == LOG_LINES + 1
    assert scopes(outcome, "pipeline job") == ["step Deploy failed"]


def test_a_log_longer_than_the_pages_read_says_so(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    run_id = failed_run(virtual_emulator, log_lines=20 * LOG_PAGES + 5)
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", FAILING, pipeline=("default", run_id, "deploy", 1)
    )
    outcome = wait(deployment(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    log = scopes(outcome, "step log")
    assert log[0] == f"the log's last {LOG_LINES} lines of the first {LOG_PAGES} pages follow"
    assert len(log) == LOG_LINES + 1
    pages = [p for p in virtual_emulator.requests if p.endswith("/logs")]
    assert len(pages) == LOG_PAGES, "the log is read in bounded pages"


def test_a_pipeline_that_cannot_be_read_leaves_the_deployments_own_errors_standing(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    run_id = failed_run(virtual_emulator)
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        FAILING,
        errors=[{"code": "DEP-001", "message": "workload api failed"}],
        pipeline=("default", run_id, "deploy", 1),
    )
    virtual_emulator.inject(Fault.http(403), times=100, path_contains="/jobs")
    outcome = wait(deployment(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.errors[0].message == "workload api failed"
    [note] = scopes(outcome, "gate")
    assert note.startswith("the deployment's pipeline run could not be read: ")
    assert "403" in note


def test_a_pipeline_run_is_gated_directly(emulator: Emulator) -> None:
    run_id = failed_run(emulator)
    code, outcome, progress = gate_humanitec(
        emulator, "--pipeline", "default", "--run", run_id, "--timeout", "30s"
    )
    assert code == 1
    assert outcome["status"] == "failed"
    assert outcome["target"] == {"org": "acme", "app": "shop", "pipeline": "default", "run": run_id}
    assert outcome["reason"] == "the pipeline run ended as 'failed': job deploy failed"
    assert scopes(outcome, "step log")[-1] == HELM_FAILED
    assert HELM_FAILED in progress

    passing = emulator.add_pipeline_run(
        "acme", "shop", "default", Timeline([(0, "queued"), (1, "executing"), (2, "succeeded")])
    )
    code, outcome, _ = gate_humanitec(emulator, "--pipeline", "default", "--run", passing)
    assert (code, outcome["status"], outcome["errors"]) == (0, "succeeded", [])


@pytest.mark.parametrize("ending", ["cancelled", "timed_out"])
def test_a_run_that_ended_without_succeeding_fails_the_gate(
    emulator: Emulator, ending: str
) -> None:
    run_id = emulator.add_pipeline_run(
        "acme",
        "shop",
        "default",
        Timeline([(0, "executing"), (1, ending)]),
        status_message=f"the run was {ending}",
    )
    code, outcome, _ = gate_humanitec(emulator, "--pipeline", "default", "--run", run_id)
    assert (code, outcome["status"], outcome["raw_status"]) == (1, "failed", ending)
    assert outcome["errors"][0]["message"] == f"the run was {ending}"


def test_a_run_waiting_for_an_approval_is_said_plainly(emulator: Emulator) -> None:
    waiting = Timeline([(0, "executing"), (0.5, "waiting")])
    run_id = emulator.add_pipeline_run(
        "acme",
        "shop",
        "default",
        Timeline([(0, "executing")]),
        jobs=[PipelineJob("deploy-production", waiting, waiting_for="approval(0f3c9a)")],
    )
    code, outcome, progress = gate_humanitec(
        emulator, "--pipeline", "default", "--run", run_id, "--timeout", "3s"
    )
    assert code == 3
    said = "waiting for an approval (job deploy-production: approval(0f3c9a))"
    assert said in progress, "the wait says what it waits on as soon as it starts"
    assert (
        outcome["reason"]
        == f"the 3.0s deadline passed while the deployment was 'executing' ({said})"
    )


def test_a_job_id_from_the_api_never_changes_the_path(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    run_id = virtual_emulator.add_pipeline_run(
        "acme",
        "shop",
        "default",
        FAILING,
        jobs=[PipelineJob("../../../envs/production", FAILING, status_message="no")],
    )
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", FAILING, pipeline=("default", run_id, "x", 0)
    )
    outcome = wait(deployment(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    assert not any(path.endswith("/envs/production") for path in virtual_emulator.requests)
    [note] = scopes(outcome, "gate")
    assert "is not a plain id; it never reaches a request path" in note


def test_a_token_echoed_in_a_step_log_is_redacted(emulator: Emulator) -> None:
    run_id = failed_run(emulator, echo=f" (Authorization: Bearer {TOKEN})")
    code, outcome, _ = gate_humanitec(emulator, "--pipeline", "default", "--run", run_id)
    assert code == 1
    assert scopes(outcome, "step log")[-1] == f"{HELM_FAILED} (Authorization: Bearer ***)"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--run", "r1"], "--run needs --pipeline"),
        (["--pipeline", "p", "--latest", "--env", "e"], "--pipeline goes with --run"),
        (
            ["--pipeline", "p", "--run", "r1", "--require-ready"],
            "--require-ready gates a deployment",
        ),
        (
            ["--pipeline", "p", "--run", "r1", "--env", "e"],
            "--env goes with --deploy-id or --latest",
        ),
        (["--pipeline", "p", "--run", "../r1"], "--run '../r1' is not a valid id"),
        (["--pipeline", "p/q", "--run", "r1"], "--pipeline 'p/q' is not a valid id"),
    ],
)
def test_pipeline_flags_that_cannot_work_are_exit_2(args: list[str], words: str) -> None:
    result = run_gate(
        "wait", "humanitec", "--org", "acme", "--app", "shop", *args,
        env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


# --require-ready


def stuck(reason: str) -> Workload:
    return Workload(
        "worker",
        Timeline([(0, "starting"), (2, reason)]),
        message='Back-off pulling image "registry.example.com/worker:1.4.2"',
    )


READY = Workload("api", Timeline([(0, "starting"), (3, "ready")]))
SUCCEEDS = Timeline([(0, "in progress"), (2, "succeeded")])


def ready_wait(deployment: Any, deploy_id: str, clock: VirtualClock, timeout: float) -> Outcome:
    options = WaitOptions(timeout=timeout, interval=1, max_interval=5)
    provider = deployment(deploy_id, require_ready=True)
    return wait(provider, options, timing=Timing(clock=clock, sleep=clock.sleep))


def test_a_succeeded_deployment_waits_for_its_workloads_to_be_ready(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    slow = Workload("worker", Timeline([(0, "starting"), (4, "CrashLoopBackOff"), (30, "ready")]))
    virtual_emulator.add_workloads("acme", "shop", "production", [READY, slow])
    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    outcome = ready_wait(deployment, deploy_id, clock, timeout=120)
    assert outcome.status is OutcomeStatus.SUCCEEDED, "a crash loop that ends is not a failure"
    assert outcome.elapsed_seconds >= 30
    assert outcome.errors == ()
    reads = virtual_emulator.requests
    last_deployment_read = max(n for n, path in enumerate(reads) if path.endswith(deploy_id))
    runtime_reads = [n for n, path in enumerate(reads) if path.endswith("/runtime")]
    assert last_deployment_read < runtime_reads[0], "once it succeeded, only the runtime is read"
    assert len(runtime_reads) >= 5


def test_workloads_failing_at_the_deadline_fail_a_succeeded_deployment(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    virtual_emulator.add_workloads("acme", "shop", "production", [READY, stuck("ImagePullBackOff")])
    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    outcome = ready_wait(deployment, deploy_id, clock, timeout=60)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.raw_status == "succeeded"
    assert outcome.reason == (
        "the deployment succeeded, but its workloads never became ready: "
        "1/2 workloads ready; worker: ImagePullBackOff"
    )
    [error] = outcome.errors
    assert (error.scope, error.code, error.error_type) == (
        "workload",
        "ImagePullBackOff",
        "Failure",
    )
    assert error.message == 'Back-off pulling image "registry.example.com/worker:1.4.2"'
    assert error.object_id == "worker/worker-7d9f8-x2k4q/worker"
    assert error.summary == "Deployment worker: Deployment does not have minimum availability."


def test_workloads_still_starting_at_the_deadline_time_the_gate_out(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    virtual_emulator.add_workloads(
        "acme", "shop", "production", [Workload("api", Timeline([(0, "starting")]))]
    )
    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    outcome = ready_wait(deployment, deploy_id, clock, timeout=60)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.reason == (
        "the 1m00s deadline passed while the deployment was 'succeeded' "
        "(0/1 workloads ready; api: ContainerCreating)"
    )
    assert [e.code for e in outcome.errors] == ["ContainerCreating"]


def test_without_require_ready_the_runtime_is_never_read(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    virtual_emulator.add_workloads("acme", "shop", "production", [stuck("CrashLoopBackOff")])
    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    outcome = wait(deployment(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert not [p for p in virtual_emulator.requests if p.endswith("/runtime")]


def test_a_failed_deployment_under_require_ready_is_failed_without_reading_the_runtime(
    virtual_emulator: Emulator, deployment: Any, clock: VirtualClock
) -> None:
    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", FAILING)
    outcome = ready_wait(deployment, deploy_id, clock, timeout=60)
    assert outcome.status is OutcomeStatus.FAILED
    assert not [p for p in virtual_emulator.requests if p.endswith("/runtime")]


def test_require_ready_through_the_command(emulator: Emulator) -> None:
    emulator.add_workloads("acme", "shop", "production", [stuck("CrashLoopBackOff")])
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    emulator.inject(Fault.http(503), times=2, path_contains="/runtime")
    code, outcome, progress = gate_humanitec(
        emulator,
        "--env",
        "production",
        "--deploy-id",
        deploy_id,
        "--require-ready",
        "--timeout",
        "4s",
    )
    assert code == 1, progress
    assert outcome["status"] == "failed"
    assert outcome["errors"][0]["code"] == "CrashLoopBackOff"
    assert "(restarted 4 times)" in outcome["errors"][0]["message"]
    assert "HTTP 503" in progress, "a runtime read that fails is retried"
    assert "workloads ready" in progress
