"""The project's own gates: types, lint, and CI running what the README tells people to run."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support import REPO


def test_mypy_strict_passes_on_the_package() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "gate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_ruff_passes() -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```sh\n(python3 -m venv [^\n]+)\n```", readme)
    assert len(commands) == 2, "the README shows a demo command and a test command"
    demo, tests = commands
    assert demo.endswith("gate demo")
    assert "pytest" in tests
    assert tests in (REPO / ".ci" / "run").read_text()
