"""The JSON Schema of a targets file (``gate/schemas/targets.schema.json``): made from the
declarations ``gate wait-all`` reads a file with, and agreeing with that reader: the docs'
targets files pass both, and a file the reader refuses the schema refuses too."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from gate.cli.command import main
from gate.cli.targets_schema import targets_schema_text
from gate.core.description import file_key
from gate.emulator import Emulator, Timeline
from gate.providers.registry import BUILT_IN, load_plugin
from tests.support import REPO, TOKEN, clean_env, run_gate
from tests.test_docs import blocks

SCHEMA_FILE = REPO / "gate" / "schemas" / "targets.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
AWS_KEYS = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t-aws-key"}
HUMANITEC = {"provider": "humanitec", "org": "acme", "app": "shop", "env": "staging"}


def test_the_committed_schema_is_the_one_made_from_the_declarations() -> None:
    made = targets_schema_text([load_plugin(name).description for name in BUILT_IN])
    assert SCHEMA_FILE.read_text() == made


def test_it_is_a_json_schema_and_gate_schema_prints_it() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    printed = run_gate("schema", "targets")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == SCHEMA, "only the built-in providers are installed"


def test_a_fields_type_bounds_default_and_choices_are_its_declarations() -> None:
    from gate.bake.options import AFTER_SUCCESS

    options = SCHEMA["$defs"]["options"]["properties"]
    failures = options["probe-failures"]
    assert failures["default"] == 3
    assert {"type": "integer", "minimum": 1, "maximum": 1000} in failures["anyOf"]
    assert options["timeout"]["default"] == "30m"
    assert options["timeout"]["anyOf"][0] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 7 * 24 * 3600,
    }
    on_failure = AFTER_SUCCESS.field("on_failure")
    assert options["on-failure"]["anyOf"][0] == {"enum": list(on_failure.choices)}
    assert options["on_failure"] == {"$ref": "#/$defs/options/properties/on-failure"}
    for provider in BUILT_IN:
        keys = {file_key(key) for key in load_plugin(provider).description.keys}
        assert keys <= set(SCHEMA["$defs"][provider]["properties"]), provider


def readme_targets_files() -> list[tuple[str, Any]]:
    """Each block of the docs that names the schema: every targets file they show."""
    return [
        (block.where, yaml.safe_load(block.text))
        for block in blocks("yaml", "json")
        if "targets.schema.json" in block.text
    ]


def test_the_readme_shows_a_targets_file_in_yaml_and_in_json() -> None:
    assert len(readme_targets_files()) >= 2


@pytest.fixture(autouse=True)
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys where boto3 looks for them (``os.environ``), and no others."""
    for name, value in {**clean_env(), **AWS_KEYS}.items():
        monkeypatch.setenv(name, value)


def stage(emulator: Emulator, document: Any) -> None:
    """A deployment that succeeded for every target of ``document``, where it points."""
    defaults = document.get("defaults") or {} if isinstance(document, dict) else {}
    targets = document["targets"] if isinstance(document, dict) else document
    for target in targets:
        fields = {key.replace("_", "-"): value for key, value in {**defaults, **target}.items()}
        if fields["provider"] == "humanitec":
            org, app, env = fields.get("org") or "acme", fields["app"], str(fields["env"])
            done = Timeline([(0, "succeeded")])
            emulator.add_humanitec(org, app, env, done, deploy_id=fields.get("deploy-id"))
        elif fields["provider"] == "greengrass":
            done = Timeline([(0, "Success")])
            group, deployment = fields["group-id"], fields["deployment-id"]
            emulator.add_greengrass(done, group_id=group, deployment_id=deployment)
        else:
            raise AssertionError(f"teach stage() the {fields['provider']} provider")


def wait_all(emulator: Emulator, tmp_path: Path, document: Any) -> tuple[int, str]:
    """``gate wait-all`` on ``document`` written as a file, against the emulator."""
    path = tmp_path / "release.json"
    path.write_text(json.dumps(document))
    env = {
        "HUMANITEC_TOKEN": TOKEN,
        "HUMANITEC_API_URL": emulator.url,
        "HUMANITEC_ORG": "acme",
        "AWS_ENDPOINT_URL": emulator.url,
        **AWS_KEYS,
    }
    err = io.StringIO()
    code = main(["wait-all", str(path)], env=env, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


@pytest.mark.parametrize(("line", "document"), readme_targets_files())
def test_each_readme_targets_file_is_valid_and_the_gate_waits_on_it(
    emulator: Emulator, tmp_path: Path, line: int, document: Any
) -> None:
    assert [error.message for error in VALIDATOR.iter_errors(document)] == [], line
    stage(emulator, document)
    code, said = wait_all(emulator, tmp_path, document)
    assert code == 0, f"{line}: {said}"


REFUSED = {
    "unknown field": [{**HUMANITEC, "latest": True, "colour": "blue"}],
    "id with a slash": [{**HUMANITEC, "env": "../prod", "latest": True}],
    "flag as text": [{**HUMANITEC, "latest": "yes"}],
    "zero timeout": [{**HUMANITEC, "latest": True, "timeout": 0}],
    "duration past a week": [{**HUMANITEC, "latest": True, "bake": 8 * 24 * 3600}],
    "probe failures not whole": [
        {
            **HUMANITEC,
            "latest": True,
            "bake": "1m",
            "probe": "https://x.example",
            "probe-failures": 2.5,
        }
    ],
    "choice not offered": [{**HUMANITEC, "latest": True, "on-failure": "sometimes"}],
    "waiting field unset": [{**HUMANITEC, "latest": True, "timeout": None}],
    "list with a blank entry": [{**HUMANITEC, "latest": True, "bake": "1m", "probe": [" "]}],
    "no targets": [],
    "unknown top-level field": {"targets": [{**HUMANITEC, "latest": True}], "extra": 1},
    "no provider": [{"org": "acme", "app": "shop", "env": "qa", "latest": True}],
    "no provider in target or defaults": {
        "defaults": {"timeout": "1m"},
        "targets": [{"org": "acme", "app": "shop", "env": "qa", "latest": True}],
    },
    "another provider's defaults": {
        "defaults": {"provider": "humanitec", "org": "acme"},
        "targets": [{"provider": "greengrass", "group-id": "g1", "deployment-id": "d1"}],
    },
    "a required id missing": [{"provider": "greengrass", "group-id": "g1"}],
    "a required id empty": [{"provider": "greengrass", "group-id": "g1", "deployment-id": ""}],
    "a field spelled twice": [{**HUMANITEC, "latest": True, "deploy-id": "a", "deploy_id": "a"}],
    "a required id in neither target nor defaults": {
        "defaults": {"provider": "greengrass", "region": "eu-west-1"},
        "targets": [{"group-id": "g1"}],
    },
    "schema not text": {"$schema": 5, "targets": [{**HUMANITEC, "latest": True}]},
    "name blank": [{**HUMANITEC, "latest": True, "name": " "}],
}


@pytest.mark.parametrize("document", REFUSED.values(), ids=REFUSED.keys())
def test_a_file_the_gate_refuses_the_schema_refuses(
    emulator: Emulator, tmp_path: Path, document: Any
) -> None:
    code, said = wait_all(emulator, tmp_path, document)
    assert code == 2, said
    assert emulator.requests == [], "refused before the first read"
    assert not VALIDATOR.is_valid(document), said


ACCEPTED = {
    "list, snake spelling, numbers": [
        {**HUMANITEC, "latest": True, "max_interval": "1s", "interval": 0.05, "timeout": 60}
    ],
    "defaults, a name, a zero grace": {
        "defaults": {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True},
        "targets": [{"env": "staging", "name": "s", "not-found-grace": 0}],
    },
    "unset values, the org from the environment": [
        {
            "provider": "humanitec",
            "app": "shop",
            "env": "staging",
            "latest": True,
            "org": "",
            "on-failure": None,
            "alarm": [],
            "deploy-id": None,
        }
    ],
    "an editor's schema": {
        "$schema": "./targets.schema.json",
        "targets": [{**HUMANITEC, "latest": True, "on_failure": "rollback", "dry-run": True}],
    },
    "a required id from the defaults": {
        "defaults": {"provider": "greengrass", "group_id": "g1", "region": "eu-west-1"},
        "targets": [{"deployment-id": "d1"}, {"provider": "greengrass", "deployment-id": "d2"}],
    },
    "a number as text for an id": [{**HUMANITEC, "env": 2024, "latest": True}],
}


@pytest.mark.parametrize("document", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_a_file_the_gate_accepts_the_schema_accepts(
    emulator: Emulator, tmp_path: Path, document: Any
) -> None:
    stage(emulator, document)
    code, said = wait_all(emulator, tmp_path, document)
    assert code == 0, said
    assert [error.message for error in VALIDATOR.iter_errors(document)] == []


def test_the_schema_says_what_it_cannot_check() -> None:
    said = SCHEMA["description"]
    assert re.search(r"rules on fields together", said)
    assert "a field spelled in capitals" in said


def test_gate_schema_has_an_installed_providers_fields_too(tmp_path: Path) -> None:
    from tests.test_registry import THIRD_PARTY, install_third_party

    install_third_party(tmp_path, THIRD_PARTY)
    printed = run_gate("schema", "targets", env={"PYTHONPATH": str(tmp_path)})
    assert printed.returncode == 0, printed.stderr
    schema = json.loads(printed.stdout)
    assert "rollouts" in schema["$defs"]["provider"]["enum"]
    rollouts = Draft202012Validator(schema)
    assert rollouts.is_valid([{"provider": "rollouts", "rollout": "shop"}])
    assert not rollouts.is_valid([{"provider": "rollouts"}]), "its required field"
