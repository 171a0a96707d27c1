"""The cost of waiting: CPU seconds per read and peak memory of the waiting process, the
gate against a shell loop of ``aws greengrass get-deployment-status`` and ``sleep``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gate.emulator import Emulator, Timeline

SHELL_LOOP = """
while true; do
  status=$(aws greengrass get-deployment-status --group-id "$GROUP" \\
    --deployment-id "$DEPLOYMENT" --query DeploymentStatus --output text)
  case "$status" in Success|Failure) exit 0 ;; esac
  sleep 2
done
"""


@dataclass(frozen=True)
class Cost:
    waiter: str
    reads: int
    cpu_seconds: float
    peak_rss_mib: float

    @property
    def cpu_per_read(self) -> float:
        return self.cpu_seconds / max(self.reads, 1)


def awscli_environment() -> Path:
    """awscli from PyPI in its own virtual environment (it pins its own botocore)."""
    home = Path(tempfile.mkdtemp(prefix="bench-awscli-"))
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run([str(home / "bin" / "pip"), "install", "--quiet", "awscli"], check=True)
    return home


# A process's peak RSS counts its parent's memory up to its exec, so the measured command is
# started by this small launcher rather than by the benchmark process itself.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system, children included) and peak RSS in MiB of one command."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, cpu, peak_kib = launched.stdout.split()
    if code != "0":
        raise RuntimeError(f"{command[0]} exited {code}")
    return float(cpu), int(peak_kib) / 1024


def compare(duration: float = 40.0) -> list[Cost]:
    awscli = awscli_environment()
    gate = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert gate, "install the package first (see bench/README.md)"
    costs = []
    try:
        with Emulator(token="bench-token-0123456789") as emulator:
            env = {
                "PATH": f"{awscli / 'bin'}:{os.environ['PATH']}",
                "HOME": os.environ.get("HOME", "/tmp"),
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": "eu-west-1",
                "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": emulator.url,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            runs = {
                "aws CLI + sleep 2 (shell loop)": lambda g, d: ["bash", "-c", SHELL_LOOP],
                "gate, reads every 2 s": lambda g, d: [
                    gate,
                    "wait",
                    "greengrass",
                    "--group-id",
                    g,
                    "--deployment-id",
                    d,
                    "--interval",
                    "2s",
                    "--max-interval",
                    "2s",
                ],
                "gate, default schedule": lambda g, d: [
                    gate,
                    "wait",
                    "greengrass",
                    "--group-id",
                    g,
                    "--deployment-id",
                    d,
                ],
            }
            for name, command in runs.items():
                group, deployment = emulator.add_greengrass(
                    Timeline([(0, "InProgress"), (duration, "Success")])
                )
                cpu, rss = measure(
                    command(group, deployment), {**env, "GROUP": group, "DEPLOYMENT": deployment}
                )
                reads = sum(f"/deployments/{deployment}/" in p for p in list(emulator.requests))
                costs.append(Cost(name, reads, cpu, rss))
    finally:
        shutil.rmtree(awscli, ignore_errors=True)
    return costs
