"""What the gate tells the platform, through the real command: a GitHub deployment with its
statuses, a trace of a release, and a platform that does not answer, which costs a warning
and never the exit code."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import pytest

from gate.cli.command import main
from gate.emulator import Emulator, Timeline
from tests.builders import FAST
from tests.parts.github_api import GitHubApiServer, github_api
from tests.parts.otlp_receiver import OtlpReceiver
from tests.support import TOKEN, clean_env, run_gate
from tests.test_fleet import release
from tests.test_github_deployments import GITHUB_TOKEN, workflow

WAIT = ["wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production"]


@pytest.fixture
def github() -> Iterator[GitHubApiServer]:
    with github_api(GITHUB_TOKEN) as server:
        yield server


def gate(
    emulator: Emulator, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **(extra_env or {})}
    return run_gate(*args, *FAST, env=env)


def deploy(emulator: Emulator, final: str) -> str:
    return emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, final)])
    )


@pytest.mark.parametrize(
    ("final", "code", "state"), [("succeeded", 0, "success"), ("failed", 1, "failure")]
)
def test_a_gate_is_a_github_deployment_with_its_statuses(
    paced_emulator: Emulator, github: GitHubApiServer, final: str, code: int, state: str
) -> None:
    deploy_id = deploy(paced_emulator, final)
    result = gate(
        paced_emulator,
        *WAIT,
        "--deploy-id",
        deploy_id,
        "--github-deployment",
        "--github-environment",
        "production",
        extra_env=workflow(github.url),
    )
    assert result.returncode == code, result.stderr
    (deployment,) = github.deployments
    assert deployment["environment"] == "production"
    assert github.states(deployment["id"]) == ["in_progress", state]
    assert "warning" not in result.stderr
    assert GITHUB_TOKEN not in result.stdout + result.stderr


def test_a_github_that_refuses_costs_a_warning_never_the_exit_code(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    github.fail_next("POST", 401, body={"message": f"Bad credentials {GITHUB_TOKEN}"}, times=10)
    github.fail_next("GET", 401, body={"message": "Bad credentials"}, times=10)
    result = gate(
        paced_emulator,
        *WAIT,
        "--deploy-id",
        deploy(paced_emulator, "succeeded"),
        "--github-deployment",
        "--github-environment",
        "production",
        extra_env=workflow(github.url),
    )
    assert result.returncode == 0, result.stderr
    assert "gate: warning: GitHub deployment status not posted" in result.stderr
    assert GITHUB_TOKEN not in result.stdout + result.stderr


def test_a_github_deployment_without_a_token_is_refused_before_waiting(
    emulator: Emulator, github: GitHubApiServer
) -> None:
    result = gate(
        emulator,
        *WAIT,
        "--deploy-id",
        deploy(emulator, "succeeded"),
        "--github-deployment",
        extra_env=workflow(github.url, GITHUB_TOKEN=None),
    )
    assert result.returncode == 2
    assert "GITHUB_TOKEN" in result.stderr
    assert github.requests == []


def test_an_environment_without_a_github_deployment_is_refused(emulator: Emulator) -> None:
    result = gate(emulator, *WAIT, "--latest", "--github-environment", "production")
    assert result.returncode == 2
    assert "--github-environment is for a GitHub deployment: give --github-deployment" in (
        result.stderr
    )


def test_a_release_is_one_trace_with_a_span_for_each_target(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    for env, final in (("eu", "succeeded"), ("us", "failed")):
        paced_emulator.add_humanitec(
            "acme", "shop", env, Timeline([(0, "in progress"), (1, final)])
        )
    file = release(tmp_path, {"env": "eu"}, {"env": "us"})
    with OtlpReceiver() as receiver:
        result = gate(
            paced_emulator, "wait-all", file, "--otel-endpoint", receiver.url, "--output", "json"
        )
        spans = receiver.spans()
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"] == "1/2 succeeded, 1 failed"
    (parent,) = [span for span in spans if not span.parent_span_id]
    children = {
        span.attributes["deployment.environment.name"]: span
        for span in spans
        if span.parent_span_id
    }
    assert set(children) == {"eu", "us"}
    assert {span.trace_id for span in spans} == {parent.trace_id}
    assert {span.parent_span_id for span in children.values()} == {parent.span_id}
    assert children["us"].status_code == "STATUS_CODE_ERROR"
    assert children["eu"].status_code != "STATUS_CODE_ERROR"
    assert TOKEN not in " ".join(receiver.every_text())


def test_a_collector_that_is_not_there_costs_a_warning_never_the_exit_code(
    paced_emulator: Emulator,
) -> None:
    with OtlpReceiver() as closed:
        url = closed.url
    result = gate(
        paced_emulator,
        *WAIT,
        "--deploy-id",
        deploy(paced_emulator, "failed"),
        "--otel-endpoint",
        url,
    )
    assert result.returncode == 1, result.stderr
    assert "gate: warning: OpenTelemetry:" in result.stderr


def test_a_signal_while_telling_costs_what_was_not_told_never_the_outcome(
    paced_emulator: Emulator,
) -> None:
    """GitHub never answers; the gate has written its outcome and waits on its queue; the
    runner's SIGTERM then ends the telling, and the exit code stays the gate's. (A SIGTERM
    that lands while the reports are still being written is ignored, as it should be: the
    test signals until the gate ends.)"""
    import signal
    import socket
    import sys

    from tests.support import clean_env, killed_if_failed

    silent = socket.create_server(("127.0.0.1", 0))
    deploy_id = deploy(paced_emulator, "succeeded")
    env = {
        **clean_env(),
        "HUMANITEC_API_URL": paced_emulator.url,
        "HUMANITEC_TOKEN": TOKEN,
        **workflow(f"http://127.0.0.1:{silent.getsockname()[1]}"),
    }
    command = [sys.executable, "-m", "gate", *WAIT, "--deploy-id", deploy_id, *FAST]
    command += ["--github-deployment", "--github-environment", "production", "--output", "json"]
    # GitHub's calls then end only at their own 30 s bound: the signal comes long before,
    # however slowly a busy machine ran the gate.
    command += ["--request-timeout", "1h"]
    try:
        with (
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as process,
            killed_if_failed(process),
        ):
            assert process.stdout is not None
            outcome = json.loads(process.stdout.readline())  # written before the telling ends
            code = None
            while code is None:  # a signal while the reports are still written is ignored
                process.send_signal(signal.SIGTERM)
                try:
                    code = process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    continue
            err = process.stderr.read() if process.stderr else ""
    finally:
        silent.close()
    assert outcome["status"] == "succeeded"
    assert code == 0, err
    assert "interrupted while telling the platform" in err


class CancelledAsItIsSaid(io.StringIO):
    """A stream of the gate's, and a runner that cancels the moment the gate says a cue: as the
    gate writes text holding one, this process is sent that cue's signals (each cue once)."""

    def __init__(self, cues: Mapping[str, Sequence[int]]) -> None:
        super().__init__()
        self.cues = dict(cues)

    def write(self, text: str) -> int:
        written = super().write(text)
        for cue in [cue for cue in self.cues if cue in text]:
            for signum in self.cues.pop(cue):
                os.kill(os.getpid(), signum)
        return written


SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class OwnHandlers:
    """This process's own handler of :data:`SIGNALS` while a test runs the gate in-process:
    the signals that reach it are listed."""

    heard: list[int] = field(default_factory=list)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.heard.append(signum)

    def in_place(self) -> bool:
        return all(signal.getsignal(signum) is self for signum in SIGNALS)


@pytest.fixture
def own_handlers() -> Iterator[OwnHandlers]:
    handlers = OwnHandlers()
    before = {signum: signal.signal(signum, handlers) for signum in SIGNALS}
    try:
        yield handlers
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize(("final", "code"), [("succeeded", 0), ("failed", 1)])
def test_signals_once_the_outcome_is_written_end_the_telling_never_the_exit_code(
    paced_emulator: Emulator, tmp_path: Path, own_handlers: OwnHandlers, final: str, code: int
) -> None:
    """A SIGTERM as the outcome is written is ignored; the next, as the gate says what a
    telling could not tell, ends the telling; SIGHUP and SIGINT as the gate says so are
    ignored. The exit code stays the outcome's, and the caller gets its own handlers back.
    (In-process, each signal lands exactly there, however slowly the machine runs.)"""
    report = tmp_path / "outcome.json"
    out = CancelledAsItIsSaid({'"status"': [signal.SIGTERM]})
    err = CancelledAsItIsSaid(
        {
            "gate: warning: OpenTelemetry": [signal.SIGTERM],
            "interrupted while telling the platform": [signal.SIGHUP, signal.SIGINT],
        }
    )
    args = [*WAIT, "--deploy-id", deploy(paced_emulator, final), *FAST, "--output", "json"]
    with OtlpReceiver(answer=400) as refusing:
        exit_code = main(
            [*args, "--otel-endpoint", refusing.url, "--json-report", str(report)],
            env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
            stdout=out,
            stderr=err,
            stdin=io.StringIO(""),
        )
    said = err.getvalue()
    assert exit_code == code, said
    assert json.loads(out.getvalue())["status"] == final
    assert json.loads(report.read_text())["status"] == final
    assert "gate: warning: interrupted while telling the platform; not all was told" in said
    assert own_handlers.heard == []
    assert own_handlers.in_place()


def test_a_gate_on_a_thread_leaves_the_processs_signal_handlers_alone(
    paced_emulator: Emulator, own_handlers: OwnHandlers
) -> None:
    """A host that runs the command on a thread of its own (as the library and the Pulumi
    faces run the gate) keeps its handlers, before, during and after the outcome."""
    codes: list[int] = []
    err = io.StringIO()

    def run() -> None:
        codes.append(
            main(
                [*WAIT, "--deploy-id", deploy(paced_emulator, "failed"), *FAST],
                env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
                stdout=io.StringIO(),
                stderr=err,
                stdin=io.StringIO(""),
            )
        )

    gate_thread = threading.Thread(target=run)
    gate_thread.start()
    gate_thread.join()
    assert codes == [1], err.getvalue()
    assert own_handlers.in_place()


AS_THE_PROCESS_EXITS = (
    "import os, signal, sys\n"
    "from gate.cli.command import main\n"
    "code = main()\n"
    "for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):\n"
    "    os.kill(os.getpid(), signum)\n"
    "sys.exit(code)\n"
)
"""The command as its entry point runs it (``sys.exit(main())``), and the runner's signals in
the instant between the gate's return and its process's exit."""


def test_signals_after_the_gate_returned_are_ignored_until_its_process_exits(
    paced_emulator: Emulator,
) -> None:
    args = [*WAIT, "--deploy-id", deploy(paced_emulator, "failed"), *FAST, "--output", "json"]
    result = subprocess.run(
        [sys.executable, "-c", AS_THE_PROCESS_EXITS, *args],
        env={**clean_env(), "HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["status"] == "failed"


def test_a_single_gate_without_an_environment_is_in_progress_from_the_start(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    """Its environment is its target's, known before the first read: ``in_progress`` is
    posted as the wait starts, on this path as on every other."""
    result = gate(
        paced_emulator,
        *WAIT,
        "--deploy-id",
        deploy(paced_emulator, "succeeded"),
        "--github-deployment",
        extra_env=workflow(github.url),
    )
    assert result.returncode == 0, result.stderr
    (deployment,) = github.deployments
    assert deployment["environment"] == "production"
    assert github.states(deployment["id"]) == ["in_progress", "success"]
    assert "warning" not in result.stderr


def test_an_unnamed_target_is_recorded_in_its_environment_never_by_its_deployment_id(
    paced_emulator: Emulator, github: GitHubApiServer, tmp_path: Path
) -> None:
    """The same GitHub environments every release: the environment id alone where no other
    target is in another environment of that id, else qualified by the app; a target's own
    name where it has one."""
    ids = {
        (app, env): paced_emulator.add_humanitec(
            "acme", app, env, Timeline([(0, "in progress"), (1, "succeeded")])
        )
        for app, env in (("shop", "eu"), ("shop", "us"), ("web", "eu"), ("web", "apac"))
    }
    targets = [
        {"app": app, "env": env, "deploy-id": deploy_id}
        for (app, env), deploy_id in ids.items()
        if env != "apac"
    ]
    targets.append({"name": "edge", "app": "web", "env": "apac", "deploy-id": ids["web", "apac"]})
    file = release(tmp_path, *targets, defaults={"provider": "humanitec", "org": "acme"})

    result = gate(
        paced_emulator, "wait-all", file, "--github-deployment", extra_env=workflow(github.url)
    )

    assert result.returncode == 0, result.stderr
    by_environment = {d["environment"]: d for d in github.deployments}
    assert set(by_environment) == {"shop/eu", "us", "web/eu", "edge"}
    assert {d["description"] for d in github.deployments} >= {
        f"Humanitec deployment {ids['shop', 'us']} in acme/shop/us"
    }
    for deployment in github.deployments:
        assert github.states(deployment["id"]) == ["in_progress", "success"]
    assert "warning" not in result.stderr


def without_humanitec_api_url(github: GitHubApiServer) -> dict[str, str]:
    """A workflow whose HUMANITEC_API_URL is unset: the public API, unless a target says."""
    return {"HUMANITEC_TOKEN": TOKEN, **workflow(github.url)}


def test_a_target_on_another_humanitec_api_gets_no_console_page_in_a_release(
    paced_emulator: Emulator, github: GitHubApiServer, tmp_path: Path
) -> None:
    deploy_id = deploy(paced_emulator, "succeeded")
    file = release(
        tmp_path,
        {"env": "production", "deploy-id": deploy_id},
        defaults={
            "provider": "humanitec",
            "org": "acme",
            "app": "shop",
            "api-url": paced_emulator.url,
        },
    )
    result = run_gate(
        "wait-all", file, *FAST, "--github-deployment", env=without_humanitec_api_url(github)
    )
    assert result.returncode == 0, result.stderr
    (deployment,) = github.deployments
    sent = github.statuses[deployment["id"]]
    assert [status["state"] for status in sent] == ["in_progress", "success"]
    assert all("environment_url" not in status for status in sent)


def test_a_single_gate_on_another_humanitec_api_gets_no_console_page(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    result = run_gate(
        *WAIT,
        "--deploy-id",
        deploy(paced_emulator, "succeeded"),
        "--api-url",
        paced_emulator.url,
        *FAST,
        "--github-deployment",
        env=without_humanitec_api_url(github),
    )
    assert result.returncode == 0, result.stderr
    (deployment,) = github.deployments
    sent = github.statuses[deployment["id"]]
    assert [status["state"] for status in sent] == ["in_progress", "success"]
    assert all("environment_url" not in status for status in sent)
