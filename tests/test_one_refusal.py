"""One refusal everywhere: each bad value of each number and duration option, fed through every
face (``gate wait``'s flags, ``gate wait-all``'s flags, a targets file's target and its
defaults, the Python component's dynamic provider in Pulumi's real host, the native provider
over gRPC), is refused with the same one-line reason, the option spelled as that face spells
it, and exit 2 on the command. The action's inputs are ``gate wait`` flags (action.yml)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from gate.cli.command import main
from gate.core.description import camel_case, cli_flag, file_key
from gate.pulumi.provider import DeploymentWaitProvider
from tests.provider_host import CheckFailed, Client, dynamic_host, native_host
from tests.support import TOKEN
from tests.test_pulumi_host import ambient

PROBE = "http://127.0.0.1:9/health"
IDS = {"org": "acme", "app": "shop", "env": "production", "deploy_id": "d1"}
NEEDS: dict[str, dict[str, Any]] = {
    "timeout": {},
    "interval": {},
    "max_interval": {},
    "request_timeout": {},
    "not_found_grace": {},
    "bake": {"probe": [PROBE]},
    "bake_interval": {"bake": "1m", "probe": [PROBE]},
    "probe_failures": {"bake": "1m", "probe": [PROBE]},
}
"""Each option, and what it needs beside it to be read at all (a bake's checks)."""

MORE_THAN_0 = " must be more than 0 and at most 168h"
WRONG_DURATION = " must be a duration such as 90s or 20m, not true or false"
DURATION = [
    ("0", MORE_THAN_0),
    (0, MORE_THAN_0),
    ("0s", MORE_THAN_0),
    ("-5", MORE_THAN_0),
    (-5, MORE_THAN_0),
    ("200h", MORE_THAN_0),
    (1e9, MORE_THAN_0),
    ("soon", " 'soon' is not a duration (try 90, 90s, 15m, 1h or 1h30m)"),
    (True, WRONG_DURATION),
]
GRACE = [
    ("-1", " must be 0 or more and at most 168h"),
    (-1, " must be 0 or more and at most 168h"),
    ("200h", " must be 0 or more and at most 168h"),
    ("soon", " 'soon' is not a duration (try 90, 90s, 15m, 1h or 1h30m)"),
    (True, WRONG_DURATION),
]
COUNT = [
    ("0", " must be a whole number 1 to 1000"),
    (0, " must be a whole number 1 to 1000"),
    ("-5", " must be a whole number 1 to 1000"),
    ("2.5", " must be a whole number 1 to 1000"),
    (1001, " must be a whole number 1 to 1000"),
    ("most", " must be a number, not 'most'"),
    (True, " must be a number, not true or false"),
]
BAD = [
    (key, value, reason)
    for key in NEEDS
    for value, reason in {"not_found_grace": GRACE, "probe_failures": COUNT}.get(key, DURATION)
]


@pytest.fixture(scope="module")
def dynamic() -> Iterator[Client]:
    with dynamic_host(ambient(HUMANITEC_TOKEN=TOKEN)) as client:
        client.configure({})
        yield client


@pytest.fixture(scope="module")
def native() -> Iterator[Client]:
    with native_host({"HUMANITEC_TOKEN": TOKEN}) as (client, _):
        client.configure({})
        yield client


def command(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    err = io.StringIO()
    code = main(argv, env=env or {}, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue().strip()


def flags(given: dict[str, Any]) -> list[str]:
    said = []
    for key, value in given.items():
        for each in value if isinstance(value, list) else [value]:
            said.append(f"{cli_flag(key)}={each}")
    return said


def targets_file(path: Path, target: dict[str, Any], defaults: dict[str, Any]) -> str:
    spelled = {file_key(key): value for key, value in target.items()}
    document = {
        "defaults": {file_key(key): value for key, value in defaults.items()},
        "targets": [{"provider": "humanitec", **spelled}],
    }
    path.write_text(json.dumps(document))
    return str(path)


def refused_by_check(client: Client, urn: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(CheckFailed) as refused:
        client.check(urn, {}, inputs)
    return refused.value.failures


@pytest.mark.parametrize(
    ("key", "value", "reason"), BAD, ids=[f"{key}={value!r}" for key, value, _ in BAD]
)
def test_every_face_refuses_a_bad_value_with_the_same_reason(
    key: str, value: object, reason: str, tmp_path: Path, dynamic: Client, native: Client
) -> None:
    needs = NEEDS[key]
    if isinstance(value, str):  # a command line has only text
        ids = flags(IDS)
        said = command(["wait", "humanitec", *ids, *flags({**needs, key: value})])
        assert said == (2, f"gate: error: {cli_flag(key)}{reason}"), "gate wait"

        plain = targets_file(tmp_path / "plain.json", IDS, {})
        said = command(["wait-all", plain, *flags({**needs, key: value})])
        assert said == (2, f"gate: error: {cli_flag(key)}{reason}"), "gate wait-all's flags"

    where = f"{tmp_path / 'targets.json'}: target 1: field '{file_key(key)}'"
    path = targets_file(tmp_path / "targets.json", {**IDS, **needs, key: value}, {})
    assert command(["wait-all", path]) == (2, f"gate: error: {where}{reason}"), "a target"
    path = targets_file(tmp_path / "targets.json", {**IDS, **needs}, {key: value})
    assert command(["wait-all", path]) == (2, f"gate: error: {where}{reason}"), "defaults"

    inputs = {"provider": "humanitec", **IDS, **needs, key: value}
    python = {
        **inputs,
        "secret_inputs": [],
        "__provider": serialize_provider(DeploymentWaitProvider()),
    }
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate$pulumi-python:dynamic:Resource::g"
    assert refused_by_check(dynamic, urn, python) == [(key, f"{key}{reason}")], "dynamic"

    block = {camel_case(k): v for k, v in IDS.items()}
    top = {camel_case(k): v for k, v in {**needs, key: value}.items()}
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate::g"
    failures = refused_by_check(native, urn, {"humanitec": block, **top})
    assert failures == [(camel_case(key), f"{camel_case(key)}{reason}")], "native"


RATE = [
    ("0", " must be more than 0 and at most 1000"),
    (0, " must be more than 0 and at most 1000"),
    ("-5", " must be more than 0 and at most 1000"),
    ("1001", " must be more than 0 and at most 1000"),
    ("many", " must be a number, not 'many'"),
    (True, " must be a number, not true or false"),
]


@pytest.mark.parametrize(("value", "reason"), RATE, ids=[repr(value) for value, _ in RATE])
def test_every_face_of_many_targets_refuses_a_bad_max_rate_alike(
    value: object, reason: str, tmp_path: Path, dynamic: Client
) -> None:
    from gate.pulumi.fleet_provider import DeploymentsWaitProvider

    if isinstance(value, str):
        said = command(["wait", "humanitec", *flags(IDS), f"--max-rate={value}"])
        assert said == (2, f"gate: error: --max-rate{reason}"), "gate wait"
        plain = targets_file(tmp_path / "plain.json", IDS, {})
        said = command(["wait-all", plain, f"--max-rate={value}"])
        assert said == (2, f"gate: error: --max-rate{reason}"), "gate wait-all"
    inputs = {
        "targets": [{"name": "production", "provider": "humanitec", **IDS}],
        "max_rate": value,
        "secret_inputs": [],
        "__provider": serialize_provider(DeploymentsWaitProvider()),
    }
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGates$pulumi-python:dynamic:Resource::g"
    assert refused_by_check(dynamic, urn, inputs) == [("max_rate", f"max_rate{reason}")]


SHARE = [
    ("0", " must be more than 0% and at most 100%"),
    (0, " must be more than 0% and at most 100%"),
    ("-5%", " must be more than 0% and at most 100%"),
    ("150", " must be more than 0% and at most 100%"),
    ("most", " must be a percentage such as 95 or 95%, not 'most'"),
    (True, " must be a percentage such as 95 or 95%, not true or false"),
]


@pytest.mark.parametrize(("value", "reason"), SHARE, ids=[repr(value) for value, _ in SHARE])
def test_every_face_refuses_a_bad_share_of_devices_alike(
    value: object, reason: str, tmp_path: Path, dynamic: Client, native: Client
) -> None:
    """A provider's own number field (greengrass-v2's min_success) is read as the options are."""
    target = {"deployment_id": "d1", "min_success": value}
    if isinstance(value, str):
        said = command(["wait", "greengrass-v2", *flags(target)])
        assert said == (2, f"gate: error: --min-success{reason}"), "gate wait"
    path = tmp_path / "targets.json"
    path.write_text(json.dumps([{"provider": "greengrass-v2", **target}]))
    where = f"{path}: target 1: field 'min-success'"
    assert command(["wait-all", str(path)]) == (2, f"gate: error: {where}{reason}"), "a file"

    inputs = {"provider": "greengrass-v2", **target, "secret_inputs": []}
    inputs["__provider"] = serialize_provider(DeploymentWaitProvider())
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate$pulumi-python:dynamic:Resource::g"
    assert refused_by_check(dynamic, urn, inputs) == [("min_success", f"min_success{reason}")]

    block = {"deploymentId": "d1", "minSuccess": value}
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate::g"
    failures = refused_by_check(native, urn, {"greengrassV2": block})
    assert failures == [("greengrassV2.minSuccess", f"greengrassV2.minSuccess{reason}")]


TOGETHER = [
    (
        {"interval": "5m", "max_interval": "1m"},
        "interval",
        "{interval} (5m00s) must not exceed {max_interval} (1m00s)",
    ),
    (
        {"interval": "1m"},
        "interval",
        "{interval} (1m00s) must not exceed 15.0s, the longest gap between reads unless "
        "{max_interval} is set",
    ),
    (
        {"bake": "40m", "probe": [PROBE]},
        "bake",
        "{bake} (40m00s) must fit inside {timeout} (30m00s), with time left for the deployment",
    ),
]


@pytest.mark.parametrize(
    ("given", "key", "reason"), TOGETHER, ids=["over-max-interval", "over-15s", "bake-too-long"]
)
def test_every_face_refuses_options_that_do_not_go_together_alike(
    given: dict[str, Any],
    key: str,
    reason: str,
    tmp_path: Path,
    dynamic: Client,
    native: Client,
) -> None:
    def said(spelling: Any) -> str:
        keys = ("interval", "max_interval", "bake", "timeout")
        return reason.format_map({each: spelling(each) for each in keys})

    argv = ["wait", "humanitec", *flags({**IDS, **given})]
    assert command(argv, {"HUMANITEC_TOKEN": TOKEN}) == (2, f"gate: error: {said(cli_flag)}")
    path = targets_file(tmp_path / "targets.json", {**IDS, **given}, {})
    in_file = said(lambda each: f"field '{file_key(each)}'")
    assert command(["wait-all", path], {"HUMANITEC_TOKEN": TOKEN}) == (
        2,
        f"gate: error: {path}: target 1: {in_file}",
    )

    inputs = {"provider": "humanitec", **IDS, **given, "secret_inputs": []}
    inputs["__provider"] = serialize_provider(DeploymentWaitProvider())
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate$pulumi-python:dynamic:Resource::g"
    assert refused_by_check(dynamic, urn, inputs) == [(key, said(str))]

    block = {camel_case(each): value for each, value in IDS.items()}
    top = {camel_case(each): value for each, value in given.items()}
    urn = "urn:pulumi:prod::shop::gate:index:DeploymentGate::g"
    assert refused_by_check(native, urn, {"humanitec": block, **top}) == [(key, said(camel_case))]
