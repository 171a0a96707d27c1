"""Bounded, whatever the size: a release larger than its request budget, and a failed
step's log of ten 8 MiB pages.

- ``gate wait-all`` on 10,000 Humanitec targets (the most a targets file may list) at the
  default ``--max-rate 10`` with ``--timeout 60s`` against deployments that never end, and
  with ``--timeout 20s`` against a server that never answers; anchor: 100 targets, which the
  budget reads in time, with ``--timeout 60s``. Figures: wall time against the timeout,
  targets read and never read, peak RSS.
- ``gate wait humanitec --pipeline --run`` on a run whose failed step has a log of ten
  pages of about 8 MiB each (100,000 short lines a page); anchor: the same run with a
  20-line log. Figures: peak RSS, and whether the outcome kept the last 20 lines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from gate.emulator import Emulator, Fault, PipelineJob, PipelineStep, Timeline
from gate.providers.humanitec.v1.pipelines import LOG_LINES, LOG_PAGES

TOKEN = "bench-token-0123456789"
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""
"""Runs one command and says its exit code and peak RSS (KiB), its parent's left out."""
LOG_PAGE_LINES = 100_000
"""About 8 MiB of JSON a page: the wire's limit for one answer is 8 MiB."""


@dataclass(frozen=True)
class Release:
    who: str
    targets: int
    timeout: float
    exit_code: int
    wall_seconds: float
    read: int
    never_read: int
    peak_rss_mib: float


@dataclass(frozen=True)
class StepLog:
    who: str
    page_bytes: int
    exit_code: int
    kept_lines: int
    kept_the_last: bool
    """Whether the last line kept is the log's last (where a step says why it stopped)."""
    peak_rss_mib: float


def _gate() -> str:
    found = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert found, "install the package first (see bench/README.md)"
    return found


def _env(emulator: Emulator) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "HUMANITEC_TOKEN": TOKEN,
        "HUMANITEC_API_URL": emulator.url,
    }


def _run(command: list[str], env: dict[str, str]) -> tuple[int, float]:
    """The command's exit code and peak RSS in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak_kib = done.stdout.split()
    return int(code), int(peak_kib) / 1024


def release(who: str, count: int, timeout: float, *, hanging: bool = False) -> Release:
    """``gate wait-all`` on ``count`` deployments that never end (or a silent server)."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-bounds-"))
    with Emulator(token=TOKEN) as emulator:
        for n in range(count):
            emulator.add_humanitec("bench", "app", f"e{n}", Timeline([(0, "in progress")]))
        if hanging:
            emulator.inject(Fault.hang(3600), times=100 * count)
        targets = {
            "defaults": {"provider": "humanitec", "org": "bench", "app": "app", "latest": True},
            "targets": [{"env": f"e{n}"} for n in range(count)],
        }
        (scratch / "targets.json").write_text(json.dumps(targets))
        report = scratch / "outcome.json"
        began = time.monotonic()
        code, rss = _run(
            [
                _gate(),
                "wait-all",
                str(scratch / "targets.json"),
                "--timeout",
                f"{timeout:g}s",
                "--json-report",
                str(report),
            ],
            _env(emulator),
        )
        wall = time.monotonic() - began
    outcomes = json.loads(report.read_text())["targets"]
    never = sum(1 for outcome in outcomes if outcome["reason"].startswith("never read"))
    shutil.rmtree(scratch)
    return Release(who, count, timeout, code, wall, count - never, never, rss)


def step_log(who: str, pages: int, lines_a_page: int) -> StepLog:
    """``gate wait humanitec --pipeline --run`` on a run whose failing step logged
    ``pages`` pages of ``lines_a_page`` lines."""
    logs = [("INFO", f"line {n}") for n in range(pages * lines_a_page - 1)]
    logs.append(("ERROR", "helm upgrade failed: timed out waiting for the condition"))
    failing = Timeline([(0, "pending"), (0.1, "executing"), (0.2, "failed")])
    steps = [PipelineStep("Deploy", "actions/humanitec/deploy", failing, logs=logs)]
    with Emulator(token=TOKEN) as emulator:
        emulator.log_page_lines = lines_a_page
        run_id = emulator.add_pipeline_run(
            "bench",
            "app",
            "deploy",
            Timeline([(0, "executing"), (0.2, "failed")]),
            jobs=[PipelineJob("deploy", failing, steps=steps)],
        )
        scratch = Path(tempfile.mkdtemp(prefix="bench-bounds-"))
        report = scratch / "outcome.json"
        code, rss = _run(
            [
                _gate(),
                "wait",
                "humanitec",
                "--org",
                "bench",
                "--app",
                "app",
                "--pipeline",
                "deploy",
                "--run",
                run_id,
                "--interval",
                "0.5s",
                "--json-report",
                str(report),
            ],
            _env(emulator),
        )
        first_page = httpx.get(  # the step has begun by now: its log is there
            f"{emulator.url}/orgs/bench/apps/app/pipelines/deploy/runs/{run_id}"
            "/jobs/deploy/steps/0/logs",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        page_bytes = len(first_page.content)
    errors = json.loads(report.read_text())["errors"]
    kept = [error["message"] for error in errors if error["scope"] == "step log" and error["code"]]
    shutil.rmtree(scratch)
    return StepLog(who, page_bytes, code, len(kept), kept[-1:] == [logs[-1][1]], rss)


def releases() -> list[Release]:
    return [
        release("100 targets (anchor)", 100, 60.0),
        release("10,000 targets, deployments that never end", 10_000, 60.0),
        release("10,000 targets, a server that never answers", 10_000, 20.0, hanging=True),
    ]


def step_logs() -> list[StepLog]:
    return [
        step_log("a 20-line log (anchor)", 1, LOG_LINES),
        step_log(f"{LOG_PAGES} pages of {LOG_PAGE_LINES:,} lines", LOG_PAGES, LOG_PAGE_LINES),
    ]
