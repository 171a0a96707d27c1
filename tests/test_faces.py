"""One description of each target, and every face made from it: the command line's flags, a
targets file's keys, the Python Pulumi component's inputs and the native provider's schema
name the same fields, for every provider, and say a field's problem in their own spelling."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
from pathlib import Path

import pytest

import gate.pulumi as component
from gate.cli.command import _provider_parser, main
from gate.core.description import FieldError, camel_case, cli_flag, file_key
from gate.providers.registry import BUILT_IN, available_providers, load_plugin
from gate.pulumi.native.provider import schema_text
from gate.pulumi.native.schema import block_of, schema, type_token

SCHEMA = Path(__file__).parents[1] / "gate" / "pulumi" / "native" / "schema.json"
PYTHON_TARGETS = {
    "humanitec": component.HumanitecTarget,
    "humanitec-v2": component.HumanitecV2Target,
    "greengrass": component.GreengrassTarget,
    "greengrass-v2": component.GreengrassV2Target,
}
DERIVED_IN_PYTHON = {"humanitec": {"latest"}}
"""Fields the Python component sets itself (``latest`` is 'no deploy_id and no run')."""


def test_every_built_in_provider_is_described() -> None:
    assert set(BUILT_IN) <= set(available_providers())
    assert set(PYTHON_TARGETS) == set(BUILT_IN)


@pytest.mark.parametrize("provider", BUILT_IN)
def test_every_face_names_the_fields_its_description_declares(provider: str) -> None:
    description = load_plugin(provider).description
    keys = set(description.keys)

    parser = _provider_parser(load_plugin(provider))
    flags = {
        action.dest
        for action in parser._actions  # argparse keeps no public list of a parser's flags
        if any(option == cli_flag(action.dest) for option in action.option_strings)
    }
    assert keys <= flags, "the command line has a flag for every field"

    python = {field.name for field in dataclasses.fields(PYTHON_TARGETS[provider])}
    assert python | DERIVED_IN_PYTHON.get(provider, set()) == keys, "the Python component"

    served = json.loads(schema_text())
    properties = served["types"][type_token(provider)]["properties"]
    assert set(properties) == {camel_case(key) for key in keys}, "the native schema"
    inputs = served["resources"]["gate:index:DeploymentGate"]["inputProperties"]
    assert inputs[block_of(provider)]["$ref"] == f"#/types/{type_token(provider)}"


def test_the_committed_schema_is_the_one_made_from_the_descriptions() -> None:
    from gate.bake.options import AFTER_SUCCESS
    from gate.telling.options import TELLING_FIELDS
    from gate.waiting.options import WAITING

    options = (*WAITING, *AFTER_SUCCESS.fields, *TELLING_FIELDS)
    made = schema([load_plugin(name).description for name in BUILT_IN], options)
    assert json.loads(SCHEMA.read_text()) == made


@pytest.mark.parametrize("provider", BUILT_IN)
def test_a_targets_file_takes_every_field_by_its_file_key(provider: str, tmp_path: Path) -> None:
    """Each field is known to ``gate wait-all``: a bad value for it is refused naming the
    field as the file spells it, never as an unknown field."""
    description = load_plugin(provider).description
    for field in description.fields:
        wrong = {"flag": "yes", "percent": "most", "number": "most"}.get(field.kind, True)
        path = tmp_path / f"{field.key}.json"
        path.write_text(json.dumps([{"provider": provider, file_key(field.key): wrong}]))
        err = io.StringIO()
        code = main(["wait-all", str(path)], env={}, stdout=io.StringIO(), stderr=err)
        assert code == 2
        said = err.getvalue()
        assert "unknown field" not in said, said
        assert f"field '{file_key(field.key)}' must be" in said, said


def test_a_fields_problem_is_said_in_each_faces_spelling() -> None:
    description = load_plugin("greengrass-v2").description
    with pytest.raises(FieldError) as refused:
        description.read({"deployment_id": "d-1", "min_success": "most"})
    problem = refused.value
    assert str(problem) == "--min-success must be a percentage such as 95 or 95%, not 'most'"
    assert problem.in_file().startswith("field 'min-success' must be a percentage")
    assert problem.worded(camel_case).startswith("minSuccess must be")
    assert problem.worded(lambda key: f"greengrassV2.{camel_case(key)}").startswith(
        "greengrassV2.minSuccess must be"
    )


def test_the_command_line_reads_only_its_own_fallbacks_from_the_environment() -> None:
    description = load_plugin("humanitec").description
    env = {"HUMANITEC_ORG": "acme", "HUMANITEC_APP": "shop", "HUMANITEC_ENV": "production"}
    target = description.read({"latest": True}, env=env)
    assert (target.text("org"), target.text("env")) == ("acme", "production")
    with pytest.raises(FieldError, match=r"^--org is required$"):
        description.read({"latest": True})  # another face: only what is written


def test_no_module_but_the_command_lines_imports_argparse() -> None:
    package = Path(__file__).parents[1] / "gate"
    importing = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "import argparse" in path.read_text()
    }
    # the native provider's launcher reads the engine's own command line
    outside = {path for path in importing if not path.startswith("cli/")}
    assert outside == {"pulumi/native/server.py"}


def test_a_provider_without_a_description_is_not_a_plugin() -> None:
    from gate.providers import ProviderPlugin

    class Old:
        name = "old"
        summary = "flags the old way"

        def add_arguments(self, parser: argparse.ArgumentParser) -> None:
            pass

        def build(self, args: object, env: object, *, request_timeout: float) -> None:
            pass

    assert not isinstance(Old(), ProviderPlugin)


def test_the_waiting_options_are_declared_once_and_every_face_has_them(tmp_path: Path) -> None:
    from gate.pulumi.inputs import DURATION_KEYS
    from gate.waiting.options import WAITING

    keys = {field.key for field in WAITING}
    parser = _provider_parser(load_plugin("humanitec"))
    flags = {action.dest for action in parser._actions if action.dest in keys}
    assert flags == keys, "the command line"
    assert set(DURATION_KEYS) == keys, "Pulumi's check"
    timing = {field.name for field in dataclasses.fields(component.DeploymentGateArgs)}
    assert keys <= timing, "the Python component"
    served = json.loads(schema_text())["resources"]["gate:index:DeploymentGate"]
    assert {camel_case(key) for key in keys} <= set(served["inputProperties"]), "the schema"
    for field in WAITING:  # a targets file: a bad value is named by the field as written
        path = tmp_path / f"{field.key}.json"
        path.write_text(json.dumps([{"provider": "humanitec", file_key(field.key): "soon"}]))
        err = io.StringIO()
        assert main(["wait-all", str(path)], env={}, stdout=io.StringIO(), stderr=err) == 2
        assert f"field '{file_key(field.key)}' 'soon' is not a duration" in err.getvalue()


def test_the_actions_provider_input_names_every_built_in_provider() -> None:
    """Its description is written; its messages ask the gate (``gate providers``)."""
    import yaml

    action = yaml.safe_load((Path(__file__).parents[1] / "action.yml").read_text())
    said = action["inputs"]["provider"]["description"]
    assert all(re.search(rf"\b{re.escape(name)}\b(?!-)", said) for name in BUILT_IN), said
    script = action["runs"]["steps"][-1]["run"]
    assert not any(f"{name}," in script for name in BUILT_IN), "no list written in the script"


def test_the_action_has_an_input_for_every_field_of_every_provider() -> None:
    import yaml

    action = yaml.safe_load((Path(__file__).parents[1] / "action.yml").read_text())
    inputs = set(action["inputs"])
    for provider in BUILT_IN:
        fields = {file_key(key) for key in load_plugin(provider).description.keys}
        assert fields <= inputs, provider
    from gate.waiting.options import WAITING

    assert {file_key(field.key) for field in WAITING} <= inputs


def test_a_third_party_provider_has_its_own_target_type_in_the_schema(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.test_registry import THIRD_PARTY, install_third_party

    install_third_party(tmp_path, THIRD_PARTY)
    code = (
        "import json\nfrom gate.pulumi.native.provider import schema_text\n"
        "served = json.loads(schema_text())\n"
        "print(json.dumps(served['types']['gate:index:RolloutsTarget']))\n"
        "print(json.dumps(sorted(served['resources']['gate:index:DeploymentGate']"
        "['inputProperties'])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    rollouts, inputs = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert rollouts["properties"] == {
        "rollout": {"type": "string", "description": "The rollout to wait on."}
    }
    assert rollouts["required"] == ["rollout"]
    assert "rollouts" in inputs


def test_an_empty_value_is_unset_so_the_environment_and_the_default_still_apply() -> None:
    """CI writes ``--org "${{ inputs.org }}"``: an input left empty is no value at all."""
    description = load_plugin("humanitec").description
    env = {"HUMANITEC_ORG": "acme", "HUMANITEC_API_URL": ""}
    given = {"org": "", "app": "shop", "env": "production", "deploy_id": "d-1", "api_url": ""}
    target = description.read(given, env=env)
    assert (target.text("org"), target.text("api_url")) == ("acme", "https://api.humanitec.io")


def test_a_pipeline_run_neither_takes_nor_checks_an_environment_from_the_environment() -> None:
    description = load_plugin("humanitec").description
    given = {"org": "acme", "app": "shop", "run": "r-1", "pipeline": "deploy"}
    target = description.read(given, env={"HUMANITEC_ENV": "bad/env"})
    assert target.text("env") is None


@pytest.mark.parametrize(
    ("kind", "value"),
    [("url", "http://s3cr3t.example/?k=s3cr3t"), ("percent", "s3cr3t"), ("id", "s3cr3t/..")],
)
def test_a_secret_fields_value_is_never_in_its_refusal(kind: str, value: str) -> None:
    from gate.core.description import Field, TargetDescription

    description = TargetDescription(
        provider="vault",
        summary="a secret place",
        fields=(Field("where", "", kind=kind, secret=True),),
    )  # type: ignore[arg-type]
    with pytest.raises(FieldError) as refused:
        description.read({"where": value})
    assert "s3cr3t" not in str(refused.value)
    assert str(refused.value).startswith("--where is not a usable")


def test_the_bake_rollback_and_telling_options_are_in_every_face() -> None:
    """Declared once (gate/bake/options.py, gate/telling/options.py): the command's flags,
    the action's inputs, the Python component's arguments and the native schema's inputs."""
    import yaml

    from gate.bake.options import AFTER_SUCCESS
    from gate.telling.options import TELLING

    keys = {*AFTER_SUCCESS.keys, *TELLING.keys}
    parser = _provider_parser(load_plugin("humanitec"))
    flags = {opt for action in parser._actions for opt in action.option_strings}
    assert {cli_flag(key) for key in keys} <= flags
    action = yaml.safe_load((Path(__file__).parents[1] / "action.yml").read_text())
    assert {file_key(key) for key in keys} <= set(action["inputs"])
    assert keys <= {field.name for field in dataclasses.fields(component.DeploymentGateArgs)}
    served = json.loads(SCHEMA.read_text())
    inputs = served["resources"]["gate:index:DeploymentGate"]["inputProperties"]
    assert {camel_case(key) for key in keys} <= set(inputs)
    assert inputs["alarm"]["type"] == "array"
