"""The GitHub Action's environment, made once per test run rather than once per test.

The action keeps its environment in ``$RUNNER_TEMP/deploy-gate-<checkout id>`` and skips the
install when that environment already holds ``gate`` (a later gate step of the same job). The
tests use that very rule: :func:`install_action` makes that environment from this checkout,
once per run, in one directory shared by every pytest-xdist worker (under a file lock), and
:func:`runner_temp_with` gives each test a fresh RUNNER_TEMP in which it is present, so every
test runs every step of the action, the install step included, as a later step of a job does.
The install step's first run in a job, pip and all, is a test of its own
(tests/test_action_install.py).

The environment is made with uv (the test command's installer) rather than the step's pip:
the same checkout into the same place in about 2 s instead of about 30 s of CPU, which every
worker would otherwise wait for before its first test. It is made when collection ends
(:func:`install_for`), before any test's clock starts.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from tests.parts.installed import install_once
from tests.support import REPO

__all__ = [
    "action_environment",
    "checkout_id",
    "install_for",
    "runner_temp_with",
]

MAKE_ENVIRONMENT = Path(__file__).with_name("make-action-environment.sh")

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
    """The environment the action's install step leaves in ``shared`` (its RUNNER_TEMP), made
    once; returns it."""
    runner_temp = shared / "action-runner-temp"
    runner_temp.mkdir(exist_ok=True)
    environment = runner_temp / f"deploy-gate-{checkout_id(REPO)}"
    uv = Path(sys.executable).with_name("uv")
    args = [str(uv), sys.executable, str(environment), str(REPO)]

    def installed() -> bool:
        return (environment / "bin" / "gate").exists()

    install_once("the action", MAKE_ENVIRONMENT, args, shared / "action-install.lock", installed)
    return environment


def checkout_id(action_path: Path) -> str:
    """The install step's name for one checkout of the action (its ``checkout_id``)."""
    return hashlib.sha256(str(action_path).encode()).hexdigest()[:12]


def runner_temp_with(environment: Path, directory: Path) -> Path:
    """``directory`` made a RUNNER_TEMP in which the action's environment is present."""
    directory.mkdir()
    (directory / environment.name).symlink_to(environment, target_is_directory=True)
    return directory
