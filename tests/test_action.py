"""The composite GitHub Action: its shape, and its steps run as the runner runs them
(bash, the step's env, temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / RUNNER_TEMP)
against the package's emulator."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gate.cli.command import _provider_parser
from gate.emulator import Device, Emulator, PipelineJob, PipelineStep, Timeline
from gate.providers.registry import BUILT_IN, load_plugin
from tests.actions_runner import (
    ActionRun,
    load_action,
    parse_commands,
    run_action,
    unescape_data,
)
from tests.builders import humanitec_action_inputs
from tests.support import REPO, TOKEN, clean_env

ACTION = load_action(REPO / "action.yml")
HOSTILE = [
    {
        "scope": "workload",
        "object_id": "api",
        "code": "E1",
        "summary": "Crash",
        "message": "x\n::error::y",
    },
    {
        "scope": "workload",
        "object_id": "api",
        "code": "%0A::set-output name=status::succeeded",
        "summary": "",
        "message": "100% broken\r\n::warning::z, and: more",
    },
    {
        "scope": "",
        "object_id": "",
        "code": "E3",
        "summary": "",
        "message": "line\nghadelimiter_00000000-0000-0000-0000-000000000000\nstatus=succeeded",
    },
    {
        "scope": "<b>s</b>",
        "object_id": "o|p",
        "code": "E4",
        "summary": "**bold** [l](http://x)",
        "message": "<img src=x onerror=alert(1)> | cell | ##[error]legacy\n```",
    },
]


@pytest.fixture
def act(emulator: Emulator, runner_temp: Path, tmp_path: Path) -> Iterator[Any]:
    def run(
        inputs: dict[str, str], *, env: dict[str, str] | None = None, popen_hook: Any = None
    ) -> ActionRun:
        variables = {**clean_env(), "HUMANITEC_API_URL": emulator.url, **(env or {})}
        workspace = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
        workspace.mkdir()
        return run_action(
            REPO,
            inputs,
            env=variables,
            runner_temp=runner_temp,
            workspace=workspace,
            popen_hook=popen_hook,
        )

    return run


def all_text(run: ActionRun) -> str:
    files = "".join(path.read_text(errors="replace") for path in run.files)
    return run.stdout + run.stderr + run.summary + files


# --- shape -------------------------------------------------------------------------------


def test_inputs_cover_every_flag_of_both_providers_and_of_waiting() -> None:
    internal = {"--output", "--json-report", "--help", "--junit", "--no-device-fail-fast"}
    internal.add("--no-fail-fast")  # greengrass-v2's former flag, refused naming the new one
    assert {"targets", "max-rate", "fail-fast"} <= set(ACTION["inputs"])
    for provider in BUILT_IN:
        parser = _provider_parser(load_plugin(provider))
        flags = {
            opt
            for action in parser._actions
            for opt in action.option_strings
            if opt.startswith("--")
        } - internal
        assert {flag[2:] for flag in flags} <= set(ACTION["inputs"]), provider
    assert {"provider", "humanitec-token", "junit", "extra-args"} <= set(ACTION["inputs"])


def test_it_is_a_composite_action_with_declared_outputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    step_ids = {step.get("id") for step in ACTION["runs"]["steps"]}
    for name in (
        "status",
        "raw-status",
        "errors",
        "errors-omitted",
        "elapsed-seconds",
        "junit-report",
        "json-report",
    ):
        value = ACTION["outputs"][name]["value"]
        match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", value)
        assert match, value
        assert match.group(1) in step_ids
        assert match.group(2) == name


def test_no_expression_is_expanded_inside_a_run_script() -> None:
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], step["name"]
        for value in step.get("env", {}).values():
            assert re.fullmatch(r"\$\{\{ [\w.-]+ \}\}", str(value)), value


def test_the_gate_is_started_with_exec_so_it_receives_the_runners_signals() -> None:
    gate_step = next(step for step in ACTION["runs"]["steps"] if step.get("id") == "gate")
    assert gate_step["run"].rstrip().splitlines()[-1].strip().startswith('exec "$GATE_BIN"')


# --- running it --------------------------------------------------------------------------


def test_a_failed_deployment_fails_the_step_with_annotations_outputs_summary_and_junit(
    emulator: Emulator, act: Any
) -> None:
    errors = [
        {
            "scope": "workload",
            "object_id": "checkout",
            "code": "POD-CRASHLOOP",
            "summary": "Crash-looping",
            "message": "exit code 1",
        },
        {
            "scope": "resource",
            "object_id": "db",
            "code": "RES-005",
            "summary": "",
            "message": "timed out",
        },
    ]
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (0.3, "failed")]), errors=errors
    )
    run = act(humanitec_action_inputs(deploy_id))
    assert run.returncode == 1, run.stdout + run.stderr
    commands = parse_commands(run.stdout + run.stderr)
    annotations = [c for c in commands if c.name == "error"]
    assert [(c.properties["title"], c.data) for c in annotations] == [
        ("Deployment failed: workload checkout POD-CRASHLOOP", "Crash-looping: exit code 1"),
        ("Deployment failed: resource db RES-005", "timed out"),
    ]
    assert [c.name for c in commands if c.name in ("group", "endgroup")] == ["group", "endgroup"]
    assert run.outputs["status"] == "failed"
    assert run.outputs["raw-status"] == "failed"
    assert json.loads(run.outputs["errors"]) == [{**error, "error_type": ""} for error in errors]
    assert run.outputs["errors-omitted"] == "0"
    assert float(run.outputs["elapsed-seconds"]) > 0
    assert "### ❌ Deployment failed" in run.summary
    assert "| workload checkout | POD-CRASHLOOP | Crash-looping | exit code 1 |" in run.summary
    junit = ET.parse(run.outputs["junit-report"]).getroot()
    failure = junit.find("./testsuite/testcase/failure")
    assert failure is not None
    assert "POD-CRASHLOOP" in (failure.text or "")
    assert json.loads(Path(run.outputs["json-report"]).read_text())["status"] == "failed"
    assert TOKEN not in all_text(run)


def test_a_succeeded_deployment_passes_with_a_notice(emulator: Emulator, act: Any) -> None:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.3, "succeeded")])
    )
    run = act(humanitec_action_inputs(deploy_id))
    assert run.returncode == 0, run.stdout + run.stderr
    commands = parse_commands(run.stdout)
    assert [c.name for c in commands if c.name in ("notice", "error", "warning")] == ["notice"]
    assert run.outputs["status"] == "succeeded"
    assert json.loads(run.outputs["errors"]) == []
    assert "### ✅ Deployment succeeded" in run.summary
    assert ET.parse(run.outputs["junit-report"]).getroot().find(".//failure") is None
    assert TOKEN not in all_text(run)


def test_a_pipeline_run_fails_the_step_with_its_failed_step_and_log(
    emulator: Emulator, act: Any
) -> None:
    step = PipelineStep(
        "Deploy",
        "actions/humanitec/deploy",
        Timeline([(0, "executing"), (0.3, "failed")]),
        logs=[("ERROR", "helm: timed out waiting for the condition")],
    )
    run_id = emulator.add_pipeline_run(
        "acme",
        "shop",
        "default",
        Timeline([(0, "executing"), (0.3, "failed")]),
        jobs=[PipelineJob("deploy", step.timeline, steps=[step])],
    )
    inputs = {**humanitec_action_inputs(""), "env": "", "pipeline": "default", "run": run_id}
    run = act(inputs)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["status"] == "failed"
    errors = json.loads(run.outputs["errors"])
    assert errors[-1]["message"] == "helm: timed out waiting for the condition"
    assert TOKEN not in all_text(run)


def test_a_greengrass_v2_fleet_annotates_each_failed_device(emulator: Emulator, act: Any) -> None:
    ends = {"core-1": "SUCCEEDED", "core-2": "FAILED", "core-3": "FAILED"}
    deployment_id = emulator.add_greengrass_v2(
        [
            Device(name, Timeline([(0, "IN_PROGRESS"), (0.3, end)]), reason=f"{name} broke\n::x::")
            for name, end in ends.items()
        ],
        thing_group="line-a",
    )
    inputs = {
        "provider": "greengrass-v2",
        "deployment-id": deployment_id,
        "endpoint-url": emulator.url,
        "region": "eu-west-1",
        "min-success": "50",
        "device-fail-fast": "false",
        "interval": "0.2s",
    }
    aws = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    run = act(inputs, env=aws)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["progress"] == "1/3 devices succeeded, 2 failed"
    assert run.outputs["reason"] == "2 of 3 devices failed; 2 must succeed (50% of the devices)"
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    said = [unescape_data(e.data) for e in errors]
    assert len(said) == 2, said
    assert "core-2 broke" in said[0]
    assert "core-3 broke" in said[1]
    assert "| Devices | 1/3 devices succeeded, 2 failed |" in run.summary
    assert "s3cr3t" not in all_text(run)


def test_the_token_can_come_from_the_steps_env_instead_of_the_input(
    emulator: Emulator, act: Any
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    inputs = humanitec_action_inputs(deploy_id)
    del inputs["humanitec-token"]
    run = act(inputs, env={"HUMANITEC_TOKEN": TOKEN})
    assert run.returncode == 0, run.stdout
    assert TOKEN not in all_text(run)


def test_a_timeout_is_one_error_annotation(emulator: Emulator, act: Any) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "in progress")]))
    run = act(humanitec_action_inputs(deploy_id, timeout="0.5s"))
    assert run.returncode == 3
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert len(errors) == 1
    assert errors[0].properties["title"] == "Deployment gate timed out"
    assert run.outputs["status"] == "timed_out"
    assert ET.parse(run.outputs["junit-report"]).getroot().find(".//error") is not None


def test_a_bad_token_is_one_error_annotation_and_never_printed(
    emulator: Emulator, act: Any
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "pending")]))
    run = act(humanitec_action_inputs(deploy_id, **{"humanitec-token": "n0t-the-t0ken-0123456789"}))
    assert run.returncode == 4
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert [c.properties["title"] for c in errors] == ["Deployment status could not be read"]
    assert "HTTP 401" in errors[0].data
    assert "n0t-the-t0ken-0123456789" not in all_text(run)
    assert "add-mask" not in run.stdout


def test_hostile_api_text_creates_no_command_output_or_markup(emulator: Emulator, act: Any) -> None:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "failed")]), errors=HOSTILE
    )
    run = act(humanitec_action_inputs(deploy_id))
    assert run.returncode == 1
    commands = parse_commands(run.stdout + run.stderr)
    assert not [c for c in commands if c.legacy], "a ##[ line escaped stop-commands"
    annotations = [c for c in commands if c.name in ("error", "warning", "notice")]
    assert [c.name for c in annotations] == ["error"] * len(HOSTILE)
    assert annotations[0].data == "Crash: x\n::error::y"
    assert annotations[1].properties["title"] == (
        "Deployment failed: workload api %0A::set-output name=status::succeeded"
    )
    assert {c.name for c in commands} <= {"group", "endgroup", "error"}
    assert set(run.steps[-1].outputs) == {
        "status",
        "raw-status",
        "errors",
        "errors-omitted",
        "elapsed-seconds",
        "polls",
        "progress",
        "reason",
        "bake-status",
        "rollback-status",
        "junit-report",
        "json-report",
    }
    assert run.outputs["status"] == "failed"
    assert json.loads(run.outputs["errors"])[2]["message"] == HOSTILE[2]["message"]
    assert "<img" not in run.summary
    assert "&lt;img src=x onerror=alert(1)&gt; \\| cell \\|" in run.summary
    assert "\\*\\*bold\\*\\* \\[l\\](http://x)" in run.summary
    four_cell_rows = [
        line
        for line in run.summary.splitlines()
        if line.startswith("| ") and line.count("|") - line.count("\\|") == 5
    ]
    assert len(four_cell_rows) == 2 + len(HOSTILE), "header, separator, one row per error"
    failure = ET.parse(run.outputs["junit-report"]).getroot().find(".//failure")
    assert failure is not None
    assert "::set-output name=status::succeeded" in (failure.text or "")


def test_a_release_gates_three_environments_in_one_step(
    emulator: Emulator, act: Any, tmp_path: Path
) -> None:
    for env, ends in (("staging", "succeeded"), ("qa", "succeeded"), ("production", "failed")):
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "in progress"), (0.4, ends)]),
            errors=[{"code": "CLD-001", "message": "Incorrect credentials"}] * (ends == "failed"),
        )
    targets = tmp_path / "release.yaml"
    targets.write_text(
        "defaults: {provider: humanitec, org: acme, app: shop, latest: true}\n"
        "targets: [{env: staging}, {env: qa}, {env: production}]\n"
    )
    run = act(
        {
            "targets": str(targets),
            "humanitec-token": TOKEN,
            "interval": "0.05s",
            "max-interval": "0.2s",
        }
    )
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert [c.properties["title"] for c in errors] == ["Deployment failed: production"], (
        run.stdout + run.stderr
    )
    assert "CLD-001: Incorrect credentials" in errors[0].data
    assert run.outputs["status"] == "failed"
    assert run.outputs["summary"] == "2/3 succeeded, 1 failed"
    assert [o["name"] for o in json.loads(run.outputs["outcomes"])] == [
        "staging",
        "qa",
        "production",
    ]
    assert "Deployments: 2/3 succeeded, 1 failed" in run.summary
    cases = ET.parse(run.outputs["junit-report"]).getroot().findall(".//testcase")
    assert len(cases) == 3
    assert TOKEN not in all_text(run)


def test_provider_and_targets_together_are_refused(act: Any, tmp_path: Path) -> None:
    run = act({"provider": "humanitec", "targets": str(tmp_path / "t.yaml")})
    assert run.returncode == 2
    assert "not both" in parse_commands(run.stdout)[0].data


@pytest.mark.parametrize("provider", ["humanitec", "greengrass-v2", "targets"])
def test_fail_fast_false_is_accepted_for_every_provider_and_for_targets(
    emulator: Emulator, act: Any, tmp_path: Path, provider: str
) -> None:
    if provider == "greengrass-v2":
        deployment_id = emulator.add_greengrass_v2(
            [Device("a", Timeline([(0, "SUCCEEDED")]))], thing_group="line-a"
        )
        inputs = {
            "provider": provider,
            "deployment-id": deployment_id,
            "region": "eu-west-1",
            "endpoint-url": emulator.url,
            "interval": "0.05s",
        }
        env = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    else:
        deploy_id = emulator.add_humanitec(
            "acme", "shop", "production", Timeline([(0, "succeeded")])
        )
        inputs, env = humanitec_action_inputs(deploy_id), {}
        if provider == "targets":
            targets = tmp_path / "release.yaml"
            targets.write_text(
                "defaults: {provider: humanitec, org: acme, app: shop}\n"
                f"targets: [{{env: production, deploy-id: {deploy_id}}}]\n"
            )
            inputs = {"targets": str(targets), "humanitec-token": TOKEN}
    run = act({**inputs, "fail-fast": "false"}, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["status"] == "succeeded"


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"provider": "--help"}, "the 'provider' input must be a provider's name"),
        ({"provider": "humanitec --help"}, "the 'provider' input must be a provider's name"),
        ({"targets": "--help"}, "the 'targets' input must be a file's path, not an option"),
    ],
)
def test_an_input_that_looks_like_an_option_is_refused(
    act: Any, inputs: dict[str, str], words: str
) -> None:
    run = act(inputs)
    assert run.returncode == 2
    [error] = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert words in error.data
    if "provider" in inputs:
        assert f"(one of: {', '.join(BUILT_IN)})" in error.data, "the registry's names, all"
    assert "usage:" not in run.stdout + run.stderr, "nothing reached the gate's parser"


def test_a_value_that_starts_with_a_dash_stays_a_value(emulator: Emulator, act: Any) -> None:
    run = act({**humanitec_action_inputs("d1"), "org": "--help"})
    assert run.returncode == 2
    [error] = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert "--org '--help' is not a valid id" in error.data
    assert emulator.requests == []


def test_a_missing_provider_input_fails_with_an_annotation(act: Any) -> None:
    run = act({"org": "acme"})
    assert run.returncode == 2
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert errors
    assert "'provider' input is required" in errors[0].data
    assert f"(one of: {', '.join(BUILT_IN)})" in errors[0].data, "the registry's names, all"


def test_a_usage_error_is_annotated(act: Any) -> None:
    run = act(humanitec_action_inputs("../../x"))
    assert run.returncode == 2
    errors = [c for c in parse_commands(run.stdout) if c.name == "error"]
    assert errors
    assert "is not a valid id" in errors[0].data


def test_cancelling_the_step_reaches_the_gate_and_still_writes_outputs(
    emulator: Emulator, act: Any
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "in progress")]))

    def cancel(process: subprocess.Popen[str]) -> None:
        # Any request after the first read of the deployment (its history, the next read) is
        # made only once that read's answer was taken in: then 'in progress' is known.
        deadline = time.monotonic() + 30
        read = f"/deploys/{deploy_id}"
        while not any(read in path for path in emulator.requests[:-1]):
            assert time.monotonic() < deadline, "the gate never read the deployment"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)

    run = act(humanitec_action_inputs(deploy_id), popen_hook=cancel)
    assert run.returncode == 130
    assert run.outputs["status"] == "cancelled"
    assert run.outputs["raw-status"] == "in progress"
    assert "### 🛑 Deployment gate cancelled" in run.summary
