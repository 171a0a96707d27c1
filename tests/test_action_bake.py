"""The composite GitHub Action's bake inputs, its steps run as the runner runs them
(tests/actions_runner.py): a Humanitec deployment on the emulator succeeds, then the gate
bakes it against loopback HTTP probes and CloudWatch alarms on moto's loopback server. A
breach happens on the probe's N-th answer, never at a time; a bake that passes passes
however slowly the machine runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from gate.emulator import Emulator, Timeline
from tests.actions_runner import ActionRun, parse_commands, run_action, unescape_data
from tests.builders import compared_bake, humanitec_action_inputs
from tests.parts.moto_alarms import alarm_history_served
from tests.support import REPO, clean_env

HOSTILE_BODY = "down\n::error::x\n##[error]x\n::set-output name=bake-status::passed"


class _Probed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, ProbeServer)
        body = server.answered(self.path).encode()
        self.send_response(server.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class ProbeServer(ThreadingHTTPServer):
    """A loopback health endpoint that answers every path with ``status`` and ``body``, and
    keeps the paths it was asked for."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(("127.0.0.1", 0), _Probed)
        self.status = status
        self.body = body
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def answered(self, path: str) -> str:
        with self.lock:
            self.paths.append(path)
        return self.body

    def url(self, path: str = "/healthz") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def probed(request: pytest.FixtureRequest) -> Iterator[ProbeServer]:
    status, body = request.param
    server = ProbeServer(status, body)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def act(emulator: Emulator, runner_temp: Path, tmp_path: Path) -> Any:
    """Run the action on a Humanitec deployment on the emulator that succeeds."""

    def run(bake: dict[str, str], *, env: dict[str, str] | None = None) -> ActionRun:
        deploy_id = emulator.add_humanitec(
            "acme", "shop", "production", Timeline([(0, "in progress"), (0.3, "succeeded")])
        )
        inputs = humanitec_action_inputs(deploy_id, **bake)
        workspace = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
        workspace.mkdir()
        return run_action(
            REPO,
            inputs,
            env={**clean_env(), "HUMANITEC_API_URL": emulator.url, **(env or {})},
            runner_temp=runner_temp,
            workspace=workspace,
        )

    return run


def report_of(run: ActionRun) -> dict[str, Any]:
    """The JSON outcome the step wrote (its path is the json-report output)."""
    report: dict[str, Any] = json.loads(Path(run.outputs["json-report"]).read_text())
    return report


def bake_row(run: ActionRun) -> str:
    (row,) = [line for line in run.summary.splitlines() if line.startswith("| Bake |")]
    return row


@pytest.mark.parametrize("probed", [(503, HOSTILE_BODY)], indirect=True)
def test_a_probe_failing_twice_in_a_row_fails_the_step_as_a_breached_bake(
    act: Any, probed: ProbeServer
) -> None:
    run = act({"bake": "5m", "bake-interval": "0.2s", "probe": probed.url(), "probe-failures": "2"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    assert run.outputs["raw-status"] == "succeeded"
    assert run.outputs["bake-status"] == "breached"
    assert len(probed.paths) == 2, "the second failure in a row ends the five-minute bake"
    commands = parse_commands(run.stdout + run.stderr)
    assert not [c for c in commands if c.legacy], "the probe's ##[error] made a command"
    assert {c.name for c in commands} <= {"group", "endgroup", "error"}, commands
    (annotation,) = [c for c in commands if c.name == "error"]
    assert annotation.properties["title"] == f"Bake failed: probe {probed.url()}"
    said = unescape_data(annotation.data)
    assert "HTTP 503" in said
    assert "::error::x" in said, "the body is shown, as data"
    assert "##[error]x" in said
    (error,) = json.loads(run.outputs["errors"])
    assert error["scope"] == "bake"
    assert error["object_id"] == f"probe {probed.url()}"
    assert run.outputs["reason"].startswith("the deployment succeeded, then failed its bake ")
    row = bake_row(run)
    assert row.startswith("| Bake | breached after "), row
    assert "of 5m00s (2 reads)" in row, row
    assert f"HTTP probe {probed.url()}: probe 503 (2 of 2 in a row)" in row, row
    report = report_of(run)
    assert report["bake"]["status"] == "breached"
    (breach,) = report["bake"]["breaches"]
    assert breach["check"] == f"probe {probed.url()}"
    assert "2 failures in a row" in breach["detail"]


@pytest.mark.parametrize("probed", [(200, "ok")], indirect=True)
def test_a_probe_that_stays_healthy_passes_the_bake(act: Any, probed: ProbeServer) -> None:
    run = act({"bake": "1s", "bake-interval": "0.2s", "probe": probed.url()})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["status"] == "succeeded"
    assert run.outputs["bake-status"] == "passed"
    assert probed.paths, "the bake probed the endpoint"
    commands = parse_commands(run.stdout + run.stderr)
    assert not [c for c in commands if c.name == "error"], commands
    row = bake_row(run)
    assert row.startswith("| Bake | passed after "), row
    assert f"of 1.0s ({report_of(run)['bake']['reads']} reads)" in row, row
    assert f"HTTP probe {probed.url()}: probe 200" in row, row
    (check,) = report_of(run)["bake"]["checks"]
    assert check["summary"] == "probe 200"


@pytest.mark.parametrize("probed", [(503, HOSTILE_BODY)], indirect=True)
def test_a_report_only_bake_passes_the_step_and_warns_what_it_would_have_done(
    act: Any, probed: ProbeServer
) -> None:
    bake = {"bake": "1s", "bake-interval": "0.2s", "probe": probed.url(), "probe-failures": "1"}
    run = act({**bake, "bake-report-only": "true", "on-failure": "rollback"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["status"] == "succeeded"
    assert run.outputs["bake-status"] == "breached", "what the bake decided, not acted on"
    assert run.outputs["rollback-status"] == ""
    commands = parse_commands(run.stdout + run.stderr)
    assert not [c for c in commands if c.legacy], "the probe's ##[error] made a command"
    assert not [c for c in commands if c.name == "error"], commands
    (warning,) = [c for c in commands if c.name == "warning"]
    assert warning.properties["title"] == "Bake breached (report only, not acted on)"
    said = unescape_data(warning.data)
    assert said.startswith("report only: the bake would have failed "), said
    assert "::error::x" in said, "the body is shown, as data"
    row = bake_row(run)
    assert row.startswith("| Bake | breached (report only, not acted on) after "), row
    report = report_of(run)
    assert report["bake"]["report_only"] is True
    assert len(probed.paths) == report["bake"]["reads"] > 2, "the whole bake ran"


@pytest.mark.parametrize("probed", [(200, "ok")], indirect=True)
def test_each_line_of_the_probe_input_is_a_probe_of_its_own(act: Any, probed: ProbeServer) -> None:
    urls = [probed.url("/healthz"), probed.url("/readyz")]
    run = act({"bake": "1s", "bake-interval": "0.2s", "probe": "\n".join(urls) + "\n"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["bake-status"] == "passed"
    assert {"/healthz", "/readyz"} <= set(probed.paths), probed.paths
    checks = report_of(run)["bake"]["checks"]
    assert [check["kind"] for check in checks] == ["probe", "probe"]
    assert [check["summary"] for check in checks] == ["probe 200", "probe 200"]
    assert [check["watched"] for check in checks] == [f"HTTP probe {url}" for url in urls]


def test_each_line_of_the_alarm_input_is_an_alarm_of_its_own(
    act: Any, moto_server: str, aws_env: None
) -> None:
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_server, region_name="eu-west-1")
    names = ["action-bake-5xx", "action-bake-latency", "action-bake-unwatched"]
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName=name,
            Namespace="Shop",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-key"}
    with alarm_history_served():
        run = act(
            {
                "bake": "1s",
                "bake-interval": "0.2s",
                "alarm": f"{names[0]}\n{names[1]}\n",
                "alarm-region": "eu-west-1",
                "alarm-endpoint-url": moto_server,
            },
            env=aws,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["bake-status"] == "passed"
    (check,) = report_of(run)["bake"]["checks"]
    assert check["summary"] == "2 alarms OK", check
    assert check["watched"] == f"CloudWatch alarms {names[0]}, {names[1]}", "not the third"


@pytest.mark.parametrize("regressed", [True, False], ids=["regressed", "kept-its-level"])
def test_a_comparison_that_regresses_fails_the_step_and_rolls_back_and_one_kept_passes(
    act: Any, emulator: Emulator, regressed: bool
) -> None:
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    bake = compared_bake(emulator, regressed=regressed)
    inputs = {
        key.replace("_", "-"): "\n".join(value) if isinstance(value, list) else str(value)
        for key, value in bake.items()
    }
    run = act(inputs)
    (comparison,) = report_of(run)["bake"]["checks"]
    if not regressed:
        assert run.returncode == 0, run.stdout + run.stderr
        assert (run.outputs["status"], run.outputs["bake-status"]) == ("succeeded", "passed")
        assert comparison["verdict"]["outcome"] == "pass"
        assert run.outputs["rollback-status"] == ""
        assert emulator.posted == []
        return
    assert run.returncode == 1, run.stdout + run.stderr
    assert (run.outputs["status"], run.outputs["bake-status"]) == ("failed", "breached")
    assert comparison["verdict"]["outcome"] == "regression"
    (annotation,) = [c for c in parse_commands(run.stdout + run.stderr) if c.name == "error"]
    assert annotation.properties["title"] == "Bake failed: comparison error_ratio"
    assert ": regression (p < 0.05 and, at 95% confidence, a shift of +" in unescape_data(
        annotation.data
    )
    assert run.outputs["rollback-status"] == "succeeded"
    assert [body["set_id"] for _, body, _ in emulator.posted] == ["good"]  # type: ignore[index]
