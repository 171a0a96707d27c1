"""Test helpers: a virtual clock, moto Greengrass deployments, and running the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread
from typing import Any

from gate.core.errors import TransientError
from gate.core.model import Outcome, Snapshot
from tests.gate_forks import GateForks

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "tests" / "contracts" / "humanitec-openapi.json"
"""A copy kept in the repository, so a fresh clone tests against it alone (see its README)."""
TOKEN = "tok-s3cr3t-9f8e7d6c5b4a"


class VirtualClock:
    """A monotonic clock and a sleeper that only move when the code under test sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RecordingReporter:
    """Keeps what the engine said, with the virtual time it said it at."""

    clock: VirtualClock
    events: list[tuple[float, str, Any]] = field(default_factory=list)

    def _log(self, kind: str, value: Any) -> None:
        self.events.append((self.clock(), kind, value))

    def started(self, description: str, timeout: float) -> None:
        self._log("started", description)

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._log("status", current.raw_status)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        self._log("heartbeat", polls)

    def warning(self, message: str, elapsed: float) -> None:
        self._log("warning", message)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._log("retrying", str(fault))

    def phase(self, line: str, elapsed: float) -> None:
        self._log("phase", line)

    def finished(self, outcome: Outcome) -> None:
        self._log("finished", outcome.status.value)

    def kinds(self, kind: str) -> list[Any]:
        return [value for _, k, value in self.events if k == kind]


def moto_greengrass_deployment(client: Any) -> tuple[str, str]:
    """Create a group with a core and deploy it on moto; returns (group_id, deployment_id)."""
    core = client.create_core_definition(
        Name="core",
        InitialVersion={
            "Cores": [
                {
                    "Id": "core-1",
                    "CertificateArn": "arn:aws:iot:eu-west-1:123456789012:cert/abc",
                    "ThingArn": "arn:aws:iot:eu-west-1:123456789012:thing/core-1",
                    "SyncShadow": False,
                }
            ]
        },
    )
    group = client.create_group(Name="factory-floor")
    version = client.create_group_version(
        GroupId=group["Id"], CoreDefinitionVersionArn=core["LatestVersionArn"]
    )
    deployment = client.create_deployment(
        GroupId=group["Id"], GroupVersionId=version["Version"], DeploymentType="NewDeployment"
    )
    return group["Id"], deployment["DeploymentId"]


def set_moto_status(deployment_id: str, status: str, region: str = "eu-west-1") -> None:
    """moto always says InProgress: move its deployment on, as the device would."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.greengrass.models import greengrass_backends

    greengrass_backends[DEFAULT_ACCOUNT_ID][region].deployments[
        deployment_id
    ].deployment_status = status


def moto_statuses_by_read(monkeypatch: Any, statuses: list[str]) -> list[str]:
    """moto's GetDeploymentStatus answers ``statuses`` in turn, one a read, then the last one
    for good: a device that moves on as the gate reads, however slowly the gate starts.
    Returns the statuses answered so far."""
    from moto.greengrass.models import FakeDeploymentStatus, GreengrassBackend

    answered: list[str] = []
    original = GreengrassBackend.get_deployment_status

    def by_read(backend: Any, group_id: str, deployment_id: str) -> FakeDeploymentStatus:
        found = original(backend, group_id, deployment_id)
        status = statuses[min(len(answered), len(statuses) - 1)]
        answered.append(status)
        return FakeDeploymentStatus(found.deployment_type, found.update_at_datetime, status)

    monkeypatch.setattr(GreengrassBackend, "get_deployment_status", by_read)
    return answered


def on_first_read(emulator: Any, path_contains: str, action: Callable[[], object]) -> Thread:
    """Run ``action`` once the emulator has been asked for a path holding ``path_contains``:
    a change that follows the gate's reads rather than a guess at how fast it starts.
    Returns the started thread; join it after the gate has ended."""

    def watch() -> None:
        while not any(path_contains in path for path in list(emulator.requests)):
            if emulator.stopped.wait(0.01):
                return
        action()

    watcher = Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def run_gate(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m gate ARGS`` as a pipeline runs it, with a clean AWS environment: a process
    of its own, forked from a server that has already imported the gate
    (tests/gate_forks.py)."""
    full_env = clean_env()
    full_env.update(env or {})
    return _FORKS.run(list(args), full_env, timeout)


def clean_env() -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "PYTHONPATH", "TMPDIR"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


_FORKS = GateForks(clean_env())
"""This worker's fork server; it starts with the first run."""


@contextmanager
def killed_if_failed(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Inside ``with Popen(...) as process``: a failure kills the process, or leaving the
    ``with`` block would wait for it without end."""
    try:
        yield process
    except BaseException:
        process.kill()
        raise


def signal_mid_wait(
    args: list[str], env: dict[str, str], signum: int
) -> tuple[int, dict[str, object], str]:
    """Start ``gate wait ARGS --output json``, send ``signum`` once it has read a status;
    returns its exit code, its JSON outcome and its stderr."""
    import json

    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gate",
            "wait",
            *args,
            "--output",
            "json",
            "--interval",
            "5s",
            "--max-interval",
            "5s",
        ],
        env={**clean_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        said = []
        with killed_if_failed(process):
            for line in process.stderr:
                said.append(line)
                if "status:" in line:
                    break
            else:
                raise AssertionError("the gate ended before reading a status: " + "".join(said))
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=60)
    return process.returncode, json.loads(stdout), "".join(said) + stderr


def gate_greengrass_v2(
    emulator: Any, deployment_id: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """``gate wait greengrass-v2`` on the emulator, as a pipeline runs it (fake credentials)."""
    return run_gate(
        "wait",
        "greengrass-v2",
        "--deployment-id",
        deployment_id,
        *on_emulator(emulator),
        *flags,
        env={"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t"},
    )


HUMANITEC_PRODUCTION = ["humanitec", "--org", "acme", "--app", "shop", "--env", "production"]
"""``gate wait`` arguments naming the environment most tests deploy to."""


def on_emulator(emulator: Any) -> list[str]:
    """Greengrass arguments that point boto3 at the emulator."""
    return ["--region", "eu-west-1", "--endpoint-url", emulator.url]
