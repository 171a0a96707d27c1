"""The gate as an OpenTelemetry trace and metrics (:mod:`gate.telling.otel`), sent to a
loopback OTLP/HTTP collector that decodes the real protobuf (tests/parts/otlp_receiver.py).

Gates run through the library against the package's emulator (in virtual time where one
target is waited on; a gate of many in real time, its deployments moved on by their reads),
and through the command (``--otel``, ``--otel-endpoint``). Times are asserted only as
generous guards against a hang, never as the outcome.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

import pytest

from gate import WaitOptions, wait
from gate.bake.run import Bake
from gate.cli.command import main
from gate.core.errors import ConfigError, UsageError
from gate.core.model import DeviceResult, ErrorDetail, Outcome, OutcomeStatus, Snapshot, State
from gate.core.secret import remember, scrubbed, secrets_in
from gate.emulator import Device, Emulator, Timeline
from gate.telling.otel import (
    CLOSE_BOUND,
    DEFAULT_ENDPOINT,
    MAX_EVENTS,
    NEEDS_THE_SDK,
    otel_settings,
    otel_telling,
)
from gate.telling.otel_attributes import (
    KEPT_FAILED_DEVICES,
    KEPT_FAILED_STEPS,
    KEPT_PHASE_LINES,
    KEPT_STATUS_CHANGES,
    scrubbed_attributes,
)
from gate.waiting.engine import Timing
from gate.waiting.fleet import FleetOutcome, wait_all
from gate.waiting.telling import Gated, Telling
from tests.builders import FAST, an_outcome, humanitec_provider
from tests.parts.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.support import TOKEN, RecordingReporter, VirtualClock
from tests.test_bake_engine import BREACHED, ScriptedCheck
from tests.test_engine import ScriptedProvider, finishing_at
from tests.test_fleet import BROKEN, FAILS_BY_READS, SUCCEEDS_BY_READS, latest_in
from tests.test_greengrass_v2 import emulated
from tests.test_humanitec_pipelines import FAILING, HELM_FAILED, failed_run

HEADER_SECRET = "hdr-k3y-0123456789abcdef"
RUN_URL = "https://github.com/acme/shop/actions/runs/4242/attempts/2"
ENV = {
    "HUMANITEC_TOKEN": TOKEN,
    "OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={HEADER_SECRET},x-team=deploys",
    "OTEL_SERVICE_NAME": "release-gate",
    "OTEL_RESOURCE_ATTRIBUTES": "team=payments,note=two%20words",
    "GITHUB_WORKFLOW": "release",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_JOB": "deploy",
    "GITHUB_SHA": "3f2a9c0d",
    "GITHUB_REF_NAME": "main",
}
SEMCONV_MODULES = (
    "opentelemetry.semconv._incubating.attributes.deployment_attributes",
    "opentelemetry.semconv._incubating.attributes.cicd_attributes",
    "opentelemetry.semconv._incubating.attributes.vcs_attributes",
    "opentelemetry.semconv.attributes.error_attributes",
)
QUICK_CLOSE = 1.0
"""The close bound for the tests of a collector that fails: a second, not three."""
HANG_GUARD = 5.0
"""How much longer than its bound a close may take on a loaded machine before it is a hang."""


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    [span] = [span for span in spans if span.name == name]
    return span


def assert_no_secret(receiver: OtlpReceiver) -> None:
    texts = receiver.every_text()
    assert texts, "something was sent"
    for secret in (TOKEN, HEADER_SECRET):
        assert not [text for text in texts if secret in text]


# One gate


def test_a_failed_deployment_is_one_span_with_its_reason_attributes_and_failed_step(
    virtual_emulator: Emulator, clock: VirtualClock, receiver: OtlpReceiver
) -> None:
    run_id = failed_run(virtual_emulator, echo=f" (key {HEADER_SECRET})")
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        FAILING,
        errors=[{"code": "DEP-001", "message": f"api failed; sent {TOKEN} and {HEADER_SECRET}"}],
        pipeline=("default", run_id, "deploy", 1),
    )
    provider = humanitec_provider(virtual_emulator, deploy_id=deploy_id)
    telling = otel_telling(ENV, endpoint=receiver.url)
    reporter = RecordingReporter(clock)

    outcome = wait(
        provider,
        reporter=reporter,
        telemetry=[telling],
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    provider.close()
    assert telling.close() == []

    assert outcome.status is OutcomeStatus.FAILED
    [span] = receiver.spans()
    assert span.name == "gate wait humanitec"
    assert span.parent_span_id == ""
    assert (span.status_code, span.status_message) == ("STATUS_CODE_ERROR", outcome.reason)
    assert (
        span.attributes
        | {
            "deployment.id": deploy_id,
            "deployment.name": "shop",
            "deployment.environment.name": "production",
            "deployment.status": "failed",
            "error.type": "failed",
            "gate.provider": "humanitec",
            "gate.status": "failed",
            "gate.raw_status": "failed",
            "gate.reason": outcome.reason,
            "gate.reads": outcome.polls,
            "gate.exit_code": 1,
            "gate.target.org": "acme",
            "gate.target.deploy_id": deploy_id,
            "cicd.pipeline.name": "release",
            "cicd.pipeline.run.id": "4242",
            "cicd.pipeline.run.url.full": RUN_URL,
            "cicd.pipeline.task.name": "deploy",
            "vcs.repository.url.full": "https://github.com/acme/shop",
            "vcs.ref.head.revision": "3f2a9c0d",
            "vcs.ref.head.name": "main",
        }
        == span.attributes
    )
    assert span.attributes["gate.elapsed"] == outcome.elapsed_seconds
    changes = span.events_named("gate.status_change")
    assert [change["gate.status.current"] for change in changes] == reporter.kinds("status")
    assert (
        changes[-1] | {"gate.status.previous": "executing", "gate.state": "failed"} == (changes[-1])
    )
    [step] = span.events_named("gate.pipeline_step.failed")
    assert step["gate.step.id"] == "deploy/1 Deploy"
    assert step["gate.step.action"] == "actions/humanitec/deploy"
    assert step["gate.step.status"] == "failed"
    assert step["gate.step.message"] == "the deployment failed"
    assert step["gate.step.log"][-1] == f"{HELM_FAILED} (key ***)"
    errors = span.events_named("gate.error")
    assert errors[0]["gate.error.message"] == "api failed; sent *** and ***"
    times = [at for _, at, _ in span.events]
    assert times == sorted(times)
    assert span.start_ns <= times[0]
    assert times[-1] <= span.end_ns
    assert (
        span.resource
        | {
            "service.name": "release-gate",
            "team": "payments",
            "note": "two words",
            "telemetry.sdk.language": "python",
        }
        == span.resource
    )
    assert {headers["x-api-key"] for headers in receiver.headers} == {HEADER_SECRET}
    assert_no_secret(receiver)


def test_a_deployment_is_measured_once_by_provider_environment_and_status(
    virtual_emulator: Emulator, clock: VirtualClock, receiver: OtlpReceiver
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (30, "succeeded")])
    )
    provider = humanitec_provider(virtual_emulator, deploy_id=deploy_id)
    telling = otel_telling(ENV, endpoint=receiver.url)

    outcome = wait(provider, telemetry=[telling], timing=Timing(clock=clock, sleep=clock.sleep))
    provider.close()
    assert telling.close() == []

    assert outcome.succeeded
    [span] = receiver.spans()
    assert span.status_code == "STATUS_CODE_OK"
    assert span.attributes["deployment.status"] == "succeeded"
    assert "error.type" not in span.attributes
    points = {point.metric: point for point in receiver.data_points()}
    assert set(points) == {"gate.deployment.duration", "gate.deployment.outcomes"}
    by = {
        "gate.provider": "humanitec",
        "deployment.environment.name": "production",
        "gate.status": "succeeded",
    }
    duration, outcomes = points["gate.deployment.duration"], points["gate.deployment.outcomes"]
    assert (duration.kind, duration.unit, duration.attributes) == ("histogram", "s", by)
    assert (duration.count, duration.value) == (1, outcome.elapsed_seconds)
    assert (outcomes.kind, outcomes.attributes, outcomes.value) == ("sum", by, 1)
    assert duration.temporality == outcomes.temporality == 1, "delta: a backend adds runs up"


def test_every_standard_attribute_name_is_one_of_the_semantic_conventions(
    virtual_emulator: Emulator, clock: VirtualClock, receiver: OtlpReceiver
) -> None:
    import importlib

    deploy_id = virtual_emulator.add_humanitec("acme", "shop", "production", FAILING)
    provider = humanitec_provider(virtual_emulator, deploy_id=deploy_id)
    telling = otel_telling(ENV, endpoint=receiver.url)
    wait(provider, telemetry=[telling], timing=Timing(clock=clock, sleep=clock.sleep))
    provider.close()
    telling.close()

    known = {
        value
        for name in SEMCONV_MODULES
        for value in vars(importlib.import_module(name)).values()
        if isinstance(value, str)
    }
    [span] = receiver.spans()
    standard = {key for key in span.attributes if not key.startswith("gate.")}
    assert standard >= {"deployment.id", "deployment.environment.name", "cicd.pipeline.name"}
    assert standard <= known


def test_a_fleet_deployments_failed_devices_are_events_and_its_thing_group_the_environment(
    virtual_emulator: Emulator, clock: VirtualClock, receiver: OtlpReceiver, aws_env: None
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2(
        [
            Device("core-1", Timeline([(0, "IN_PROGRESS"), (2, "SUCCEEDED")])),
            Device(
                "core-2",
                Timeline([(0, "IN_PROGRESS"), (3, "FAILED")]),
                reason="com.acme.Sensor exited with 1",
                error_types=["COMPONENT_ERROR"],
            ),
        ],
        thing_group="line-a",
    )
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    telling = otel_telling(ENV, endpoint=receiver.url)

    outcome = wait(
        provider,
        WaitOptions(timeout=600, interval=1),
        telemetry=[telling],
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    provider.close()
    assert telling.close() == []

    assert outcome.status is OutcomeStatus.FAILED
    [span] = receiver.spans()
    assert span.name == "gate wait greengrass-v2"
    assert span.attributes["deployment.id"] == deployment_id
    assert span.attributes["deployment.environment.name"] == "line-a"
    assert (span.attributes["gate.devices"], span.attributes["gate.devices.failed"]) == (2, 1)
    [device] = span.events_named("gate.device.failed")
    assert device["gate.device.name"] == "core-2"
    assert device["gate.device.status"] == "FAILED"
    assert device["gate.device.reason"].startswith("com.acme.Sensor exited with 1")
    assert device["gate.device.error_types"] == ["COMPONENT_ERROR"]
    assert span.status_code == "STATUS_CODE_ERROR"
    assert_no_secret(receiver)


def test_a_bake_that_breached_is_an_event_with_each_breach_and_fails_the_span(
    clock: VirtualClock, receiver: OtlpReceiver
) -> None:
    provider = ScriptedProvider(clock, finishing_at(60))  # type: ignore[arg-type]
    telling = otel_telling(ENV, endpoint=receiver.url)

    outcome = wait(
        provider,
        WaitOptions(timeout=1800),
        bake=Bake(600, [ScriptedCheck(lambda n: BREACHED)], interval=15),
        telemetry=[telling],
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert telling.close() == []

    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.bake is not None
    [span] = receiver.spans()
    assert (span.status_code, span.status_message) == ("STATUS_CODE_ERROR", outcome.reason)
    assert span.attributes["gate.raw_status"] == "succeeded"
    assert span.attributes["gate.bake.status"] == "breached"
    [bake] = span.events_named("gate.bake")
    assert bake["gate.bake.status"] == "breached"
    assert bake["gate.bake.reads"] == outcome.bake.reads
    assert bake["gate.bake.checks"] == ["CloudWatch alarm checkout-5xx"]
    [breach] = span.events_named("gate.bake.breach")
    assert breach == {
        "gate.bake.check": "alarm checkout-5xx",
        "gate.bake.detail": "Threshold Crossed",
    }
    assert span.events_named("gate.phase"), "the bake's lines, as they were said"


def test_a_span_holds_a_bounded_number_of_events_of_each_kind(receiver: OtlpReceiver) -> None:
    telling = otel_telling({}, endpoint=receiver.url)
    gate = telling.for_gate(Gated())
    gate.started("a long deployment", 3600)
    for n in range(200):
        gate.status_changed(None, Snapshot(State.RUNNING, f"step {n}"), float(n))
    for n in range(100):
        gate.phase(f"bake: read {n}", float(n))
    steps = tuple(
        ErrorDetail(code="failed", message="no", scope="pipeline step", object_id=f"job/{n}")
        for n in range(60)
    )
    devices = tuple(DeviceResult(f"core-{n}", "FAILED", "broken") for n in range(60))
    gate.finished(an_outcome(OutcomeStatus.FAILED, errors=steps, devices=devices))
    assert telling.close() == []

    [span] = receiver.spans()
    changes = span.events_named("gate.status_change")
    assert len(changes) == KEPT_STATUS_CHANGES
    assert changes[0]["gate.status.current"] == "step 0", "the first are kept"
    assert changes[-1]["gate.status.current"] == "step 199", "and the last"
    assert len(span.events_named("gate.phase")) == KEPT_PHASE_LINES
    assert len(span.events_named("gate.pipeline_step.failed")) == KEPT_FAILED_STEPS
    assert len(span.events_named("gate.device.failed")) == KEPT_FAILED_DEVICES
    dropped = (200 - KEPT_STATUS_CHANGES) + (100 - KEPT_PHASE_LINES) + (60 - 20) + (60 - 20)
    assert span.attributes["gate.events.dropped"] == dropped
    assert len(span.events) <= MAX_EVENTS


def test_a_trace_context_from_the_pipeline_makes_the_gate_part_of_its_trace(
    receiver: OtlpReceiver,
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    telling = otel_telling({"TRACEPARENT": f"00-{trace_id}-{parent_id}-01"}, endpoint=receiver.url)
    telling.for_gate(Gated()).finished(an_outcome())
    assert telling.close() == []
    [span] = receiver.spans()
    assert (span.trace_id, span.parent_span_id) == (trace_id, parent_id)


# A gate of many


def test_a_release_is_a_parent_span_and_each_target_a_child_of_it(
    paced_emulator: Emulator, receiver: OtlpReceiver
) -> None:
    emulator = paced_emulator
    emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS_BY_READS)
    emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=BROKEN)
    emulator.add_humanitec("acme", "shop", "qa", SUCCEEDS_BY_READS)
    quick = WaitOptions(interval=0.1, max_interval=0.2, timeout=60)
    targets = [latest_in(emulator, env, quick) for env in ("staging", "production", "qa")]
    telling = otel_telling(ENV, endpoint=receiver.url)

    outcome = wait_all(targets, telemetry=[telling])
    for target in targets:
        target.provider.close()
    assert telling.close() == []

    assert outcome.status is OutcomeStatus.FAILED
    spans = receiver.spans()
    release = only(spans, "gate wait-all")
    assert release.parent_span_id == ""
    assert (release.status_code, release.status_message) == (
        "STATUS_CODE_ERROR",
        "failed: 2/3 succeeded, 1 failed",
    )
    assert (
        release.attributes
        | {
            "gate.status": "failed",
            "gate.summary": "2/3 succeeded, 1 failed",
            "gate.targets": 3,
            "gate.target.names": ["staging", "production", "qa"],
            "gate.exit_code": 1,
            "cicd.pipeline.run.url.full": RUN_URL,
        }
        == release.attributes
    )
    children = {span.attributes["deployment.name"]: span for span in spans if span != release}
    assert set(children) == {"staging", "production", "qa"}
    for target_outcome in outcome.outcomes:
        child = children[target_outcome.name]
        assert child.name == "gate wait humanitec"
        assert (child.trace_id, child.parent_span_id) == (release.trace_id, release.span_id)
        assert child.attributes["deployment.id"] == target_outcome.target["deploy_id"] != "latest"
        assert child.attributes["deployment.environment.name"] == target_outcome.name
        assert child.attributes["gate.status"] == target_outcome.status.value
        assert child.end_ns <= release.end_ns
    assert children["production"].status_code == "STATUS_CODE_ERROR"
    assert children["staging"].status_code == "STATUS_CODE_OK"
    counted = {
        (point.attributes["deployment.environment.name"], point.attributes["gate.status"]): (
            point.value
        )
        for point in receiver.data_points()
        if point.metric == "gate.deployment.outcomes"
    }
    assert counted == {
        ("staging", "succeeded"): 1,
        ("production", "failed"): 1,
        ("qa", "succeeded"): 1,
    }
    assert_no_secret(receiver)


def test_a_target_that_never_said_how_it_ended_is_still_a_child_and_an_open_gate_is_closed(
    receiver: OtlpReceiver,
) -> None:
    telling = otel_telling({}, endpoint=receiver.url)
    telling.release_started([Gated("a"), Gated("b")])
    first = an_outcome(name="a")
    telling.for_gate(Gated("a")).finished(first)
    stuck = telling.for_gate(Gated("b"))  # its read was still under way when the release ended
    stuck.started("deployment b", 60)
    stuck.status_changed(None, Snapshot(State.RUNNING, "in progress"), 0.0)
    never = an_outcome(OutcomeStatus.CANCELLED, name="b", reason="cancelled by --fail-fast")
    telling.release_finished(
        FleetOutcome(
            outcomes=(first, never),
            status=OutcomeStatus.CANCELLED,
            elapsed_seconds=12.5,
            started_at=first.started_at,
            finished_at=first.finished_at,
        )
    )
    stuck.finished(an_outcome(OutcomeStatus.CANCELLED, name="b"))  # too late: said once
    unfinished = telling.for_gate(Gated())
    unfinished.started("a deployment that never ends", 60)
    assert telling.close() == []
    assert telling.close() == [], "closing twice sends nothing twice"

    spans = receiver.spans()
    release = only(spans, "gate wait-all")
    assert release.status_message == "cancelled: 1/2 succeeded, 1 cancelled"
    children = [span for span in spans if span.parent_span_id == release.span_id]
    assert sorted(span.attributes["deployment.name"] for span in children) == ["a", "b"]
    [cancelled] = [span for span in children if span.attributes["deployment.name"] == "b"]
    assert cancelled.status_message == "cancelled by --fail-fast"
    assert [
        change["gate.status.current"] for change in cancelled.events_named("gate.status_change")
    ] == ["in progress"]
    open_gate = only(spans, "gate wait")
    assert open_gate.parent_span_id == ""
    assert open_gate.status_message == "the gate ended before its outcome was told"
    assert len(spans) == 4
    assert len(receiver.traces) == 1, "one request for the whole trace"


def test_the_lag_is_how_long_after_the_deployments_last_change_the_gate_saw_it(
    receiver: OtlpReceiver,
) -> None:
    telling = otel_telling({}, endpoint=receiver.url)
    telling.for_gate(Gated()).finished(an_outcome(deployment_changed_at="2026-11-23T10:00:11.000Z"))
    assert telling.close() == []
    [span] = receiver.spans()
    assert span.attributes["gate.lag"] == 1.5


# Never blocking nor failing the gate


def gate_to(
    endpoint: str, clock: VirtualClock, emulator: Emulator
) -> tuple[Outcome, list[str], float]:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending"), (5, "succeeded")])
    )
    provider = humanitec_provider(emulator, deploy_id=deploy_id)
    telling = otel_telling(ENV, endpoint=endpoint, close_within=QUICK_CLOSE)
    outcome = wait(provider, telemetry=[telling], timing=Timing(clock=clock, sleep=clock.sleep))
    provider.close()
    began = time.monotonic()
    warnings = telling.close()
    return outcome, warnings, time.monotonic() - began


def test_a_collector_that_is_down_costs_a_bounded_close_and_a_warning_never_the_gate(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    port = closed_port()
    outcome, warnings, took = gate_to(f"http://127.0.0.1:{port}", clock, virtual_emulator)
    assert (outcome.status, outcome.exit_code) == (OutcomeStatus.SUCCEEDED, 0)
    [warning] = warnings
    assert warning.startswith(
        f"OpenTelemetry: the collector at http://127.0.0.1:{port} did not take the trace and "
        "the metrics"
    )
    assert took < QUICK_CLOSE + HANG_GUARD


def test_a_collector_that_never_answers_costs_a_bounded_close_and_a_warning(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    with OtlpReceiver(hang=True) as silent:
        outcome, warnings, took = gate_to(silent.url, clock, virtual_emulator)
    assert outcome.succeeded
    assert warnings == [
        f"OpenTelemetry: the collector at {silent.url} did not take the trace and the metrics "
        f"within {QUICK_CLOSE:.1f}s"
    ]
    assert took < QUICK_CLOSE + HANG_GUARD


def test_a_collector_that_refuses_the_trace_is_a_warning(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    with OtlpReceiver(answer=400) as refusing:
        outcome, warnings, _ = gate_to(refusing.url, clock, virtual_emulator)
    assert outcome.succeeded
    assert warnings == [
        f"OpenTelemetry: the collector at {refusing.url} did not take the trace and the metrics "
        "(it could not be reached, or refused them)"
    ]


def test_the_default_bound_is_a_few_seconds() -> None:
    assert 0 < CLOSE_BOUND <= 5


# The command


def gate_command(emulator: Emulator, *flags: str, env: Mapping[str, str]) -> tuple[int, str]:
    err = io.StringIO()
    argv = ["wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production"]
    code = main(
        [*argv, "--latest", *FAST, *flags],
        env={"HUMANITEC_API_URL": emulator.url, **env},
        stdout=io.StringIO(),
        stderr=err,
        stdin=io.StringIO(""),
    )
    return code, err.getvalue()


def test_the_command_sends_the_span_of_the_deployment_it_followed(
    paced_emulator: Emulator, receiver: OtlpReceiver
) -> None:
    deploy_id = paced_emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS)
    code, err = gate_command(paced_emulator, "--otel-endpoint", receiver.url, env=ENV)
    assert code == 1, err
    assert "warning" not in err
    [span] = receiver.spans()
    assert span.attributes["deployment.id"] == deploy_id, "the latest, as it was resolved"
    assert span.attributes["gate.exit_code"] == 1
    assert span.status_code == "STATUS_CODE_ERROR"
    assert_no_secret(receiver)


def test_the_commands_exit_code_is_the_deployments_whatever_the_collector_says(
    paced_emulator: Emulator,
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    with OtlpReceiver(answer=400) as refusing:
        code, err = gate_command(
            paced_emulator, "--otel", env={**ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": refusing.url}
        )
    assert code == 0, err
    assert (
        f"gate: warning: OpenTelemetry: the collector at {refusing.url} did not take the trace"
        in err
    )


@pytest.mark.parametrize(
    ("variables", "spans", "points"),
    [
        ({"OTEL_TRACES_EXPORTER": "none"}, 0, 2),
        ({"OTEL_METRICS_EXPORTER": "none"}, 1, 0),
        ({"OTEL_TRACES_EXPORTER": "None", "OTEL_METRICS_EXPORTER": "otlp"}, 0, 2),
        ({"OTEL_SDK_DISABLED": "true"}, 0, 0),
    ],
    ids=["traces-off", "metrics-off", "any-case", "sdk-disabled"],
)
def test_a_signal_whose_exporter_is_none_is_not_sent(
    paced_emulator: Emulator,
    receiver: OtlpReceiver,
    variables: dict[str, str],
    spans: int,
    points: int,
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    code, err = gate_command(
        paced_emulator, "--otel-endpoint", receiver.url, env={**ENV, **variables}
    )
    assert code == 0, err
    assert "warning" not in err
    assert len(receiver.spans()) == spans
    assert len(receiver.data_points()) == points
    assert set(receiver.paths) <= {"/v1/traces", "/v1/metrics"}


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "gate: warning: OpenTelemetry: OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not one the "
            "gate speaks: it sends the traces and the metrics over OTLP http/protobuf only (a "
            "collector's port 4318); for gRPC, send to an OpenTelemetry Collector's OTLP/HTTP "
            "receiver and export gRPC from it",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json",
            },
            "gate: warning: OpenTelemetry: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='http/json' is "
            "not one the gate speaks: it sends the metrics over OTLP http/protobuf only",
        ),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_METRICS_EXPORTER": "none"},
            "gate: warning: OpenTelemetry: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='grpc' is not one "
            "the gate speaks: it sends the traces over OTLP http/protobuf only",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp,console"},
            "gate: warning: OpenTelemetry: OTEL_TRACES_EXPORTER='otlp,console': the gate exports "
            "otlp (or none), so the traces go by OTLP, not by console",
        ),
    ],
    ids=["grpc", "metrics-http-json", "traces-grpc", "console-exporter"],
)
def test_what_the_gate_does_not_speak_is_one_warning_line_and_otlp_http_is_sent(
    paced_emulator: Emulator, receiver: OtlpReceiver, variables: dict[str, str], said: str
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    code, err = gate_command(
        paced_emulator, "--otel-endpoint", receiver.url, env={**ENV, **variables}
    )
    assert code == 0, err
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    assert warning.startswith(said)
    assert len(receiver.spans()) == 1
    assert {headers["content-type"] for headers in receiver.headers} == {"application/x-protobuf"}


# Configuration


def test_the_sdk_missing_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    with pytest.raises(ConfigError) as refused:
        otel_telling({}, endpoint=None)
    assert str(refused.value) == NEEDS_THE_SDK
    assert refused.value.exit_code == 2


def test_importing_the_module_imports_no_opentelemetry() -> None:
    code = (
        "import sys, gate.telling.otel, gate.telling.options\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_telling_is_a_telling(receiver: OtlpReceiver) -> None:
    telling = otel_telling({}, endpoint=receiver.url)
    assert isinstance(telling, Telling)
    assert telling.close() == []
    assert receiver.paths == [], "nothing to say, nothing sent"


@pytest.mark.parametrize(
    ("env", "endpoint", "traces", "metrics"),
    [
        pytest.param({}, None, f"{DEFAULT_ENDPOINT}/v1/traces", None, id="default"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4318/"},
            None,
            "https://otel.example:4318/v1/traces",
            "https://otel.example:4318/v1/metrics",
            id="base-from-env",
        ),
        pytest.param(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/in",
            },
            None,
            "https://traces.example/in",
            "https://otel.example/v1/metrics",
            id="signal-endpoint-as-is",
        ),
        pytest.param(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/in",
            },
            "http://127.0.0.1:4318",
            "http://127.0.0.1:4318/v1/traces",
            "http://127.0.0.1:4318/v1/metrics",
            id="explicit-overrides-all",
        ),
    ],
)
def test_endpoints_are_read_as_every_sdk_reads_them(
    env: Mapping[str, str], endpoint: str | None, traces: str, metrics: str | None
) -> None:
    settings = otel_settings(env, endpoint=endpoint)
    assert settings.traces_url == traces
    assert settings.metrics_url == (metrics or f"{DEFAULT_ENDPOINT}/v1/metrics")


def test_headers_and_resource_attributes_are_percent_decoded_and_the_service_named() -> None:
    settings = otel_settings(
        {
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc123456789,bad,=x",
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes,team=a%2Cb",
        },
        endpoint=None,
    )
    assert settings.headers == {"Authorization": "Bearer abc123456789"}
    assert settings.resource == {"service.name": "from-attributes", "team": "a,b"}
    assert "abc123456789" in settings.secrets
    assert "abc123456789" not in repr(settings)
    assert otel_settings({}, endpoint=None).resource == {"service.name": "deploy-gate"}
    named = otel_settings(
        {"OTEL_SERVICE_NAME": "mine", "OTEL_RESOURCE_ATTRIBUTES": "service.name=theirs"},
        endpoint=None,
    )
    assert named.resource["service.name"] == "mine"


@pytest.mark.parametrize(
    ("endpoint", "error", "says"),
    [
        ("ftp://collector", UsageError, "is not an http(s) URL with a host"),
        ("http://user:pa55word@collector:4318", UsageError, "must not hold a user or password"),
        ("http://collector:99999", UsageError, "port"),
    ],
)
def test_an_endpoint_that_cannot_work_is_refused_at_once(
    endpoint: str, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match="--otel-endpoint") as refused:
        otel_telling({}, endpoint=endpoint)
    assert says in str(refused.value)
    assert "pa55word" not in str(refused.value)
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        otel_telling({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, endpoint=None)


def test_secrets_are_found_by_name_and_cut_out_of_any_text() -> None:
    env = {
        "HUMANITEC_TOKEN": TOKEN,
        "MY_API_KEY": "k-0123456789",
        "DB_PASSWORD": "hunter2!",
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Basic%20dXNlcjpwYXNz",
    }
    remember(*secrets_in(env))
    assert scrubbed(f"echoed {TOKEN}!") == "echoed ***!"
    assert scrubbed("hunter2!") == "***"
    assert scrubbed("Basic dXNlcjpwYXNz") == "***"
    assert scrubbed("auth dXNlcjpwYXNz") == "auth ***"
    assert scrubbed("by Ada Lovelace") == "by Ada Lovelace", "an author is no secret"
    assert scrubbed_attributes({"a": ["k-0123456789"], "b": None, "c": "", "d": 3}) == {
        "a": ["***"],
        "d": 3,
    }
