"""``gate demo``: what a pipeline sees, on a local emulator, with no cloud account.

Starts the emulator, then on each backend starts a deployment that succeeds and one that
fails (and a release to three environments, one of which fails), and gates on each with the
real ``gate wait`` command (a subprocess, as a pipeline runs it), showing its progress, its
report and its exit code. Two releases succeed and are rolled back by their bake: one whose
health probe fails, and one whose error ratio doubles, under any fixed threshold, which the
comparison with its baseline catches.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from typing import TextIO

from gate.emulator import Device, Emulator, PipelineJob, PipelineStep, Timeline, Workload
from gate.emulator.health import HealthEndpoint

__all__ = ["run_demo"]

_HUMANITEC_ERRORS = [
    {
        "scope": "workload",
        "object_id": "checkout",
        "code": "POD-CRASHLOOP",
        "summary": "Container is crash-looping",
        "message": "container 'checkout' exited with code 1: missing env var PAYMENT_URL",
    },
    {
        "scope": "resource",
        "object_id": "postgres",
        "code": "RES-005",
        "summary": "",
        "message": "Timed out waiting for the database to become ready",
    },
]
_GREENGRASS_DETAILS = [
    {
        "DetailedErrorCode": "LambdaExecutionFailure",
        "DetailedErrorMessage": "function 'sensor-reader' failed to start: module not found",
    }
]
_DEPLOY_STEP_LOG = [
    ("INFO", "Deploying set 3f1c9e to environment 'production'"),
    ("INFO", "Provisioning resource 'postgres' (type postgres, class default)"),
    ("ERROR", "Resource 'postgres' was not ready after 300s: connection refused on :5432"),
    ("ERROR", "Deployment failed: 1 resource not ready"),
]
_DEVICE_OK = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (4, "SUCCEEDED")])
_DEVICE_BROKEN = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "FAILED")])
_HUMANITEC_RUN = [(0, "pending"), (1, "in progress")]
_ERROR_RATIO = "cart:http_errors:ratio_rate1m"
"""A recording rule's series in the emulator's Prometheus: 0.4% of requests fail, 0.8% once
the release is out, far under the alert's 2%."""
_GREENGRASS_RUN = [(0, "Building"), (1, "InProgress")]


def run_demo(*, out: TextIO, err: TextIO) -> int:
    """Exit 0 when every gate ended as a pipeline should (0 on success, 1 on failure)."""
    checkout_health = HealthEndpoint(
        [200, 200, 503],
        body='{"status":"DOWN","payments":{"status":"DOWN","error":"connection refused"}}',
    )
    with Emulator() as emulator, checkout_health:
        env = {
            **os.environ,
            "HUMANITEC_TOKEN": emulator.token,
            "HUMANITEC_AUTH_TOKEN": emulator.token,
            "HUMANITEC_API_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": emulator.url,
        }
        env.pop("AWS_PROFILE", None)
        out.write(
            f"gate demo: an emulator of the Humanitec v1/v2 and Greengrass v1/v2 APIs (and of "
            f"a Prometheus) on "
            f"{emulator.url}\nEach case below starts deployments there and gates them as a "
            "pipeline would.\n"
        )

        def humanitec_ok() -> list[str]:
            timeline = Timeline([*_HUMANITEC_RUN, (4, "succeeded")])
            deploy_id = emulator.add_humanitec("demo", "shop", "staging", timeline)
            return _humanitec_flags("staging", "--deploy-id", deploy_id)

        def humanitec_failed() -> list[str]:
            timeline = Timeline([*_HUMANITEC_RUN, (4, "failed")])
            step = PipelineStep(
                "Deploy",
                "actions/humanitec/deploy",
                Timeline([(0, "queued"), (1, "executing"), (4, "failed")]),
                status_message="The deployment failed.",
                logs=_DEPLOY_STEP_LOG,
            )
            run = emulator.add_pipeline_run(
                "demo",
                "shop",
                "default",
                Timeline([(0, "executing"), (4, "failed")]),
                jobs=[PipelineJob("deploy", step.timeline, steps=[step])],
                status_message="Job deploy failed.",
            )
            emulator.add_humanitec(
                "demo",
                "shop",
                "production",
                timeline,
                errors=_HUMANITEC_ERRORS,
                pipeline=("default", run, "deploy", 0),
            )
            return _humanitec_flags("production", "--latest", "--output", "json")

        def humanitec_never_ready() -> list[str]:
            emulator.add_workloads(
                "demo",
                "shop",
                "preview",
                [
                    Workload("api", Timeline([(0, "starting"), (2, "ready")])),
                    Workload(
                        "worker",
                        Timeline([(0, "starting"), (2, "ImagePullBackOff")]),
                        message='Back-off pulling image "registry.example.com/worker:1.4.2"',
                    ),
                ],
            )
            deploy_id = emulator.add_humanitec(
                "demo", "shop", "preview", Timeline([*_HUMANITEC_RUN, (2, "succeeded")])
            )
            return _humanitec_flags(
                "preview", "--deploy-id", deploy_id, "--require-ready", "--timeout", "8s"
            )

        def humanitec_v2_ok() -> list[str]:
            timeline = Timeline([(0, "in progress"), (3, "succeeded")])
            return [
                "humanitec-v2",
                "--org",
                "demo",
                "--deployment-id",
                emulator.add_humanitec_v2("demo", timeline),
            ]

        def greengrass_ok() -> list[str]:
            group, deployment = emulator.add_greengrass(
                Timeline([*_GREENGRASS_RUN, (4, "Success")])
            )
            return ["greengrass", "--group-id", group, "--deployment-id", deployment]

        def greengrass_failed() -> list[str]:
            group, deployment = emulator.add_greengrass(
                Timeline([*_GREENGRASS_RUN, (4, "Failure")]),
                error_message="Deployment failed on 1 of 3 cores",
                error_details=_GREENGRASS_DETAILS,
            )
            return [
                "greengrass",
                "--group-id",
                group,
                "--deployment-id",
                deployment,
                "--output",
                "json",
            ]

        def greengrass_v2_fleet() -> list[str]:
            fleet = [Device(f"press-{n}", _DEVICE_OK) for n in (1, 2, 4)]
            fleet.insert(
                2,
                Device(
                    "press-3",
                    _DEVICE_BROKEN,
                    reason="com.acme.PressController: exited with code 1 (config key 'torque')",
                    error_stack=[
                        "DEPLOYMENT_FAILURE",
                        "COMPONENT_UPDATE_ERROR",
                        "COMPONENT_BROKEN",
                    ],
                    error_types=["COMPONENT_ERROR"],
                ),
            )
            deployment_id = emulator.add_greengrass_v2(fleet, thing_group="factory-line-a")
            return ["greengrass-v2", "--deployment-id", deployment_id]

        def humanitec_bake_then_rollback() -> list[str]:
            emulator.add_humanitec(
                "demo",
                "shop",
                "checkout",
                Timeline([(0, "succeeded")]),
                started_ago=3600,
                set_id="5e7b0c2f91d4",
            )
            deploy_id = emulator.add_humanitec(
                "demo",
                "shop",
                "checkout",
                Timeline([*_HUMANITEC_RUN, (3, "succeeded")]),
                set_id="8a41f9d03c6e",
            )
            return _humanitec_flags(
                "checkout",
                "--deploy-id",
                deploy_id,
                "--bake",
                "1m",
                "--bake-interval",
                "1s",
                "--probe",
                checkout_health.url,
                "--probe-failures",
                "2",
                "--on-failure",
                "rollback",
            )

        def humanitec_compared_then_rollback() -> list[str]:
            emulator.add_humanitec(
                "demo",
                "shop",
                "cart",
                Timeline([(0, "succeeded")]),
                started_ago=3600,
                set_id="c4d2a7e1b093",
            )
            deploy_id = emulator.add_humanitec(
                "demo",
                "shop",
                "cart",
                Timeline([*_HUMANITEC_RUN, (3, "succeeded")]),
                set_id="f17b3e5a28cd",
            )
            emulator.add_error_ratio(
                _ERROR_RATIO, 0.004, worse_by=2.0, worse_after=3, labels={"service": "cart"}
            )
            return _humanitec_flags(
                "cart",
                "--deploy-id",
                deploy_id,
                "--bake",
                "12s",
                "--bake-interval",
                "1s",
                "--prometheus",
                emulator.url,
                "--query",
                f"{_ERROR_RATIO} > 0.02",
                "--compare",
                f"error_ratio={_ERROR_RATIO}",
                "--compare-min-samples",
                "10",
                "--on-failure",
                "rollback",
            )

        def humanitec_release() -> list[str]:
            environments = []
            for env, ends, at in (
                ("eu", "succeeded", 4),
                ("us", "succeeded", 5),
                ("apac", "failed", 3),
            ):
                errors = _HUMANITEC_ERRORS[:1] if ends == "failed" else []
                timeline = Timeline([*_HUMANITEC_RUN, (at, ends)])
                emulator.add_humanitec("demo", "release", env, timeline, errors=errors)
                environments += ["--env", env]
            return ["humanitec", "--org", "demo", "--app", "release", *environments, "--latest"]

        cases: list[tuple[Callable[[], list[str]], int]] = [
            (humanitec_ok, 0),
            (humanitec_failed, 1),
            (humanitec_never_ready, 1),
            (humanitec_v2_ok, 0),
            (greengrass_ok, 0),
            (greengrass_failed, 1),
            (greengrass_v2_fleet, 1),
            (humanitec_bake_then_rollback, 1),
            (humanitec_compared_then_rollback, 1),
            (humanitec_release, 1),
        ]
        surprises = 0
        for start, expected in cases:
            # a pipeline keeps the default schedule; the demo's deployments last seconds
            code = _gate([*start(), "--interval", "1s", "--max-interval", "2s"], env, out)
            verdict = "as expected" if code == expected else f"UNEXPECTED, wanted {expected}"
            out.write(f"-> exit code {code} ({verdict})\n")
            surprises += code != expected
    out.write(
        "\nA pipeline goes on after exit 0 and stops on any other code; README.md lists them all.\n"
    )
    out.flush()
    return 1 if surprises else 0


def _gate(args: list[str], env: dict[str, str], out: TextIO) -> int:
    """Run ``gate wait`` as a pipeline would; its stderr (progress) and stdout go to ``out``."""
    out.write(f"\n$ gate wait {shlex.join(args)}\n")
    out.flush()
    with subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
        [sys.executable, "-m", "gate", "wait", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            out.flush()
    return process.returncode


def _humanitec_flags(env: str, *more: str) -> list[str]:
    """``gate wait`` flags for the demo app's environment ``env``, then ``more``."""
    return ["humanitec", "--org", "demo", "--app", "shop", "--env", env, *more]
