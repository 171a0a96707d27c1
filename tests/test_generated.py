"""The files made from the declarations (``python -m gate.cli.generated``): each committed one
is the one the generator makes now, the action passes zizmor, and the outputs the gate writes
are the ones the action declares."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from gate.cli.action import input_variable
from gate.cli.generated import generated_files
from gate.core.model import Outcome, OutcomeStatus
from gate.emulator import Emulator, Timeline
from gate.render.github import fleet_step_outputs, step_outputs
from gate.render.outputs import STEP_OUTPUTS
from gate.waiting.fleet import FleetOutcome
from tests.actions_runner import load_action
from tests.support import REPO, TOKEN, clean_env


@pytest.mark.parametrize("path", list(generated_files()))
def test_the_committed_file_is_the_one_made_from_the_declarations(path: str) -> None:
    committed = REPO / path
    assert committed.exists(), f"{path} is missing: run 'python -m gate.cli.generated'"
    assert committed.read_text() == generated_files()[path](), (
        f"{path} differs from the declarations: run 'python -m gate.cli.generated'"
    )


def test_the_generator_says_which_files_differ(tmp_path: Path) -> None:
    """``--check`` writes nothing and fails on a difference; without it, every file is
    written."""
    check = [sys.executable, "-m", "gate.cli.generated", str(tmp_path), "--check"]
    differs = subprocess.run(check, capture_output=True, text=True, check=False)
    assert differs.returncode == 1
    assert "differs: action.yml" in differs.stdout
    assert not (tmp_path / "action.yml").exists()
    write = subprocess.run(check[:-1], capture_output=True, text=True, check=False)
    assert write.returncode == 0, write.stderr
    assert subprocess.run(check, capture_output=True, check=False).returncode == 0
    assert (tmp_path / "action.yml").read_text() == (REPO / "action.yml").read_text()


def test_the_action_has_no_zizmor_findings() -> None:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent))
    assert zizmor, "zizmor is in the test extra"
    found = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--persona", "pedantic", str(REPO / "action.yml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert found.returncode == 0, found.stdout + found.stderr


def test_the_action_declares_every_output_the_gate_writes_and_no_other() -> None:
    outcome = Outcome(
        status=OutcomeStatus.SUCCEEDED,
        provider="humanitec",
        target={"deploy_id": "0f3c"},
        raw_status="succeeded",
        errors=(),
        reason=None,
        elapsed_seconds=1.0,
        polls=1,
        started_at="2026-11-23T10:00:00.000Z",
        finished_at="2026-11-23T10:00:01.000Z",
    )
    release = FleetOutcome(
        outcomes=(outcome,),
        status=OutcomeStatus.SUCCEEDED,
        elapsed_seconds=1.0,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
    )
    reports = {"junit-report": "j.xml", "json-report": "r.json"}
    written = set(step_outputs(outcome, reports)) | set(fleet_step_outputs(release, reports))
    declared = [output.name for output in STEP_OUTPUTS]
    assert written == set(declared)
    assert list(load_action(REPO / "action.yml")["outputs"]) == declared


NEW_FIELD = """\
    Field(
        "settle_time",
        "how long a deployment that ended must stay ended before it is judged",
        kind="duration",
        default=0.0,
    ),
"""


def test_a_field_added_to_a_declaration_is_in_every_face_with_no_other_edit(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A throwaway copy of the package with one more waiting field, and the generator run in
    it: the field is a flag, a targets file's key (and the schema's), an action input that
    reaches the gate as its flag, and a row of the docs' tables."""
    copy = tmp_path / "checkout"
    shutil.copytree(REPO / "gate", copy / "gate", ignore=shutil.ignore_patterns("__pycache__"))
    options = copy / "gate" / "waiting" / "options.py"
    declared = options.read_text()
    assert "WAITING = (\n" in declared
    options.write_text(declared.replace("WAITING = (\n", "WAITING = (\n" + NEW_FIELD, 1))
    env = {
        **clean_env(),
        "PYTHONPATH": str(copy),
        "HUMANITEC_API_URL": emulator.url,
        "HUMANITEC_TOKEN": TOKEN,
    }

    def run(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            env={**env, **more},
            cwd=copy,  # python -m puts its directory first, before PYTHONPATH
            capture_output=True,
            text=True,
            timeout=60,
        )

    generated = run("-m", "gate.cli.generated", str(copy))
    assert generated.returncode == 0, generated.stderr
    # the command line
    helped = run("-m", "gate", "wait", "humanitec", "--help")
    assert "--settle-time" in helped.stdout
    # a targets file, and its schema
    schema = json.loads((copy / "gate" / "schemas" / "targets.schema.json").read_text())
    assert "settle-time" in schema["$defs"]["options"]["properties"]
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    target = {"org": "acme", "app": "shop", "env": "production", "deploy-id": deploy_id}
    targets = [{"provider": "humanitec", **target, "settle-time": "1s"}]
    jsonschema.validate(targets, schema)
    written = tmp_path / "targets.json"
    written.write_text(json.dumps(targets))
    waited = run("-m", "gate", "wait-all", str(written))
    assert waited.returncode == 0, waited.stderr
    refused = written.with_name("refused.json")
    refused.write_text(json.dumps([{**targets[0], "settle-time": "soon"}]))
    said = run("-m", "gate", "wait-all", str(refused))
    assert said.returncode == 2
    assert "field 'settle-time' 'soon' is not a duration" in said.stderr
    # the action: an input, handed to the step, passed on as the flag
    action = load_action(copy / "action.yml")
    assert "(default: 0s)" in action["inputs"]["settle-time"]["description"]
    gate_step = action["runs"]["steps"][-1]
    assert gate_step["env"]["GATE_INPUT_SETTLE_TIME"] == "${{ inputs.settle-time }}"
    inputs = {input_variable(name): value for name, value in target.items()}
    step = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path)}
    passed = run(
        "-m",
        "gate",
        "action",
        **step,
        **inputs,
        GATE_INPUT_PROVIDER="humanitec",
        GATE_INPUT_SETTLE_TIME="soon",
    )
    assert passed.returncode == 2
    assert "--settle-time 'soon' is not a duration" in passed.stderr
    accepted = run(
        "-m",
        "gate",
        "action",
        **step,
        **inputs,
        GATE_INPUT_PROVIDER="humanitec",
        GATE_INPUT_SETTLE_TIME="1s",
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    # the docs' tables
    docs = copy / "docs" / "reference"
    assert "| `--settle-time` | duration | `0s` |" in (docs / "flags.md").read_text()
    assert "| `settle-time` | `0s` |" in (docs / "action.md").read_text()
    assert "| `settle-time` |" in (docs / "targets-file.md").read_text()
    # both Pulumi faces: the Python component's input classes and the native schema
    pulumi_generated = run("-m", "gate.pulumi.generate")
    assert pulumi_generated.returncode == 0, pulumi_generated.stderr
    classes = (copy / "gate" / "pulumi" / "args.py").read_text()
    blocks = {block.split("(")[0].split(":")[0]: block for block in classes.split("\nclass ")}
    assert '    settle_time: pulumi.Input[str | float] = "0s"\n' in blocks["_Timing"]
    for args in ("DeploymentGateArgs", "DeploymentGatesArgs"):
        assert "_Timing" in blocks[args].split("\n")[0], args
    native = json.loads((copy / "gate" / "pulumi" / "native" / "schema.json").read_text())
    for resource in ("gate:index:DeploymentGate", "gate:index:DeploymentGates"):
        assert "settleTime" in native["resources"][resource]["inputProperties"], resource
