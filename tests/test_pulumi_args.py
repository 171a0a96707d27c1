"""The Pulumi faces made from the declarations (``python -m gate.pulumi.generate``): the
committed Python input classes and native schema are what the generator makes now, and a
field added to a declaration reaches both with no other edit."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import gate.pulumi as component
from gate.core.description import Field, TargetDescription
from gate.pulumi import generate

REPO = Path(__file__).parents[1]


def test_every_generated_pulumi_face_is_committed_as_the_generator_makes_it() -> None:
    for path, text in generate.generated().items():
        assert path.read_text("utf-8") == text, (
            f"{path.relative_to(REPO)} is stale: run python -m gate.pulumi.generate"
        )


def test_the_generator_command_checks_without_writing() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "gate.pulumi.generate", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stderr) == (0, "")


def test_the_classes_take_each_fields_declared_default_and_doc() -> None:
    v2 = {field.name: field for field in dataclasses.fields(component.GreengrassV2Target)}
    assert (v2["min_success"].default, v2["device_fail_fast"].default) == (100, True)
    timing = {field.name: field for field in dataclasses.fields(component.DeploymentGateArgs)}
    assert (timing["timeout"].default, timing["interval"].default) == ("30m", "2s")
    assert '"""Percent of the target\'s devices that must succeed. Default: ``100``."""' in (
        (REPO / "gate" / "pulumi" / "args.py").read_text()
    )


def test_a_field_added_to_a_declaration_is_an_input_of_the_python_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gate.providers.registry import load_plugin

    plugin = load_plugin("greengrass")
    added = Field("thing_group", "the thing group the deployment targets", kind="id")
    grown = TargetDescription(
        plugin.description.provider,
        plugin.description.summary,
        (*plugin.description.fields, added),
    )
    monkeypatch.setattr(plugin, "description", grown, raising=False)
    monkeypatch.setattr(
        "gate.providers.registry.load_plugin",
        lambda name: plugin if name == "greengrass" else load_plugin(name),
    )
    text = generate.args_text()
    assert "    thing_group: pulumi.Input[str] | None = None\n" in text
    assert '    """The thing group the deployment targets."""\n' in text
