"""The library as the docs show it: its examples import only from ``gate``, type-check with
``mypy --strict`` against the package's own types, and the one that can run does, against
the emulator, through the real package in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import gate
from gate.emulator import Emulator, Timeline
from tests.support import REPO, TOKEN, clean_env

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
LIBRARY_PAGES = (REPO / "README.md", REPO / "docs" / "library.md")
"""Where the library's examples are; other pages' Python is Pulumi's or a plugin's."""
MISTYPED = """from gate import NoSuchName, WaitOptions

WaitOptions(timeout="15m")
"""
"""Two mistakes ``mypy`` must see, or it is not reading the package's types: a wrong type,
and a name ``gate`` does not export (which a module ``__getattr__`` visible to type checkers
would let through as ``Any``)."""


def library_examples() -> list[tuple[str, str]]:
    found = []
    for path in LIBRARY_PAGES:
        page = path.read_text()
        for match in BLOCK.finditer(page):
            line = page.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(REPO)}:{line}", match.group(1)))
    return found


EXAMPLES = library_examples()


def test_every_name_gate_exports_is_there() -> None:
    for name in gate.__all__:
        assert getattr(gate, name) is not None, name


def test_the_examples_import_only_what_gate_exports() -> None:
    assert len(EXAMPLES) >= 3
    for where, code in EXAMPLES:
        for module, names in re.findall(r"^from (\S+) import (.+)$", code, re.M):
            if module.startswith("gate"):
                assert module == "gate", f"{where}: {module} is internal"
                assert set(names.split(", ")) <= set(gate.__all__), where


def test_the_examples_type_check_strictly(tmp_path: Path) -> None:
    files = []
    for index, (where, code) in enumerate(EXAMPLES):
        path = tmp_path / f"example_{index}.py"
        path.write_text(f"# {where}\n{code}")
        files.append(path)
    mistyped = tmp_path / "mistyped.py"
    mistyped.write_text(MISTYPED)
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            *map(str, files),
            "mistyped.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    problems = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert any("NoSuchName" in line for line in problems), checked.stdout
    assert any("WaitOptions" in line for line in problems), checked.stdout
    examples = "\n".join(
        f"{path.name} is {where}" for path, (where, _) in zip(files, EXAMPLES, strict=True)
    )
    assert all(line.startswith("mistyped.py:") for line in problems), (
        f"{checked.stdout}\n{examples}"
    )


def example(*names: str) -> str:
    """The one example that uses every name in ``names`` and reads its API's address from
    the environment, so it can run against the emulator (the README shows the library
    page's first example as it is)."""
    (code,) = {
        code
        for _, code in EXAMPLES
        if "HUMANITEC_API_URL" in code and all(name in code for name in names)
    }
    return code


def run(code: str, emulator: Emulator, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, as a reader would run it, against ``emulator``."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env() | {"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("final", "exit_code"), [("succeeded", 0), ("failed", 1)], ids=["succeeded", "failed"]
)
def test_the_example_of_one_deployment_runs_against_the_emulator(
    emulator: Emulator, final: str, exit_code: int
) -> None:
    deploy_id = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, final)]),
        errors=[{"code": "POD-CRASHLOOP", "message": "container 'checkout' exited with code 1"}],
    )
    ran = run(example("wait(", "DEPLOY_ID"), emulator, DEPLOY_ID=deploy_id)
    assert ran.returncode == exit_code, ran.stderr
    if final == "failed":
        assert "the deployment ended as 'failed'" in ran.stderr
        assert "container 'checkout' exited with code 1" in ran.stderr


def test_the_example_of_many_targets_runs_against_the_emulator(emulator: Emulator) -> None:
    for env, final in (("staging", "succeeded"), ("qa", "succeeded"), ("production", "failed")):
        emulator.add_humanitec("acme", "shop", env, Timeline([(0, final)]))
    ran = run(example("wait_all("), emulator)
    assert ran.returncode == 1, ran.stderr
    assert "2/3 succeeded, 1 failed" in ran.stdout
