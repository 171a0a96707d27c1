"""The Pulumi component, run without the engine: Pulumi's mocks plus the real dynamic provider,
decoded from its serialized form as the provider host does (see tests/pulumi_harness.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import runpy
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import dill
import pulumi
import pytest

from gate.emulator import Device, Emulator, Fault, Timeline
from gate.pulumi import (
    DeploymentGate,
    DeploymentGateArgs,
    DeploymentGates,
    DeploymentGatesArgs,
    GreengrassTarget,
    GreengrassV2Target,
    HumanitecTarget,
)
from gate.pulumi.fleet_provider import DeploymentsWaitProvider
from gate.pulumi.provider import DeploymentGateFailed, DeploymentWaitProvider
from gate.waiting.engine import LAST_READ_SECONDS
from tests.builders import FAST_PULUMI, compared_bake
from tests.pulumi_harness import (
    DynamicProviderHost,
    fresh_runtime,
    install,
    known,
    run_program,
    secret,
    settle,
)
from tests.support import REPO, TOKEN, moto_greengrass_deployment, set_moto_status

EXAMPLES = REPO / "pulumi_examples"
ERRORS = [
    {
        "scope": "workload",
        "object_id": "api",
        "code": "CLD-001",
        "summary": "Provider error",
        "message": "Incorrect credentials",
    },
    {
        "scope": "resource",
        "object_id": "db",
        "code": "RES-5",
        "summary": "",
        "message": "timed out",
    },
]


@pytest.fixture(autouse=True)
def fresh_event_loop() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


def gate_message(host: DynamicProviderHost) -> str:
    """The gate's own message: the cause that the dynamic provider host prints first."""
    [message] = host.first_said
    return message


@pytest.fixture(autouse=True)
def pulumi_runtime() -> Iterator[None]:
    """Each test runs Pulumi on an event loop of its own, whichever tests ran before it."""
    with fresh_runtime():
        yield


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> DynamicProviderHost:
    monkeypatch.setenv("HUMANITEC_TOKEN", TOKEN)
    registered = DynamicProviderHost()
    install(registered)
    return registered


def humanitec_gate(
    emulator: Emulator, deploy_id: pulumi.Input[str] | None, **options: Any
) -> DeploymentGate:
    target = HumanitecTarget(
        org="acme", app="shop", env="production", deploy_id=deploy_id, api_url=emulator.url
    )
    return DeploymentGate(
        "production", DeploymentGateArgs(target=target, **{**FAST_PULUMI, **options})
    )


def test_a_succeeded_deployment_gives_the_outputs(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.3, "succeeded")])
    )
    gate = run_program(lambda: humanitec_gate(emulator, deploy_id))
    status, raw, errors, finished, elapsed, target = settle(
        gate.status,
        gate.raw_status,
        gate.errors,
        gate.finished_at,
        gate.elapsed_seconds,
        gate.target,
    )
    assert (status, raw, errors) == ("succeeded", "succeeded", [])
    assert finished.endswith("Z")
    assert elapsed >= 0
    assert target["deploy_id"] == deploy_id
    component, wait = host.resources[0], host.resources[-1]
    assert component.typ == "gate:index:DeploymentGate"
    assert wait.typ == "pulumi-python:dynamic/gate:DeploymentWait"


def test_a_failed_deployment_fails_the_update_listing_every_error(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (0.2, "failed")]), errors=ERRORS
    )
    with pytest.raises(DeploymentGateFailed, match=r"\(the gate's full message is above\)$"):
        run_program(lambda: humanitec_gate(emulator, deploy_id))
    message = gate_message(host)
    assert message.startswith("deployment gate failed: humanitec deployment")
    assert "[workload api] CLD-001 Provider error: Incorrect credentials" in message
    assert "[resource db] RES-5: timed out" in message
    assert TOKEN not in message


def test_a_deadline_fails_the_update_as_timed_out(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "in progress")]))
    with pytest.raises(DeploymentGateFailed, match=r"deployment gate timed_out.*'in progress'"):
        run_program(lambda: humanitec_gate(emulator, deploy_id, timeout=0.5))


def test_an_api_that_never_finishes_answering_fails_the_update_by_the_gates_timeout(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    emulator.inject(Fault.endless_chunks(0.1), times=1000)
    began = time.monotonic()
    with pytest.raises(DeploymentGateFailed, match="no answer within the request timeout"):
        run_program(lambda: humanitec_gate(emulator, deploy_id, timeout="2s", request_timeout="1h"))
    assert time.monotonic() - began < 2 + LAST_READ_SECONDS + 1


def test_preview_never_waits_and_calls_no_api(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANITEC_TOKEN", TOKEN)
    previewing = DynamicProviderHost(preview=True)
    install(previewing)
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "in progress")]))
    gate = run_program(lambda: humanitec_gate(emulator, deploy_id))
    assert known(gate.status) is False
    assert emulator.requests == []
    assert [r.typ for r in previewing.resources][-1].endswith("DeploymentWait")


def test_ids_can_be_outputs_of_another_resource(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))

    def program() -> DeploymentGate:
        created = pulumi.CustomResource(
            "humanitec:index:Deployment", "release", {"deployId": deploy_id}
        )
        return humanitec_gate(emulator, created.deployId)  # type: ignore[attr-defined]

    [target] = settle(run_program(program).target)
    assert target["deploy_id"] == deploy_id


def test_the_latest_deployment_with_the_token_from_a_config_secret(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUMANITEC_TOKEN", raising=False)
    configured = DynamicProviderHost(config={"gate:humanitecToken": TOKEN})
    install(configured)
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    [target] = settle(run_program(lambda: humanitec_gate(emulator, None)).target)
    assert target["deploy_id"] == deploy_id
    for serialized in configured.serialized_providers:
        assert TOKEN.encode() not in base64.b64decode(serialized)
    wait = configured.resources[-1]
    assert TOKEN not in repr(wait.inputs) + repr(wait.outputs)


def test_the_serialized_provider_holds_no_token_even_after_configure() -> None:
    provider = DeploymentWaitProvider()
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    provider.configure(ConfigureRequest(Config({"gate:humanitecToken": TOKEN}, "p")))
    payload = dill.dumps(provider, recurse=True)
    assert TOKEN.encode() not in payload
    assert isinstance(dill.loads(payload), DeploymentWaitProvider)


def test_no_token_anywhere_is_a_clear_failure(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUMANITEC_TOKEN", raising=False)
    install(DynamicProviderHost())
    with pytest.raises(ValueError, match="check failed: : no Humanitec token: set the stack's"):
        run_program(lambda: humanitec_gate(emulator, "d1"))


@pytest.mark.parametrize(
    ("target", "options", "words"),
    [
        (
            HumanitecTarget(org="acme", app="shop", env="production", deploy_id="../x"),
            {},
            "deploy_id",
        ),
        (
            HumanitecTarget(org="acme", app="shop", env="production", deploy_id="d1"),
            {"timeout": "soon"},
            "timeout",
        ),
        (GreengrassTarget(group_id="g/1", deployment_id="d1"), {}, "group_id"),
    ],
    ids=["path-traversal", "bad-duration", "bad-group-id"],
)
def test_check_refuses_bad_inputs_before_anything_runs(
    emulator: Emulator,
    host: DynamicProviderHost,
    target: Any,
    options: dict[str, str],
    words: str,
) -> None:
    with pytest.raises(ValueError, match=f"check failed: {words}"):
        run_program(lambda: DeploymentGate("bad", DeploymentGateArgs(target=target, **options)))
    assert emulator.requests == []


def test_greengrass_on_moto(host: DynamicProviderHost, aws_env: None, moto_server: str) -> None:
    client = boto3.client("greengrass", region_name="eu-west-1", endpoint_url=moto_server)
    group_id, deployment_id = moto_greengrass_deployment(client)
    set_moto_status(deployment_id, "Success")
    gate = run_program(
        lambda: DeploymentGate(
            "gg",
            DeploymentGateArgs(
                target=GreengrassTarget(
                    group_id=group_id,
                    deployment_id=deployment_id,
                    region="eu-west-1",
                    endpoint_url=moto_server,
                ),
                **FAST_PULUMI,
            ),
        )
    )
    assert settle(gate.status, gate.raw_status) == ["succeeded", "Success"]


def fleet(emulator: Emulator, *ends: str) -> str:
    return emulator.add_greengrass_v2(
        [
            Device(
                f"core-{n}", Timeline([(0, "IN_PROGRESS"), (0.2, end)]), reason=f"core-{n} broke"
            )
            for n, end in enumerate(ends, start=1)
        ],
        thing_group="line-a",
    )


def test_greengrass_v2_outputs_the_device_counts_and_results(
    host: DynamicProviderHost, aws_env: None, emulator: Emulator
) -> None:
    deployment_id = fleet(emulator, "SUCCEEDED", "SUCCEEDED")
    target = GreengrassV2Target(
        deployment_id=deployment_id, region="eu-west-1", endpoint_url=emulator.url
    )
    gate = run_program(
        lambda: DeploymentGate("fleet", DeploymentGateArgs(target=target, **FAST_PULUMI))
    )
    assert settle(gate.status, gate.progress) == ["succeeded", "2/2 devices succeeded"]
    [devices] = settle(gate.devices)
    assert [d["device"] for d in devices] == ["core-1", "core-2"]


def test_greengrass_v2_fails_the_update_naming_each_failed_device(
    host: DynamicProviderHost, aws_env: None, emulator: Emulator
) -> None:
    deployment_id = fleet(emulator, "SUCCEEDED", "FAILED", "FAILED")
    target = GreengrassV2Target(
        deployment_id=deployment_id,
        min_success=50,
        device_fail_fast=False,
        region="eu-west-1",
        endpoint_url=emulator.url,
    )
    with pytest.raises(DeploymentGateFailed, match=r"\(the gate's full message is above\)$"):
        run_program(
            lambda: DeploymentGate("fleet", DeploymentGateArgs(target=target, **FAST_PULUMI))
        )
    message = gate_message(host)
    assert message.startswith("deployment gate failed: greengrass-v2 deployment")
    assert "2 of 3 devices failed" in message
    assert "[device core-2] FAILED: core-2 broke" in message
    assert "[device core-3] FAILED: core-3 broke" in message


@pytest.mark.parametrize(
    ("policy", "field"),
    [({"min_success": 0}, "min_success"), ({"unfinished_devices": "skip"}, "unfinished_devices")],
)
def test_check_refuses_a_fleet_policy_that_cannot_work(policy: dict[str, Any], field: str) -> None:
    news = {"provider": "greengrass-v2", "deployment_id": "d1", **policy}
    result = DeploymentWaitProvider().check({}, news)
    assert [failure.property for failure in result.failures] == [field]


def test_the_greengrass_v2_example_program(aws_env: None, emulator: Emulator) -> None:
    project = "greengrass-v2-gate"
    deployment_id = fleet(emulator, "SUCCEEDED", "SUCCEEDED", "FAILED", "SUCCEEDED")
    install(
        DynamicProviderHost(
            project=project,
            config={
                f"{project}:deploymentId": deployment_id,
                f"{project}:minSuccess": "75",
                f"{project}:region": "eu-west-1",
                f"{project}:endpointUrl": emulator.url,
                f"{project}:interval": "0.05s",
            },
        )
    )
    program = EXAMPLES / "greengrass-v2" / "__main__.py"
    exported = run_program(lambda: runpy.run_path(str(program)))
    status, progress = settle(exported["gate"].status, exported["gate"].progress)
    assert status == "succeeded"  # 3 of 4 devices: the 75% the stack config asks for
    assert progress == "3/4 devices succeeded, 1 failed"


# --- the provider's other operations, called directly ----------------------------------

OLD = {
    "provider": "humanitec",
    "org": "acme",
    "app": "shop",
    "env": "production",
    "deploy_id": "d1",
    "latest": False,
    "api_url": None,
    "timeout": 1800.0,
    "status": "succeeded",
    "raw_status": "succeeded",
    "errors": [],
    "finished_at": "2026-11-23T10:00:00.000Z",
    "elapsed_seconds": 95.0,
    "target": {"org": "acme", "app": "shop", "env": "production", "deploy_id": "d1"},
}


def test_diff_replaces_when_the_target_changes() -> None:
    provider = DeploymentWaitProvider()
    assert provider.diff("id", OLD, {**OLD, "deploy_id": "d2"}).replaces == ["deploy_id"]
    assert provider.diff("id", OLD, {**OLD, "env": "staging"}).replaces == ["env"]
    same = provider.diff("id", OLD, dict(OLD))
    assert same.changes is False
    assert same.replaces == []
    retimed = provider.diff("id", OLD, {**OLD, "timeout": 60.0})
    assert retimed.changes is True
    assert retimed.replaces == []


def test_update_keeps_the_recorded_outcome_with_the_new_inputs() -> None:
    result = DeploymentWaitProvider().update("id", OLD, {**OLD, "timeout": 60.0, "status": None})
    assert result.outs is not None
    assert result.outs["timeout"] == 60.0
    assert result.outs["status"] == "succeeded"
    assert result.outs["elapsed_seconds"] == 95.0


def test_read_returns_the_recorded_outputs_and_delete_touches_nothing(
    emulator: Emulator,
) -> None:
    provider = DeploymentWaitProvider()
    read = provider.read("humanitec/acme/shop/production/d1", dict(OLD))
    assert read.id == "humanitec/acme/shop/production/d1"
    assert read.outs == OLD
    provider.delete("humanitec/acme/shop/production/d1", {**OLD, "api_url": emulator.url})
    assert emulator.requests == []


# --- secret inputs ------------------------------------------------------------------------

SECRET_ID = "s3cr3t-dep10y-0f3c"


def test_a_secret_deploy_id_is_never_in_the_id_or_an_output_that_is_not_secret(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id=SECRET_ID
    )
    gate = run_program(lambda: humanitec_gate(emulator, pulumi.Output.secret(SECRET_ID)))
    outputs = [gate.status, gate.raw_status, gate.errors, gate.finished_at, gate.target]
    assert settle(gate.status, gate.target) == [
        "succeeded",
        {"org": "acme", "app": "shop", "env": "production", "deploy_id": SECRET_ID},
    ]
    assert secret(gate.target), "the target holds the secret id: it stays secret"
    assert not secret(gate.status), "what holds no secret stays readable"
    for output, value in zip(outputs, settle(*outputs), strict=True):
        assert secret(output) or SECRET_ID not in json.dumps(value)
    wait = host.resources[-1]
    assert wait.id is not None
    assert wait.id.startswith("humanitec/acme/shop/production/secret-")
    assert SECRET_ID not in wait.id


def test_a_secret_deploy_id_is_never_in_the_message_of_a_gate_that_failed(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (0.1, "failed")]),
        deploy_id=SECRET_ID,
        errors=[{"code": "E1", "message": f"deployment {SECRET_ID} crashed"}],
    )
    with pytest.raises(DeploymentGateFailed) as failed:
        run_program(lambda: humanitec_gate(emulator, pulumi.Output.secret(SECRET_ID)))
    message = gate_message(host)
    assert message.startswith("deployment gate failed: humanitec deployment")
    assert "E1: deployment *** crashed" in message
    assert SECRET_ID not in message + str(failed.value)


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"deploy_id": "../s3cr3t-bad"}, "s3cr3t-bad"),
        ({"api_url": "https://api.example.com/?token=" + "s3cr3t" * 40}, "s3cr3ts3cr3t"),
    ],
    ids=["deploy-id", "long-api-url-with-a-token"],
)
def test_check_never_shows_the_secret_input_it_refuses(
    emulator: Emulator, host: DynamicProviderHost, given: dict[str, str], refused: str
) -> None:
    ids = {"org": "acme", "app": "shop", "env": "production", "deploy_id": "d1"}
    secrets = {key: pulumi.Output.secret(value) for key, value in given.items()}
    target = HumanitecTarget(**{**ids, **secrets})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"check failed: {next(iter(given))}: ") as failed:
        run_program(lambda: DeploymentGate("bad", DeploymentGateArgs(target=target)))
    assert refused not in str(failed.value)
    assert emulator.requests == []


# --- the example programs ---------------------------------------------------------------


def test_the_humanitec_example_program(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANITEC_TOKEN", raising=False)
    project = "humanitec-gate"
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (0.3, "succeeded")])
    )
    host = DynamicProviderHost(
        project=project,
        config={
            f"{project}:org": "acme",
            f"{project}:app": "shop",
            f"{project}:env": "production",
            f"{project}:apiUrl": emulator.url,
            f"{project}:interval": "0.05s",
            "gate:humanitecToken": TOKEN,
        },
    )
    install(host)
    exported = run_program(lambda: runpy.run_path(str(EXAMPLES / "humanitec" / "__main__.py")))
    status, target = settle(exported["gate"].status, exported["gate"].target)
    assert status == "succeeded"
    assert target["deploy_id"] == deploy_id


def test_the_greengrass_example_program(aws_env: None, moto_server: str) -> None:
    project = "greengrass-gate"
    client = boto3.client("greengrass", region_name="eu-west-1", endpoint_url=moto_server)
    group_id, deployment_id = moto_greengrass_deployment(client)
    set_moto_status(deployment_id, "Failure")
    install(
        DynamicProviderHost(
            project=project,
            config={
                f"{project}:groupId": group_id,
                f"{project}:deploymentId": deployment_id,
                f"{project}:region": "eu-west-1",
                f"{project}:endpointUrl": moto_server,
                f"{project}:interval": "0.05s",
            },
        )
    )
    with pytest.raises(DeploymentGateFailed, match="deployment gate failed: greengrass"):
        run_program(lambda: runpy.run_path(str(EXAMPLES / "greengrass" / "__main__.py")))


def test_the_release_programs_stack_and_exit_codes(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANITEC_TOKEN", TOKEN)
    release = runpy.run_path(str(EXAMPLES / "release" / "__main__.py"), run_name="release")
    project = release["PROJECT"]
    emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "failed")]), errors=ERRORS)
    install(
        DynamicProviderHost(
            project=project,
            config={
                f"{project}:org": "acme",
                f"{project}:app": "shop",
                f"{project}:env": "production",
                f"{project}:apiUrl": emulator.url,
            },
        )
    )
    with pytest.raises(DeploymentGateFailed) as failure:
        run_program(release["program"])
    exit_code = release["exit_code"]
    assert exit_code(f"error: {failure.value}") == 1
    assert exit_code(None) == 0
    assert exit_code("error: deployment gate timed_out: humanitec ...") == 3
    assert exit_code("error: deployment gate error: humanitec ... HTTP 401") == 4
    assert exit_code("error: deployment gate not started: HUMANITEC_TOKEN is not set") == 2
    assert exit_code("error: some unrelated provider crashed") == 4
    refused = "error: pulumi-python:dynamic:Resource resource 'release-wait' has a problem: ..."
    assert exit_code(refused) == 2


def test_the_release_program_runs_its_stack_with_this_very_python() -> None:
    """An inline program's resources are served by a Python the CLI starts: it must be the
    one with deploy-gate installed, not the first python3 on PATH."""
    release = runpy.run_path(str(EXAMPLES / "release" / "__main__.py"), run_name="release")
    options = release["workspace_options"]()
    assert options.env_vars == {"PULUMI_PYTHON_CMD": sys.executable}
    assert options.project_settings.runtime == "python"


def test_examples_are_real_pulumi_projects() -> None:
    import yaml

    for name in ("greengrass", "greengrass-v2", "humanitec", "humanitec-release", "release"):
        project = EXAMPLES / name
        settings = yaml.safe_load((project / "Pulumi.yaml").read_text())
        assert settings["runtime"]["name"] == "python"
        assert "deploy-gate[pulumi]" in (project / "requirements.txt").read_text()
        assert (project / "README.md").is_file()
        compile((project / "__main__.py").read_text(), str(project), "exec")
    assert Path(EXAMPLES / "README.md").is_file()
    typescript = yaml.safe_load((EXAMPLES / "typescript" / "Pulumi.yaml").read_text())
    assert typescript["runtime"] == "nodejs"
    assert typescript["packages"] == {"gate": "../gate-provider"}


# --- many targets: DeploymentGates -------------------------------------------------------


def release_gates(emulator: Emulator, **options: Any) -> DeploymentGates:
    targets = {
        env: HumanitecTarget(org="acme", app="shop", env=env, api_url=emulator.url)
        for env in ("staging", "qa", "production")
    }
    return DeploymentGates(
        "release", DeploymentGatesArgs(targets=targets, **{**FAST_PULUMI, **options})
    )


def test_many_targets_wait_in_one_dynamic_resource_and_report_each(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    for env in ("staging", "qa", "production"):
        emulator.add_humanitec("acme", "shop", env, Timeline([(0, "pending"), (0.3, "succeeded")]))
    gates = run_program(lambda: release_gates(emulator))
    status, summary, outcomes = settle(gates.status, gates.summary, gates.outcomes)
    assert (status, summary) == ("succeeded", "3/3 succeeded")
    assert [(o["name"], o["status"]) for o in outcomes] == [
        ("staging", "succeeded"),
        ("qa", "succeeded"),
        ("production", "succeeded"),
    ]
    assert host.resources[0].typ == "gate:index:DeploymentGates"
    assert host.resources[-1].typ == "pulumi-python:dynamic/gate:DeploymentWaits"
    assert TOKEN not in json.dumps(host.resources[-1].outputs, default=str)


def test_a_failed_target_fails_the_update_naming_it_and_its_errors(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    emulator.add_humanitec("acme", "shop", "staging", Timeline([(0, "succeeded")]))
    emulator.add_humanitec("acme", "shop", "qa", Timeline([(0, "succeeded")]))
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.2, "failed")]), errors=ERRORS
    )
    with pytest.raises(DeploymentGateFailed, match=r"\(the gate's full message is above\)$"):
        run_program(lambda: release_gates(emulator))
    message = gate_message(host)
    assert message.startswith("deployment gates: 2/3 succeeded, 1 failed\nproduction: ")
    assert "[workload api] CLD-001 Provider error: Incorrect credentials" in message


def secret_release(emulator: Emulator, ends: str) -> DeploymentGates:
    """Staging, then production on a deploy id the program marks secret."""
    emulator.add_humanitec("acme", "shop", "staging", Timeline([(0, "succeeded")]))
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (0.1, ends)]),
        deploy_id=SECRET_ID,
        errors=[{"code": "E1", "message": f"deployment {SECRET_ID} crashed"}],
    )
    targets = {
        "staging": HumanitecTarget(org="acme", app="shop", env="staging", api_url=emulator.url),
        "production": HumanitecTarget(
            org="acme",
            app="shop",
            env="production",
            deploy_id=pulumi.Output.secret(SECRET_ID),
            api_url=emulator.url,
        ),
    }
    return DeploymentGates("release", DeploymentGatesArgs(targets=targets, **FAST_PULUMI))


def test_a_secret_deploy_id_of_one_target_is_never_in_the_message_of_gates_that_failed(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    with pytest.raises(DeploymentGateFailed):
        run_program(lambda: secret_release(emulator, "failed"))
    message = gate_message(host)
    assert "production: deployment gate failed" in message
    assert "E1: deployment *** crashed" in message
    assert SECRET_ID not in message


def test_a_secret_deploy_id_of_one_target_keeps_the_outcomes_secret_and_the_summary_readable(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    gates = run_program(lambda: secret_release(emulator, "succeeded"))
    [outcomes] = settle(gates.outcomes)
    assert outcomes[1]["target"]["deploy_id"] == SECRET_ID
    assert secret(gates.outcomes), "an outcome holds the secret id"
    assert not secret(gates.status)
    assert not secret(gates.summary)
    assert host.resources[-1].id == "staging/production"


IDS = {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True}


def test_a_bad_target_in_the_list_fails_check_naming_its_place(host: DynamicProviderHost) -> None:
    result = DeploymentsWaitProvider().check(
        {},
        {
            "targets": [
                {"name": "staging", **IDS, "env": "staging"},
                {"name": "prod", **IDS, "env": "../prod"},
            ],
            "timeout": "soon",
            "max_rate": 0,
        },
    )
    assert [failure.property for failure in result.failures] == [
        "timeout",
        "targets[1].env",
        "max_rate",
    ]


def test_the_humanitec_release_example_program(emulator: Emulator) -> None:
    project = "humanitec-release-gate"
    ids = {
        env: emulator.add_humanitec("acme", "shop", env, Timeline([(0, "pending"), (0.2, ends)]))
        for env, ends in (("staging", "succeeded"), ("production", "succeeded"))
    }
    host = DynamicProviderHost(
        project=project,
        config={
            f"{project}:org": "acme",
            f"{project}:app": "shop",
            f"{project}:environments": json.dumps(list(ids)),
            f"{project}:apiUrl": emulator.url,
            f"{project}:interval": "0.05s",
            "gate:humanitecToken": TOKEN,
        },
    )
    install(host)
    exported = run_program(
        lambda: runpy.run_path(str(EXAMPLES / "humanitec-release" / "__main__.py"))
    )
    summary, outcomes = settle(exported["release"].summary, exported["release"].outcomes)
    assert summary == "2/2 succeeded"
    assert {o["name"]: o["target"]["deploy_id"] for o in outcomes} == ids


def test_a_gate_run_without_check_still_fails_in_one_line() -> None:
    """Check refuses these inputs; a caller that skipped it gets one line, not a traceback."""
    from gate.pulumi.running import Run, run_gate

    props = {"provider": "humanitec", "org": "a", "app": "b", "env": "c", "latest": True}
    with pytest.raises(DeploymentGateFailed, match=r"^deployment gate not started: interval"):
        run_gate({**props, "interval": "5m", "max_interval": "1m"}, Run(env={}))


def test_a_bake_that_breaches_fails_the_update_saying_the_deployment_succeeded(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    from gate.emulator.health import HealthEndpoint

    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.1, "succeeded")])
    )
    with HealthEndpoint([503]) as probed, pytest.raises(DeploymentGateFailed):
        run_program(
            lambda: humanitec_gate(
                emulator,
                deploy_id,
                bake="5m",
                bake_interval="0.1s",
                probe=[probed.url],
                probe_failures=2,
            )
        )
    message = gate_message(host)
    assert "the deployment succeeded, then failed its bake" in message
    assert f"probe {probed.url}" in message
    assert probed.probes == 2


def test_a_comparison_that_regresses_fails_the_update_and_rolls_back(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.1, "succeeded")])
    )
    bake = compared_bake(emulator, regressed=True)
    with pytest.raises(DeploymentGateFailed):
        run_program(lambda: humanitec_gate(emulator, deploy_id, **bake))
    message = gate_message(host)
    assert "the deployment succeeded, then failed its bake" in message
    assert "comparison error_ratio: error_ratio during the bake 0.0" in message
    assert ": regression (p < 0.05 and, at 95% confidence, a shift of +" in message
    assert "rollback succeeded: redeploy set good" in message
    assert [body["set_id"] for _, body, _ in emulator.posted] == ["good"]  # type: ignore[index]


def test_a_comparison_whose_metric_kept_its_level_passes_the_update(
    emulator: Emulator, host: DynamicProviderHost
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (0.1, "succeeded")])
    )
    bake = compared_bake(emulator, regressed=False)
    [status] = settle(run_program(lambda: humanitec_gate(emulator, deploy_id, **bake)).status)
    assert status == "succeeded"
    assert host.failures == []
    assert any("/api/v1/query_range" in request for request in emulator.requests), "judged"
    assert emulator.posted == []


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"alarm": ["checkout-5xx"]}, "alarm: alarm is read during a bake: give bake"),
        (
            {"bake": "40m", "probe": ["http://127.0.0.1:9/"]},
            "bake: bake \\(40m00s\\) must fit inside timeout \\(30m00s\\)",
        ),
        ({"on_failure": "pray"}, "on_failure: on_failure must be nothing or rollback"),
    ],
)
def test_check_refuses_a_bake_or_rollback_that_cannot_work(
    emulator: Emulator, host: DynamicProviderHost, options: dict[str, Any], words: str
) -> None:
    target = HumanitecTarget(org="acme", app="shop", env="production", deploy_id="d1")
    with pytest.raises(ValueError, match=f"check failed: {words}"):
        run_program(lambda: DeploymentGate("bad", DeploymentGateArgs(target=target, **options)))
    assert emulator.requests == []


# --- many targets: the release's bake, rollback, dry run and refusals ----------------------


def three_environments_with_a_good_deployment_before(emulator: Emulator) -> None:
    """Staging, qa and production: each deploying a new version, with a good one before."""
    for env in ("staging", "qa", "production"):
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "succeeded")]),
            started_ago=3600,
            set_id=f"good-{env}",
        )
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "in progress"), (1, "succeeded")]),
            set_id=f"new-{env}",
        )


@pytest.mark.parametrize("dry_run", [False, True], ids=["rollback", "dry-run"])
def test_a_release_that_fails_its_bake_rolls_every_target_back(
    paced_emulator: Emulator, host: DynamicProviderHost, dry_run: bool
) -> None:
    from gate.emulator.health import HealthEndpoint

    three_environments_with_a_good_deployment_before(paced_emulator)
    options = {"dry_run": True} if dry_run else {}
    with (
        HealthEndpoint([503], body="checkout: payments unreachable") as unhealthy,
        pytest.raises(DeploymentGateFailed),
    ):
        run_program(
            lambda: release_gates(
                paced_emulator,
                bake="5m",
                bake_interval="0.1s",
                probe=[unhealthy.url],
                probe_failures=2,
                on_failure="rollback",
                **options,
            )
        )
    message = gate_message(host)
    assert message.startswith("deployment gates: 3/3 succeeded\nrelease: every deployment ")
    assert "then the release failed its bake" in message
    assert "payments unreachable" in message
    assert unhealthy.probes == 2, "the breach ends the release's bake at once"
    posted = sorted(body["set_id"] for _, body, _ in paced_emulator.posted)  # type: ignore[index]
    if dry_run:
        assert posted == []
        for env in ("staging", "qa", "production"):
            assert f"{env}: rollback dry-run: would redeploy set good-" in message
    else:
        assert posted == ["good-production", "good-qa", "good-staging"]
        for env in ("staging", "qa", "production"):
            assert f"{env}: rollback succeeded: redeploy set good-" in message


def test_a_release_that_passes_its_bake_succeeds(
    paced_emulator: Emulator, host: DynamicProviderHost
) -> None:
    from gate.emulator.health import HealthEndpoint

    three_environments_with_a_good_deployment_before(paced_emulator)
    with HealthEndpoint([200]) as healthy:
        gates = run_program(
            lambda: release_gates(
                paced_emulator, bake="0.3s", bake_interval="0.1s", probe=[healthy.url]
            )
        )
        [status] = settle(gates.status)
    assert status == "succeeded"
    assert healthy.probes >= 1


def test_a_release_whose_bake_is_report_only_succeeds_and_rolls_nothing_back(
    paced_emulator: Emulator, host: DynamicProviderHost
) -> None:
    """The bake breaches from its first round, runs to its end, and is not acted on."""
    from gate.emulator.health import HealthEndpoint

    three_environments_with_a_good_deployment_before(paced_emulator)
    with HealthEndpoint([503]) as unhealthy:
        gates = run_program(
            lambda: release_gates(
                paced_emulator,
                bake="2s",
                bake_interval="0.1s",
                probe=[unhealthy.url],
                probe_failures=1,
                bake_report_only=True,
                on_failure="rollback",
            )
        )
        [status] = settle(gates.status)
    assert status == "succeeded"
    assert host.failures == []
    # the first round breaches (one failed probe is enough); a bake that acted on it would
    # have ended there, and this one read again at least at its end
    assert unhealthy.probes >= 2, "the breach ended nothing"
    assert paced_emulator.posted == [], "nothing rolled back"
    assert paced_emulator.posted == []


def test_a_target_that_fails_is_rolled_back_by_the_gates_on_failure(
    paced_emulator: Emulator, host: DynamicProviderHost
) -> None:
    paced_emulator.add_humanitec(
        "acme", "shop", "staging", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    paced_emulator.add_humanitec(
        "acme", "shop", "staging", Timeline([(0, "pending"), (1, "failed")]), set_id="bad"
    )
    targets = {
        "staging": HumanitecTarget(
            org="acme", app="shop", env="staging", api_url=paced_emulator.url
        )
    }
    with pytest.raises(DeploymentGateFailed):
        run_program(
            lambda: DeploymentGates(
                "release",
                DeploymentGatesArgs(targets=targets, on_failure="rollback", **FAST_PULUMI),
            )
        )
    message = gate_message(host)
    assert "staging: deployment gate failed" in message
    assert "rollback succeeded: redeploy set good" in message
    assert [body["set_id"] for _, body, _ in paced_emulator.posted] == ["good"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"alarm": ["checkout-5xx"]}, "alarm: alarm is read during a bake: give bake"),
        (
            {"bake": "40m", "probe": ["http://127.0.0.1:9/"]},
            "bake: bake \\(40m00s\\) must fit inside timeout \\(30m00s\\)",
        ),
        ({"on_failure": "pray"}, "on_failure: on_failure must be nothing or rollback"),
        ({"dry_run": True}, "dry_run: dry_run needs on_failure rollback"),
        (
            {"github_environment": "production"},
            "github_environment: github_environment is for a GitHub deployment",
        ),
    ],
)
def test_gates_refuse_a_bake_rollback_or_telling_with_the_single_gates_words(
    emulator: Emulator, host: DynamicProviderHost, options: dict[str, Any], words: str
) -> None:
    target = HumanitecTarget(org="acme", app="shop", env="production", deploy_id="d1")
    with pytest.raises(ValueError, match=f"check failed: {words}"):
        run_program(lambda: DeploymentGate("one", DeploymentGateArgs(target=target, **options)))
    with fresh_runtime(), pytest.raises(ValueError, match=f"check failed: {words}"):
        run_program(
            lambda: DeploymentGates(
                "many", DeploymentGatesArgs(targets={"production": target}, **options)
            )
        )
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"fail_fast": "false"}, "fail_fast: fail_fast must be true or false, not a str"),
        ({"max_rate": 0}, "max_rate: max_rate must be more than 0 and at most 1000"),
    ],
)
def test_gates_refuse_a_many_target_option_by_its_declaration(
    emulator: Emulator, host: DynamicProviderHost, options: dict[str, Any], words: str
) -> None:
    """``fail_fast="false"`` was read as true (``bool("false")``): now refused, as the single
    gate refuses a flag that is not true or false."""
    target = HumanitecTarget(org="acme", app="shop", env="production", deploy_id="d1")
    with pytest.raises(ValueError, match=f"check failed: {words}"):
        run_program(
            lambda: DeploymentGates(
                "many", DeploymentGatesArgs(targets={"production": target}, **options)
            )
        )
    assert emulator.requests == []
