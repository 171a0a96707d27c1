"""Start-up: how long ``gate`` takes to answer before it has done any waiting, and which
heavy modules it imports, against ``python -c "import httpx"``."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("boto3", "botocore", "pulumi")
IMPORTED = (
    "import sys; from gate.cli.command import main\n"
    "try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    "print('heavy:' + ','.join(m for m in {heavy!r} if m in sys.modules))"
)


def wall_time(command: list[str], runs: int) -> float:
    """Median wall seconds of ``runs`` runs, after one warm-up run."""
    subprocess.run(command, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def heavy_imports(argv: list[str]) -> str:
    code = IMPORTED.format(argv=argv, heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    marked = [line for line in result.stdout.splitlines() if line.startswith("heavy:")]
    return marked[-1].removeprefix("heavy:")


def measure(runs: int = 15) -> list[tuple[str, float, str]]:
    gate = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert gate, "install the package first"
    rows = [
        (
            "python -c 'import httpx' (anchor)",
            wall_time([sys.executable, "-c", "import httpx"], runs),
            "",
        )
    ]
    for argv in (["--version"], ["wait", "humanitec", "--help"], ["wait", "greengrass", "--help"]):
        rows.append(
            (
                f"gate {' '.join(argv)}",
                wall_time([gate, *argv], runs),
                heavy_imports(argv) or "none",
            )
        )
    return rows
