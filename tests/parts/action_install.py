"""The GitHub Action's own install step, run once per test run rather than once per test.

The action keeps its environment in ``$RUNNER_TEMP/deploy-gate-<checkout id>`` and skips the
install when that environment already holds ``gate`` (a later gate step of the same job). The
tests use that very rule: :func:`install_action` runs the install step, as the runner would,
into one directory shared by every pytest-xdist worker of the run (under a file lock), and
:func:`runner_temp_with` gives each test a fresh RUNNER_TEMP in which that environment is
already present, so the step finds it and goes on. Every test still runs every step of the
action, the install step included; only pip's work is done once.

The install runs when collection ends (:func:`install_for`), before any test's clock starts:
on a busy machine pip takes longer than one test may run (the suite's timeout), and a test
that waited for it would fail for want of time, not for a fault.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.actions_runner import load_action, step_env, with_defaults
from tests.parts.installed import install_once
from tests.support import REPO, clean_env

__all__ = ["action_environment", "install_for", "runner_temp_with"]

_INSTALLED = pytest.StashKey["Path | str"]()
"""The environment the install made, or why it could not."""


def install_for(session: pytest.Session, fixture: str) -> None:
    """Install the action now if a test this worker will run asks for ``fixture``."""
    config = session.config
    wanted = any(fixture in getattr(item, "fixturenames", ()) for item in session.items)
    if config.option.collectonly or not wanted:
        return
    try:
        config.stash[_INSTALLED] = install_action(run_directory(config._tmp_path_factory))  # type: ignore[attr-defined]
    except pytest.fail.Exception as failed:
        config.stash[_INSTALLED] = str(failed)


def action_environment(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """The environment :func:`install_for` made (or makes it now, for a test that asked late);
    a failed install fails each test that needs it, with pip's words."""
    installed = config.stash.get(_INSTALLED, None)
    if isinstance(installed, str):
        pytest.fail(installed, pytrace=False)
    return installed or install_action(run_directory(factory))


def run_directory(factory: pytest.TempPathFactory) -> Path:
    """A directory this test run's workers share: the parent of each worker's base
    temporary directory under pytest-xdist, the base directory itself without it."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def install_action(shared: Path) -> Path:
    """Run the action's install step once into ``shared`` (its RUNNER_TEMP); returns the
    environment it made."""
    action = load_action(REPO / "action.yml")
    [step] = [step for step in action["runs"]["steps"] if step.get("id") == "install"]
    runner_temp = shared / "action-runner-temp"
    runner_temp.mkdir(exist_ok=True)
    script = shared / "action-install.sh"
    script.write_text(step["run"])
    env = {
        **clean_env(),
        **step_env(step, with_defaults(action, {}), {}),
        "GITHUB_ACTION_PATH": str(REPO),
        "GITHUB_OUTPUT": str(shared / "action-install-output.txt"),
        "RUNNER_TEMP": str(runner_temp),
    }

    def installed() -> bool:
        return any(runner_temp.glob("deploy-gate-*/bin/gate"))

    install_once("the action", script, [], shared / "action-install.lock", installed, env=env)
    [gate] = runner_temp.glob("deploy-gate-*/bin/gate")
    return gate.parent.parent


def runner_temp_with(environment: Path, directory: Path) -> Path:
    """``directory`` made a RUNNER_TEMP in which the action's environment is present."""
    directory.mkdir()
    (directory / environment.name).symlink_to(environment, target_is_directory=True)
    return directory
