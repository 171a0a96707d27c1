"""Telling costs nothing when unused: ``gate wait humanitec`` without ``--otel`` nor
``--github-deployment`` imports no OpenTelemetry module and none of the gate's tellings,
checked on what the command's process holds in ``sys.modules`` when it ends (the time it
costs is a figure of bench/telling.py, never asserted). With ``--otel-endpoint`` it does
import them, so the check can fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench import telling
from bench.__main__ import render, telling_rows
from gate.emulator import Emulator
from tests.parts.otlp_receiver import OtlpReceiver
from tests.support import TOKEN
from tests.test_fleet import SUCCEEDS_BY_READS

TELLING_MODULES = (
    "gate.telling.otel",
    "gate.telling.otel_attributes",
    "gate.telling.github_deployments",
    "gate.telling.github_api",
)
IMPORTED = (
    "import json, sys\n"
    "from gate.cli.command import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, sorted(sys.modules)]))\n"
)
"""The command in-process, then every module it imported (argv is the command's)."""
AS_A_WORKFLOW_RUNS = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
    "GITHUB_TOKEN": "ghs-not-a-real-token-0123456789",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_SHA": "3f2a9c0d",
}
"""What a CI job's environment may hold: none of it turns a telling on without its flag."""


def modules_of_the_command(
    emulator: Emulator, *flags: str, env: dict[str, str] | None = None
) -> list[str]:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    argv = ["wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production"]
    argv += ["--deploy-id", deploy_id, "--interval", "0.1s", "--max-interval", "0.1s"]
    ran = subprocess.run(
        [sys.executable, "-c", IMPORTED, *argv, *flags],
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "HUMANITEC_TOKEN": TOKEN,
            "HUMANITEC_API_URL": emulator.url,
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    code, modules = json.loads(ran.stdout.splitlines()[-1])
    assert code == 0, ran.stderr
    return list(modules)


def opentelemetry_in(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] == "opentelemetry"]


@pytest.mark.parametrize(
    "env", [None, AS_A_WORKFLOW_RUNS], ids=["bare environment", "a workflow's environment"]
)
def test_a_gate_without_a_telling_imports_nothing_of_them(
    paced_emulator: Emulator, env: dict[str, str] | None
) -> None:
    modules = modules_of_the_command(paced_emulator, env=env)
    assert opentelemetry_in(modules) == []
    assert [name for name in TELLING_MODULES if name in modules] == []


def test_a_gate_with_otel_endpoint_imports_the_sdk_and_sends_its_span(
    paced_emulator: Emulator,
) -> None:
    with OtlpReceiver() as receiver:
        modules = modules_of_the_command(paced_emulator, "--otel-endpoint", receiver.url)
        assert receiver.arrived.wait(5)
    assert "opentelemetry.sdk.trace" in modules
    assert "gate.telling.otel" in modules
    assert "gate.telling.github_deployments" not in modules, "one telling asked, one made"
    assert len(receiver.spans()) == 1


def test_the_bench_rows_of_telling_compare_with_the_gate_without_it() -> None:
    """The bench's own arithmetic (its figures are not asserted: see bench/)."""
    measured = [
        telling.Figures(telling.ANCHOR, 7, 0.500, 0.200, 32.0, None),
        telling.Figures(telling.ANSWERS, 7, 0.700, 0.320, 44.8, 7),
    ]
    rows = telling_rows(measured)
    assert rows[0][3] == "anchor"
    assert rows[1][2] == "wall 700 ms, CPU 320 ms, peak RSS 45 MiB; 7 spans received of 7 gates"
    assert rows[1][3] == "wall x1.40 (+200 ms); CPU x1.60 (+120 ms); RSS x1.40"
    assert render(rows).count("\n") == len(rows) + 1
