"""The fork server that most tests run the command through (tests/gate_forks.py) ends a run
as a fresh ``python -m gate`` does: the same exit code, output and error, from the caller's
environment and directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gate.emulator import Emulator, Fault, Timeline
from tests.gate_forks import GateForks, needs_a_fresh_interpreter
from tests.support import TOKEN, clean_env

HUMANITEC = ["wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production"]


def fresh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def forks() -> GateForks:
    return GateForks(clean_env())


@pytest.mark.parametrize(
    ("args", "more_env"),
    [
        (["--version"], {}),
        (["wait"], {}),  # a usage error: exit 2 and argparse's words
        ([*HUMANITEC, "--latest"], {}),  # no token: a one-line reason
        ([*HUMANITEC, "--latest", "--timeout", "-1"], {"HUMANITEC_TOKEN": TOKEN}),
        (["wait", "greengrass", "--group-id", "g", "--deployment-id", "d"], {}),  # no region
        (["wait", "greengrass-v2", "--deployment-id", "d"], {"AWS_REGION": "eu-west-1"}),
        (["schema", "targets"], {}),
        (["wait-all", "release.json"], {}),  # read from the caller's working directory
    ],
    ids=[
        "version",
        "usage",
        "no token",
        "bad timeout",
        "greengrass, no region",
        "greengrass v2, no credentials",
        "schema",
        "relative path",
    ],
)
def test_a_forked_run_ends_as_a_fresh_interpreter_does(
    forks: GateForks,
    args: list[str],
    more_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    unknown = {"provider": f"nope-{tmp_path.name}"}  # another test's directory has none
    (tmp_path / "release.json").write_text(json.dumps({"targets": [unknown]}))
    env = {**clean_env(), **more_env}
    forked = forks.run(args, env, timeout=60)
    started = fresh(args, env)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        started.returncode,
        started.stdout,
        started.stderr,
    )
    assert forked.args == started.args


def test_a_forked_run_reads_its_deployment_and_passes(forks: GateForks, emulator: Emulator) -> None:
    emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    env = {**clean_env(), "HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url}
    done = forks.run([*HUMANITEC, "--latest", "--output", "json"], env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "succeeded"


def test_a_run_past_its_timeout_is_killed_and_said_as_subprocess_says_it(
    forks: GateForks, emulator: Emulator
) -> None:
    emulator.inject(Fault.hang(60), times=100)
    env = {**clean_env(), "HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url}
    with pytest.raises(subprocess.TimeoutExpired) as timed_out:
        forks.run([*HUMANITEC, "--latest"], env, timeout=1)
    assert b"waiting for the latest Humanitec deployment" in (timed_out.value.stderr or b"")
    assert forks.run(["--version"], env, timeout=60).returncode == 0, "it still serves"


@pytest.mark.parametrize(
    ("env", "fresh_start"),
    [
        ({"HUMANITEC_TOKEN": "x"}, False),
        ({"PYTHONPATH": "/plugins"}, True),
        ({"PYTHONIOENCODING": "latin-1"}, True),
        ({"LANG": "C"}, True),
        ({"LC_ALL": "C"}, True),
        ({"TZ": "Asia/Tokyo"}, True),
    ],
)
def test_a_run_that_changes_how_python_starts_gets_a_fresh_interpreter(
    env: dict[str, str], fresh_start: bool
) -> None:
    base = {"PATH": "/usr/bin", "LANG": "C.UTF-8"}
    assert needs_a_fresh_interpreter({**base, **env}, base) is fresh_start
    assert needs_a_fresh_interpreter(base, base) is False
    assert needs_a_fresh_interpreter({"PATH": "/usr/bin"}, base) is True  # LANG unset
