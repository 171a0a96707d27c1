"""The Python component's dynamic provider in Pulumi's real dynamic-provider host, driven over
gRPC call by call as the engine drives it across several ``pulumi up`` runs (see
tests/provider_host.py). Each test here is a defect a stack user hit through this path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from gate.emulator import Emulator, Timeline
from gate.pulumi.provider import DeploymentWaitProvider
from tests.builders import FAST_PULUMI
from tests.provider_host import (
    CheckFailed,
    Client,
    ProviderError,
    Stack,
    dynamic_host,
    holds_secret,
    is_secret,
    secret,
    shown,
)
from tests.support import TOKEN

URN = "urn:pulumi:prod::shop::gate:index:DeploymentGate$pulumi-python:dynamic:Resource::prod-wait"
BOUNDED = {**FAST_PULUMI, "timeout": "30s", "request_timeout": "5s", "not_found_grace": "30s"}
SUCCEEDS = Timeline([(0, "in progress"), (0.1, "succeeded")])
FAILS = Timeline([(0, "in progress"), (0.1, "failed")])


def gate_inputs(emulator: Emulator, **target: Any) -> dict[str, Any]:
    """What :class:`gate.pulumi.DeploymentGate` registers for a Humanitec target; an input
    given as :func:`secret` is named in ``secret_inputs``, as the component names it."""
    return {
        "provider": "humanitec",
        "org": "acme",
        "app": "shop",
        "env": "production",
        "deploy_id": None,
        "latest": True,
        "api_url": emulator.url,
        **BOUNDED,
        **target,
        "secret_inputs": [key for key, value in target.items() if holds_secret(value)],
        "__provider": serialize_provider(DeploymentWaitProvider()),
    }


def ambient(**extra: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "SYSTEMROOT", "TMPDIR")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


@pytest.fixture
def host() -> Iterator[Client]:
    with dynamic_host(ambient(HUMANITEC_TOKEN=TOKEN)) as client:
        client.configure({})
        yield client


def test_latest_mode_waits_again_on_the_next_up_and_sees_a_newer_failure(
    emulator: Emulator, host: Client
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(host, URN)
    assert stack.up(gate_inputs(emulator))["status"] == "succeeded"
    newer = emulator.add_humanitec("acme", "shop", "production", FAILS)
    with pytest.raises(ProviderError, match="deployment gate failed") as failed:
        stack.up(gate_inputs(emulator))
    assert newer in str(failed.value)
    assert stack.calls[-2:] == ["Diff", "Update"]


def test_triggers_decide_when_latest_mode_waits_again(emulator: Emulator, host: Client) -> None:
    first = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(host, URN)
    assert stack.up(gate_inputs(emulator, triggers=["v1"]))["target"]["deploy_id"] == first
    second = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    reads = len(emulator.requests)
    assert stack.up(gate_inputs(emulator, triggers=["v1"]))["target"]["deploy_id"] == first
    assert len(emulator.requests) == reads, "unchanged triggers read nothing"
    assert stack.up(gate_inputs(emulator, triggers=["v2"]))["target"]["deploy_id"] == second
    assert stack.calls[-3:] == ["Diff", "Create", "Delete"], "new triggers replace the gate"


def test_new_timing_on_a_pinned_deployment_keeps_the_outcome_without_reading(
    emulator: Emulator, host: Client
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(host, URN)
    pinned = gate_inputs(emulator, deploy_id=deploy_id, latest=False)
    stack.up(pinned)
    reads = len(emulator.requests)
    assert stack.up({**pinned, "timeout": "45m"})["status"] == "succeeded"
    assert len(emulator.requests) == reads
    assert stack.calls[-2:] == ["Diff", "Update"]


def test_a_deploy_id_output_that_resolved_to_nothing_fails_check_instead_of_following_latest(
    emulator: Emulator, host: Client
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    with pytest.raises(CheckFailed) as failed:
        Stack(host, URN).up(gate_inputs(emulator, deploy_id=None, latest=False))
    assert [prop for prop, _ in failed.value.failures] == ["deploy_id"]
    assert "has no value" in str(failed.value)
    assert emulator.requests == []


def test_ids_that_resolved_to_nothing_never_fall_back_to_the_environment(
    emulator: Emulator,
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    env = ambient(HUMANITEC_TOKEN=TOKEN, HUMANITEC_ORG="acme", HUMANITEC_APP="shop")
    with dynamic_host(env) as client, pytest.raises(CheckFailed) as failed:
        Stack(client, URN).up(gate_inputs(emulator, org=None, app=""))
    assert sorted(prop for prop, _ in failed.value.failures) == ["app", "org"]


@pytest.mark.parametrize(
    ("options", "prop", "words"),
    [
        ({"interval": "5m", "max_interval": "1m"}, "interval", "not exceed max_interval (1m00s)"),
        ({"interval": "1m", "max_interval": None}, "interval", "unless max_interval is set"),
        ({"timeout": "soon"}, "timeout", "timeout 'soon' is not a duration"),
        ({"request_timeout": 0}, "request_timeout", "request_timeout must be more than 0"),
        ({"api_url": "ftp://example.com"}, "api_url", "is not an http(s) URL"),
        ({"api_url": "http://api.example.com"}, "api_url", "or set allow_plain_http if"),
        ({"deploy_id": "../admin", "latest": False}, "deploy_id", "deploy_id '../admin' is not"),
        ({"latest": True, "deploy_id": "abc"}, "deploy_id", "set deploy_id or latest, not both"),
    ],
    ids=[
        "interval-over-max",
        "interval-over-default-max",
        "bad-duration",
        "zero-request-timeout",
        "not-http",
        "plain-http-elsewhere",
        "id-with-a-path",
        "id-and-latest",
    ],
)
def test_check_refuses_what_cannot_work_by_input_name_before_any_read(
    emulator: Emulator, host: Client, options: dict[str, Any], prop: str, words: str
) -> None:
    with pytest.raises(CheckFailed) as failed:
        Stack(host, URN).up(gate_inputs(emulator, **options))
    assert [name for name, _ in failed.value.failures] == [prop]
    assert words in str(failed.value)
    assert "--" not in str(failed.value), "never a CLI flag name"
    assert emulator.requests == []


def test_no_token_anywhere_fails_check_saying_where_to_put_one(emulator: Emulator) -> None:
    with dynamic_host(ambient()) as client:
        client.configure({})
        with pytest.raises(CheckFailed) as failed:
            Stack(client, URN).up(gate_inputs(emulator))
    assert "set the stack's secret config gate:humanitecToken" in str(failed.value)


def test_the_stack_secret_config_wins_over_the_environment_and_a_refusal_names_it(
    emulator: Emulator,
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    with dynamic_host(ambient(HUMANITEC_TOKEN=TOKEN)) as client:
        client.configure({"gate:humanitecToken": "stale-config-token-0123"})
        with pytest.raises(ProviderError) as refused:
            Stack(client, URN).up(gate_inputs(emulator))
    said = str(refused.value)
    assert "refused the token from the secret config gate:humanitecToken" in said
    assert "stale-config-token-0123" not in said
    assert TOKEN not in said

    with dynamic_host(ambient(HUMANITEC_TOKEN="stale-env-token-0123456")) as client:
        client.configure({})
        with pytest.raises(ProviderError) as refused:
            Stack(client, URN).up(gate_inputs(emulator))
    assert "refused the token from HUMANITEC_TOKEN in the environment" in str(refused.value)


def test_a_failed_gate_says_its_message_first_above_the_hosts_traceback(
    emulator: Emulator, host: Client
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        FAILS,
        errors=[{"scope": "workload", "object_id": "api", "code": "E1", "message": "crashed"}],
    )
    with pytest.raises(ProviderError) as failed:
        Stack(host, URN).up(gate_inputs(emulator, deploy_id=deploy_id, latest=False))
    lines = str(failed.value).splitlines()
    assert "DeploymentGateFailed: deployment gate failed: humanitec deployment" in lines[0]
    assert f"deploy_id={deploy_id}" in lines[0]
    assert lines[1] == "  - [workload api] E1: crashed"
    assert "Traceback" not in "\n".join(lines[:2])


def test_skip_await_records_the_gate_without_any_api_call(emulator: Emulator, host: Client) -> None:
    outputs = Stack(host, URN).up(gate_inputs(emulator, skip_await=True))
    assert outputs["status"] == "skipped"
    assert outputs["target"] == {"org": "acme", "app": "shop", "env": "production"}
    assert emulator.requests == []


def test_a_skipped_gate_waits_once_it_is_no_longer_told_to_skip(
    emulator: Emulator, host: Client
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(host, URN)
    pinned = gate_inputs(emulator, deploy_id=deploy_id, latest=False)
    stack.up({**pinned, "skip_await": True})
    assert stack.up(pinned)["status"] == "succeeded"
    assert emulator.requests, "the gate read the deployment once skip_await was dropped"


def test_a_secret_input_is_never_shown_in_an_id_an_output_a_failure_or_the_hosts_log(
    emulator: Emulator, host: Client
) -> None:
    failed_id, passed_id = "s3cr3t-dep10y-0f3c", "s3cr3t-passed-9a8b"
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "failed")]),
        deploy_id=failed_id,
        errors=[{"code": "E1", "message": f"deployment {failed_id} crashed"}],
    )
    with pytest.raises(ProviderError) as failed:
        Stack(host, URN).up(gate_inputs(emulator, deploy_id=secret(failed_id), latest=False))
    assert "E1: deployment *** crashed" in str(failed.value)

    emulator.add_humanitec(
        "acme", "shop", "staging", Timeline([(0, "succeeded")]), deploy_id=passed_id
    )
    stack = Stack(host, URN)
    pinned = gate_inputs(emulator, env="staging", deploy_id=secret(passed_id), latest=False)
    created = stack.up(pinned)
    assert stack.id.startswith("humanitec/acme/shop/staging/secret-")
    assert created["status"] == "succeeded"
    assert is_secret(created["target"])
    updated = stack.up({**pinned, "timeout": "45m"})
    assert stack.calls[-2:] == ["Diff", "Update"]
    assert is_secret(updated["target"]), "the recorded target stays secret"

    long_url = f"{emulator.url}/?token={'s3cr3t' * 40}"
    refusals = []
    for given in (
        {"deploy_id": secret("../s3cr3t-bad"), "latest": False},
        {"api_url": secret(long_url)},
    ):
        with pytest.raises(CheckFailed) as refused:
            host.check(URN, {}, gate_inputs(emulator, **given))
        refusals.append(str(refused.value))
    assert host.log is not None
    said = [str(failed.value), stack.id, shown(created), shown(updated), *refusals]
    said.append(host.log.read_text())
    for secret_text in (failed_id, passed_id, "s3cr3t-bad", "s3cr3ts3cr3t"):
        assert not any(secret_text in text for text in said), secret_text
