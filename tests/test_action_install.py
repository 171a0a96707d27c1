"""The action's install step on a job's first gate step: pip installs this checkout into the
runner's temporary directory, and a later gate step of the same job finds it there and installs
nothing. (Every other action test runs as such a later step: tests/parts/action_install.py.)"""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from gate.emulator import Emulator, Timeline
from tests.actions_runner import run_action
from tests.builders import humanitec_action_inputs
from tests.parts.action_install import checkout_id
from tests.parts.installed import INSTALL_SECONDS
from tests.support import REPO, clean_env


@pytest.mark.timeout(INSTALL_SECONDS)
def test_the_first_gate_step_of_a_job_installs_gate_and_a_later_one_reuses_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    inputs = humanitec_action_inputs(deploy_id)
    env = {**clean_env(), "HUMANITEC_API_URL": emulator.url}
    runner_temp = tmp_path / "runner_temp"
    runner_temp.mkdir()

    def step(name: str) -> None:
        workspace = tmp_path / name
        workspace.mkdir()
        run = run_action(REPO, inputs, env=env, runner_temp=runner_temp, workspace=workspace)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.outputs["status"] == "succeeded"
        assert run.steps[0].outputs == {"gate": str(gate)}

    environment = runner_temp / f"deploy-gate-{checkout_id(REPO)}"
    gate = environment / "bin" / "gate"
    step("first")
    installed = subprocess.run([gate, "--version"], capture_output=True, text=True, check=True)
    assert version("deploy-gate") in installed.stdout
    assert not list(environment.glob("lib/python*/site-packages/__editable__*"))
    site = next(environment.glob("lib/python*/site-packages"))
    assert not list(site.glob("botocore/**/*.pyc")), "no bytecode made at install"
    assert list(site.glob("gate/**/*.pyc")), "bytecode for what the run imported"
    made = gate.stat().st_mtime_ns

    step("later")
    assert gate.stat().st_mtime_ns == made
