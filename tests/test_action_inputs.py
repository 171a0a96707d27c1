"""``gate action``: the action's inputs (``GATE_INPUT_*``) become a ``gate wait`` or ``gate
wait-all`` command line, each checked by its flag's kind, tokens only in the environment. The
whole action runs in tests/test_action.py; these are its rules, through ``gate.cli.main``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gate.cli import main
from gate.cli.action import action_inputs, from_inputs, input_variable
from gate.emulator import Emulator
from tests.actions_runner import parse_commands
from tests.support import TOKEN

HUMANITEC = {"provider": "humanitec", "org": "acme", "app": "shop", "env": "production"}


def step_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    """The gate step's environment as action.yml makes it: every input, at its default
    unless given."""
    given = {each.name: each.default for each in action_inputs() if each.step}
    given.update({name.replace("_", "-"): value for name, value in inputs.items()})
    given["github-token"] = inputs.get("github_token", "")
    given["github-ref"] = inputs.get("github_ref", "0f3c" * 10)
    return {
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(tmp_path),
        **{input_variable(name): value for name, value in given.items()},
    }


def test_an_input_at_its_default_is_not_passed_and_a_value_stays_a_value(tmp_path: Path) -> None:
    argv, _ = from_inputs([], step_env(tmp_path, **HUMANITEC, deploy_id="-d1", timeout="30m"))
    assert argv[:4] == ["wait", "humanitec", "--output", "github"]
    flags = argv[4 : argv.index("--junit")]
    assert argv[argv.index("--junit") :][2] == "--json-report"
    assert all(arg.startswith("--") for arg in flags)
    assert "--deploy-id=-d1" in flags
    assert not [arg for arg in flags if arg.startswith(("--timeout", "--interval"))]


def test_tokens_go_to_the_environment_never_the_arguments(tmp_path: Path) -> None:
    env = step_env(
        tmp_path,
        **HUMANITEC,
        deploy_id="d1",
        humanitec_token=TOKEN,
        github_token="ghs_" + "x" * 36,
        github_environment="production",
    )
    argv, gate_env = from_inputs([], env)
    assert TOKEN not in " ".join(argv)
    assert "ghs_" not in " ".join(argv)
    assert gate_env["HUMANITEC_TOKEN"] == TOKEN
    assert gate_env["GITHUB_TOKEN"].startswith("ghs_")
    assert not [name for name in gate_env if name.startswith("GATE_INPUT_")]
    assert "--github-deployment" in argv, "auto: on with an environment and a token"
    assert "--github-environment=production" in argv


def test_github_deployment_auto_without_an_environment_passes_none_of_its_inputs(
    tmp_path: Path,
) -> None:
    argv, gate_env = from_inputs([], step_env(tmp_path, **HUMANITEC, deploy_id="d1"))
    assert not [arg for arg in argv if arg.startswith(("--github", "--environment-url"))]
    assert "GITHUB_TOKEN" not in gate_env


@pytest.mark.parametrize(
    ("provider", "given", "flags"),
    [
        ("greengrass-v2", {"device_fail_fast": "false"}, ["--no-device-fail-fast"]),
        ("greengrass-v2", {"device_fail_fast": "true"}, []),
        ("greengrass-v2", {"fail_fast": "true"}, ["--fail-fast"]),
        ("humanitec", {"fail_fast": "false"}, []),
        ("humanitec", {"fail_fast": "true"}, ["--fail-fast"]),
    ],
)
def test_a_flag_that_is_on_by_default_is_turned_off_by_its_no_flag(
    tmp_path: Path, provider: str, given: dict[str, str], flags: list[str]
) -> None:
    argv, _ = from_inputs([], step_env(tmp_path, provider=provider, **given))
    assert [arg for arg in argv if arg.endswith("fail-fast")] == flags


def test_a_list_input_is_one_flag_a_line(tmp_path: Path) -> None:
    env = step_env(tmp_path, **HUMANITEC, probe="https://a.example/\n\n  https://b.example/\n")
    argv, _ = from_inputs([], env)
    assert [arg for arg in argv if arg.startswith("--probe=")] == [
        "--probe=https://a.example/",
        "--probe=https://b.example/",
    ]


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"latest": "yes"}, "the 'latest' input must be true or false, not 'yes'"),
        ({"dry_run": "1"}, "the 'dry-run' input must be true or false, not '1'"),
        (
            {"github_deployment": "on"},
            "the 'github-deployment' input must be true, false or auto, not 'on'",
        ),
    ],
)
def test_a_true_or_false_input_is_refused_by_name_before_any_read(
    tmp_path: Path, emulator: Emulator, inputs: dict[str, str], words: str
) -> None:
    env = {**step_env(tmp_path, **HUMANITEC, deploy_id="d1", **inputs), "HUMANITEC_TOKEN": TOKEN}
    env["HUMANITEC_API_URL"] = emulator.url
    out, err = io.StringIO(), io.StringIO()
    assert main(["action"], env=env, stdout=out, stderr=err) == 2
    [error] = [c for c in parse_commands(out.getvalue()) if c.name == "error"]
    assert words in error.data
    assert emulator.requests == []
