"""A real part the tests need, installed once per machine by a script of the repository's,
whichever pytest-xdist worker asks first (a file lock), and never skipped: a part that cannot
be installed fails the test that needs it, with the script's words."""

from __future__ import annotations

import fcntl
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

__all__ = ["install_once"]

INSTALL_SECONDS = 600


def install_once(
    what: str,
    script: Path,
    args: Sequence[str],
    lock: Path,
    installed: Callable[[], bool],
) -> None:
    """``installed()``, running ``bash script *args`` under ``lock`` first if it is not."""
    if installed():
        return
    with lock.open("a") as held:  # one install per machine, whatever the workers
        fcntl.flock(held, fcntl.LOCK_EX)
        if installed():
            return
        result = subprocess.run(
            ["bash", str(script), *args],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
        if result.returncode != 0 or not installed():
            pytest.fail(
                f"{script.name} could not install {what} "
                f"(exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}",
                pytrace=False,
            )
