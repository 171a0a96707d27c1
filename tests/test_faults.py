"""Fault injection: every fault a deployment API or a runner can throw, for each provider.

Each case runs the real ``gate wait`` command against the package's emulator on loopback (or
a closed port) and checks the exit code, the JSON ``status``, that the deadline held, that
success is reported only for a deployment that succeeded, and that the reason names the fault
in plain words.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Device, Emulator, Fault, Timeline, Workload
from gate.providers.greengrass.v2.judge import SILENT_AFTER
from gate.waiting.engine import LAST_READ_SECONDS
from tests.builders import FAST, FAST_JSON
from tests.support import (
    HUMANITEC_PRODUCTION,
    TOKEN,
    clean_env,
    gate_greengrass_v2,
    killed_if_failed,
    on_emulator,
    on_first_read,
    run_gate,
    signal_mid_wait,
)

TIMEOUT = 3.0
REQUEST_TIMEOUT = 0.5
SLOW_FAULTS = [Fault.trickle_headers(0.1), Fault.trickle_body(0.1), Fault.endless_chunks(0.1)]
START_UP = 15.0
"""Seconds a fresh interpreter may take to import the gate and its clients, on a busy CI
machine: generous, since the faults it guards against hold for 30 s or forever."""
BOUNDED = [*FAST_JSON, "--timeout", f"{TIMEOUT}s", "--request-timeout", f"{REQUEST_TIMEOUT}s"]
RUNNING_THEN_SUCCESS = [(0, "running"), (0.4, "succeeded")]
SUCCESS_DEADLINE = 60.0
"""The deadline of a case that must end as the deployment ended: it ends once the deployment
did, so a long one costs nothing, and a busy machine cannot turn its retries into a timeout."""
SLACK = 20.0
"""Seconds past its deadline and last read a busy machine may take to end a case (imports,
a starved CPU; 10 s was once exceeded at a load of 6 to 10 on 2 CPUs): below the 30 s or more
the faults hold for, so a wait the faults hold still fails the bound."""


def bounded(case: Case) -> list[str]:
    """The bounds a case runs with: a deadline it must reach, or, for a case the deployment's
    own ending ends (succeeded, or failed with no fault to outlast), one it must never need."""
    if case.exit_code == 0 or (case.exit_code == 1 and not case.faults):
        return [*BOUNDED, "--timeout", f"{SUCCESS_DEADLINE:g}s"]
    return BOUNDED


@dataclass(frozen=True)
class Case:
    id: str
    faults: list[tuple[Fault, int] | tuple[Fault, int, str]] = field(default_factory=list)
    """(fault, how many times[, a path suffix after the deployment id, such as "/errors"])."""
    timeline: list[tuple[float, str]] = field(default_factory=lambda: RUNNING_THEN_SUCCESS)
    exit_code: int = 0
    status: str = "succeeded"
    reason: str | None = None
    """Words the reason (or, when the wait succeeded, the progress on stderr) must hold."""
    args: tuple[str, ...] = ()
    exists: bool = True
    created_after_a_read: bool = False
    """The deployment is created once the gate has asked for it (and been told 404)."""
    errors: tuple[dict[str, str], ...] = ()
    error_words: str | None = None
    """Words the first error detail of the outcome must hold."""
    within: float = TIMEOUT + LAST_READ_SECONDS + SLACK
    """The wait ends within this many seconds of starting, whatever the server does: its
    deadline and last read, and slack for a busy machine (the faults hold for 30 s or more)."""


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
            created_after_a_read=True,
            args=("--not-found-grace", "30s"),  # found on the read after the first
        ),
        # Deadlines: an answer that is always nearly there ends at the request timeout once,
        # and at the deadline when it never ends, however long --request-timeout is.
        *[
            Case(f"{fault.kind}-once", [(fault, 1)], reason="no answer within the request timeout")
            for fault in SLOW_FAULTS
        ],
        *[
            Case(
                f"{fault.kind}-until-the-deadline",
                [(fault, 10_000)],
                exit_code=4,
                status="error",
                reason="no answer within the request timeout",
                args=("--request-timeout", "1h"),
            )
            for fault in SLOW_FAULTS
        ],
        # Bodies no parser should be trusted with are faults, retried, never a crash.
        Case("deeply-nested-2xx", [(Fault.ok_body(b"[" * 100_000 + b"]" * 100_000), 2)]),
        Case("invalid-utf8-2xx", [(Fault.ok_body(b'{"status": "\xff\xfe"}'), 2)]),
        Case(
            "larger-than-the-wire-reads",
            [(Fault.ok_body(b" " * (9 * 1024 * 1024) + b"{}"), 1)],
            reason="larger than 8 MiB",
            args=("--request-timeout", "10s"),  # the size, not a slow machine, ends the read
        ),
        # A rate limit that asks for more than the time left ends the wait, naming it.
        Case(
            "retry-after-past-the-deadline",
            [(Fault.http(429, retry_after="3600"), 1000)],
            exit_code=4,
            status="error",
            reason="rate limited: the API asked the gate to wait 1h00m",
            args=("--timeout", "10m"),
            within=SLACK,  # at once, long before its deadline
        ),
        # Status words reach the terminal cleaned: no forged line, no escape, no encoding crash.
        Case(
            "escape-sequences-in-the-status",
            timeline=[(0, "\x1b[2K\rgate: deployment succeeded\x07\u2028")],
            exit_code=3,
            status="timed_out",
        ),
        Case(
            "lone-surrogate-in-the-status",
            timeline=[(0, "Paused\ud800")],
            exit_code=3,
            status="timed_out",
            reason="Paused\ufffd",
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
HUMANITEC_CASES += [
    Case(
        "error-list-5xx-until-the-deadline",
        [(Fault.http(503), 10_000, "/errors")],
        timeline=[(0, "failed")],
        exit_code=1,
        status="failed",
        reason="ended as 'failed'",
        error_words="its error details could not be read: deployment errors: HTTP 503",
    ),
    Case(
        "error-list-404",
        [(Fault.http(404, body=b'{"error":"API-404","message":"No errors."}'), 10, "/errors")],
        timeline=[(0, "failed")],
        exit_code=1,
        status="failed",
        error_words="deployment errors: HTTP 404: API-404 No errors.",
    ),
    Case(
        "error-body-kept-whole",
        [
            (
                Fault.http(
                    400,
                    body=b'{"error":"API-400","message":"Deployment is locked by a pipeline",'
                    b'"details":{"pipeline":"p-7"}}',
                ),
                1,
            )
        ],
        exit_code=4,
        status="error",
        reason='HTTP 400: API-400 Deployment is locked by a pipeline {"pipeline":"p-7"}',
    ),
    Case(
        "404-body-says-which-deployment",
        exists=False,
        exit_code=4,
        status="error",
        reason="HTTP 404: API-404 Deployment not found.",
        args=("--not-found-grace", "0s"),
    ),
    Case(
        "token-echoed-in-the-error-list",
        timeline=[(0, "failed")],
        errors=({"code": "E1", "message": f"token {TOKEN} was refused by the registry"},),
        exit_code=1,
        status="failed",
        error_words="token *** was refused by the registry",
    ),
    Case(
        "another-deployments-answer",
        [(Fault.ok_body(b'{"id": "someone-else", "status": "succeeded"}'), 10_000)],
        timeline=[(0, "running")],
        exit_code=4,
        status="error",
        reason="asked for 'd-fault-1', the API answered with 'someone-else'",
    ),
]
GREENGRASS_CASES = [
    *common_cases(),
    Case(
        "failure-whose-error-details-are-not-a-list",
        [(Fault.ok_body(b'{"DeploymentStatus":"Failure","ErrorDetails":"boom"}'), 10_000)],
        exit_code=4,
        status="error",
        reason="could not be read (AttributeError)",
    ),
    Case(
        "bad-request-carrying-error-details",
        [
            (
                Fault.aws(
                    "BadRequestException",
                    message="The group is not valid",
                    ErrorDetails=[
                        {"DetailedErrorCode": "GG-204", "DetailedErrorMessage": "no core"}
                    ],
                ),
                1,
            )
        ],
        exit_code=4,
        status="error",
        reason="The group is not valid; GG-204 no core",
    ),
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

AWS_ERROR_CASES = ("throttling", "too-many-requests", "internal-server-error", "401", "403")
GREENGRASS_V2_CASES = [
    *common_cases(),
    *[case for case in GREENGRASS_CASES if case.id in AWS_ERROR_CASES],
    Case(
        "expired-credentials",
        [(Fault.aws("ExpiredTokenException", status=403, message="token expired"), 1)],
        exit_code=4,
        status="error",
        reason="ExpiredTokenException: token expired",
    ),
    Case(
        "device-that-never-reports",
        timeline=[(0, "QUEUED")],
        exit_code=3,
        status="timed_out",
        reason="deadline passed while the deployment was 'QUEUED'",
        error_words="still queued when the deadline passed",
    ),
    Case(
        "device-failed",
        timeline=[(0, "running"), (0.3, "failed")],
        exit_code=1,
        status="failed",
        reason="ended as 'FAILED' on core-1",
        error_words="com.acme.Sensor exited with 1",
    ),
]


def humanitec_run(emulator: Emulator, case: Case) -> subprocess.CompletedProcess[str]:
    timeline = Timeline([(at, HUMANITEC_WORDS.get(word, word)) for at, word in case.timeline])
    deploy_id = "d-fault-1"
    if case.exists:
        emulator.add_humanitec(
            "acme", "shop", "production", timeline, deploy_id=deploy_id, errors=case.errors
        )
    else:
        emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    create_later(
        emulator,
        case,
        deploy_id,
        lambda: emulator.add_humanitec("acme", "shop", "production", timeline, deploy_id=deploy_id),
    )
    inject(emulator, case, deploy_id)
    return run_gate(
        "wait",
        *HUMANITEC_PRODUCTION,
        "--deploy-id",
        deploy_id,
        *bounded(case),
        *case.args,
        env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
    )


def greengrass_run(emulator: Emulator, case: Case) -> subprocess.CompletedProcess[str]:
    timeline = Timeline([(at, GREENGRASS_WORDS.get(word, word)) for at, word in case.timeline])
    ids = {"group_id": "g-fault-1", "deployment_id": "d-fault-1"}
    if case.exists:
        emulator.add_greengrass(timeline, **ids)
    create_later(
        emulator, case, ids["deployment_id"], lambda: emulator.add_greengrass(timeline, **ids)
    )
    inject(emulator, case, ids["deployment_id"])
    return run_gate(
        "wait",
        "greengrass",
        "--group-id",
        ids["group_id"],
        "--deployment-id",
        ids["deployment_id"],
        *on_emulator(emulator),
        *bounded(case),
        *case.args,
        env={"AWS_ACCESS_KEY_ID": "AKIAFAULT", "AWS_SECRET_ACCESS_KEY": "s3cr3t"},
    )


def greengrass_v2_run(emulator: Emulator, case: Case) -> subprocess.CompletedProcess[str]:
    """A deployment to one core device: faults hit GetDeployment, the device read follows."""
    words = {"running": "IN_PROGRESS", "succeeded": "SUCCEEDED", "failed": "FAILED"}
    timeline = Timeline([(at, words.get(word, word)) for at, word in case.timeline])
    device = [Device("core-1", timeline, reason="com.acme.Sensor exited with 1")]
    deployment_id = "d-fault-1"
    if case.exists:
        emulator.add_greengrass_v2(device, deployment_id=deployment_id)
    create_later(
        emulator,
        case,
        deployment_id,
        lambda: emulator.add_greengrass_v2(device, deployment_id=deployment_id),
    )
    inject(emulator, case, deployment_id)
    return run_gate(
        "wait",
        "greengrass-v2",
        "--deployment-id",
        deployment_id,
        *on_emulator(emulator),
        *bounded(case),
        *case.args,
        env={"AWS_ACCESS_KEY_ID": "AKIAFAULT", "AWS_SECRET_ACCESS_KEY": "s3cr3t"},
    )


def inject(emulator: Emulator, case: Case, deployment_id: str) -> None:
    for fault, times, *suffix in case.faults:
        emulator.inject(fault, times=times, path_contains=deployment_id + "".join(suffix))


def create_later(
    emulator: Emulator, case: Case, deployment_id: str, create: Callable[[], object]
) -> None:
    if case.created_after_a_read:
        on_first_read(emulator, deployment_id, create)


def check(case: Case, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == case.exit_code, result.stderr
    [line] = result.stdout.strip().split("\n")
    outcome = json.loads(line)
    assert outcome["status"] == case.status
    assert (outcome["status"] == "succeeded") == (case.status == "succeeded")
    if outcome["status"] == "succeeded":
        assert outcome["raw_status"] in ("succeeded", "Success", "SUCCEEDED")
    assert outcome["elapsed_seconds"] <= case.within, "the deadline held"
    if case.reason:
        said = outcome["reason"] if outcome["reason"] else result.stderr
        assert case.reason in said, said
    if case.error_words:
        assert case.error_words in outcome["errors"][0]["message"], outcome["errors"]
    assert TOKEN not in result.stdout + result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for control in ("\x1b", "\x07", "\r", "\u2028"):
        assert control not in result.stderr, "API text reached the terminal raw"
    forged = [
        line for line in result.stderr.split("\n") if line.startswith("gate: deployment succeeded")
    ]
    assert not forged or outcome["status"] == "succeeded", forged


@pytest.mark.parametrize("case", HUMANITEC_CASES, ids=lambda case: case.id)
def test_humanitec_faults(paced_emulator: Emulator, case: Case) -> None:
    began = time.monotonic()
    result = humanitec_run(paced_emulator, case)
    assert time.monotonic() - began <= case.within + START_UP, "the command ended in time"
    check(case, result)


@pytest.mark.parametrize("case", GREENGRASS_CASES, ids=lambda case: case.id)
def test_greengrass_faults(paced_emulator: Emulator, case: Case) -> None:
    began = time.monotonic()
    result = greengrass_run(paced_emulator, case)
    assert time.monotonic() - began <= case.within + START_UP, "the command ended in time"
    check(case, result)


@pytest.mark.parametrize("case", GREENGRASS_V2_CASES, ids=lambda case: case.id)
def test_greengrass_v2_faults(paced_emulator: Emulator, case: Case) -> None:
    began = time.monotonic()
    result = greengrass_v2_run(paced_emulator, case)
    assert time.monotonic() - began <= case.within + START_UP, "the command ended in time"
    check(case, result)


@contextmanager
def closed_port() -> Iterator[str]:
    """A loopback port that refuses connections: bound but never listening, so that no other
    test's server can take it while it is in use."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


@pytest.mark.parametrize("provider", ["humanitec", "greengrass"])
def test_connection_refused_until_the_deadline_is_an_unreadable_status(provider: str) -> None:
    with closed_port() as url:
        result = refused_gate(provider, url)
    check(Case("refused", exit_code=4, status="error", reason="connection"), result)


def refused_gate(provider: str, url: str) -> subprocess.CompletedProcess[str]:
    if provider == "humanitec":
        return run_gate(
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
            *BOUNDED,
            env={"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": url},
        )
    return run_gate(
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
        *BOUNDED,
        env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
    )


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


# --- configuration that can never work: exit 2 at once, one line, no request ---------------


def humanitec_args(emulator: Emulator) -> list[str]:
    return [*HUMANITEC_PRODUCTION, "--deploy-id", "d1", "--api-url", emulator.url]


def humanitec_json(emulator: Emulator, *flags: str) -> tuple[int, Any, str]:
    """``gate wait humanitec`` on deployment d1 of acme/shop/production, ``--output json``:
    its exit code, outcome and stderr."""
    result = run_gate("wait", *humanitec_args(emulator), *flags, "--output", "json", env=GOOD_ENV)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


def greengrass_args(emulator: Emulator) -> list[str]:
    return ["greengrass", "--group-id", "g1", "--deployment-id", "d1", *on_emulator(emulator)]


GOOD_ENV = {
    "HUMANITEC_TOKEN": TOKEN,
    "AWS_ACCESS_KEY_ID": "AKIAFAULT",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t",
}
NEVER_WORKS = [
    ("humanitec", [], {"HUMANITEC_TOKEN": "tok\nen"}, "HUMANITEC_TOKEN has a character"),
    ("humanitec", [], {"HUMANITEC_TOKEN": "tök-en"}, "at position 2"),
    ("humanitec", [], {"HUMANITEC_TOKEN": "t"}, "HUMANITEC_TOKEN is too short (1 character)"),
    ("humanitec", ["--api-url", "http://gate.example.com"], {}, "--allow-plain-http"),
    ("humanitec", ["--api-url", "https://user:pw@gate.example.com"], {}, "user or password"),
    ("humanitec", ["--api-url", "https://gate.example.com/?org=x"], {}, "query string"),
    ("humanitec", ["--api-url", "http://127.0.0.1:99999"], {}, "port out of range"),
    ("humanitec", ["--api-url", "file:///etc/passwd"], {}, "not an http(s) URL"),
    ("greengrass", [], {"AWS_SECRET_ACCESS_KEY": ""}, "AWS credentials"),
    ("greengrass", ["--region", "eu west 1"], {}, "AWS client could not be made"),
    ("greengrass", ["--endpoint-url", "ftp://127.0.0.1"], {}, "not an http(s) URL"),
    ("greengrass", ["--endpoint-url", "http://127.0.0.1:0"], {}, "port out of range"),
    ("greengrass", ["--endpoint-url", "http://gg.example.com"], {}, "--allow-plain-http"),
    *[
        (provider, flags, {}, words)
        for provider in ("humanitec", "greengrass")
        for flags, words in [
            (["--request-timeout", "0"], "--request-timeout must be more than 0"),
            (["--timeout", "9" * 400], "--timeout must be more than 0 and at most 168h"),
            (["--junit", "/nonexistent/dir/junit.xml"], "does not exist"),
            (["--json-report", "/tmp"], "is a directory"),
        ]
    ],
]


@pytest.mark.parametrize(
    ("provider", "flags", "env", "words"),
    NEVER_WORKS,
    ids=[f"{p}-{w.split()[0].strip('-')}-{i}" for i, (p, _, _, w) in enumerate(NEVER_WORKS)],
)
def test_configuration_that_can_never_work_is_exit_2_at_once(
    emulator: Emulator, provider: str, flags: list[str], env: dict[str, str], words: str
) -> None:
    args = humanitec_args(emulator) if provider == "humanitec" else greengrass_args(emulator)
    began = time.monotonic()
    result = run_gate("wait", *args, *flags, "--output", "json", env={**GOOD_ENV, **env})
    assert time.monotonic() - began < START_UP + 1
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.strip().split("\n")
    assert words in line
    assert "tok" not in line.replace("token", "")
    assert emulator.requests == []


# --- streams: the outcome's exit code whatever happens to stdout and stderr ------------------


def shell_gate(args: list[str], env: dict[str, str], redirect: str) -> tuple[int, str]:
    """``gate wait ARGS REDIRECT`` in bash; its exit code and what it said on stderr."""
    command = " ".join([shlex.quote(sys.executable), "-m", "gate", "wait", *map(shlex.quote, args)])
    script = f'{command} {redirect}; echo "exit=${{PIPESTATUS[0]}}" >&3'
    with tempfile.TemporaryFile("w+") as said, tempfile.TemporaryFile("w+") as status:
        subprocess.run(
            ["bash", "-c", f"exec 3>&{status.fileno()}; {script}"],
            env={**clean_env(), **env},
            stderr=said,
            pass_fds=(status.fileno(),),
            timeout=60,
            check=False,
        )
        said.seek(0)
        status.seek(0)
        code = int(status.read().strip().removeprefix("exit="))
        return code, said.read()


STREAMS = {
    "stdout-closed": ">&-",
    "stdout-and-stderr-closed": ">&- 2>&-",
    "reader-gone": "| true",
    "reader-takes-10-bytes": "| head -c 10 >/dev/null",
    "stdout-full": "> /dev/full",
    "stderr-full": "2> /dev/full",
}


@pytest.mark.parametrize("provider", ["humanitec", "greengrass"])
@pytest.mark.parametrize("redirect", STREAMS.values(), ids=STREAMS.keys())
def test_a_broken_stream_never_changes_the_exit_code_or_shows_a_traceback(
    emulator: Emulator, provider: str, redirect: str
) -> None:
    if provider == "humanitec":
        emulator.add_humanitec(
            "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id="d1"
        )
        args = humanitec_args(emulator)
    else:
        emulator.add_greengrass(Timeline([(0, "Success")]), group_id="g1", deployment_id="d1")
        args = greengrass_args(emulator)
    code, said = shell_gate([*args, *BOUNDED], GOOD_ENV, redirect)
    assert code == 0, said
    assert "Traceback" not in said


# --- credentials that stop working mid-wait ------------------------------------------------

CREDENTIAL_PROCESS = """
import json, pathlib, sys, datetime
calls = pathlib.Path(sys.argv[1])
count = int(calls.read_text() or 0) + 1 if calls.exists() else 1
calls.write_text(str(count))
if count > 2:
    sys.exit("the identity provider is unreachable")
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
print(json.dumps({"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "s3cr3t-proc",
                  "Expiration": expires.isoformat()}))
"""


def test_aws_credentials_that_stop_refreshing_mid_wait_end_as_unreadable(
    emulator: Emulator, tmp_path: Path
) -> None:
    """botocore refreshes credentials that expire within 10 minutes before every request."""
    script = tmp_path / "credentials.py"
    script.write_text(CREDENTIAL_PROCESS)
    config = tmp_path / "config"
    config.write_text(
        f"[profile ci]\ncredential_process = {sys.executable} {script} {tmp_path / 'calls'}\n"
    )
    emulator.add_greengrass(Timeline([(0, "InProgress")]), group_id="g1", deployment_id="d1")
    result = run_gate(
        "wait",
        *greengrass_args(emulator),
        "--profile",
        "ci",
        *BOUNDED,
        env={"AWS_CONFIG_FILE": str(config)},
    )
    check(
        Case(
            "credentials-stop-refreshing",
            exit_code=4,
            status="error",
            reason="AWS credentials could not be used (CredentialRetrievalError",
        ),
        result,
    )
    assert "s3cr3t-proc" not in result.stdout + result.stderr


SLOW_CREDENTIALS = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(30)"
"""A credential process that says it has started (the gate's handlers are in place by then),
then takes its time."""


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["sigterm", "sigint"]
)
def test_a_signal_during_a_slow_start_is_an_orderly_cancel(
    tmp_path: Path, signum: int, code: int
) -> None:
    """The handlers are installed before the slow parts (imports, credential lookups)."""
    script = tmp_path / "slow.py"
    script.write_text(SLOW_CREDENTIALS)
    started = tmp_path / "started"
    config = tmp_path / "config"
    config.write_text(f"[profile slow]\ncredential_process = {sys.executable} {script} {started}\n")
    with (
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gate",
                "wait",
                "greengrass",
                "--group-id",
                "g1",
                "--deployment-id",
                "d1",
                "--region",
                "eu-west-1",
                "--profile",
                "slow",
                "--output",
                "json",
            ],
            env={**clean_env(), "AWS_CONFIG_FILE": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        for _ in range(int(START_UP / 0.01)):
            if started.exists() or process.poll() is not None:
                break
            time.sleep(0.01)
        assert started.exists(), "the gate never asked for its credentials"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    outcome = json.loads(stdout)
    assert outcome["status"] == "cancelled"
    assert "before the wait started" in outcome["reason"]


# --- secrets: an API that echoes the token reaches no output at all ------------------------


def test_a_token_echoed_by_the_api_reaches_no_output_report_or_annotation(
    emulator: Emulator, tmp_path: Path
) -> None:
    echo = f"token {TOKEN} is not allowed here"
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "failed")]),
        deploy_id="d1",
        errors=[{"code": TOKEN, "summary": echo, "message": echo, "object_id": TOKEN}],
    )
    files = {name: tmp_path / name for name in ("junit.xml", "outcome.json", "out", "summary")}
    result = run_gate(
        "wait",
        *humanitec_args(emulator),
        *BOUNDED,
        "--output",
        "github",
        "--junit",
        str(files["junit.xml"]),
        "--json-report",
        str(files["outcome.json"]),
        env={
            **GOOD_ENV,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(files["out"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
        },
    )
    assert result.returncode == 1
    written = "".join(path.read_text() for path in files.values())
    assert "is not allowed here" in written
    assert TOKEN not in result.stdout + result.stderr + written


def test_two_quick_signals_leave_every_report_whole(emulator: Emulator, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress")]), deploy_id="d1"
    )
    junit, report, summary = tmp_path / "junit.xml", tmp_path / "o.json", tmp_path / "summary"
    with (
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gate",
                "wait",
                *humanitec_args(emulator),
                "--output",
                "github",
                "--junit",
                str(junit),
                "--json-report",
                str(report),
            ],
            env={
                **clean_env(),
                **GOOD_ENV,
                "GITHUB_ACTIONS": "true",
                "GITHUB_STEP_SUMMARY": str(summary),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        assert process.stdout is not None
        for line in process.stdout:
            if "status:" in line:
                break
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 143, stderr
    assert json.loads(report.read_text())["status"] == "cancelled"
    assert ET.parse(junit).getroot().find("./testsuite/testcase/error") is not None
    assert "Deployment gate cancelled" in summary.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- Greengrass v2 fleets: the verdict is by device name, never by the job's counts --------

WILL_SUCCEED = Timeline([(0, "IN_PROGRESS"), (1, "SUCCEEDED")])
SUCCEEDED = Timeline([(0, "SUCCEEDED")])
"""For a case that ends at its deadline: one read, however late a busy machine makes it,
sees what the case is about."""
SUCCEEDED = Timeline([(0, "SUCCEEDED")])
ROLL_CALL_DEADLINE = 6.0
"""For a test that ends at its deadline and asserts what the first roll call found (a
device's health): time for that roll call on a busy machine, which a 2 s deadline was not."""
"""For a test that ends at its deadline: a device that succeeds only after a read may not be
read again in time on a busy machine."""


def fleet_gate(emulator: Emulator, deployment_id: str, *flags: str) -> tuple[int, Any, str]:
    """``gate wait greengrass-v2 --output json`` on the (paced) emulator: exit code, outcome,
    stderr."""
    result = gate_greengrass_v2(
        emulator,
        deployment_id,
        *("--interval", "0.1s", "--max-interval", "0.2s", "--output", "json"),
        *flags,
    )
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_member_the_job_never_reached_is_never_a_pass(paced_emulator: Emulator) -> None:
    """The group is a and b; the job's executions are a and c, and c has left the group: the
    counts say 2 of 2 succeeded, but b never got the deployment."""
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [
            Device("a", SUCCEEDED),
            Device("b", Timeline([(0, "QUEUED")]), reached=False),
            Device("c", SUCCEEDED, leaves_at=0),
        ],
        thing_group="line-a",
    )
    code, outcome, stderr = fleet_gate(emulator, deployment_id, "--timeout", "3s")
    assert code == 3, stderr
    assert "1 never finished: b (QUEUED)" in outcome["reason"]
    assert outcome["progress"] == "1/2 devices succeeded, 1 queued, 1 left the group"
    devices = {d["device"]: d for d in outcome["devices"]}
    assert devices["b"]["reason"] == "the job has not reached the device yet"
    assert devices["c"]["status"] == "SUCCEEDED"
    assert "no longer in the thing group" in devices["c"]["reason"]


def test_a_removed_device_neither_holds_the_gate_nor_counts(paced_emulator: Emulator) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [Device("a", WILL_SUCCEED), Device("r", Timeline([(0, "QUEUED")]), leaves_at=1)],
        thing_group="line-b",
    )
    code, outcome, stderr = fleet_gate(emulator, deployment_id, "--timeout", "5m")
    assert code == 0, stderr
    assert outcome["progress"] == "1/1 devices succeeded, 1 left the group"
    assert outcome["reason"] == (
        "every device in the group succeeded; 1 left the group and was not counted: r (REMOVED)"
    )
    assert outcome["elapsed_seconds"] < 60, "the removed device did not hold the gate"


def test_an_unhealthy_core_device_is_named_in_progress_and_outcome(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [
            Device("a", SUCCEEDED),
            Device("press-3", Timeline([(0, "QUEUED")]), health="UNHEALTHY", last_seen_ago=7200),
        ],
        thing_group="line-c",
    )
    code, outcome, stderr = fleet_gate(
        emulator, deployment_id, "--timeout", f"{ROLL_CALL_DEADLINE:g}s"
    )
    assert code == 3, stderr
    assert "; UNHEALTHY: press-3" in stderr
    [error] = outcome["errors"]
    assert error["object_id"] == "press-3"
    assert error["message"].startswith("its core device reports UNHEALTHY (last status update ")


@pytest.mark.parametrize("started_ago", [1800, 60])
def test_a_core_device_silent_since_before_the_deployment_is_named(
    paced_emulator: Emulator, started_ago: int
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [
            Device("a", SUCCEEDED),
            Device("press-4", Timeline([(0, "QUEUED")]), last_seen_ago=3 * 3600),
            Device("press-5", Timeline([(0, "IN_PROGRESS")])),  # reported as it began
        ],
        thing_group="line-e",
        started_ago=started_ago,
    )
    code, outcome, stderr = fleet_gate(
        emulator, deployment_id, "--timeout", f"{ROLL_CALL_DEADLINE:g}s"
    )
    assert code == 3, stderr
    press_4, press_5 = outcome["errors"]
    assert press_4["object_id"] == "press-4"
    assert "reported nothing" not in press_5["message"]
    if started_ago < SILENT_AFTER:  # too early to tell: it may still take the deployment up
        assert "silent" not in stderr
        assert press_4["message"].startswith("still queued when the deadline passed")
        return
    assert "; silent: press-4)" in stderr
    assert press_4["message"].startswith("its core device has reported nothing since ")
    assert ", 3h00m before this deployment began 30m" in press_4["message"]
    assert press_4["message"].endswith("s ago (offline?)")


def test_a_listing_that_ignores_max_results_and_never_ends_is_refused_after_bounded_work(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2([Device("a", WILL_SUCCEED)], thing_group="line-f")
    names = [f"press-{n:05d}" for n in range(5000)]  # maxResults ignored, and always more
    page = json.dumps({"things": names, "nextToken": "more"}).encode()
    emulator.inject(Fault.ok_body(page), times=1000, path_contains="/thing-groups/")
    code, outcome, stderr = fleet_gate(emulator, deployment_id, "--timeout", "60s")
    assert code == 4, stderr
    assert "lists more than 25,000 things (or pages without end)" in outcome["reason"]
    read = 1000 - emulator.pending_faults()
    assert read == 6, "items are capped, not only pages: 30,000 names read, then no more"


def test_a_job_aws_cancelled_says_why(paced_emulator: Emulator) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [Device("a", Timeline([(0, "IN_PROGRESS")]))], thing_group="line-d"
    )
    emulator.cancel_greengrass_v2_job(
        deployment_id, reason_code="ABORT_CONFIG", comment="more than 50% failed", force=True
    )
    code, outcome, stderr = fleet_gate(emulator, deployment_id)
    assert code == 1, stderr
    assert (
        "is CANCELED (force-cancelled): reason code ABORT_CONFIG, 'more than 50% failed'"
        in (outcome["reason"])
    )


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (b"1e400", "could not be read (OverflowError)"),
        (b"1" + b"0" * 400, "which is not a count"),
        (b"-1", "which is not a count"),
    ],
    ids=["infinite", "10**400", "negative"],
)
def test_an_absurd_job_count_is_retried_as_an_unreadable_answer(
    paced_emulator: Emulator, count: bytes, said: str
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2([Device("a", WILL_SUCCEED)], thing_group="line-e")
    absurd = b'{"job": {"jobId": "j", "status": "IN_PROGRESS", "jobProcessDetails": '
    absurd += b'{"numberOfSucceededThings": ' + count + b"}}}"
    emulator.inject(Fault.ok_body(absurd), times=2, path_contains="/jobs/")
    code, outcome, stderr = fleet_gate(emulator, deployment_id)
    assert code == 0, stderr
    assert said in stderr
    assert outcome["progress"] == "1/1 devices succeeded"


# --- ids an API answers never change which endpoint is called ------------------------------


@pytest.mark.parametrize("job_id", ["..", "../things", "a/b"])
def test_an_iot_job_id_from_the_api_never_reaches_a_path(
    paced_emulator: Emulator, job_id: str
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2([Device("a", WILL_SUCCEED)], thing_group="line-f")
    answer = {
        "targetArn": "arn:aws:iot:eu-west-1:123456789012:thinggroup/line-f",
        "deploymentId": deployment_id,
        "deploymentStatus": "ACTIVE",
        "iotJobId": job_id,
        "isLatestForTarget": True,
    }
    emulator.inject(Fault.ok_body(json.dumps(answer).encode()), times=1000, path_contains="/v2/")
    code, outcome, _ = fleet_gate(emulator, deployment_id, "--timeout", "2s")
    assert code == 4
    assert "is not a plain id; it never reaches a request path" in outcome["reason"]
    assert all(path.startswith("/greengrass/v2/deployments/") for path in emulator.requests)


def test_a_pipeline_id_from_the_api_never_reaches_a_path(paced_emulator: Emulator) -> None:
    emulator = paced_emulator
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "failed")]),
        deploy_id="d1",
        errors=[{"code": "E1", "message": "crashed"}],
        pipeline=("..", "..", "deploy", 0),
    )
    code, outcome, stderr = humanitec_json(emulator)
    assert code == 1, stderr
    assert outcome["errors"][0]["message"] == "crashed"
    assert "is not a plain id" in outcome["errors"][-1]["message"]
    assert all(
        path.startswith("/orgs/acme/apps/shop/envs/production") for path in emulator.requests
    ), emulator.requests


# --- readiness: nothing running is not everything ready ------------------------------------


def test_require_ready_with_a_runtime_that_lists_no_workloads_never_passes(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id="d1"
    )
    code, outcome, stderr = humanitec_json(
        emulator, "--require-ready", "--interval", "0.1s", "--timeout", "2s"
    )
    assert code == 3, stderr
    assert outcome["status"] == "timed_out"
    assert "the environment's runtime lists no workloads" in outcome["reason"]
    assert [e["code"] for e in outcome["errors"]] == ["NO_WORKLOADS"]


# --- under Actions, whatever the output mode, API text forms no runner command ------------

RUNNER_COMMANDS = [
    {"scope": "workload", "object_id": "api", "code": "E1", "message": "x\n::error::injected"},
    {"code": "##[error]legacy", "message": "##[add-mask]s3cr3t ##[set-output name=s;]succeeded"},
    {"code": "E3", "message": "  ::warning file=a::b"},
]


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("command", ["wait", "wait-all"])
def test_under_actions_api_text_forms_no_runner_command(
    paced_emulator: Emulator, tmp_path: Path, output: str, command: str
) -> None:
    from tests.actions_runner import parse_commands

    emulator = paced_emulator
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "##[error]status ::error::x"), (1, "failed")]),
        deploy_id="d1",
        errors=RUNNER_COMMANDS,
    )
    if command == "wait":
        args = ["wait", *humanitec_args(emulator)]
    else:
        targets = tmp_path / "release.yaml"
        targets.write_text(
            "defaults: {provider: humanitec, org: acme, app: shop}\n"
            f"targets: [{{env: production, deploy-id: d1, api-url: '{emulator.url}'}}]\n"
        )
        args = ["wait-all", str(targets)]
    result = run_gate(
        *args,
        *FAST,
        "--output",
        output,
        env={**GOOD_ENV, "GITHUB_ACTIONS": "true"},
    )
    assert result.returncode == 1, result.stderr
    assert parse_commands(result.stdout) == []
    assert parse_commands(result.stderr) == []
    assert "injected" in result.stderr + result.stdout, "the API's words are still said"
    if output == "json":
        document = json.loads(result.stdout)
        errors = document["errors"] if command == "wait" else document["targets"][0]["errors"]
        assert [e["message"] for e in errors] == [e["message"] for e in RUNNER_COMMANDS]


# --- a targets file no parser or pipe can turn into a crash or a hang ---------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[" * 1000, "nests too deeply"),
        ("- " * 50_000 + "x\n", "nests too deeply"),
        (
            "targets:\n- {provider: humanitec, org: acme, app: shop, env: p, "
            "deploy-id: a, deploy_id: b}\n",
            "fields 'deploy-id' and 'deploy_id' are the same field",
        ),
        (
            "targets:\n- provider: humanitec\n  env: a\n  env: b\n",
            "field 'env' is given twice (line 4)",
        ),
        (
            '{"targets": [{"provider": "humanitec", "env": "a", "env": "b"}]}',
            "field 'env' is given twice",
        ),
    ],
    ids=[
        "json-nested-1000",
        "yaml-nested-50000",
        "two-spellings",
        "yaml-key-twice",
        "json-key-twice",
    ],
)
def test_a_hostile_targets_file_is_exit_2_in_one_line(
    tmp_path: Path, content: str, words: str
) -> None:
    targets = tmp_path / "release.yaml"
    targets.write_text(content)
    result = run_gate("wait-all", str(targets), env=GOOD_ENV)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert words in line
    assert "Traceback" not in result.stderr


def test_a_fifo_nobody_writes_and_an_open_stdin_end_in_bounded_time(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "release.fifo"
    os.mkfifo(fifo)
    result = run_gate("wait-all", str(fifo), env=GOOD_ENV, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "release.fifo: still open after 10s without an end (nothing writes" in result.stderr
    with (
        subprocess.Popen(
            [sys.executable, "-m", "gate", "wait-all", "-"],
            env={**clean_env(), **GOOD_ENV},
            stdin=subprocess.PIPE,  # held open, never written
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        assert process.stderr is not None
        stderr = process.stderr.read()  # the gate's stderr ends when it does
        code = process.wait(timeout=60)
    assert code == 2, stderr
    assert "stdin: still open after 10s without an end" in stderr


# --- report paths: a symlink is followed, never replaced; special files are not files -----


def report_gate(emulator: Emulator, *flags: str) -> subprocess.CompletedProcess[str]:
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id="d1"
    )
    return run_gate("wait", *humanitec_args(emulator), *flags, env=GOOD_ENV)


def test_a_report_path_that_is_a_symlink_writes_its_target(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    target = tmp_path / "artifacts" / "outcome.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "outcome.json"
    link.symlink_to(target)
    result = report_gate(paced_emulator, "--json-report", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink(), "the link was replaced"
    assert json.loads(target.read_text())["status"] == "succeeded"


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_report_path_that_is_a_fifo_or_socket_is_refused_up_front(
    paced_emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    import os

    special = tmp_path / f"report.{kind}"
    if kind == "fifo":
        os.mkfifo(special)
        said = "is a FIFO, not a file"
    else:
        bound = socket.socket(socket.AF_UNIX)
        bound.bind(str(special))
        bound.close()
        said = "is a socket, not a file"
    result = report_gate(paced_emulator, "--junit", str(special))
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert paced_emulator.requests == [], "refused before the wait"


def test_a_report_path_that_is_a_character_device_is_written_in_place(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    import os
    import stat

    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # as /dev/null; CI runs as root
    result = report_gate(paced_emulator, "--json-report", str(device), "--junit", str(device))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.stat().st_mode), "the device was replaced by a file"


# --- the exit code never depends on how long a read takes ----------------------------------


SLOW_LAST_READ = ("--interval", "0.5s", "--timeout", "3s", "--request-timeout", "1h")


def hang_after_the_first_read(emulator: Emulator, path: str) -> None:
    """Every read of ``path`` after the first one hangs past any deadline."""
    on_first_read(
        emulator, path, lambda: emulator.inject(Fault.hang(60), times=1000, path_contains=path)
    )


def test_a_read_the_deadline_cuts_short_does_not_unsay_the_reads_before_it(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress")]), deploy_id="d1"
    )
    hang_after_the_first_read(emulator, "/deploys/d1")
    code, outcome, stderr = humanitec_json(emulator, *SLOW_LAST_READ)
    assert code == 3, stderr
    assert outcome["reason"].startswith(
        "the 3.0s deadline passed while the deployment was 'in progress'"
    )


def test_workloads_failing_on_every_read_fail_the_gate_however_slow_the_last_read(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    emulator.add_workloads(
        "acme",
        "shop",
        "production",
        [Workload("worker", Timeline([(0, "CrashLoopBackOff")]), message="exit 1")],
    )
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id="d1"
    )
    hang_after_the_first_read(emulator, "/runtime")
    code, outcome, stderr = humanitec_json(emulator, "--require-ready", *SLOW_LAST_READ)
    assert code == 1, stderr
    assert outcome["reason"].startswith(
        "the deployment succeeded, but its workloads never became ready: 0/1 workloads ready"
    )
    assert outcome["errors"][0]["code"] == "CrashLoopBackOff"


def test_a_long_poll_held_past_its_window_is_not_an_unreadable_status(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_humanitec_v2("acme", Timeline([(0, "executing")]))
    emulator.inject(Fault.hang(60), times=1000, path_contains="wait-for-complete")
    result = run_gate(
        "wait",
        "humanitec-v2",
        *("--org", "acme", "--deployment-id", deployment_id, "--timeout", "3s"),
        *("--request-timeout", "1h", "--output", "json"),
        env={"HUMANITEC_AUTH_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
    )
    assert result.returncode == 3, result.stderr
    assert "while the deployment was 'executing'" in json.loads(result.stdout)["reason"]


# --- once the outcome is being written, nothing else prints -------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_after_a_signal_no_target_line_follows_the_fleets_outcome(
    emulator: Emulator, tmp_path: Path, attempt: int
) -> None:
    envs = [f"env-{n}" for n in range(6)]
    for env in envs:
        emulator.add_humanitec("acme", "shop", env, Timeline([(0, "in progress")]))
    targets = tmp_path / "release.yaml"
    targets.write_text(
        "defaults: {provider: humanitec, org: acme, app: shop, latest: true}\n"
        f"targets: [{', '.join(f'{{env: {env}}}' for env in envs)}]\n"
    )
    with (
        subprocess.Popen(
            [sys.executable, "-m", "gate", "wait-all", str(targets), "--output", "github"],
            env={
                **clean_env(),
                **GOOD_ENV,
                "HUMANITEC_API_URL": emulator.url,
                "GITHUB_ACTIONS": "true",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        assert process.stdout is not None
        said = []
        for line in process.stdout:
            said.append(line)
            if sum("status: in progress" in seen for seen in said) == len(envs):
                break
        emulator.inject(Fault.hang(60), times=1000)  # each target is mid-read when it stops
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=60)
    lines = "".join([*said, stdout]).splitlines()
    resumes = [n for n, line in enumerate(lines) if re.fullmatch(r"::[0-9a-f]{32}::", line)]
    after = lines[resumes[-1] + 1 :]
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in after), after
    assert "FAILED" not in "\n".join(lines)
    assert process.returncode == 128 + signal.SIGTERM


# --- bounded, whatever the size -------------------------------------------------------------


def test_an_error_list_of_millions_prints_a_bounded_outcome(paced_emulator: Emulator) -> None:
    emulator = paced_emulator
    emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "failed")]), deploy_id="d1")
    empties = 2_700_000  # an 8 MiB list of empty objects, within what the wire reads
    emulator.inject(Fault.ok_body(b"[" + b"{}," * (empties - 1) + b"{}]"), path_contains="/errors")
    code, outcome, stderr = humanitec_json(emulator)
    assert code == 1, stderr[-2000:]
    assert len(json.dumps(outcome)) < 100_000, "the outcome is bounded, not millions of errors"
    errors = outcome["errors"]
    assert len(errors) == 101
    assert errors[-1]["message"] == (
        "2,699,900 more errors of the deployment's 2,700,000 were left out "
        "(the gate keeps the first 100)"
    )


def release_of(tmp_path: Path, count: int) -> Path:
    """A targets file of ``count`` environments, each waited on for its latest deployment."""
    targets = tmp_path / "release.json"
    targets.write_text(
        json.dumps(
            {
                "defaults": {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True},
                "targets": [{"env": f"e{n}"} for n in range(count)],
            }
        )
    )
    return targets


@pytest.mark.parametrize("api", ["endless", "hanging"])
def test_a_release_larger_than_the_rate_serves_ends_by_its_deadline_naming_the_unread(
    emulator: Emulator, tmp_path: Path, api: str
) -> None:
    count, rate, timeout = 400, 20, 4.0
    for n in range(count):
        emulator.add_humanitec("acme", "shop", f"e{n}", Timeline([(0, "in progress")]))
    if api == "hanging":
        emulator.inject(Fault.hang(60), times=count * 10)
    report = tmp_path / "outcome.json"
    args = ["--max-rate", str(rate), "--timeout", f"{timeout}s", "--json-report", str(report)]
    result = run_gate(
        "wait-all",
        str(release_of(tmp_path, count)),
        *args,
        env={**GOOD_ENV, "HUMANITEC_API_URL": emulator.url},
        timeout=120,
    )
    whole = json.loads(report.read_text())
    unread = "never read, and cannot be before the 4.0s deadline: environment: the request budget"
    never = [t for t in whole["targets"] if t["reason"].startswith(unread)]
    read = [t for t in whole["targets"] if t not in never]
    # every request takes a slot: no more targets are read than the rate allows in time
    assert len(read) <= rate * (timeout + LAST_READ_SECONDS)
    assert len(never) >= count - rate * (timeout + LAST_READ_SECONDS)
    assert all(t["status"] == "error" and t["polls"] == 0 for t in never)
    if api == "endless":
        assert result.returncode == 3
        assert all(t["status"] == "timed_out" and t["raw_status"] == "in progress" for t in read)
    else:  # what stopped the reads made is the API's silence, not the queue behind them
        assert result.returncode == 4
        assert all("no answer within the request timeout" in t["reason"] for t in read)
    assert "gets at most 20 requests a second (--max-rate), too few" in result.stderr
    assert f"  - {len(never)} targets (e" in result.stderr  # one line, not one each
    assert f"more): error: {unread}" in result.stderr
    # the whole honours the deadline: 252 s for a 60 s timeout before every target's clock
    # started with the command's (a bound against that, with room for a busy machine)
    assert whole["elapsed_seconds"] < timeout + LAST_READ_SECONDS + 10
