"""Fault injection: every fault a deployment API or a runner can throw, for each provider.

Each case runs the real ``gate wait`` command against the package's emulator on loopback (or
a closed port) and checks the exit code, the JSON ``status``, that the deadline held, that
success is reported only for a deployment that succeeded, and that the reason names the fault
in plain words.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from gate.emulator import Emulator, Fault, Timeline
from tests.support import HUMANITEC_PRODUCTION, TOKEN, on_emulator, run_gate, signal_mid_wait

TIMEOUT = 3.0
REQUEST_TIMEOUT = 0.5
FAST = [
    "--interval",
    "0.05s",
    "--max-interval",
    "0.2s",
    "--timeout",
    f"{TIMEOUT}s",
    "--request-timeout",
    f"{REQUEST_TIMEOUT}s",
    "--output",
    "json",
]
RUNNING_THEN_SUCCESS = [(0, "running"), (0.4, "succeeded")]


@dataclass(frozen=True)
class Case:
    id: str
    faults: list[tuple[Fault, int]] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=lambda: RUNNING_THEN_SUCCESS)
    exit_code: int = 0
    status: str = "succeeded"
    reason: str | None = None
    """Words the reason (or, when the wait succeeded, the progress on stderr) must hold."""
    args: tuple[str, ...] = ()
    exists: bool = True
    created_after: float | None = None


def common_cases() -> list[Case]:
    """Cases both providers share (status words are mapped to each provider's own)."""
    hang_everything = [(Fault.hang(30), 1000)]
    return [
        Case(
            "5xx-burst",
            [
                (Fault.http(500), 1),
                (Fault.http(502), 1),
                (Fault.http(503), 1),
                (Fault.http(504), 1),
            ],
            reason="HTTP 50",
        ),
        Case("429-retry-after", [(Fault.http(429, retry_after="1"), 1)], reason="429"),
        Case("429-no-retry-after", [(Fault.http(429), 2)], reason="429"),
        Case("reset-mid-body", [(Fault.reset(), 2)]),
        Case("hang-past-request-timeout", [(Fault.hang(10), 1)]),
        Case("non-json-2xx", [(Fault.ok_body(b"<html>502 Bad Gateway</html>"), 2)]),
        Case("truncated-2xx", [(Fault.ok_body(b'{"status": "succ'), 2)]),
        Case("json-without-status", [(Fault.ok_body(b'{"id": "x"}'), 2)]),
        Case(
            "5xx-until-deadline",
            [(Fault.http(503), 10_000)],
            exit_code=4,
            status="error",
            reason="503",
        ),
        Case(
            "hang-until-deadline",
            hang_everything,
            exit_code=4,
            status="error",
            reason="could not read the status before the 3.0s deadline",
        ),
        Case(
            "unknown-status",
            timeline=[(0, "Paused")],
            exit_code=3,
            status="timed_out",
            reason="'Paused' (a status gate does not know)",
        ),
        Case(
            "failed",
            timeline=[(0, "running"), (0.3, "failed")],
            exit_code=1,
            status="failed",
            reason="ended as",
        ),
        Case("succeeded-then-failed", timeline=[(0, "succeeded"), (5, "failed")]),
        Case(
            "still-running",
            timeline=[(0, "running")],
            exit_code=3,
            status="timed_out",
            reason="deadline passed while the deployment was",
        ),
        Case(
            "not-found-then-found",
            exists=False,
            created_after=0.5,
            args=("--not-found-grace", "2s"),
        ),
        Case(
            "not-found-after-grace",
            exists=False,
            exit_code=4,
            status="error",
            reason="still not found after 0.3s",
            args=("--not-found-grace", "0.3s"),
        ),
    ]


HUMANITEC_WORDS = {
    "running": "in progress",
    "succeeded": "succeeded",
    "failed": "failed",
    "Paused": "Paused",
}
GREENGRASS_WORDS = {
    "running": "InProgress",
    "succeeded": "Success",
    "failed": "Failure",
    "Paused": "Paused",
}

HUMANITEC_CASES = [
    *common_cases(),
    Case(
        "401",
        [(Fault.http(401, body=b'{"error":"API-000","message":"bad token"}'), 1)],
        exit_code=4,
        status="error",
        reason="HTTP 401: API-000 bad token",
    ),
    Case(
        "403",
        [(Fault.http(403, body=b'{"error":"API-403","message":"forbidden"}'), 1)],
        exit_code=4,
        status="error",
        reason="HTTP 403",
    ),
]
GREENGRASS_CASES = [
    *common_cases(),
    Case(
        "throttling",
        [(Fault.aws("ThrottlingException", status=400), 3)],
        reason="ThrottlingException",
    ),
    Case(
        "too-many-requests",
        [(Fault.aws("TooManyRequestsException", status=429), 3)],
        reason="TooManyRequestsException",
    ),
    Case(
        "internal-server-error",
        [(Fault.aws("InternalServerErrorException", status=500), 3)],
        reason="InternalServerErrorException",
    ),
    Case(
        "401",
        [(Fault.http(401), 1)],
        exit_code=4,
        status="error",
        reason="AWS refused the credentials",
    ),
    Case(
        "403",
        [(Fault.aws("AccessDeniedException", status=403, message="not allowed"), 1)],
        exit_code=4,
        status="error",
        reason="AccessDeniedException: not allowed",
    ),
]


def humanitec_run(emulator: Emulator, case: Case) -> subprocess.CompletedProcess[str]:
    timeline = Timeline([(at, HUMANITEC_WORDS[word]) for at, word in case.timeline])
    deploy_id = "d-fault-1"
    if case.exists:
        emulator.add_humanitec("acme", "shop", "production", timeline, deploy_id=deploy_id)
    else:
        emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    create_later(
        case,
        lambda: emulator.add_humanitec("acme", "shop", "production", timeline, deploy_id=deploy_id),
    )
    for fault, times in case.faults:
        emulator.inject(fault, times=times, path_contains=deploy_id)
    return run_gate(
        "wait",
        *HUMANITEC_PRODUCTION,
        "--deploy-id",
        deploy_id,
        *FAST,
        *case.args,
        env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
    )


def greengrass_run(emulator: Emulator, case: Case) -> subprocess.CompletedProcess[str]:
    timeline = Timeline([(at, GREENGRASS_WORDS[word]) for at, word in case.timeline])
    ids = {"group_id": "g-fault-1", "deployment_id": "d-fault-1"}
    if case.exists:
        emulator.add_greengrass(timeline, **ids)
    create_later(case, lambda: emulator.add_greengrass(timeline, **ids))
    for fault, times in case.faults:
        emulator.inject(fault, times=times, path_contains=ids["deployment_id"])
    return run_gate(
        "wait",
        "greengrass",
        "--group-id",
        ids["group_id"],
        "--deployment-id",
        ids["deployment_id"],
        *on_emulator(emulator),
        *FAST,
        *case.args,
        env={"AWS_ACCESS_KEY_ID": "AKIAFAULT", "AWS_SECRET_ACCESS_KEY": "s3cr3t"},
    )


def create_later(case: Case, create: Callable[[], object]) -> None:
    if case.created_after is not None:
        import threading

        timer = threading.Timer(case.created_after, create)
        timer.daemon = True
        timer.start()


def check(case: Case, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == case.exit_code, result.stderr
    [line] = result.stdout.splitlines()
    outcome = json.loads(line)
    assert outcome["status"] == case.status
    assert (outcome["status"] == "succeeded") == (case.status == "succeeded")
    if outcome["status"] == "succeeded":
        assert outcome["raw_status"] in ("succeeded", "Success")
    assert outcome["elapsed_seconds"] <= TIMEOUT + REQUEST_TIMEOUT + 0.5, "the deadline held"
    if case.reason:
        said = outcome["reason"] if outcome["reason"] else result.stderr
        assert case.reason in said, said
    assert TOKEN not in result.stdout + result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr


@pytest.mark.parametrize("case", HUMANITEC_CASES, ids=lambda case: case.id)
def test_humanitec_faults(emulator: Emulator, case: Case) -> None:
    check(case, humanitec_run(emulator, case))


@pytest.mark.parametrize("case", GREENGRASS_CASES, ids=lambda case: case.id)
def test_greengrass_faults(emulator: Emulator, case: Case) -> None:
    check(case, greengrass_run(emulator, case))


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("provider", ["humanitec", "greengrass"])
def test_connection_refused_until_the_deadline_is_an_unreadable_status(provider: str) -> None:
    url = closed_port()
    if provider == "humanitec":
        result = run_gate(
            "wait",
            "humanitec",
            "--org",
            "a1",
            "--app",
            "b1",
            "--env",
            "c1",
            "--deploy-id",
            "d1",
            *FAST,
            env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": url},
        )
    else:
        result = run_gate(
            "wait",
            "greengrass",
            "--group-id",
            "g1",
            "--deployment-id",
            "d1",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            url,
            *FAST,
            env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
        )
    check(Case("refused", exit_code=4, status="error", reason="connection"), result)


@pytest.mark.parametrize("provider", ["humanitec", "greengrass"])
def test_sigterm_mid_wait_is_cancelled_with_the_last_status(
    emulator: Emulator, provider: str
) -> None:
    if provider == "humanitec":
        emulator.add_humanitec(
            "acme", "shop", "production", Timeline([(0, "in progress")]), deploy_id="d-term"
        )
        args = [
            *HUMANITEC_PRODUCTION,
            "--deploy-id",
            "d-term",
        ]
        env = {"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url}
    else:
        emulator.add_greengrass(
            Timeline([(0, "InProgress")]), group_id="g-term", deployment_id="d-term"
        )
        args = [
            "greengrass",
            "--group-id",
            "g-term",
            "--deployment-id",
            "d-term",
            *on_emulator(emulator),
        ]
        env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    code, outcome, _ = signal_mid_wait(args, env, signal.SIGTERM)
    assert code == 143
    assert outcome["status"] == "cancelled"
    assert outcome["raw_status"] in ("in progress", "InProgress")
    assert "interrupted by signal 15" in str(outcome["reason"])
