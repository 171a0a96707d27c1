"""Many deployments, one gate: ``gate wait-all`` on 1,000 Humanitec deployments against an
emulator that answers 429 past 50 requests a second, beside N separate ``gate wait``
processes (the anchor: what a pipeline does without wait-all) in the same run.

Figures: whether every outcome is right, 429s, peak RSS, wall time against the slowest
deployment plus twice the longest gap between reads, and CPU per request.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.emulator import Emulator, Timeline

API_LIMIT = 50.0
"""Requests a second the emulator serves before it answers 429."""
MAX_RATE = 40.0
"""``--max-rate`` of the gate: under the API's limit, with room for jitter."""
MAX_INTERVAL = 15.0
FAILING_SHARE = 0.1

LAUNCHER = """
import os, subprocess, sys, time
began = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      time.monotonic() - began)
"""
"""Runs one command and says its exit code, CPU seconds, peak RSS (KiB) and wall seconds;
a process's peak RSS counts its parent's memory up to its exec, hence a small launcher."""


@dataclass(frozen=True)
class Run:
    who: str
    targets: int
    right: int
    throttled: int
    requests: int
    cpu_seconds: float
    peak_rss_mib: float
    """Of the one process, or the largest of the separate ones."""
    total_rss_mib: float
    wall_seconds: float
    slowest_seconds: float
    """When the last deployment ended, from the start of the waiting."""

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(self.requests, 1)


def _gate() -> str:
    found = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert found, "install the package first (see bench/README.md)"
    return found


def _launch(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _measured(process: subprocess.Popen[str]) -> tuple[int, float, float, float]:
    out, _ = process.communicate()
    code, cpu, peak_kib, wall = out.split()
    return int(code), float(cpu), int(peak_kib) / 1024, float(wall)


def _deployments(
    emulator: Emulator, count: int, shortest: float, longest: float, seed: int
) -> tuple[list[tuple[str, str, str]], float]:
    """``count`` deployments, one an environment: (env, deploy id, the status they end in)
    each, and when (``time.monotonic``) the last of them ends."""
    rng = random.Random(seed)
    made = []
    last_end = 0.0
    for index in range(count):
        env = f"env-{index:04d}"
        ends = "failed" if rng.random() < FAILING_SHARE else "succeeded"
        took = rng.uniform(shortest, longest)
        errors = [{"code": "CLD-001", "message": f"{env} broke"}] if ends == "failed" else []
        deploy_id = emulator.add_humanitec(
            "bench", "app", env, Timeline([(0, "in progress"), (took, ends)]), errors=errors
        )
        made.append((env, deploy_id, ends))
        last_end = max(last_end, time.monotonic() + took)
    return made, last_end


def _right(outcome: dict[str, Any], expected: dict[str, str]) -> bool:
    """The ending the deployment had, and for a failure its cause, in the API's words: a
    failed target whose error list was never read is not a right outcome."""
    env = outcome["target"]["env"]
    if outcome["status"] != expected[env]:
        return False
    causes = [error["message"] for error in outcome["errors"]]
    return expected[env] == "succeeded" or f"{env} broke" in causes


def _env(emulator: Emulator) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "HUMANITEC_TOKEN": emulator.token,
        "HUMANITEC_API_URL": emulator.url,
    }


def fleet(count: int = 1000, shortest: float = 20.0, longest: float = 90.0) -> Run:
    """One ``gate wait-all`` on ``count`` deployments."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    with Emulator(token="bench-token-0123456789", rate_limit=API_LIMIT) as emulator:
        made, last_end = _deployments(emulator, count, shortest, longest, seed=7)
        targets = {
            "defaults": {"provider": "humanitec", "org": "bench", "app": "app"},
            "targets": [{"env": env, "deploy-id": deploy_id} for env, deploy_id, _ in made],
        }
        (scratch / "targets.json").write_text(json.dumps(targets))
        began = time.monotonic()
        process = _launch(
            [
                _gate(),
                "wait-all",
                str(scratch / "targets.json"),
                "--max-rate",
                f"{MAX_RATE:g}",
                "--max-interval",
                f"{MAX_INTERVAL:g}s",
                "--timeout",
                "10m",
                "--json-report",
                str(scratch / "outcome.json"),
            ],
            _env(emulator),
        )
        _, cpu, rss, wall = _measured(process)
        requests, throttled = len(emulator.requests), emulator.throttled
        slowest = last_end - began
    report = json.loads((scratch / "outcome.json").read_text())
    expected = {env: ends for env, _, ends in made}
    right = sum(_right(outcome, expected) for outcome in report["targets"])
    shutil.rmtree(scratch)
    return Run(
        "gate wait-all, one process",
        count,
        right,
        throttled,
        requests,
        cpu,
        rss,
        rss,
        wall,
        slowest,
    )


def separate(count: int = 20, shortest: float = 20.0, longest: float = 90.0) -> Run:
    """The anchor: ``count`` ``gate wait`` processes at once, one deployment each."""
    with Emulator(token="bench-token-0123456789", rate_limit=API_LIMIT) as emulator:
        made, last_end = _deployments(emulator, count, shortest, longest, seed=8)
        began = time.monotonic()
        processes = [
            (
                ends,
                _launch(
                    [
                        _gate(),
                        "wait",
                        "humanitec",
                        "--org",
                        "bench",
                        "--app",
                        "app",
                        "--env",
                        env,
                        "--deploy-id",
                        deploy_id,
                        "--max-interval",
                        f"{MAX_INTERVAL:g}s",
                        "--timeout",
                        "10m",
                    ],
                    _env(emulator),
                ),
            )
            for env, deploy_id, ends in made
        ]
        measured = [(ends, _measured(process)) for ends, process in processes]
        wall = time.monotonic() - began
        requests, throttled = len(emulator.requests), emulator.throttled
        slowest = last_end - began
    right = sum((code == 0) == (ends == "succeeded") for ends, (code, *_) in measured)
    cpu = sum(m[1] for _, m in measured)
    rss = [m[2] for _, m in measured]
    return Run(
        f"{count} separate gate processes (anchor)",
        count,
        right,
        throttled,
        requests,
        cpu,
        max(rss),
        sum(rss),
        wall,
        slowest,
    )
