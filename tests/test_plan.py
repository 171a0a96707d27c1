"""A plan, read once: every option of a gate beyond its target is read by
:func:`gate.waiting.plan.read_plan`, so the command line, a targets file and the library refuse
the same values with the same words; and a single gate is a release of one, so it tells
GitHub what ``gate wait-all`` tells it for the same target."""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gate.cli.command import main
from gate.core.description import FieldError, cli_flag, file_key
from gate.emulator import Emulator, Timeline
from gate.waiting.engine import wait
from gate.waiting.fleet import wait_all
from gate.waiting.plan import FOR_EACH_TARGET, read_plan
from tests import test_bake_cli, test_one_refusal
from tests.builders import FAST
from tests.parts.github_api import GitHubApiServer, github_api
from tests.support import TOKEN
from tests.test_github_deployments import GITHUB_TOKEN, workflow

cloudwatch = test_bake_cli.cloudwatch  # a fixture: the alarms a bake reads, in moto

IDS = test_one_refusal.IDS
NEEDS: dict[str, dict[str, Any]] = {**test_one_refusal.NEEDS, "max_rate": {}}
"""Every plan option whose value has a rule, and what it needs beside it to be read."""
IN_A_FILE = {key for key in NEEDS if key in FOR_EACH_TARGET or key.startswith(("bake", "probe"))}
"""What a target in a file may plan for itself (the release's rate is the command line's)."""
TEXTS = ["0", "-5", "soon"]
"""Bad values a command line can give."""
OTHERS: list[object] = [0, -5, True, [1]]
"""Bad values only a file or a library can give."""


def refusal(given: dict[str, Any]) -> FieldError:
    with pytest.raises(FieldError) as refused:
        read_plan(given, {})
    return refused.value


def command(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(argv, env={}, stdout=io.StringIO(), stderr=err, stdin=io.StringIO(""))
    return code, err.getvalue().strip()


def flags(given: dict[str, Any]) -> list[str]:
    return [f"{cli_flag(key)}={each}" for key, value in given.items() for each in _many(value)]


def _many(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def targets_file(path: Path, given: dict[str, Any]) -> str:
    target = {file_key(key): value for key, value in {**IDS, **given}.items()}
    path.write_text(json.dumps({"targets": [{"provider": "humanitec", **target}]}))
    return str(path)


def _refused(key: str, value: object) -> bool:
    try:
        read_plan({**NEEDS[key], key: value}, {})
    except FieldError:
        return True
    return False


CASES = [(key, value) for key in NEEDS for value in [*TEXTS, *OTHERS] if _refused(key, value)]


@pytest.mark.parametrize(("key", "value"), CASES, ids=[f"{k}={v!r}" for k, v in CASES])
def test_the_command_line_a_targets_file_and_the_library_refuse_alike(
    key: str, value: object, tmp_path: Path
) -> None:
    given = {**NEEDS[key], key: value}
    refused = refusal(given)
    assert refused.key == key
    said = refused.worded(cli_flag)
    if isinstance(value, str):
        ids = flags(IDS)
        assert command(["wait", "humanitec", *ids, *flags(given)]) == (2, f"gate: error: {said}")
        path = targets_file(tmp_path / "plain.json", {})
        assert command(["wait-all", path, *flags(given)]) == (2, f"gate: error: {said}")
    if key in IN_A_FILE:
        path = targets_file(tmp_path / "targets.json", given)
        where = f"{path}: target 1"
        assert command(["wait-all", path]) == (2, f"gate: error: {where}: {refused.in_file()}")


def test_a_plan_keeps_every_default_where_its_field_declares_it() -> None:
    from gate.bake.options import AFTER_SUCCESS
    from gate.waiting.options import RELEASE_OPTIONS, WAITING_OPTIONS

    plan = read_plan({})
    assert plan.waiting.timeout == WAITING_OPTIONS.field("timeout").default
    assert plan.waiting.interval == WAITING_OPTIONS.field("interval").default
    assert plan.waiting.not_found_grace == WAITING_OPTIONS.field("not_found_grace").default
    assert plan.request_timeout == WAITING_OPTIONS.field("request_timeout").default
    assert plan.max_rate == RELEASE_OPTIONS.field("max_rate").default
    assert plan.on_failure == AFTER_SUCCESS.field("on_failure").default
    assert (plan.fail_fast, plan.dry_run, plan.output) == (False, False, "text")
    assert read_plan({}, {"GITHUB_ACTIONS": "true"}).output == "github"


def test_the_engine_takes_a_target_and_a_plan() -> None:
    """``wait(provider, plan, ...)``: the clocks and a release's share of the timeout are one
    Timing, the target's bake and what it tells the rest."""
    assert list(inspect.signature(wait).parameters) == [
        "provider",
        "plan",
        "reporter",
        "bake",
        "telemetry",
        "timing",
    ]
    assert len(inspect.signature(wait_all).parameters) <= 7


# A single gate is a release of one


@pytest.fixture
def github() -> Iterator[GitHubApiServer]:
    with github_api(GITHUB_TOKEN) as server:
        yield server


def told(github: GitHubApiServer) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Each deployment GitHub was told of: its environment, and each status's state and
    environment URL."""
    with github.lock:
        return [
            (
                deployment["environment"],
                [
                    (status["state"], status.get("environment_url"))
                    for status in github.statuses[deployment["id"]]
                ],
            )
            for deployment in github.deployments
        ]


def test_a_single_gate_tells_github_what_a_release_of_it_tells(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    target = {**IDS, "deploy_id": deploy_id}
    url = "https://shop.example.com"
    telling = ["--github-deployment", "--environment-url", url, *FAST]
    heard = []
    for argv in (
        ["wait", "humanitec", *flags(target), *telling],
        ["wait-all", targets_file(tmp_path / "one.json", {"deploy_id": deploy_id}), *telling],
    ):
        with github_api(GITHUB_TOKEN) as github:
            env = {
                "HUMANITEC_API_URL": paced_emulator.url,
                "HUMANITEC_TOKEN": TOKEN,
                **workflow(github.url),
            }
            err = io.StringIO()
            code = main(argv, env=env, stdout=io.StringIO(), stderr=err, stdin=io.StringIO(""))
            assert code == 0, err.getvalue()
            assert "warning" not in err.getvalue()
            heard.append(told(github))
    single, release = heard
    assert single == [("production", [("in_progress", url), ("success", url)])]
    assert single == release


@pytest.mark.usefixtures("cloudwatch")
def test_a_release_whose_target_cannot_bake_is_refused_naming_it_as_a_single_gate_is(
    emulator: Emulator, moto_server: str, tmp_path: Path
) -> None:
    """A check that can never work (an alarm that does not exist) is exit 2 before waiting,
    for a target of many as for a single gate: the same path, not a wait that never ends."""
    from tests.parts.moto_alarms import alarm_history_served
    from tests.support import run_gate

    for env in ("eu", "us"):
        emulator.add_humanitec("acme", "shop", env, Timeline([(0, "in progress")]))
    gone = {"bake": "2s", "alarm": ["checkout-gone"], "alarm-endpoint-url": moto_server}
    path = tmp_path / "release.json"
    targets = [{"name": "eu", "env": "eu", "latest": True, **gone}, {"env": "us", "latest": True}]
    shared = {"provider": "humanitec", "org": "acme", "app": "shop", "interval": "0.05s"}
    path.write_text(json.dumps({"defaults": shared, "targets": targets}))
    with alarm_history_served():
        result = run_gate(
            "wait-all",
            str(path),
            env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **test_bake_cli.AWS},
        )
    assert result.returncode == 2, result.stderr
    assert "gate: error: eu: " in result.stderr
    assert "no CloudWatch alarm checkout-gone" in result.stderr
