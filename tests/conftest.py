from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Emulator
from tests.parts import action_install
from tests.support import TOKEN, VirtualClock
from tests.tiers import tier_of


def pytest_configure(config: pytest.Config) -> None:
    """A shell that starts pytest in the background (``cmd &`` in a script, nohup) hands it
    SIGINT ignored, and every process a test starts would inherit that: the gate would never
    see the Ctrl-C or the runner's cancel that a test sends it."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if _starts_workers(config):
        _compile_once_for_the_workers(config)


def _starts_workers(config: pytest.Config) -> bool:
    option = config.option
    if hasattr(config, "workerinput") or option.collectonly or option.help:
        return False
    return bool(getattr(option, "numprocesses", None))


def _compile_once_for_the_workers(config: pytest.Config) -> None:
    """Before pytest-xdist starts its workers, collect the suite once, in one process that
    writes the bytecode of every module collection imports (and the tests' rewritten
    assertions). Otherwise, on a fresh clone, every worker compiles all of it at once: 8
    workers x 7.7 s of CPU, where with the bytecode there each takes 2.6 s. Workers read
    bytecode even under PYTHONDONTWRITEBYTECODE; only this pass writes it. It collects what
    the run was asked to (its own arguments, ``-n 0`` last); a failure here is the workers'
    to report, and a pass that hangs is given up on."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    arguments = [*config.invocation_params.args, "--collect-only", "-q", "-n", "0"]
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            [sys.executable, "-m", "pytest", *arguments, "-p", "no:cacheprovider"],
            cwd=config.invocation_params.dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test's tier (``-m unit``, ``-m integration``, ``-m e2e``): see tests/tiers.py.
    Told only when ``-m`` asks: reading every test's code costs each worker a second or two."""
    if not config.option.markexpr:
        return
    for item in items:
        tier = tier_of(item)
        if item.get_closest_marker(tier) is None:
            item.add_marker(tier)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The GitHub Action is installed once per run, before the tests that run it start."""
    action_install.install_for(session, "action_environment")


@pytest.hookimpl(optionalhook=True)  # xdist's hook: pytest -p no:xdist runs without it
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: the suite mostly waits on subprocesses, loopback servers and bakes in
    real time rather than computing, so it runs more workers than there are CPUs. On 2 CPUs,
    8 workers took 222 s, 6 took 258 s and 12 took 232 s (each worker collects the whole
    suite, about 4 s of CPU)."""
    return 4 * (os.cpu_count() or 1)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Work stealing: the suite's tests last from a millisecond to a minute, and a module's
    slow tests sit together; xdist's default hands out runs of neighbouring tests, so one
    worker could be left with a run of slow ones while the others idle. A worker that runs
    dry takes half of the longest queue instead."""
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The package's emulator on loopback, in real time (for the CLI as a subprocess)."""
    with Emulator(token=TOKEN) as running:
        yield running


@pytest.fixture
def paced_emulator() -> Iterator[Emulator]:
    """The emulator on loopback, its timelines moved on by the reads they receive: each read
    of a deployment's status moves that deployment on by one second of its timeline. A test
    that asserts an intermediate status sees it however slowly the machine runs."""
    with Emulator(token=TOKEN, seconds_per_read=1.0) as running:
        yield running


@pytest.fixture
def virtual_emulator(clock: VirtualClock) -> Iterator[Emulator]:
    """The emulator on loopback, its timelines driven by the test's virtual clock."""
    with Emulator(token=TOKEN, clock=clock) as running:
        yield running


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto's own server on loopback: the boto3 path over a real socket, through gate's wire.

    It serves moto's in-process backends, which outlive it: they are reset when it starts
    and when it stops, so no test sees what an earlier one in its worker made."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=30).close()
    try:
        yield url
    finally:
        urllib.request.urlopen(reset, timeout=30).close()
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no shared config, so nothing reaches a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture(scope="session")
def action_environment(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The GitHub Action's environment, made by its own install step once per test run,
    whichever worker asks first (see tests/parts/action_install.py)."""
    return action_install.action_environment(pytestconfig, tmp_path_factory)


@pytest.fixture
def runner_temp(tmp_path: Path, action_environment: Path) -> Path:
    """A fresh RUNNER_TEMP for one run of the action, in which the environment an earlier
    step of the job installed is present: the install step finds it and goes on."""
    return action_install.runner_temp_with(action_environment, tmp_path / "runner_temp")
