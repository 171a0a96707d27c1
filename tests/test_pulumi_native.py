"""The native ``gate`` provider (``pulumi-resource-gate``) served in-process and driven over
gRPC as the engine drives it, against the package emulator, with a fake engine that records
every Log call (see tests/provider_host.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2

from gate.core.description import camel_case as camel
from gate.emulator import Emulator, Fault, Timeline
from gate.pulumi.inputs import AFTER_KEYS, DURATION_KEYS, TARGET_KEYS_OF
from gate.pulumi.native.properties import BLOCKS
from tests.builders import FAST_NATIVE, compared_bake
from tests.provider_host import (
    CheckFailed,
    Client,
    FakeEngine,
    ProviderError,
    Stack,
    native_host,
    secret,
)
from tests.support import REPO, TOKEN

URN = "urn:pulumi:prod::shop::gate:index:DeploymentGate::production"
GOLDEN = Path(__file__).parent / "golden" / "pulumi-schema.json"
BOUNDED = {**FAST_NATIVE, "requestTimeout": "5s"}
SUCCEEDS = Timeline([(0, "in progress"), (0.1, "succeeded")])
RUNS_ON = Timeline([(0, "in progress")])
SUCCEEDS_ON_THE_SECOND_READ = Timeline([(0, "in progress"), (1, "succeeded")])
"""For the paced emulator, whose timelines move on by the reads they receive."""


def humanitec_inputs(emulator: Emulator, **target: Any) -> dict[str, Any]:
    return {
        "humanitec": {"org": "acme", "app": "shop", "env": "production", "apiUrl": emulator.url}
        | target,
        **BOUNDED,
    }


@pytest.fixture
def served() -> Iterator[tuple[Client, FakeEngine]]:
    with native_host({"HUMANITEC_TOKEN": TOKEN}) as (client, engine):
        client.configure({})
        yield client, engine


@pytest.fixture
def client(served: tuple[Client, FakeEngine]) -> Client:
    return served[0]


def test_get_schema_is_the_golden_schema_and_names_every_input_the_provider_reads(
    client: Client,
) -> None:
    schema = json.loads(client.schema())
    assert schema == json.loads(GOLDEN.read_text())
    resource = schema["resources"]["gate:index:DeploymentGate"]
    top_level = {camel(key) for key in (*DURATION_KEYS, *AFTER_KEYS, "triggers", "skip_await")}
    assert set(resource["inputProperties"]) == top_level | set(BLOCKS)
    for block, provider in BLOCKS.items():
        target_type = resource["inputProperties"][block]["$ref"].removeprefix("#/types/")
        properties = set(schema["types"][target_type]["properties"])
        assert properties == {camel(key) for key in TARGET_KEYS_OF[provider]}, block
    assert schema["config"]["variables"]["humanitecToken"]["secret"] is True


def test_configure_advertises_preview_and_secrets() -> None:
    with native_host({}) as (client, _):
        answer = client.configure({"humanitecToken": TOKEN})
    assert answer.supportsPreview
    assert answer.acceptSecrets


def test_preview_makes_no_api_call_and_leaves_the_outputs_unknown(
    emulator: Emulator, client: Client
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(client, URN)
    assert stack.preview(humanitec_inputs(emulator, latest=True)) == "create"
    _, outputs = client.create(URN, humanitec_inputs(emulator, latest=True), preview=True)
    assert outputs["status"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the unknown sentinel
    assert emulator.requests == []


def test_create_waits_and_records_the_outcome_with_progress_lines_scoped_to_the_resource(
    paced_emulator: Emulator, served: tuple[Client, FakeEngine]
) -> None:
    emulator = paced_emulator
    client, engine = served
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_ON_THE_SECOND_READ)
    outputs = Stack(client, URN).up(humanitec_inputs(emulator, latest=True))
    assert outputs["status"] == "succeeded"
    assert outputs["rawStatus"] == "succeeded"
    assert outputs["target"]["deployId"] == deploy_id
    assert outputs["errors"] == []
    lines = engine.lines(URN)
    assert lines[0].startswith("gate: waiting for the latest Humanitec deployment in acme/shop/")
    assert any("status: in progress" in line for line in lines)
    assert "succeeded" in lines[-1]
    assert TOKEN not in json.dumps(outputs), "the state never holds the token"


def test_a_failed_deployment_fails_the_resource_with_the_gates_message_alone(
    emulator: Emulator, client: Client
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (0.1, "failed")]),
        errors=[{"scope": "workload", "object_id": "api", "code": "E1", "message": "crashed"}],
    )
    with pytest.raises(ProviderError) as failed:
        Stack(client, URN).up(humanitec_inputs(emulator, deployId=deploy_id))
    lines = str(failed.value).splitlines()
    assert lines[0].startswith("deployment gate failed: humanitec deployment (org=acme")
    assert lines[1:] == ["  - [workload api] E1: crashed"]


@pytest.mark.parametrize(
    ("inputs", "prop", "words"),
    [
        ({"humanitec": {"org": "acme", "app": "shop", "env": "p"}}, "humanitec.deployId", "set "),
        (
            {"humanitec": {"org": "acme", "app": "", "env": "p", "latest": True}},
            "humanitec.app",
            "",
        ),
        ({"interval": "5m", "maxInterval": "1m"}, "interval", "exceed maxInterval (1m00s)"),
        ({"humanitec": {"apiUrl": "http://x.example"}}, "humanitec.apiUrl", "humanitec.allowPlain"),
        ({"skipAwait": "yes"}, "skipAwait", "skipAwait must be true or false"),
        ({"humanitec": None}, "", "set exactly one of greengrass, greengrassV2, humanitec,"),
        ({"greengrass": {"groupId": "g", "deploymentId": "d"}}, "", "got greengrass and humanitec"),
    ],
    ids=["no-id-no-latest", "empty-app", "interval", "plain-http", "not-a-bool", "none", "two"],
)
def test_check_names_what_cannot_work_as_the_schema_does(
    emulator: Emulator, client: Client, inputs: dict[str, Any], prop: str, words: str
) -> None:
    base = humanitec_inputs(emulator, latest=True)
    if isinstance(inputs.get("humanitec"), dict) and "org" not in inputs["humanitec"]:
        inputs = {**inputs, "humanitec": {**base["humanitec"], **inputs["humanitec"]}}
    with pytest.raises(CheckFailed) as failed:
        Stack(client, URN).up({**base, **inputs})
    assert [name for name, _ in failed.value.failures] == [prop]
    assert words in str(failed.value)
    assert "--" not in str(failed.value)


def test_diff_replaces_on_new_ids_or_triggers_and_rereads_latest_without_triggers(
    emulator: Emulator, client: Client
) -> None:
    first = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    pinned = Stack(client, URN)
    pinned.up(humanitec_inputs(emulator, deployId=first))
    state = pinned.state or {}
    same = client.diff(URN, pinned.id, state, humanitec_inputs(emulator, deployId=first))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    moved = client.diff(URN, pinned.id, state, humanitec_inputs(emulator, deployId="other"))
    assert list(moved.replaces) == ["humanitec"]
    retimed = client.diff(
        URN, pinned.id, state, {**humanitec_inputs(emulator, deployId=first), "timeout": "1h"}
    )
    assert (list(retimed.replaces), list(retimed.diffs)) == ([], ["timeout"])

    latest = Stack(client, URN)
    latest.up({**humanitec_inputs(emulator, latest=True), "triggers": ["v1"]})
    state = latest.state or {}
    again = client.diff(
        URN, latest.id, state, {**humanitec_inputs(emulator, latest=True), "triggers": ["v1"]}
    )
    assert again.changes == provider_pb2.DiffResponse.DIFF_NONE
    retriggered = client.diff(
        URN, latest.id, state, {**humanitec_inputs(emulator, latest=True), "triggers": ["v2"]}
    )
    assert list(retriggered.replaces) == ["triggers"]
    following = Stack(client, URN)
    following.up(humanitec_inputs(emulator, latest=True))
    untriggered = client.diff(
        URN, following.id, following.state or {}, humanitec_inputs(emulator, latest=True)
    )
    assert untriggered.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert "status" in untriggered.detailedDiff


def test_latest_mode_waits_again_on_update_and_fails_on_a_newer_failed_deployment(
    emulator: Emulator, client: Client
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    stack = Stack(client, URN)
    stack.up(humanitec_inputs(emulator, latest=True))
    assert stack.preview(humanitec_inputs(emulator, latest=True)) == "update"
    emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "failed")]))
    with pytest.raises(ProviderError, match=r"^deployment gate failed"):
        stack.up(humanitec_inputs(emulator, latest=True))


def test_custom_timeouts_shorten_the_gates_own_timeout(emulator: Emulator, client: Client) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", RUNS_ON)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"^deployment gate timed_out: .*'in progress'"):
        Stack(client, URN).up(
            {**humanitec_inputs(emulator, deployId=deploy_id), "timeout": "30m"}, timeout=1
        )
    assert time.monotonic() - started < 20


def test_cancel_ends_every_wait_under_way_as_cancelled(emulator: Emulator, client: Client) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", RUNS_ON)
    failures: list[str] = []

    def up() -> None:
        try:
            Stack(client, URN).up(
                {**humanitec_inputs(emulator, deployId=deploy_id), "timeout": "10m"}
            )
        except ProviderError as failed:
            failures.append(str(failed))

    waiting = threading.Thread(target=up)
    waiting.start()
    while not emulator.requests:
        time.sleep(0.01)
    client.cancel()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert failures[0].startswith("deployment gate cancelled: humanitec deployment")
    assert "the Pulumi engine asked the provider to stop" in failures[0]


def test_the_token_in_provider_config_wins_and_a_refusal_names_it(emulator: Emulator) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    with native_host({"HUMANITEC_TOKEN": TOKEN}) as (client, _):
        client.configure({"humanitecToken": "stale-config-token"})
        with pytest.raises(ProviderError) as refused:
            Stack(client, URN).up(humanitec_inputs(emulator, deployId=deploy_id))
    assert "refused the token from the secret config gate:humanitecToken" in str(refused.value)
    assert "stale-config-token" not in str(refused.value)
    with native_host({}) as (client, _):
        client.configure({}, variables={"gate:config:humanitecToken": TOKEN})
        assert (
            Stack(client, URN).up(humanitec_inputs(emulator, deployId=deploy_id))["status"]
            == "succeeded"
        )


def test_skip_await_records_a_skipped_gate_without_any_api_call(
    emulator: Emulator, client: Client
) -> None:
    outputs = Stack(client, URN).up({**humanitec_inputs(emulator, latest=True), "skipAwait": True})
    assert outputs["status"] == "skipped"
    assert emulator.requests == []


def test_the_source_plugin_starts_the_provider_as_the_engine_runs_it() -> None:
    """``pulumi package add pulumi_examples/gate-provider`` runs the directory with Python and
    the engine's address; the plugin says its port on the first line of its output."""
    import grpc
    from pulumi.runtime.proto import provider_pb2_grpc

    plugin = Path(__file__).parent.parent / "pulumi_examples" / "gate-provider"
    assert "runtime: python" in (plugin / "PulumiPlugin.yaml").read_text()
    process = subprocess.Popen(
        [sys.executable, str(plugin), "127.0.0.1:1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            client = Client(provider_pb2_grpc.ResourceProviderStub(channel))
            assert json.loads(client.schema())["name"] == "gate"
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_every_gate_waits_from_its_create_however_many_at_once(
    emulator: Emulator, client: Client
) -> None:
    """More gates than asyncio's default thread pool holds (min(32, CPUs + 4)): none waits
    for another to end before it starts reading."""
    count = 3 * ((os.cpu_count() or 1) + 4)
    ids = [emulator.add_humanitec("acme", "shop", f"env-{n}", RUNS_ON) for n in range(count)]
    read_when_the_first_ended: list[set[str]] = []
    lock = threading.Lock()

    def up(n: int) -> None:
        urn = URN.replace("::production", f"::gate-{n}")
        inputs = {**humanitec_inputs(emulator, env=f"env-{n}", deployId=ids[n]), "timeout": "5s"}
        with pytest.raises(ProviderError, match="deployment gate timed_out"):
            Stack(client, urn).up(inputs)
        with lock:
            if not read_when_the_first_ended:
                paths = list(emulator.requests)
                read_when_the_first_ended.append({i for i in ids if any(i in p for p in paths)})

    gates = [threading.Thread(target=up, args=(n,)) for n in range(count)]
    for gate in gates:
        gate.start()
    for gate in gates:
        gate.join(timeout=120)
    [read] = read_when_the_first_ended
    assert len(read) == count, f"only {len(read)} of {count} gates had read when the first ended"


@pytest.mark.parametrize(
    ("given", "prop", "words"),
    [
        ({"org": 123}, "humanitec.org", "must be text, not a number"),
        ({"deployId": 7}, "humanitec.deployId", "must be text, not a number"),
        ({"timeout": float("nan")}, "timeout", "must be a number of seconds, not nan"),
        ({"interval": True}, "interval", "must be a duration such as 90s or 20m, not true"),
    ],
)
def test_check_refuses_inputs_of_the_wrong_kind_by_name(
    emulator: Emulator, client: Client, given: dict[str, Any], prop: str, words: str
) -> None:
    inputs = humanitec_inputs(emulator, deployId="d1")
    block = {key: value for key, value in given.items() if key in ("org", "deployId")}
    top = {key: value for key, value in given.items() if key not in block}
    inputs = {**inputs, **top, "humanitec": {**inputs["humanitec"], **block}}
    with pytest.raises(CheckFailed) as refused:
        Stack(client, URN).up(inputs)
    assert any(said == prop and words in why for said, why in refused.value.failures), (
        refused.value.failures
    )


def test_greengrass_v2s_former_fail_fast_is_refused_naming_device_fail_fast(
    emulator: Emulator, client: Client
) -> None:
    """Greengrass v2's failFast (its devices') is deviceFailFast now: the old key is refused
    by name, never read as the release's or dropped."""
    v2 = {"deploymentId": "d-1", "region": "eu-west-1", "endpointUrl": emulator.url}
    with pytest.raises(CheckFailed) as refused:
        Stack(client, URN).up({"greengrassV2": {**v2, "failFast": False}})
    [(prop, words)] = refused.value.failures
    assert prop == "greengrassV2.failFast"
    assert words.startswith("greengrassV2.failFast is now greengrassV2.deviceFailFast: ")
    assert emulator.requests == []


def test_the_engines_tracing_flag_is_not_taken_for_its_address() -> None:
    from gate.pulumi.native.server import plugin_arguments

    for argv in (
        ["--tracing", "127.0.0.1:4317", "127.0.0.1:5000"],
        ["--logtostderr", "-v=9", "127.0.0.1:5000"],
        ["127.0.0.1:5000"],
    ):
        assert plugin_arguments(argv).engine == "127.0.0.1:5000", argv


def test_a_secret_input_is_never_shown_in_ids_failures_errors_or_log_lines(
    emulator: Emulator, served: tuple[Client, FakeEngine]
) -> None:
    client, engine = served
    hidden_id = "s3cr3t-dep10y-0f3c"
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "failed")]),
        deploy_id=hidden_id,
        errors=[{"code": "E1", "message": f"deployment {hidden_id} crashed"}],
    )
    with pytest.raises(ProviderError) as failed:
        Stack(client, URN).up(humanitec_inputs(emulator, deployId=secret(hidden_id)))
    assert "crashed" in str(failed.value)
    passed_id = "s3cr3t-passed-9a8b"
    emulator.add_humanitec(
        "acme", "shop", "staging", Timeline([(0, "succeeded")]), deploy_id=passed_id
    )
    resource_id, _ = client.create(
        URN, humanitec_inputs(emulator, env="staging", deployId=secret(passed_id))
    )
    assert resource_id.startswith("humanitec/acme/shop/staging/secret-")
    with pytest.raises(CheckFailed) as refused:
        client.check(URN, {}, humanitec_inputs(emulator, deployId=secret("../s3cr3t-bad")))
    said = [str(failed.value), resource_id, str(refused.value), *engine.lines(URN)]
    for secret_id in (hidden_id, passed_id, "s3cr3t-bad"):
        assert not any(secret_id in text for text in said), secret_id


def test_a_long_secret_api_url_is_not_shown_even_where_a_refusal_cuts_it_short(
    emulator: Emulator, client: Client
) -> None:
    token = "s3cr3t" * 40
    with pytest.raises(CheckFailed) as refused:
        client.check(
            URN,
            {},
            humanitec_inputs(
                emulator, deployId="d1", apiUrl=secret(f"{emulator.url}/?token={token}")
            ),
        )
    assert [prop for prop, _ in refused.value.failures] == ["humanitec.apiUrl"]
    assert "humanitec.apiUrl '***…' must not have a query string" in str(refused.value)
    assert emulator.url not in str(refused.value)
    assert token[:12] not in str(refused.value)


def test_cancel_ends_a_wait_whose_request_is_still_awaiting_its_answer(
    emulator: Emulator, client: Client
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", RUNS_ON)
    emulator.inject(Fault.hang(120), times=100, path_contains=f"/deploys/{deploy_id}")
    failures: list[str] = []

    def up() -> None:
        inputs = {**humanitec_inputs(emulator, deployId=deploy_id), "requestTimeout": "1h"}
        try:
            Stack(client, URN).up({**inputs, "timeout": "10m"})
        except ProviderError as failed:
            failures.append(str(failed))

    waiting = threading.Thread(target=up)
    waiting.start()
    deadline = time.monotonic() + 60
    while not any(deploy_id in path for path in emulator.requests):
        assert time.monotonic() < deadline, "the gate never asked for the deployment"
        time.sleep(0.01)
    client.cancel()
    waiting.join(timeout=60)  # the server holds the answer for 120 s, the request for 1 h
    assert not waiting.is_alive(), "cancel waited for the request under way"
    assert failures[0].startswith("deployment gate cancelled: humanitec deployment")


def test_every_provider_has_its_block_a_humanitec_v2_deployment_and_a_pipeline_run(
    paced_emulator: Emulator, served: tuple[Client, FakeEngine]
) -> None:
    """The schema is made from every provider's description, and so is what the provider
    reads: a Platform Orchestrator v2 deployment and a pipeline run are gated like the rest."""
    emulator = paced_emulator
    client, _ = served
    deployment = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress"), (1, "succeeded")]))
    v2 = {"humanitecV2": {"org": "acme", "deploymentId": deployment, "apiUrl": emulator.url}}
    outputs = Stack(client, URN).up({**v2, **BOUNDED})
    assert (outputs["status"], outputs["rawStatus"]) == ("succeeded", "succeeded")

    run = emulator.add_pipeline_run(
        "acme", "shop", "deploy", Timeline([(0, "executing"), (1, "succeeded")])
    )
    gated = {"org": "acme", "app": "shop", "pipeline": "deploy", "run": run}
    outputs = Stack(client, URN).up({"humanitec": {**gated, "apiUrl": emulator.url}, **BOUNDED})
    assert outputs["status"] == "succeeded"
    assert outputs["target"]["run"] == run


def test_a_bake_that_breaches_fails_the_resource_and_a_bad_one_fails_check(
    emulator: Emulator, client: Client
) -> None:
    from gate.emulator.health import HealthEndpoint

    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (0.1, "succeeded")])
    )
    with (
        HealthEndpoint([503], body="payments unreachable") as health,
        pytest.raises(ProviderError) as failed,
    ):
        Stack(client, URN).up(
            {
                **humanitec_inputs(emulator, deployId=deploy_id),
                "bake": "5m",
                "bakeInterval": "0.1s",
                "probe": [health.url],
                "probeFailures": 2,
            }
        )
    said = str(failed.value)
    assert "the deployment succeeded, then failed its bake" in said
    assert "payments unreachable" in said
    with pytest.raises(CheckFailed) as refused:
        Stack(client, URN).up({**humanitec_inputs(emulator, deployId=deploy_id), "alarm": ["a"]})
    assert [name for name, _ in refused.value.failures] == ["alarm"]
    assert "alarm is read during a bake: give bake" in str(refused.value)


@pytest.mark.parametrize("regressed", [True, False], ids=["regressed", "kept-its-level"])
def test_a_comparison_that_regresses_fails_the_resource_and_rolls_back_and_one_kept_passes(
    emulator: Emulator, client: Client, regressed: bool
) -> None:
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    bake = {
        camel(key): value for key, value in compared_bake(emulator, regressed=regressed).items()
    }
    inputs = {**humanitec_inputs(emulator, deployId=deploy_id), **bake}
    if not regressed:
        outputs = Stack(client, URN).up(inputs)
        assert (outputs["status"], outputs["rawStatus"]) == ("succeeded", "succeeded")
        assert emulator.posted == []
        return
    with pytest.raises(ProviderError) as failed:
        Stack(client, URN).up(inputs)
    said = str(failed.value)
    assert "the deployment succeeded, then failed its bake" in said
    assert "comparison error_ratio: error_ratio during the bake 0.0" in said
    assert ": regression (p < 0.05 and, at 95% confidence, a shift of +" in said
    assert "rollback succeeded: redeploy set good" in said
    assert [body["set_id"] for _, body, _ in emulator.posted] == ["good"]  # type: ignore[index]


def test_a_gate_traced_under_pulumi_is_a_child_of_the_engines_trace(emulator: Emulator) -> None:
    """The engine, run with --otel-traces, hands its plugins TRACEPARENT: the gate's span
    joins that trace."""
    from tests.parts.otlp_receiver import OtlpReceiver

    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (0.1, "succeeded")])
    )
    env = {"HUMANITEC_TOKEN": TOKEN, "TRACEPARENT": f"00-{trace_id}-{parent_id}-01"}
    with OtlpReceiver() as receiver, native_host(env) as (client, _):
        client.configure({})
        Stack(client, URN).up(
            {**humanitec_inputs(emulator, deployId=deploy_id), "otelEndpoint": receiver.url}
        )
        (span,) = receiver.spans()
    assert span.name == "gate wait humanitec"
    assert (span.trace_id, span.parent_span_id) == (trace_id, parent_id)
    assert span.attributes["deployment.id"] == deploy_id
    assert TOKEN not in " ".join(receiver.every_text())


def test_a_gate_on_another_humanitec_api_gets_no_console_page_on_github(
    emulator: Emulator,
) -> None:
    """The target's own apiUrl decides, as on the command line: a Humanitec that is not the
    public one gets no environment_url on app.humanitec.io."""
    from tests.parts.github_api import github_api
    from tests.test_github_deployments import GITHUB_TOKEN, workflow

    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    with github_api(GITHUB_TOKEN) as github:
        env = {"HUMANITEC_TOKEN": TOKEN, **workflow(github.url)}
        with native_host(env) as (client, _):
            client.configure({})
            Stack(client, URN).up(
                {**humanitec_inputs(emulator, deployId=deploy_id), "githubDeployment": True}
            )
        (deployment,) = github.deployments
        sent = github.statuses[deployment["id"]]
    assert deployment["environment"] == "production"
    assert [status["state"] for status in sent] == ["in_progress", "success"]
    assert all("environment_url" not in status for status in sent)


# --- many targets: gate:index:DeploymentGates -----------------------------------------------

MANY_URN = "urn:pulumi:prod::shop::gate:index:DeploymentGates::release"
ENVS = ("staging", "qa", "production")


def release(emulator: Emulator, **options: Any) -> dict[str, Any]:
    return {
        "targets": [
            {"name": env, **humanitec_inputs(emulator, env=env, latest=True)} for env in ENVS
        ],
        **BOUNDED,
        **options,
    }


def release_targets_only(inputs: dict[str, Any]) -> dict[str, Any]:
    """``release``'s targets hold FAST too (``humanitec`` spreads it): a target has only its
    name and block."""
    return {
        **inputs,
        "targets": [{"name": t["name"], "humanitec": t["humanitec"]} for t in inputs["targets"]],
    }


def good_before_new(emulator: Emulator) -> None:
    for env in ENVS:
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


def test_many_targets_wait_in_one_native_resource_and_report_each(
    paced_emulator: Emulator, served: tuple[Client, FakeEngine]
) -> None:
    client, engine = served
    good_before_new(paced_emulator)
    stack = Stack(client, MANY_URN)
    assert stack.preview(release_targets_only(release(paced_emulator))) == "create"
    assert paced_emulator.requests == [], "preview reads nothing"
    outputs = stack.up(release_targets_only(release(paced_emulator)))
    assert (outputs["status"], outputs["summary"]) == ("succeeded", "3/3 succeeded")
    assert [o["name"] for o in outputs["outcomes"]] == list(ENVS)
    assert all(o["target"]["deployId"] for o in outputs["outcomes"])
    assert stack.id == "staging/qa/production"
    assert any("waiting for 3 deployments" in line for line in engine.lines(MANY_URN))


def test_a_native_release_that_fails_its_bake_rolls_every_target_back(
    paced_emulator: Emulator, client: Client
) -> None:
    from gate.emulator.health import HealthEndpoint

    good_before_new(paced_emulator)
    with (
        HealthEndpoint([503], body="payments unreachable") as health,
        pytest.raises(ProviderError) as failed,
    ):
        Stack(client, MANY_URN).up(
            release_targets_only(
                release(
                    paced_emulator,
                    bake="5m",
                    bakeInterval="0.1s",
                    probe=[health.url],
                    probeFailures=2,
                    onFailure="rollback",
                )
            )
        )
    said = str(failed.value)
    assert said.startswith("deployment gates: 3/3 succeeded\nrelease: every deployment succeeded")
    assert "payments unreachable" in said
    for env in ENVS:
        assert f"{env}: rollback succeeded: redeploy set good-" in said
    posted = sorted(body["set_id"] for _, body, _ in paced_emulator.posted)  # type: ignore[index]
    assert posted == [f"good-{env}" for env in sorted(ENVS)]


@pytest.mark.parametrize(
    ("options", "prop", "words"),
    [
        ({"onFailure": "pray"}, "onFailure", "onFailure must be nothing or rollback"),
        ({"alarm": ["a"]}, "alarm", "alarm is read during a bake: give bake"),
        ({"failFast": "false"}, "failFast", "failFast must be true or false, not a str"),
        ({"maxRate": 0}, "maxRate", "maxRate must be more than 0 and at most 1000"),
    ],
)
def test_a_native_release_refuses_a_bad_value_in_the_single_gates_words(
    emulator: Emulator, client: Client, options: dict[str, Any], prop: str, words: str
) -> None:
    with pytest.raises(CheckFailed) as refused:
        Stack(client, MANY_URN).up(release_targets_only(release(emulator, **options)))
    assert [name for name, _ in refused.value.failures] == [prop]
    assert words in str(refused.value)
    single = {k: v for k, v in options.items() if k not in ("failFast", "maxRate")}
    if single:
        with pytest.raises(CheckFailed) as alone:
            Stack(client, URN).up({**humanitec_inputs(emulator, latest=True), **single})
        assert alone.value.failures == refused.value.failures
    assert emulator.requests == []


def test_a_native_release_names_a_bad_target_by_its_place(
    emulator: Emulator, client: Client
) -> None:
    inputs = release_targets_only(release(emulator))
    inputs["targets"][1] = {
        "name": "qa",
        "humanitec": {**inputs["targets"][1]["humanitec"], "env": "../qa"},
    }
    inputs["targets"][2] = {"name": "production"}
    with pytest.raises(CheckFailed) as refused:
        Stack(client, MANY_URN).up(inputs)
    assert sorted(name for name, _ in refused.value.failures) == [
        "targets[1].humanitec.env",
        "targets[2]",
    ]
    assert "set exactly one of" in str(refused.value)


def test_cancel_ends_a_native_releases_waits_as_cancelled(
    emulator: Emulator, client: Client
) -> None:
    for env in ENVS:
        emulator.add_humanitec("acme", "shop", env, RUNS_ON)
    failures: list[str] = []

    def up() -> None:
        try:
            Stack(client, MANY_URN).up(release_targets_only(release(emulator, timeout="10m")))
        except ProviderError as failed:
            failures.append(str(failed))

    waiting = threading.Thread(target=up)
    waiting.start()
    while len(emulator.requests) < len(ENVS):
        time.sleep(0.01)
    client.cancel()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert failures[0].startswith("deployment gates cancelled: the Pulumi engine asked")
    assert "deployment gates: 0/3 succeeded, 3 cancelled" in failures[0]


def test_cancel_ends_a_native_releases_bake_as_cancelled(
    paced_emulator: Emulator, client: Client
) -> None:
    from gate.emulator.health import HealthEndpoint

    good_before_new(paced_emulator)
    failures: list[str] = []
    with HealthEndpoint([200]) as health:

        def up() -> None:
            inputs = release(paced_emulator, bake="5m", bakeInterval="0.1s", probe=[health.url])
            try:
                Stack(client, MANY_URN).up(release_targets_only(inputs))
            except ProviderError as failed:
                failures.append(str(failed))

        waiting = threading.Thread(target=up)
        waiting.start()
        while health.probes < 2:  # the release's bake is under way
            time.sleep(0.01)
        client.cancel()
        waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert failures[0].startswith("deployment gates cancelled: the Pulumi engine asked")
    assert "into the release's bake" in failures[0]
    assert paced_emulator.posted == [], "a cancelled bake rolls nothing back"


def test_the_typescript_release_example_uses_only_inputs_of_the_schema() -> None:
    import re

    import yaml

    project = REPO / "pulumi_examples" / "typescript-release"
    settings = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert (settings["runtime"], settings["packages"]) == ("nodejs", {"gate": "../gate-provider"})
    schema = json.loads(GOLDEN.read_text())
    inputs = schema["resources"]["gate:index:DeploymentGates"]["inputProperties"]
    program = (project / "index.ts").read_text()
    body = program.split("new gate.DeploymentGates(", 1)[1].split("{ customTimeouts", 1)[0]
    top_level = set(re.findall(r"^        (\w+):", body, flags=re.MULTILINE))
    assert {"targets", "bake", "onFailure", "failFast"} <= top_level
    assert top_level <= set(inputs), top_level - set(inputs)
